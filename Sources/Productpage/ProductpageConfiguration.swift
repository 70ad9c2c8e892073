import BookinfoKit

/// How one productpage process behaves, from its environment (spec §2.1).
public struct ProductpageConfiguration: Sendable {
    /// Which HTML the page uses.
    public enum Markup: String, Sendable {
        /// Istio 1.0.6's Bootstrap page, byte for byte: the default.
        case classic
        /// The current Tailwind page (`PRODUCTPAGE_UI=modern`).
        case modern
    }

    public var detailsBase: String
    public var reviewsBase: String
    public var ratingsBase: String
    /// Extra reviews fetches per page view (`FLOOD_FACTOR`).
    public var floodFactor: Int
    public var markup: Markup
    /// Key that signs the session cookie (`PRODUCTPAGE_SESSION_SECRET`, or a fixed default so
    /// that replicas and restarts accept each other's cookies, as the original's published key does).
    public var sessionSecret: String

    /// Reads `SERVICES_DOMAIN`, `DETAILS_HOSTNAME`, `DETAILS_SERVICE_PORT`, `REVIEWS_HOSTNAME`,
    /// `REVIEWS_SERVICE_PORT`, `RATINGS_HOSTNAME`, `RATINGS_SERVICE_PORT`, `FLOOD_FACTOR`,
    /// `PRODUCTPAGE_UI` (`classic` or `modern`) and `PRODUCTPAGE_SESSION_SECRET`.
    public init(_ environment: BookinfoEnvironment) {
        detailsBase = environment.upstreamBase(for: "details")
        reviewsBase = environment.upstreamBase(for: "reviews")
        ratingsBase = environment.upstreamBase(for: "ratings")
        floodFactor = environment["FLOOD_FACTOR"].flatMap { Int($0) }.map { max(0, $0) } ?? 0
        markup = environment["PRODUCTPAGE_UI"].flatMap { Markup(rawValue: $0.lowercased()) } ?? .classic
        sessionSecret = environment["PRODUCTPAGE_SESSION_SECRET"] ?? "meshdojo-bookinfo-session"
    }
}
