import Foundation
import Logging

/// Chooses and opens the configured ``LabStore``.
public enum LabStores {
    /// Opens the store named by `url` and applies pending migrations.
    /// - Parameters:
    ///   - url: `nil` or empty for the SQLite file at `sqlitePath`; `postgres://…` or `postgresql://…`
    ///     for PostgreSQL.
    ///   - sqlitePath: The SQLite database file (its directory must exist).
    ///   - logger: Passed to the store.
    /// - Returns: A migrated, open store; call ``LabStore/close()`` when done.
    /// - Throws: ``LabStoreError/unsupportedURL(_:)`` for any other URL; connection and migration errors.
    public static func open(
        url: String?, sqlitePath: String, logger: Logger = Logger(label: "meshdojo.labstore")
    ) async throws -> any LabStore {
        let store: any LabStore
        switch url.flatMap({ $0.isEmpty ? nil : $0 }) {
        case nil:
            store = try await SQLiteLabStore(path: sqlitePath, logger: logger)
        case let url? where url.lowercased().hasPrefix("postgres://") || url.lowercased().hasPrefix("postgresql://"):
            store = try await PostgresLabStore(url: url, logger: logger)
        case let url?:
            throw LabStoreError.unsupportedURL(url)
        }
        do {
            try await store.migrate()
        } catch {
            await store.close()
            throw error
        }
        return store
    }
}
