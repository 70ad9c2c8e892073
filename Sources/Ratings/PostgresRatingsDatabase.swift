import BookinfoKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// Connection settings from the standard libpq variables, or `DATABASE_URL` when set.
public struct PostgresSettings: Sendable, Equatable {
    public var host = "localhost"
    public var port = 5432
    public var user = "postgres"
    public var password: String?
    public var database: String?

    /// - Parameter environment: `DATABASE_URL` (`postgres://user:password@host:port/db`) wins;
    ///   otherwise `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE` (a `PGHOST` starting
    ///   with `/` is a Unix socket directory, as in libpq).
    public init(_ environment: BookinfoEnvironment) {
        if let url = environment["DATABASE_URL"].flatMap(URLComponents.init(string:)) {
            host = url.host ?? host
            port = url.port ?? port
            user = url.user ?? user
            password = url.password
            let path = url.path.drop { $0 == "/" }
            database = path.isEmpty ? nil : String(path)
            return
        }
        host = environment["PGHOST"] ?? host
        port = environment["PGPORT"].flatMap { Int($0) } ?? port
        user = environment["PGUSER"] ?? user
        password = environment["PGPASSWORD"]
        database = environment["PGDATABASE"]
    }

    var configuration: PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if host.hasPrefix("/") {
            configuration = .init(
                unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password,
                database: database ?? user)
        } else {
            configuration = .init(
                host: host, port: port, username: user, password: password, database: database ?? user, tls: .disable)
        }
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}

/// Ratings v2 on PostgreSQL: table `ratings(ReviewID INT PRIMARY KEY, Rating INT)`, created and
/// seeded with the original rows (1, 5) and (2, 4) on first use when it is empty.
///
/// One connection is kept and re-opened after a failure, so a database that comes back later is
/// picked up without restarting the service.
public actor PostgresRatingsDatabase: RatingsDatabase {
    let settings: PostgresSettings
    let logger = Logger(label: "ratings.postgres")
    var connection: PostgresConnection?
    var nextID = 1

    public init(settings: PostgresSettings) {
        self.settings = settings
    }

    public func ratings() async throws(RatingsDatabaseError) -> (Int, Int) {
        let connection = try await connected()
        do {
            var values: [Int] = []
            let rows = try await connection.query("SELECT Rating FROM ratings ORDER BY ReviewID LIMIT 2", logger: logger)
            for try await rating in rows.decode(Int?.self) {
                values.append(rating ?? 0)
            }
            return (values.first ?? 0, values.count > 1 ? values[1] : 0)
        } catch {
            logger.warning("ratings query failed", metadata: ["ratings.error": "\(String(reflecting: error))"])
            if connection.isClosed { self.connection = nil }
            throw .query
        }
    }

    func connected() async throws(RatingsDatabaseError) -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        do {
            let connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: settings.configuration, id: nextID,
                logger: logger)
            nextID += 1
            try await seed(connection)
            self.connection = connection
            return connection
        } catch {
            logger.warning("cannot connect to the ratings database", metadata: ["ratings.error": "\(String(reflecting: error))"])
            throw .connect
        }
    }

    func seed(_ connection: PostgresConnection) async throws {
        _ = try await connection.query(
            "CREATE TABLE IF NOT EXISTS ratings (ReviewID INT PRIMARY KEY, Rating INT)", logger: logger)
        _ = try await connection.query(
            "INSERT INTO ratings (ReviewID, Rating) SELECT * FROM (VALUES (1, 5), (2, 4)) AS seed WHERE NOT EXISTS (SELECT 1 FROM ratings) ON CONFLICT DO NOTHING",
            logger: logger)
    }

    /// Closes the open connection, if any.
    public func close() async {
        try? await connection?.close()
        connection = nil
    }
}
