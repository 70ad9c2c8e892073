import Logging
import SQLKit

/// One database connection as the shared SQL code sees it. The caller holds ``SQLStoreCore``'s lock
/// around every call, so an implementation never serves two callers at once.
protocol SQLSessionSource: Sendable {
    /// The connection to use now; reconnects first if the previous one dropped.
    /// - Throws: ``LabStoreError/closed`` after ``close()``; connection errors.
    func database() async throws -> any SQLDatabase
    /// Called when an operation failed. Returns true when `error` means the connection is gone; the
    /// source has then dropped it, and the next ``database()`` call opens a new one.
    func connectionLost(after error: any Error) async -> Bool
    func close() async
    /// The statement that opens a write transaction.
    var beginStatement: String { get }
    /// Run first in every migration transaction, to serialise concurrent migrators (PostgreSQL).
    var migrationLockStatement: String? { get }
}
