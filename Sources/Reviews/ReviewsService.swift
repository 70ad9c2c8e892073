import BookinfoKit
import Hummingbird
import HTTPTypes
import Logging

/// Istio's `reviews` service, v1/v2/v3 in one program (spec §4): `GET /reviews/<id>`, `/health`.
public struct ReviewsService: PlanningHandler {
    public let configuration: ReviewsConfiguration
    let client: UpstreamClient

    /// The body's fixed parts for this configuration, quoted once: the head up to the reviews, each
    /// review's opening, and the rating's tail after the star count.
    let bodyHead: String
    let reviewOpenings: [String]
    let ratingTail: String

    public init(configuration: ReviewsConfiguration, client: UpstreamClient = UpstreamClient()) {
        self.configuration = configuration
        self.client = client
        bodyHead = #","podname": \#(JSONText.quote(configuration.podName)),"clustername": \#(JSONText.quote(configuration.clusterName)),"reviews": ["#
        reviewOpenings = Self.reviews.map { #"{  "reviewer": \#(JSONText.quote($0.0)),  "text": \#(JSONText.quote($0.1))"# }
        ratingTail = #", "color": \#(JSONText.quote(configuration.starColor))}"#
    }

    static let reviews = [
        ("Reviewer1", "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"),
        ("Reviewer2", "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."),
    ]

    /// All but a review with ratings (which asks the ratings service) is answered at once; the
    /// pending part is the product id.
    public func plan(_ request: Request) -> Plan<Int32> {
        let path = request.uri.path
        if path == "/health" {
            return .now(ImmediateRouted("/health", .json(#"{"status": "Reviews is healthy"}"#)))
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count == 3, segments[1] == "reviews" else {
            return .now(ImmediateRouted("not-found", .text("Not Found", status: .notFound, contentType: "text/plain")))
        }
        guard request.method == .get || request.method == .head else {
            return .now(ImmediateRouted("/reviews/:id", ImmediateResponse(status: .methodNotAllowed, headers: [.allow: "GET, HEAD"])))
        }
        guard let id = Self.javaInt(segments[2]) else {
            return .now(ImmediateRouted("/reviews/:id", .text("Not Found", status: .notFound, contentType: "text/plain")))
        }
        guard configuration.enableRatings else {
            return .now(ImmediateRouted("/reviews/:id", .json(body(id: id, stars: nil))))
        }
        return .later(id)
    }

    public func finish(_ id: Int32, request: Request, context: BasicRequestContext) async throws -> Routed {
        let stars = await fetchStars(id: id, request: request, logger: context.logger)
        return Routed("/reviews/:id", .json(body(id: id, stars: stars)))
    }

    /// The body, built by string concatenation exactly as the Java original does.
    /// - Parameter stars: nil when ratings are off; otherwise each reviewer's stars, nil where unavailable.
    func body(id: Int32, stars: [Int?]?) -> String {
        var out = #"{"id": "\#(id)""# + bodyHead
        for (index, opening) in reviewOpenings.enumerated() {
            if index > 0 { out += "," }
            out += opening
            if let stars {
                if let count = stars[index] {
                    out += #", "rating": {"stars": \#(count)"# + ratingTail
                } else {
                    out += #", "rating": {"error": "Ratings service is currently unavailable"}"#
                }
            }
            out += "}"
        }
        return out + "]}"
    }

    /// Each reviewer's stars from ratings; nil for a reviewer when the call failed (no answer,
    /// a status other than 200), the body has no `ratings` object, or the value is not an integer.
    func fetchStars(id: Int32, request: Request, logger: Logger) async -> [Int?] {
        var headers = PropagatedHeaders.pick(PropagatedHeaders.forwardedByBackends, from: request.headers)
        headers.append(("accept", "application/json"))
        let result = await client.get(
            "\(configuration.ratingsBase)/ratings/\(id)", headers: headers, timeout: configuration.ratingsTimeout,
            logger: logger)
        guard case .response(200, let body) = result,
            let ratings = (try? JSONValue.parse(body.readableBytesView))?["ratings"]
        else {
            logger.warning("ratings unavailable", metadata: ["bookinfo.upstream": "ratings", "bookinfo.result": "\(result)"])
            return Self.reviews.map { _ in nil }
        }
        return Self.reviews.map { ratings[$0.0]?.intValue }
    }

    /// Java's `Integer.parseInt`: an optional sign and decimal digits that fit 32 bits.
    static func javaInt(_ text: Substring) -> Int32? {
        var digits = text
        if let sign = digits.first, sign == "+" || sign == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
        return Int32(text.first == "+" ? String(text.dropFirst()) : String(text))
    }
}
