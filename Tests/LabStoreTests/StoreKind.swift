import Foundation
import Testing
@testable import LabStore

/// The implementations the contract suite runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, sqlite, postgres
    var testDescription: String { rawValue }
}

/// Fresh, migrated stores for tests, each in its own file or database.
enum TestStores {
    static let databaseURLVariable = "MESHDOJO_TEST_DATABASE_URL"

    /// The PostgreSQL server the tests use. Missing means a failed test, not a skipped one.
    static func serverURL() throws -> String {
        try #require(
            ProcessInfo.processInfo.environment[databaseURLVariable].flatMap { $0.isEmpty ? nil : $0 },
            "\(databaseURLVariable) is not set: run scripts/test, which starts a throw-away PostgreSQL and exports it")
    }

    /// Runs `body` with a fresh, migrated store of `kind`, then closes and deletes it.
    static func with<T>(_ kind: StoreKind, _ body: (any LabStore) async throws -> T) async throws -> T {
        switch kind {
        case .memory:
            let store = MemoryLabStore()
            try await store.migrate()
            return try await body(store)
        case .sqlite:
            return try await withSQLiteFile { path in
                let store = try await SQLiteLabStore(path: path)
                try await store.migrate()
                return try await closing(store, body)
            }
        case .postgres:
            return try await withPostgresDatabase { url, _ in
                let store = try await PostgresLabStore(url: url)
                try await store.migrate()
                return try await closing(store, body)
            }
        }
    }

    static func closing<T>(_ store: any LabStore, _ body: (any LabStore) async throws -> T) async throws -> T {
        do {
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }

    /// A path in a new temporary directory, removed afterwards (with its -wal and -shm files).
    static func withSQLiteFile<T>(_ body: (String) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("labstore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory.appendingPathComponent("lab.sqlite").path)
    }

    /// A new database `meshdojo_test_<random>` on the test server, dropped afterwards.
    static func withPostgresDatabase<T>(_ body: (_ url: String, _ name: String) async throws -> T) async throws -> T {
        let server = try serverURL()
        let name = "meshdojo_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let url = try await PostgresAdmin.createDatabase(named: name, url: server)
        do {
            let result = try await body(url, name)
            try await PostgresAdmin.dropDatabase(named: name, url: server)
            return result
        } catch {
            try? await PostgresAdmin.dropDatabase(named: name, url: server)
            throw error
        }
    }
}

/// Builders for test data.
enum Fixture {
    /// A fixed, microsecond-free instant plus `seconds`, so orders are deterministic.
    static func time(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_780_000_000 + seconds) }

    static func student(_ n: Int, createdAt: Date = time(0)) -> Student {
        Student(id: "s\(n)", name: "Student \(n)", namespace: "student-\(n)",
                tokenHash: String(repeating: "\(n % 10)", count: 64), createdAt: createdAt)
    }

    static func verdict(_ student: String, lab: String = "01-routing", check: String = "reviews-v1",
                        passed: Bool = true, at seconds: Double) -> VerdictRecord {
        VerdictRecord(
            studentID: student, labID: lab, checkID: check, passed: passed,
            summaryEn: "All 20 requests reached reviews v1", summaryJa: "20件すべてのリクエストが reviews v1 に届きました",
            evidence: #"{"versions":{"v1":20},"status":[200],"note":"ü ✓"}"#,
            requests: 20, seconds: 1.25, createdAt: time(seconds))
    }
}
