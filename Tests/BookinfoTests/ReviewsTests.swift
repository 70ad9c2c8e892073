import BookinfoKit
import Hummingbird
import Ratings
import Reviews
import Testing

@Suite("reviews")
struct ReviewsTests {
    static let v1Body =
        #"{"id": "0","podname": "reviews-v1-545db77b95-xyz12","clustername": "null","reviews": [{  "reviewer": "Reviewer1",  "text": "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"},{  "reviewer": "Reviewer2",  "text": "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."}]}"#

    static func environment(_ version: String, ratingsPort: Int = 1, extra: [String: String] = [:]) -> BookinfoEnvironment {
        BookinfoEnvironment(
            [
                "SERVICE_VERSION": version, "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": "\(ratingsPort)",
                "HOSTNAME": "reviews-\(version)-545db77b95-xyz12",
            ].merging(extra) { $1 })
    }

    @Test(
        "ENABLE_RATINGS and STAR_COLOR follow SERVICE_VERSION unless set",
        arguments: [
            (["SERVICE_VERSION": "v1"], false, "black"), (["SERVICE_VERSION": "v2"], true, "black"),
            (["SERVICE_VERSION": "v3"], true, "red"), ([:], false, "black"),
            (["SERVICE_VERSION": "v3", "STAR_COLOR": "black"], true, "black"),
            (["SERVICE_VERSION": "v2", "ENABLE_RATINGS": "False"], false, "black"),
            (["ENABLE_RATINGS": "TRUE", "STAR_COLOR": "red"], true, "red"),
        ])
    func configuration(_ environment: [String: String], ratings: Bool, color: String) {
        let configuration = ReviewsConfiguration(BookinfoEnvironment(environment))
        #expect(configuration.enableRatings == ratings)
        #expect(configuration.starColor == color)
        #expect(configuration.ratingsTimeout == (color == "black" ? .seconds(10) : .milliseconds(2500)))
    }

    @Test("v1 answers the original's exact bytes and never calls ratings")
    func v1() async throws {
        try await withServer(ReviewsService(configuration: ReviewsConfiguration(Self.environment("v1")))) { port in
            let answer = try await fetch("http://127.0.0.1:\(port)/reviews/0")
            #expect(answer.status == 200)
            #expect(answer.header("content-type") == "application/json")
            #expect(answer.body == Self.v1Body)
            #expect(try await fetch("http://127.0.0.1:\(port)/reviews/007").body.hasPrefix(#"{"id": "7","#))
            let health = try await fetch("http://127.0.0.1:\(port)/health")
            #expect(health.body == #"{"status": "Reviews is healthy"}"#)
            for path in ["/reviews/abc", "/reviews/99999999999", "/reviews/", "/reviews/0/x", "/other"] {
                #expect(try await fetch("http://127.0.0.1:\(port)\(path)").status == 404, "\(path)")
            }
            #expect(try await fetch("http://127.0.0.1:\(port)/reviews/0", method: .POST).status == 405)
        }
    }

    @Test("v2 and v3 show the stars from a real ratings service in their colour", arguments: [("v2", "black"), ("v3", "red")])
    func stars(_ version: String, color: String) async throws {
        let log = RequestLog()
        let recording = Recording(inner: RatingsService(mode: .memory), log: log)
        try await withServer(recording) { ratingsPort in
            let service = ReviewsService(configuration: ReviewsConfiguration(Self.environment(version, ratingsPort: ratingsPort)))
            try await withServer(service) { port in
                let answer = try await fetch(
                    "http://127.0.0.1:\(port)/reviews/0",
                    headers: [("end-user", "jason"), ("x-request-id", "req-1"), ("x-b3-traceid", "t1"), ("x-other", "no")])
                #expect(answer.status == 200)
                #expect(
                    answer.body
                        == #"{"id": "0","podname": "reviews-\#(version)-545db77b95-xyz12","clustername": "null","reviews": [{  "reviewer": "Reviewer1",  "text": "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!", "rating": {"stars": 5, "color": "\#(color)"}},{  "reviewer": "Reviewer2",  "text": "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.", "rating": {"stars": 4, "color": "\#(color)"}}]}"#
                )
            }
        }
        let call = try #require(log.all.first)
        #expect(call.path == "/ratings/0")
        #expect(call.headers[.endUser] == "jason")
        #expect(call.headers[.requestID] == "req-1")
        #expect(call.headers[.init("x-b3-traceid")!] == "t1")
        #expect(call.headers[.init("x-other")!] == nil)
    }

    static let bothUnavailable =
        #", "rating": {"error": "Ratings service is currently unavailable"}},{  "reviewer": "Reviewer2""#

    @Test("a failing ratings call gives each review the error object and reviews still answers 200")
    func ratingsFailures() async throws {
        // Connection refused.
        try await withServer(ReviewsService(configuration: ReviewsConfiguration(Self.environment("v2")))) { port in
            let answer = try await fetch("http://127.0.0.1:\(port)/reviews/0")
            #expect(answer.status == 200)
            #expect(answer.body.contains(Self.bothUnavailable))
            #expect(count(#""rating": {"error": "Ratings service is currently unavailable"}"#, in: answer.body) == 2)
        }
        // An injected abort (HTTP 500), and an answer without Reviewer2.
        for (status, body, errors) in [(500, "fault filter abort", 2), (200, #"{"id":0,"ratings":{"Reviewer1":3}}"#, 1)] {
            let upstream = ClosureHandler { _ in .json(body, status: .init(code: status)) }
            try await withServer(upstream) { ratingsPort in
                let service = ReviewsService(configuration: ReviewsConfiguration(Self.environment("v3", ratingsPort: ratingsPort)))
                try await withServer(service) { port in
                    let answer = try await fetch("http://127.0.0.1:\(port)/reviews/0")
                    #expect(answer.status == 200)
                    #expect(count("Ratings service is currently unavailable", in: answer.body) == errors)
                    if errors == 1 { #expect(answer.body.contains(#""rating": {"stars": 3, "color": "red"}"#)) }
                }
            }
        }
    }

    @Test("v3 gives up on ratings after 2.5 s; v2 would wait 10 s")
    func ratingsTimeout() async throws {
        let slow = ClosureHandler { _ in
            try await Task.sleep(for: .seconds(6))
            return .json(#"{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}"#)
        }
        try await withServer(slow) { ratingsPort in
            let service = ReviewsService(configuration: ReviewsConfiguration(Self.environment("v3", ratingsPort: ratingsPort)))
            try await withServer(service) { port in
                let start = ContinuousClock.now
                let answer = try await fetch("http://127.0.0.1:\(port)/reviews/0")
                let elapsed = ContinuousClock.now - start
                #expect(answer.status == 200)
                #expect(count("Ratings service is currently unavailable", in: answer.body) == 2)
                #expect(elapsed >= .milliseconds(2400) && elapsed < .seconds(5), "gave up after \(elapsed)")
            }
        }
    }
}
