import BookinfoKit
import Crypto
import Foundation
import Hummingbird
import Productpage
import Reviews
import Testing

/// The classic page against what Istio 1.0.6's productpage renders: its Jinja template
/// (`samples/bookinfo/src/productpage/templates/productpage.html` at tag 1.0.6, extending
/// Flask-Bootstrap 3.3's `base.html`) rendered by Jinja2 with Flask's settings (autoescape on, no
/// `trim_blocks`, no `lstrip_blocks`), from the objects 1.0.6's productpage.py passes it. The pages
/// are compared as Istio's e2e test compared them: leading and trailing white space trimmed, then
/// every byte. Each expected page is pinned by its SHA-256.
///
/// What decides the bytes, so a failing hash can be reasoned about:
/// - every `{% … %}` tag on a line of its own leaves that line's indentation and its newline;
/// - the rating block sits in `{% if review.rating: %}` (12 spaces) and then
///   `{% if review.rating.stars: %}` (14 spaces), so a star line is indented 20 spaces, a
///   `{% for %}` tag line 18, and `<font>` 16; a rating error line `<p><i>…</i></p>` is at 16;
/// - reviews v1 has no `rating`, so nothing between `<small>` and `</blockquote>` but the
///   12-space line the outer `{% if %}` leaves;
/// - a failed fetch shows the heading and the sorry sentence at 10 spaces.
@Suite("classic page fidelity to Istio 1.0.6")
struct ClassicPageFidelityTests {
    /// SHA-256 of the trimmed page, per case.
    enum Golden {
        static let normalUserV1 = "1121e83f2ba3e2790d90b8ddbd098820630a759dfaf3478cb1b14c14745c39f8"
        static let normalUserV2 = "dcb4a621517de8a6752d449c12e85c2ca77452ad8353e76e803a3fe39a76965e"
        static let normalUserV3 = "918dde69f77a34c66a9ba66d2032c079a9163873cf0e4a5f90f33ed9dcf0bf2b"
        /// Signed in as `jason`, reviews v2.
        static let jasonV2 = "5714303e49686c594757aac9280ee6e1a3a07d8cfc337229aafb3702330c30b3"
        /// Signed in as `test-user`, reviews v2.
        static let testUserV2 = "76df6cbb57114c03d18bbe223f1de6a0b337aa6ef3bdfb1bfc7f637562f39f7a"
        /// Anonymous, reviews timing out (both tries).
        static let normalUserReviewsTimeout = "cd0d4c210b36043e95c7c7cad913d762d02fd65be73ce053e681094d2d8d8ed1"
        /// Signed in as `test-user`, reviews failing: also the hash of Istio 1.0.6's own golden
        /// page `tests/apps/bookinfo/output/productpage-test-user-v1-review-timeout.html`.
        static let testUserReviewsTimeout = "860fd60ab56df394be4015e474df86e09999257c68f25c9b0c4a867fd569ba9e"
        /// Anonymous, reviews v2 with ratings unreachable.
        static let normalUserRatingsUnavailable = "7af4afe86f01b7bf4004edbba88e5e38e00f5b6d20ea4711ddcd87726206cd70"
        /// Anonymous, details failing, reviews v2.
        static let normalUserDetailsUnavailable = "1e99f1d894654946720cfd30da6e65dc3577d17866f14fe63dbcf43037710e38"
    }

    static let fidelity = ["PRODUCTPAGE_UI": "classic-1.0.6"]

    static func sha256(_ text: String) -> String {
        SHA256.hash(data: Data(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8))
            .map { String(format: "%02x", $0) }.joined()
    }

    /// The product page as a browser with `cookie` (or none) gets it.
    static func page(_ port: Int, cookie: (String, String)? = nil) async throws -> String {
        let answer = try await fetch("http://127.0.0.1:\(port)/productpage?u=normal", headers: cookie.map { [$0] } ?? [])
        #expect(answer.status == 200)
        return answer.body
    }

    /// A reviews v2 whose ratings service is not reachable (nothing listens on port 1).
    static let reviewsWithoutRatings = ReviewsService(
        configuration: ReviewsConfiguration(
            BookinfoEnvironment([
                "SERVICE_VERSION": "v2", "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": "1",
                "HOSTNAME": "reviews-v2-pod",
            ])))

    static let failing = ClosureHandler { _ in .json(#"{"error": "nope"}"#, status: .serviceUnavailable) }

    @Test(
        "a normal user's page for reviews v1, v2 and v3 is byte-identical to 1.0.6's",
        arguments: [("v1", Golden.normalUserV1), ("v2", Golden.normalUserV2), ("v3", Golden.normalUserV3)])
    func normalUser(_ version: String, golden: String) async throws {
        try await withBookinfo(reviewsVersion: version, environment: Self.fidelity) { port in
            let page = try await Self.page(port)
            #expect(Self.sha256(page) == golden, "reviews \(version)")
        }
    }

    @Test("a signed-in user's page on reviews v2 is byte-identical to 1.0.6's", arguments: [
        ("jason", Golden.jasonV2), ("test-user", Golden.testUserV2),
    ])
    func signedIn(_ user: String, golden: String) async throws {
        try await withBookinfo(reviewsVersion: "v2", environment: Self.fidelity) { port in
            let cookie = try await signIn(user, port: port)
            let page = try await Self.page(port, cookie: cookie)
            #expect(Self.sha256(page) == golden, "\(user)")
        }
    }

    @Test("with ratings unavailable the page is byte-identical to 1.0.6's")
    func ratingsUnavailable() async throws {
        try await withBookinfo(reviews: Self.reviewsWithoutRatings, environment: Self.fidelity) { port in
            let page = try await Self.page(port)
            #expect(count("<p><i>Ratings service is currently unavailable</i></p>", in: page) == 2)
            #expect(Self.sha256(page) == Golden.normalUserRatingsUnavailable)
        }
    }

    @Test("with details unavailable the page is byte-identical to 1.0.6's")
    func detailsUnavailable() async throws {
        try await withBookinfo(reviewsVersion: "v2", details: Self.failing, environment: Self.fidelity) { port in
            let page = try await Self.page(port)
            #expect(Self.sha256(page) == Golden.normalUserDetailsUnavailable)
        }
    }

    @Test("with reviews failing, a signed-in test-user's page matches Istio 1.0.6's own golden review-timeout page")
    func reviewsFailingSignedIn() async throws {
        try await withBookinfo(reviews: Self.failing, environment: Self.fidelity) { port in
            let cookie = try await signIn("test-user", port: port)
            let page = try await Self.page(port, cookie: cookie)
            #expect(Self.sha256(page) == Golden.testUserReviewsTimeout)
        }
    }

    @Test("with reviews timing out, a normal user's page is byte-identical to 1.0.6's")
    func reviewsTimingOut() async throws {
        let slow = ClosureHandler { _ in
            try await Task.sleep(for: .seconds(7))
            return .json("{}")
        }
        try await withBookinfo(reviews: slow, environment: Self.fidelity) { port in
            let page = try await Self.page(port)
            #expect(Self.sha256(page) == Golden.normalUserReviewsTimeout)
        }
    }

    @Test("the default classic page is the 1.0.6 page with Bootstrap and jQuery linked from /static/")
    func defaultLinksLocalAssets() async throws {
        let cdn = try await withBookinfo(reviewsVersion: "v3", environment: Self.fidelity) { try await Self.page($0) }
        let local = try await withBookinfo(reviewsVersion: "v3") { try await Self.page($0) }
        let links = [
            ("https://maxcdn.bootstrapcdn.com/bootstrap/3.3.5/css/bootstrap.min.css", "static/bootstrap/css/bootstrap.min.css"),
            ("https://maxcdn.bootstrapcdn.com/bootstrap/3.3.5/css/bootstrap-theme.min.css", "static/bootstrap/css/bootstrap-theme.min.css"),
            ("https://ajax.googleapis.com/ajax/libs/jquery/2.1.4/jquery.min.js", "static/jquery.min.js"),
            ("https://maxcdn.bootstrapcdn.com/bootstrap/3.3.5/js/bootstrap.min.js", "static/bootstrap/js/bootstrap.min.js"),
        ]
        for (remote, _) in links { #expect(count(remote, in: cdn) == 1, "\(remote)") }
        #expect(!local.contains("https://maxcdn") && !local.contains("https://ajax.googleapis.com"))
        #expect(local == links.reduce(cdn) { $0.replacingOccurrences(of: $1.0, with: $1.1) })
    }
}
