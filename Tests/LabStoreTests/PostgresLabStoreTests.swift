import Foundation
import Testing
@testable import LabStore

@Suite("PostgreSQL store")
struct PostgresLabStoreTests {
    @Test("the store reconnects after the server ends its session")
    func reconnects() async throws {
        let server = try TestStores.serverURL()
        try await TestStores.withPostgresDatabase { url, name in
            let store = try await PostgresLabStore(url: url)
            try await TestStores.closing(store) { store in
                try await store.migrate()
                try await store.addStudent(Fixture.student(1))
                try await PostgresAdmin.terminateSessions(database: name, url: server)
                #expect(try await store.students().map(\.id) == ["s1"])      // read: retried on a new connection
                _ = try await store.record(Fixture.verdict("s1", at: 1))     // and writes work again
                try await PostgresAdmin.terminateSessions(database: name, url: server)
                try await Task.sleep(for: .milliseconds(200))                // let the client see the close
                _ = try await store.record(Fixture.verdict("s1", at: 2))     // reconnects before writing
                #expect(try await store.verdicts(studentID: "s1", labID: "01-routing").count == 2)
            }
        }
    }

    @Test("a second store on the same database sees what the first committed")
    func reopen() async throws {
        try await TestStores.withPostgresDatabase { url, _ in
            let first = try await LabStores.open(url: url, sqlitePath: "/nonexistent/unused.sqlite")
            try await first.addStudent(Fixture.student(1))
            let v = try await first.record(Fixture.verdict("s1", at: 1))
            await first.close()
            let second = try await LabStores.open(url: url, sqlitePath: "/nonexistent/unused.sqlite")
            #expect(try await second.latestVerdicts() == [v])
            await second.close()
        }
    }
}

@Suite("LabStores.open")
struct LabStoresFactoryTests {
    @Test("no URL opens the SQLite file", arguments: [nil, ""] as [String?])
    func sqliteByDefault(url: String?) async throws {
        try await TestStores.withSQLiteFile { path in
            let store = try await LabStores.open(url: url, sqlitePath: path)
            #expect(store is SQLiteLabStore)
            await store.close()
            #expect(FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("postgres:// and postgresql:// open PostgreSQL")
    func postgresURL() async throws {
        try await TestStores.withPostgresDatabase { url, _ in
            for scheme in ["postgres://", "postgresql://"] {
                let store = try await LabStores.open(url: scheme + url.dropFirst("postgres://".count), sqlitePath: "/unused")
                #expect(store is PostgresLabStore)
                await store.close()
            }
        }
    }

    @Test("any other URL is a clear error", arguments: ["mysql://u@h/db", "sqlite:///tmp/x.db", "/tmp/lab.sqlite"])
    func otherURL(url: String) async throws {
        await #expect(throws: LabStoreError.unsupportedURL(url)) {
            _ = try await LabStores.open(url: url, sqlitePath: "/unused")
        }
        #expect(LabStoreError.unsupportedURL(url).description.contains("postgres://"))
    }
}
