import BookinfoKit

/// How one productpage process behaves, from its environment (spec §2.1).
public struct ProductpageConfiguration: Sendable {
    /// Which HTML the page uses (`PRODUCTPAGE_UI`).
    public enum Markup: String, Sendable {
        /// Istio 1.0.6's Bootstrap page, byte for byte except that Bootstrap and jQuery load from the
        /// productpage's own `/static/` (as Istio 1.1 and later do), so it is styled offline: the default.
        case classic
        /// Istio 1.0.6's page byte for byte, CDN links included (`PRODUCTPAGE_UI=classic-1.0.6`).
        case classic106 = "classic-1.0.6"
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
    /// Folder whose `css/`, `js/` and `fonts/` are served under `/static/bootstrap/`
    /// (`PRODUCTPAGE_BOOTSTRAP_DIR`; Debian's `libjs-bootstrap` by default).
    public var bootstrapDirectory: String
    /// Folder whose `jquery.min.js` is served as `/static/jquery.min.js`
    /// (`PRODUCTPAGE_JQUERY_DIR`; Debian's `libjs-jquery` by default).
    public var jqueryDirectory: String

    public static let defaultBootstrapDirectory = "/usr/share/javascript/bootstrap"
    public static let defaultJQueryDirectory = "/usr/share/javascript/jquery"

    /// Reads `SERVICES_DOMAIN`, `DETAILS_HOSTNAME`, `DETAILS_SERVICE_PORT`, `REVIEWS_HOSTNAME`,
    /// `REVIEWS_SERVICE_PORT`, `RATINGS_HOSTNAME`, `RATINGS_SERVICE_PORT`, `FLOOD_FACTOR`,
    /// `PRODUCTPAGE_UI` (`classic`, `classic-1.0.6` or `modern`), `PRODUCTPAGE_SESSION_SECRET`,
    /// `PRODUCTPAGE_BOOTSTRAP_DIR` and `PRODUCTPAGE_JQUERY_DIR`.
    public init(_ environment: BookinfoEnvironment) {
        detailsBase = environment.upstreamBase(for: "details")
        reviewsBase = environment.upstreamBase(for: "reviews")
        ratingsBase = environment.upstreamBase(for: "ratings")
        floodFactor = environment["FLOOD_FACTOR"].flatMap { Int($0) }.map { max(0, $0) } ?? 0
        markup = environment["PRODUCTPAGE_UI"].flatMap { Markup(rawValue: $0.lowercased()) } ?? .classic
        sessionSecret = environment["PRODUCTPAGE_SESSION_SECRET"] ?? "meshdojo-bookinfo-session"
        bootstrapDirectory = environment["PRODUCTPAGE_BOOTSTRAP_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.defaultBootstrapDirectory
        jqueryDirectory = environment["PRODUCTPAGE_JQUERY_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.defaultJQueryDirectory
    }
}
