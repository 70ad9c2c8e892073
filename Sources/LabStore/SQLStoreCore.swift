import Foundation
import Logging
import SQLKit

/// The store logic shared by ``SQLiteLabStore`` and ``PostgresLabStore``: same schema, same queries,
/// built with SQLKit; only the connection (``SQLSessionSource``) differs.
final class SQLStoreCore: Sendable {
    let source: any SQLSessionSource
    let lock = AsyncLock()
    let logger: Logger

    init(source: any SQLSessionSource, logger: Logger) {
        self.source = source
        self.logger = logger
    }

    /// Runs `body` on the connection, holding it exclusively.
    /// - Parameter retry: whether `body` may run again on a new connection when the old one turned out
    ///   to be dead. Only for reads and idempotent writes: a write whose COMMIT was lost in flight may
    ///   have been applied.
    func withDatabase<T>(retry: Bool, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await lock.withLock {
            do {
                return try await body(try await source.database())
            } catch {
                let lost = await source.connectionLost(after: error)
                guard lost, retry else { throw error }
                logger.warning("lab store connection lost; retrying on a new connection",
                               metadata: ["store.error": "\(String(reflecting: error))"])
                return try await body(try await source.database())
            }
        }
    }

    /// Runs `body` inside one transaction: COMMIT when it returns, ROLLBACK when it throws.
    func transaction<T>(retry: Bool, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await withDatabase(retry: retry) { db in
            try await db.execute(sql: SQLRaw(source.beginStatement)) { _ in }
            do {
                let result = try await body(db)
                try await db.execute(sql: SQLRaw("COMMIT")) { _ in }
                return result
            } catch {
                try? await db.execute(sql: SQLRaw("ROLLBACK")) { _ in }
                throw error
            }
        }
    }

    func close() async {
        await lock.withLockIgnoringErrors { await source.close() }
    }
}

extension AsyncLock {
    nonisolated func withLockIgnoringErrors(_ body: () async -> Void) async {
        await lock()
        await body()
        await unlock()
    }
}
