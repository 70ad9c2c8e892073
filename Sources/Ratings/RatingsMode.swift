import BookinfoKit

/// Which ratings variant runs, from `SERVICE_VERSION` (spec §5).
public enum RatingsMode: Sendable {
    /// In-memory ratings, the default and any unknown version.
    case memory
    /// Ratings read from a database (`v2`).
    case database(any RatingsDatabase)
    /// Each GET answers 503 with probability ½ (`v-faulty`).
    case faulty
    /// Each GET is delayed by 7 s with probability ½ (`v-delayed`).
    case delayed
    /// Flips between available and 503 every 60 s (`v-unavailable`).
    case unavailable
    /// Flips GET and `/health` between healthy and failing every 15 min (`v-unhealthy`).
    case unhealthy

    /// The mode for an environment.
    ///
    /// - Throws: ``RatingsStartError`` for `v2` with a database this build cannot reach: MySQL and
    ///   MongoDB have no Swift client here, so `DB_TYPE=mysql` and the MongoDB default stop the
    ///   service at start instead of quietly serving v1 data. `DB_TYPE=postgres` works.
    public static func from(_ environment: BookinfoEnvironment) throws(RatingsStartError) -> RatingsMode {
        switch environment["SERVICE_VERSION"] ?? "v1" {
        case "v2":
            switch environment["DB_TYPE"]?.lowercased() {
            case "postgres", "postgresql":
                return .database(PostgresRatingsDatabase(settings: PostgresSettings(environment)))
            case "mysql":
                throw .unsupportedDatabase(
                    "ratings v2 with DB_TYPE=mysql needs a MySQL client, which this Swift build does not have; set DB_TYPE=postgres (with PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE or DATABASE_URL)"
                )
            case let other:
                throw .unsupportedDatabase(
                    "ratings v2 reads MongoDB when DB_TYPE is \(other.map { "'\($0)'" } ?? "unset"), and this Swift build has no MongoDB client; set DB_TYPE=postgres (with PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE or DATABASE_URL)"
                )
            }
        case "v-faulty": return .faulty
        case "v-delayed": return .delayed
        case "v-unavailable": return .unavailable
        case "v-unhealthy": return .unhealthy
        default: return .memory
        }
    }
}

/// Why ratings refused to start.
public enum RatingsStartError: Error, CustomStringConvertible {
    case unsupportedDatabase(String)

    public var description: String {
        switch self {
        case .unsupportedDatabase(let message): message
        }
    }
}
