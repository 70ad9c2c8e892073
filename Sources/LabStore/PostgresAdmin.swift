import Foundation
import Logging
import PostgresKit

/// Server-level chores on a PostgreSQL server (databases, sessions), used by tests to give each run
/// its own database, and usable by setup tooling.
enum PostgresAdmin {
    /// Runs `sql` (no result rows expected) on a short-lived connection to `url`.
    static func execute(_ sql: String, url: String, logger: Logger = Logger(label: "meshdojo.labstore.admin")) async throws {
        let configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Creates a new, empty database on the server `url` points to.
    /// - Returns: `url` with its database replaced by the new one.
    static func createDatabase(named name: String, url: String) async throws -> String {
        try await execute("CREATE DATABASE \(name)", url: url)
        return try replacingDatabase(in: url, with: name)
    }

    /// Drops a database, ending its sessions first (PostgreSQL 13+).
    static func dropDatabase(named name: String, url: String) async throws {
        try await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", url: url)
    }

    /// Ends every other session on database `name` (what a server restart or an idle timeout does).
    static func terminateSessions(database name: String, url: String) async throws {
        try await execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()",
            url: url)
    }

    static func replacingDatabase(in url: String, with name: String) throws -> String {
        guard var components = URLComponents(string: url) else { throw LabStoreError.unsupportedURL(url) }
        components.path = "/" + name
        guard let result = components.string else { throw LabStoreError.unsupportedURL(url) }
        return result
    }
}
