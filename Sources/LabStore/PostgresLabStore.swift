import Foundation
import Logging
import PostgresKit

/// A ``LabStore`` in PostgreSQL, for deployments with a database server.
///
/// One connection, used by one caller at a time; it is reopened when it drops (server restart,
/// `pg_terminate_backend`). Reads and idempotent writes are retried once on the new connection;
/// ``record(_:)`` and ``addStudent(_:)`` are not, since their COMMIT may have landed, and throw instead.
public final class PostgresLabStore: SQLLabStore, @unchecked Sendable {
    /// Connects to the server. Call ``migrate()`` before use.
    /// - Parameters:
    ///   - url: `postgres://user[:password]@host:port/database[?sslmode=…]` (or `postgresql://`).
    ///   - logger: Receives lifecycle messages.
    /// - Throws: URL parsing errors (`PostgresKit`), connection and authentication errors (`PSQLError`).
    public init(url: String, logger: Logger = Logger(label: "meshdojo.labstore")) async throws {
        let configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
        let source = PostgresSessionSource(configuration: configuration, logger: logger)
        _ = try await source.database()  // fail now, not on first use, when the server is unreachable
        logger.info("lab store opened", metadata: ["store.kind": "postgres", "store.host": "\(configuration.host ?? "?")"])
        super.init(core: SQLStoreCore(source: source, logger: logger))
    }

}

/// The PostgreSQL connection behind ``PostgresLabStore``, reopened on demand.
actor PostgresSessionSource: SQLSessionSource {
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private var connection: PostgresConnection?
    private var connectionCount = 0
    private var isClosed = false

    nonisolated let beginStatement = "BEGIN"
    /// A transaction-scoped advisory lock: two lab-runners migrating at once take turns.
    nonisolated let migrationLockStatement: String? = "SELECT pg_advisory_xact_lock(7236501)"

    init(configuration: PostgresConnection.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func database() async throws -> any SQLDatabase {
        if isClosed { throw LabStoreError.closed }
        if let connection, !connection.isClosed { return connection.sql() }
        if let stale = connection {
            connection = nil
            try? await stale.close()
            logger.warning("lab store connection dropped; reconnecting")
        }
        connectionCount += 1
        let fresh = try await PostgresConnection.connect(configuration: configuration, id: connectionCount, logger: logger)
        connection = fresh
        return fresh.sql()
    }

    func connectionLost(after error: any Error) async -> Bool {
        // No connection: it was closed, or connecting itself failed; neither is worth an instant retry.
        guard let current = connection, !(error is LabStoreError) else { return false }
        guard current.isClosed || Self.isConnectionFailure(error) else { return false }
        connection = nil
        try? await current.close()
        return true
    }

    func close() async {
        guard !isClosed else { return }
        isClosed = true
        try? await connection?.close()
        connection = nil
    }

    /// Errors after which the connection cannot be used again.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown:
            return true
        case .server:
            // Class 08: connection exception; 57P01–57P03: admin shutdown, crash shutdown, cannot connect now.
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P")
        default:
            return false
        }
    }

    deinit {
        // Released without close(): PostgresConnection asserts that it was closed before it deinitialises.
        if let connection, !connection.isClosed { let _: EventLoopFuture<Void> = connection.close() }
    }
}
