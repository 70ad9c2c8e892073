import BookinfoKit
import Details
import Productpage
import Ratings
import Reviews

/// A whole bookinfo on loopback: real details, ratings and reviews servers (or handlers a test
/// supplies in their place) behind a real productpage; `body` gets productpage's port.
func withBookinfo<T: Sendable>(
    reviewsVersion: String = "v1",
    details: (any BookinfoHandler)? = nil,
    reviews: (any BookinfoHandler)? = nil,
    environment: [String: String] = [:],
    metrics: MetricsRegistry = MetricsRegistry(),
    _ body: @Sendable (_ port: Int) async throws -> T
) async throws -> T {
    try await withServer(RatingsService(mode: .memory)) { ratingsPort in
        let reviewsService = AnyHandler(
            reviews
            ?? ReviewsService(
                configuration: ReviewsConfiguration(
                    BookinfoEnvironment([
                        "SERVICE_VERSION": reviewsVersion, "RATINGS_HOSTNAME": "127.0.0.1",
                        "RATINGS_SERVICE_PORT": "\(ratingsPort)", "HOSTNAME": "reviews-\(reviewsVersion)-pod",
                    ]))))
        return try await withServer(reviewsService) { reviewsPort in
            try await withServer(AnyHandler(details ?? DetailsService(environment: BookinfoEnvironment([:])))) { detailsPort in
                let configuration = ProductpageConfiguration(
                    BookinfoEnvironment(
                        [
                            "DETAILS_HOSTNAME": "127.0.0.1", "DETAILS_SERVICE_PORT": "\(detailsPort)",
                            "REVIEWS_HOSTNAME": "127.0.0.1", "REVIEWS_SERVICE_PORT": "\(reviewsPort)",
                            "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": "\(ratingsPort)",
                        ].merging(environment) { $1 }))
                return try await withServer(
                    ProductpageService(configuration: configuration, metrics: metrics), metrics: metrics, body)
            }
        }
    }
}

/// Signs in through the login form as a browser would and returns the `Cookie` header to send.
func signIn(_ user: String, port: Int) async throws -> (String, String) {
    let answer = try await fetch(
        "http://127.0.0.1:\(port)/login", method: .POST,
        headers: [("content-type", "application/x-www-form-urlencoded"), ("referer", "http://127.0.0.1:\(port)/productpage")],
        body: "username=\(user)&passwd=pass")
    let cookie = try #require(answer.header("set-cookie")?.split(separator: ";").first)
    return ("cookie", String(cookie))
}

import Hummingbird
import Testing

/// Any handler, so a test can put its own in place of a real service.
struct AnyHandler: BookinfoHandler {
    let base: any BookinfoHandler
    init(_ base: any BookinfoHandler) { self.base = base }

    func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        try await base.respond(to: request, context: context)
    }
}
