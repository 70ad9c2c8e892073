import BookinfoKit
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore

/// Istio's `productpage` (spec §2): the product page, login/logout, the JSON API, health, assets.
public struct ProductpageService: BookinfoHandler {
    public let configuration: ProductpageConfiguration
    let client: UpstreamClient
    let metrics: MetricsRegistry
    let session: SessionCookie
    let staticFiles: StaticFiles
    /// Per-attempt deadline of every upstream call: the Python original's 3 s `requests` timeout.
    static let attemptTimeout = TimeAmount.seconds(3)
    /// Largest login form accepted.
    static let maxFormBytes = 16 * 1024

    /// - Parameters:
    ///   - configuration: upstream addresses, flood factor, markup, session key.
    ///   - metrics: where `request_result_total` is counted (the registry behind `/metrics`).
    public init(configuration: ProductpageConfiguration, metrics: MetricsRegistry, client: UpstreamClient = UpstreamClient()) {
        self.configuration = configuration
        self.client = client
        self.metrics = metrics
        self.session = SessionCookie(secret: configuration.sessionSecret)
        self.staticFiles = StaticFiles(
            bootstrapDirectory: configuration.bootstrapDirectory, jqueryDirectory: configuration.jqueryDirectory)
    }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        guard let route = Route(path: request.uri.path) else {
            return Routed("not-found", FlaskPages.notFound)
        }
        let allowed = route.methods
        switch request.method {
        case .options:
            return Routed(route.label, Response(status: .ok, headers: [.allow: allowed.joined(separator: ", ")]))
        case .head where allowed.contains("HEAD"):
            return Routed(route.label, try await answer(route, request: request, logger: context.logger).createHeadResponse())
        case let method where allowed.contains(method.rawValue):
            return Routed(route.label, try await answer(route, request: request, logger: context.logger))
        default:
            return Routed(route.label, FlaskPages.methodNotAllowed(allow: allowed))
        }
    }

    func answer(_ route: Route, request: Request, logger: Logger) async throws -> Response {
        switch route {
        case .index:
            return .text(LandingPage.render(configuration), contentType: "text/html; charset=utf-8")
        case .health:
            return .text("Product page is healthy", contentType: "text/html; charset=utf-8")
        case .login:
            return try await login(request)
        case .logout:
            var response = FlaskPages.redirect(to: request.headers[.referer] ?? "/productpage")
            response.headers[.setCookie] = "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/"
            response.headers[.vary] = "Cookie"
            return response
        case .productpage:
            return await productPage(request, logger: logger)
        case .products:
            return .json(Product.listJSON)
        case .product(let id):
            return await api(
                "details", url: "\(configuration.detailsBase)/details/\(id)", attempts: 1, request: request, logger: logger)
        case .productReviews(let id):
            return await api(
                "reviews", url: "\(configuration.reviewsBase)/reviews/\(id)", attempts: 2, request: request, logger: logger)
        case .productRatings(let id):
            return await api(
                "ratings", url: "\(configuration.ratingsBase)/ratings/\(id)", attempts: 1, request: request, logger: logger)
        case .staticFile(let path):
            switch staticFiles.lookup(path) {
            case .found(let type, let data):
                return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
            case .missing(let file):
                logger.error(
                    "static file missing: the classic page is unstyled until it exists (install Debian's libjs-bootstrap and libjs-jquery, or point PRODUCTPAGE_BOOTSTRAP_DIR / PRODUCTPAGE_JQUERY_DIR at folders holding them)",
                    metadata: ["bookinfo.path": "/static/\(path)", "bookinfo.file": "\(file)"])
                return FlaskPages.notFound
            case .unknown:
                return FlaskPages.notFound
            }
        }
    }

    // MARK: Session

    /// The signed-in user from the `session` cookie, or nil.
    func user(_ request: Request) -> String? {
        request.cookies["session"].flatMap { session.decode($0.value) }
    }

    /// `POST /login`: stores `username` (query string first, then the form) in the session and
    /// redirects to the `Referer`, or to `/productpage` when there is none.
    func login(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: Self.maxFormBytes)
        let query = FormFields(request.uri.query ?? "")
        let form = FormFields(String(buffer: body))
        var response = FlaskPages.redirect(to: request.headers[.referer] ?? "/productpage")
        if let user = query["username"] ?? form["username"] {
            response.headers[.setCookie] = "session=\(session.encode(user: user)); HttpOnly; Path=/"
        } else {
            response.headers[.setCookie] = "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/"
        }
        response.headers[.vary] = "Cookie"
        return response
    }

    // MARK: Upstreams

    /// The headers for every upstream call: the propagated ones plus `end-user` from the session
    /// (an incoming `end-user` header is never forwarded).
    func upstreamHeaders(_ request: Request, user: String?) -> [(String, String)] {
        var headers = PropagatedHeaders.pick(PropagatedHeaders.tracing, from: request.headers)
        headers += PropagatedHeaders.expandB3(request.headers)
        if let user { headers.append(("end-user", user)) }
        return headers
    }

    /// One logical fetch: up to `attempts` tries, retrying at once after any answer other than 200
    /// or no answer at all; counted once in `request_result_total` with the final code.
    func fetch(
        _ app: String, url: String, attempts: Int, headers: [(String, String)], logger: Logger
    ) async -> UpstreamResult {
        var result = UpstreamResult.failure(.timeout)
        for attempt in 1...attempts {
            result = await client.get(url, headers: headers, timeout: Self.attemptTimeout, logger: logger)
            if result.isOK { break }
            logger.warning(
                "upstream request failed",
                metadata: ["bookinfo.upstream": "\(app)", "bookinfo.attempt": "\(attempt)", "bookinfo.result": "\(result)"])
        }
        metrics.increment(
            "request_result_total", help: "Results of requests",
            labels: [("destination_app", app), ("response_code", String(result.status ?? 500))])
        return result
    }

    static func sorry(_ what: String) -> JSONValue {
        .object([("error", .string("Sorry, product \(what) are currently unavailable for this book."))])
    }

    /// A fetch's outcome as the page sees it: 200 with a JSON body, or the sorry sentence.
    static func fetched(_ result: UpstreamResult, what: String) -> PageModel.Fetched {
        if case .response(200, let body) = result, let value = try? JSONValue.parse(body.readableBytesView) {
            return .init(ok: true, value: value)
        }
        return .init(ok: false, value: sorry(what))
    }

    /// `GET /productpage`: details, then the flood, then reviews (with its retry), then the page;
    /// always 200.
    func productPage(_ request: Request, logger: Logger) async -> Response {
        let user = user(request)
        let headers = upstreamHeaders(request, user: user)
        let details = await fetch(
            "details", url: "\(configuration.detailsBase)/details/\(Product.id)", attempts: 1, headers: headers,
            logger: logger)
        let reviewsURL = "\(configuration.reviewsBase)/reviews/\(Product.id)"
        for _ in 0..<configuration.floodFactor {
            _ = await fetch("reviews", url: reviewsURL, attempts: 2, headers: headers, logger: logger)
        }
        let reviews = await fetch("reviews", url: reviewsURL, attempts: 2, headers: headers, logger: logger)
        let page = PageModel(
            user: user, details: Self.fetched(details, what: "details"), reviews: Self.fetched(reviews, what: "reviews"))
        let html =
            switch configuration.markup {
            case .classic: ClassicPage.render(page, assets: .local)
            case .classic106: ClassicPage.render(page, assets: .cdn)
            case .modern: ModernPage.render(page)
            }
        var response = Response.text(html, contentType: "text/html; charset=utf-8")
        response.headers[.vary] = "Cookie"
        return response
    }

    /// The JSON API: the upstream object re-serialised, or the sorry object with the upstream's
    /// status (500 when there was no answer).
    func api(_ app: String, url: String, attempts: Int, request: Request, logger: Logger) async -> Response {
        let headers = upstreamHeaders(request, user: user(request))
        let result = await fetch(app, url: url, attempts: attempts, headers: headers, logger: logger)
        let outcome = Self.fetched(result, what: app)
        if outcome.ok { return .json(PythonJSON.serialize(outcome.value)) }
        let status = result.status.flatMap { $0 == 200 ? nil : $0 } ?? 500
        return .json(PythonJSON.serialize(outcome.value), status: HTTPResponse.Status(code: status))
    }
}
