import BookinfoKit
import Grading
import Testing

/// The classifier on pages served by real bookinfo servers, in both markups.
@Suite("Page classification")
struct PageClassifierTests {
    static let markups = ["classic", "modern"]

    @Test("reviews v1, v2 and v3 pages classify as v1 (no stars), v2 (9 black stars) and v3 (9 red stars)", arguments: markups)
    func versions(markup: String) async throws {
        for (version, outcome, stars, color) in [
            ("v1", Outcome.v1, 0, PageClassifier.StarColor?.none), ("v2", .v2, 9, .black), ("v3", .v3, 9, .red),
        ] {
            let page = try await withBookinfo(reviewsVersion: version, environment: ["PRODUCTPAGE_UI": markup]) { port in
                try await fetchPage("http://127.0.0.1:\(port)/productpage")
            }
            #expect(page.status == 200)
            let seen = PageClassifier.inspect(status: page.status, body: page.body)
            #expect(seen.outcome == outcome, "\(markup) \(version)")
            #expect(seen.fullStars == stars, "\(markup) \(version)")
            #expect(seen.color == color, "\(markup) \(version)")
            #expect(seen.modern == (markup == "modern"))
            #expect(PageClassifier.classify(status: page.status, body: page.body) == outcome)
        }
    }

    @Test("a signed-in user's v3 page classifies as v3", arguments: markups)
    func signedIn(markup: String) async throws {
        let outcome = try await withBookinfo(reviewsVersion: "v3", environment: ["PRODUCTPAGE_UI": markup]) { port in
            let driver = TrafficDriver(ingressURL: "http://127.0.0.1:\(port)")
            return try await driver.samples(1, as: .user("jason")).first?.outcome
        }
        #expect(outcome == .v3)
    }

    @Test("reviews whose ratings port is closed give ratings-unavailable, not v3, even with the red class", arguments: markups)
    func ratingsUnavailable(markup: String) async throws {
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let closed = refusing.port
        for version in ["v2", "v3"] {
            let page = try await withBookinfo(reviews: { _ in reviewsService(version, ratingsPort: closed) }, environment: ["PRODUCTPAGE_UI": markup]) { port in
                try await fetchPage("http://127.0.0.1:\(port)/productpage")
            }
            #expect(PageClassifier.classify(status: page.status, body: page.body) == .ratingsUnavailable, "\(markup) \(version)")
            if markup == "modern" { #expect(page.body.contains("text-red-500")) }
        }
    }

    @Test("a closed reviews port gives reviews-unavailable", arguments: markups)
    func reviewsUnavailable(markup: String) async throws {
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let closed = refusing.port
        let page = try await withBookinfo(environment: ["PRODUCTPAGE_UI": markup, "REVIEWS_SERVICE_PORT": "\(closed)"]) { port in
            try await fetchPage("http://127.0.0.1:\(port)/productpage")
        }
        #expect(page.status == 200)
        #expect(PageClassifier.classify(status: page.status, body: page.body) == .reviewsUnavailable)
    }

    @Test("a closed details port gives details-unavailable", arguments: markups)
    func detailsUnavailable(markup: String) async throws {
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let closed = refusing.port
        let page = try await withBookinfo(environment: ["PRODUCTPAGE_UI": markup, "DETAILS_SERVICE_PORT": "\(closed)"]) { port in
            try await fetchPage("http://127.0.0.1:\(port)/productpage")
        }
        #expect(PageClassifier.classify(status: page.status, body: page.body) == .detailsUnavailable)
    }

    @Test("non-200 answers are HTTP errors and unknown pages are other")
    func errors() {
        #expect(PageClassifier.classify(status: 503, body: "no healthy upstream") == .httpError)
        #expect(PageClassifier.classify(status: 200, body: "<html>hello</html>") == .other)
    }

    @Test("modern ratings error in text-red-500 without a star row is ratings-unavailable; empty stars are not counted")
    func traps() {
        let reviews = "<h4 class=\"text-3xl font-semibold\">Book Reviews</h4> Reviewer1 Reviewer2 "
        let error = reviews + "<p class=\"text-red-500\">Ratings service is currently unavailable</p>"
        #expect(PageClassifier.classify(status: 200, body: error) == .ratingsUnavailable)
        let classic = "<h4>Book Reviews</h4> Reviewer1 Reviewer2 <font color=\"black\"><span class=\"glyphicon glyphicon-star\"></span>"
            + "<span class=\"glyphicon glyphicon-star-empty\"></span></font>"
        let page = PageClassifier.inspect(status: 200, body: classic)
        #expect(page.outcome == .v2)
        #expect(page.fullStars == 1)
    }
}
