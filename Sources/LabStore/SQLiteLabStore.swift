import Foundation
import Logging
import SQLiteKit

/// A ``LabStore`` in one SQLite file: the embedded default.
///
/// One connection, used by one caller at a time. The file is in WAL mode with `synchronous=FULL`, so
/// every committed transaction is on disk when its call returns and survives a kill at any moment.
public final class SQLiteLabStore: SQLLabStore, @unchecked Sendable {
    /// Opens (creating if needed) the database file. Call ``migrate()`` before use.
    /// - Parameters:
    ///   - path: The database file; its directory must exist.
    ///   - logger: Receives lifecycle messages.
    /// - Throws: SQLite errors, e.g. when the file cannot be opened or WAL mode cannot be enabled.
    public init(path: String, logger: Logger = Logger(label: "meshdojo.labstore")) async throws {
        let source = try await SQLiteSessionSource.open(path: path, logger: logger)
        super.init(core: SQLStoreCore(source: source, logger: logger))
    }


    /// The pragma values that make the file durable, read back from the connection (for tests).
    func durabilitySettings() async throws -> (journalMode: String, synchronous: Int) {
        try await core.withDatabase(retry: false) { db in
            let mode = try await db.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
            let sync = try await db.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self)
            return (mode ?? "?", sync ?? -1)
        }
    }
}

/// The SQLite connection behind ``SQLiteLabStore``.
actor SQLiteSessionSource: SQLSessionSource {
    private let connection: SQLiteConnection
    private var isClosed = false

    nonisolated let beginStatement = "BEGIN IMMEDIATE"
    nonisolated let migrationLockStatement: String? = nil

    private init(connection: SQLiteConnection) { self.connection = connection }

    static func open(path: String, logger: Logger) async throws -> SQLiteSessionSource {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            let db = connection.sql()
            let mode = try await db.raw("PRAGMA journal_mode = WAL").first()?
                .decode(column: "journal_mode", as: String.self)
            guard mode?.lowercased() == "wal" else {
                throw SQLiteLabStoreError(message: "cannot enable WAL mode on \(path) (journal_mode is \(mode ?? "unknown"))")
            }
            try await db.raw("PRAGMA synchronous = FULL").run()
            try await db.raw("PRAGMA foreign_keys = ON").run()
            try await db.raw("PRAGMA busy_timeout = 5000").run()
        } catch {
            try? await connection.close()
            throw error
        }
        logger.info("lab store opened", metadata: ["store.kind": "sqlite", "store.path": "\(path)"])
        return SQLiteSessionSource(connection: connection)
    }

    func database() throws -> any SQLDatabase {
        if isClosed { throw LabStoreError.closed }
        return connection.sql()
    }

    /// A file connection does not drop.
    func connectionLost(after error: any Error) -> Bool { false }

    func close() async {
        guard !isClosed else { return }
        isClosed = true
        try? await connection.close()
    }

    deinit {
        // Released without close(): close the handle in the background (SQLiteConnection asserts
        // that it was closed before it deinitialises). Committed data is already on disk.
        if !isClosed { let _: EventLoopFuture<Void> = connection.close() }
    }
}

/// Opening an SQLite store failed for a reason SQLite itself does not report as an error.
public struct SQLiteLabStoreError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
