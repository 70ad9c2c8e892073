import BookinfoKit
import Foundation
import Hummingbird
import Ratings
import Synchronization
import Testing

@Suite("ratings")
struct RatingsTests {
    static let defaultBody = #"{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}"#
    static let badID = #"{"error":"please provide numeric product ID"}"#

    @Test("GET returns the default ratings, the id parsed like JavaScript's parseInt")
    func get() async throws {
        try await withServer(RatingsService(mode: .memory)) { port in
            let zero = try await fetch("http://127.0.0.1:\(port)/ratings/0")
            #expect(zero.status == 200)
            #expect(zero.header("content-type") == "application/json")
            #expect(zero.body == Self.defaultBody)
            #expect(try await fetch("http://127.0.0.1:\(port)/ratings/1abc").body.hasPrefix(#"{"id":1,"#))
            #expect(try await fetch("http://127.0.0.1:\(port)/ratings/0?x=1").body == Self.defaultBody)
            for path in ["/ratings/", "/ratings/abc", "/ratings/0/extra"] {
                let answer = try await fetch("http://127.0.0.1:\(port)\(path)")
                #expect(answer.status == 400, "\(path)")
                #expect(answer.body == Self.badID)
            }
            #expect(try await fetch("http://127.0.0.1:\(port)/ratings").status == 404)
            #expect(try await fetch("http://127.0.0.1:\(port)/other").status == 404)
            #expect(try await fetch("http://127.0.0.1:\(port)/ratings/0", method: .PUT, body: "{}").status == 405)
            let health = try await fetch("http://127.0.0.1:\(port)/health")
            #expect(health.body == #"{"status":"Ratings is healthy"}"#)
        }
    }

    @Test("POST stores ratings per product, keeping the given key order")
    func post() async throws {
        try await withServer(RatingsService(mode: .memory)) { port in
            let stored = try await fetch(
                "http://127.0.0.1:\(port)/ratings/3", method: .POST, body: #"{ "Reviewer2": 2, "Reviewer1": 1 }"#)
            #expect(stored.status == 200)
            #expect(stored.body == #"{"id":3,"ratings":{"Reviewer2":2,"Reviewer1":1}}"#)
            #expect(try await fetch("http://127.0.0.1:\(port)/ratings/3").body == stored.body)
            #expect(try await fetch("http://127.0.0.1:\(port)/ratings/0").body == Self.defaultBody)
            let broken = try await fetch("http://127.0.0.1:\(port)/ratings/3", method: .POST, body: "{broken")
            #expect(broken.status == 400)
            #expect(broken.body == #"{"error":"please provide valid ratings JSON"}"#)
            let badID = try await fetch("http://127.0.0.1:\(port)/ratings/x", method: .POST, body: "{}")
            #expect(badID.status == 400)
            #expect(badID.body == Self.badID)
            let huge = try await fetch(
                "http://127.0.0.1:\(port)/ratings/3", method: .POST, body: String(repeating: " ", count: 200_000) + "{}")
            #expect(huge.status == 413)
            #expect(try await fetch("http://127.0.0.1:\(port)/ratings/3").body == stored.body)
        }
    }

    @Test("v-faulty answers 503 when the coin says so, and normally otherwise")
    func faulty() async throws {
        let flips = Mutex(0)
        let service = RatingsService(mode: .faulty, coin: { flips.withLock { $0 += 1; return $0 % 2 == 1 } })
        try await withServer(service) { port in
            let failed = try await fetch("http://127.0.0.1:\(port)/ratings/0")
            #expect(failed.status == 503)
            #expect(failed.body == #"{"error":"Service unavailable"}"#)
            #expect(try await fetch("http://127.0.0.1:\(port)/ratings/0").body == Self.defaultBody)
        }
    }

    @Test("v-delayed holds an answer back when the coin says so")
    func delayed() async throws {
        let service = RatingsService(mode: .delayed, coin: { true }, delay: .milliseconds(400))
        try await withServer(service) { port in
            let start = ContinuousClock.now
            let answer73 = try await fetch("http://127.0.0.1:\(port)/ratings/0")
            #expect(answer73.body == Self.defaultBody)
            #expect(ContinuousClock.now - start >= .milliseconds(400))
        }
    }

    @Test("v-unavailable flips every 60 s and v-unhealthy every 15 min, /health included")
    func schedules() async throws {
        let clock = Mutex(Duration.seconds(0))
        let uptime: @Sendable () -> Duration = { clock.withLock { $0 } }
        try await withServer(RatingsService(mode: .unavailable, uptime: uptime)) { port in
            let answer83 = try await fetch("http://127.0.0.1:\(port)/ratings/0")
            #expect(answer83.status == 200)
            clock.withLock { $0 = .seconds(61) }
            let answer85 = try await fetch("http://127.0.0.1:\(port)/ratings/0")
            #expect(answer85.status == 503)
            clock.withLock { $0 = .seconds(121) }
            let answer87 = try await fetch("http://127.0.0.1:\(port)/ratings/0")
            #expect(answer87.status == 200)
        }
        clock.withLock { $0 = .seconds(0) }
        try await withServer(RatingsService(mode: .unhealthy, uptime: uptime)) { port in
            #expect(try await fetch("http://127.0.0.1:\(port)/health").status == 200)
            clock.withLock { $0 = .seconds(901) }
            let health = try await fetch("http://127.0.0.1:\(port)/health")
            #expect(health.status == 500)
            #expect(health.body == #"{"status":"Ratings is not healthy"}"#)
            #expect(try await fetch("http://127.0.0.1:\(port)/ratings/0").status == 503)
        }
    }

    @Test("v2 refuses to start on MySQL or MongoDB instead of serving v1 data")
    func unsupportedDatabases() throws {
        #expect(throws: RatingsStartError.self) { try RatingsMode.from(BookinfoEnvironment(["SERVICE_VERSION": "v2"])) }
        do {
            _ = try RatingsMode.from(BookinfoEnvironment(["SERVICE_VERSION": "v2", "DB_TYPE": "mysql"]))
            Issue.record("DB_TYPE=mysql must not start")
        } catch {
            #expect(error.description.contains("MySQL"))
            #expect(error.description.contains("DB_TYPE=postgres"))
        }
        guard case .database = try RatingsMode.from(BookinfoEnvironment(["SERVICE_VERSION": "v2", "DB_TYPE": "postgres"]))
        else { Issue.record("DB_TYPE=postgres must select the database"); return }
        guard case .memory = try RatingsMode.from(BookinfoEnvironment(["SERVICE_VERSION": "v7"])) else {
            Issue.record("unknown versions behave like v1"); return
        }
    }

    @Test("PostgreSQL settings come from DATABASE_URL or the libpq variables")
    func postgresSettings() {
        let url = PostgresSettings(BookinfoEnvironment(["DATABASE_URL": "postgres://u:p@db.example:6543/books", "PGHOST": "x"]))
        #expect(url.host == "db.example" && url.port == 6543 && url.user == "u" && url.password == "p" && url.database == "books")
        let pg = PostgresSettings(BookinfoEnvironment(["PGHOST": "/run/pg", "PGPORT": "5433", "PGUSER": "r", "PGDATABASE": "d"]))
        #expect(pg.host == "/run/pg" && pg.port == 5433 && pg.user == "r" && pg.database == "d" && pg.password == nil)
    }

    @Test("v2 with an unreachable database answers the original's connect error")
    func databaseDown() async throws {
        var settings = PostgresSettings(BookinfoEnvironment([:]))
        settings.host = "127.0.0.1"
        settings.port = 1
        try await withServer(RatingsService(mode: .database(PostgresRatingsDatabase(settings: settings)))) { port in
            let answer = try await fetch("http://127.0.0.1:\(port)/ratings/0")
            #expect(answer.status == 500)
            #expect(answer.body == #"{"error":"could not connect to ratings database"}"#)
            let post = try await fetch("http://127.0.0.1:\(port)/ratings/0", method: .POST, body: "{}")
            #expect(post.status == 501)
            #expect(post.body == #"{"error":"Post not implemented for database backed ratings"}"#)
        }
    }

    /// The PostgreSQL server `scripts/test` starts; the test fails loudly without it.
    static var testDatabase: PostgresSettings? {
        guard let url = ProcessInfo.processInfo.environment["MESHDOJO_TEST_DATABASE_URL"] else { return nil }
        return PostgresSettings(BookinfoEnvironment(["DATABASE_URL": url]))
    }

    @Test("v2 on a real PostgreSQL seeds the table and serves its rows")
    func realPostgres() async throws {
        let settings = try #require(Self.testDatabase, "set MESHDOJO_TEST_DATABASE_URL (scripts/test starts a server)")
        let database = PostgresRatingsDatabase(settings: settings)
        try await withServer(RatingsService(mode: .database(database))) { port in
            let answer = try await fetch("http://127.0.0.1:\(port)/ratings/0")
            #expect(answer.status == 200)
            #expect(answer.body == Self.defaultBody)
        }
        await database.close()
    }
}
