import Foundation
import SQLKit

/// One schema change. Migrations are applied in `version` order, each in its own transaction, and
/// recorded in `schema_migrations`; a recorded migration never runs again. Never edit a released
/// migration: append a new one.
struct SQLMigration: Sendable {
    var version: Int
    var name: String
    var apply: @Sendable (any SQLDatabase) async throws -> Void
}

extension SQLStoreCore {
    /// Double seconds since 1970: PostgreSQL `DOUBLE PRECISION` and SQLite REAL are both IEEE 754
    /// doubles, so a `Date` round-trips identically on both (`to_timestamp(x)` / `datetime(x,'unixepoch')`
    /// read it in SQL).
    static let timestamp = SQLDataType.custom(SQLRaw("DOUBLE PRECISION"))
    static let boolean = SQLDataType.custom(SQLRaw("BOOLEAN"))

    static let migrations: [SQLMigration] = [
        SQLMigration(version: 1, name: "students, lab_progress, verdicts") { db in
            try await db.create(table: "students")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("name", type: .text, .notNull, .unique)
                .column("namespace", type: .text, .notNull, .unique)
                .column("token_hash", type: .text, .notNull, .unique)
                .column("created_at", type: timestamp, .notNull)
                .run()
            try await db.create(table: "lab_progress")
                .column("student_id", type: .text, .notNull, .references("students", "id"))
                .column("lab_id", type: .text, .notNull)
                .column("started_at", type: timestamp, .notNull)
                .column("completed_at", type: timestamp)
                .column("current_step", type: .text)
                .primaryKey("student_id", "lab_id")
                .run()
            try await db.create(table: "verdicts")
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("student_id", type: .text, .notNull, .references("students", "id"))
                .column("lab_id", type: .text, .notNull)
                .column("check_id", type: .text, .notNull)
                .column("passed", type: boolean, .notNull)
                .column("summary_en", type: .text, .notNull)
                .column("summary_ja", type: .text, .notNull)
                .column("evidence", type: .text, .notNull)
                .column("requests", type: .bigint, .notNull)
                .column("seconds", type: timestamp, .notNull)
                .column("created_at", type: timestamp, .notNull)
                .run()
            try await db.create(index: "verdicts_by_check").on("verdicts")
                .column("student_id").column("lab_id").column("check_id").column("created_at")
                .run()
        },
    ]

    /// Creates `schema_migrations` if needed and applies every migration not recorded there.
    func migrate() async throws {
        for migration in Self.migrations {
            let applied = try await transaction(retry: true) { db -> Bool in
                if let lock = source.migrationLockStatement {
                    try await db.execute(sql: SQLRaw(lock)) { _ in }
                }
                try await db.create(table: "schema_migrations").ifNotExists()
                    .column("version", type: .bigint, .primaryKey(autoIncrement: false))
                    .column("name", type: .text, .notNull)
                    .column("applied_at", type: Self.timestamp, .notNull)
                    .run()
                let done = try await db.select().column("version").from("schema_migrations")
                    .where("version", .equal, SQLBind(migration.version)).first()
                if done != nil { return false }
                try await migration.apply(db)
                try await db.insert(into: "schema_migrations").columns("version", "name", "applied_at")
                    .values(SQLBind(migration.version), SQLBind(migration.name),
                            SQLBind(Date().timeIntervalSince1970))
                    .run()
                return true
            }
            if applied {
                logger.info("lab store migration applied",
                            metadata: ["store.migration": "\(migration.version) \(migration.name)"])
            }
        }
    }

    /// The versions recorded in `schema_migrations`, ascending.
    func appliedMigrations() async throws -> [Int] {
        try await withDatabase(retry: true) { db in
            try await db.select().column("version").from("schema_migrations").orderBy("version").all()
                .map { try $0.decode(column: "version", as: Int.self) }
        }
    }
}
