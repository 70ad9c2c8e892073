#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import BookinfoKit
import Details
import Grading
import Hummingbird
import MeshModel
import NIOCore
import Productpage
import Ratings
import Reviews
import Synchronization

/// A handler built from a closure, for upstreams whose behaviour a test controls.
struct ClosureHandler: BookinfoHandler {
    let body: @Sendable (Request) async throws -> Response

    func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        Routed("test", try await body(request))
    }
}

/// Any handler, so a test can put its own in place of a real service.
struct AnyHandler: BookinfoHandler {
    let base: any BookinfoHandler
    init(_ base: any BookinfoHandler) { self.base = base }

    func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        try await base.respond(to: request, context: context)
    }
}

/// reviews as a header-matching route would make it: `end-user: jason` gets `user`'s handler,
/// everyone else `others`' (what virtual-service-reviews-test-v2.yaml does on the mesh).
struct UserRouted: BookinfoHandler {
    let user: String
    let forUser: any BookinfoHandler
    let others: any BookinfoHandler

    func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        let endUser = request.headers.first { $0.name.canonicalName == "end-user" }?.value
        return try await (endUser == user ? forUser : others).respond(to: request, context: context)
    }
}

/// Runs `handler` on 127.0.0.1 on a free port while `body` runs, then stops it.
func withServer<Handler: BookinfoHandler, T: Sendable>(
    _ handler: Handler, _ body: @Sendable (_ port: Int) async throws -> T
) async throws -> T {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = BookinfoServer.application(
        name: "test", handler: handler, metrics: MetricsRegistry(), host: "127.0.0.1", port: 0, logLevel: .critical,
        onServerRunning: { continuation.yield($0) })
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            let result = try await body(port)
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// A port on 127.0.0.1 where nothing listens any more (a server was bound there and stopped).
/// A loopback port bound by a socket that never listens, held until the object goes: connections
/// are refused, and no other process can take the port meanwhile (a port of a stopped server can
/// go to another suite's server before the test is done with it).
struct RefusingPortError: Error { let errno: Int32 }

final class RefusingPort: @unchecked Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard fd >= 0, bound == 0, named == 0 else {
            let code = errno
            if fd >= 0 { close(fd) }
            throw RefusingPortError(errno: code)
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// A real reviews service of `version` whose ratings calls go to `ratingsPort`.
func reviewsService(_ version: String, ratingsPort: Int) -> ReviewsService {
    ReviewsService(
        configuration: ReviewsConfiguration(
            BookinfoEnvironment([
                "SERVICE_VERSION": version, "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": "\(ratingsPort)",
                "HOSTNAME": "reviews-\(version)-pod",
            ])))
}

/// A whole bookinfo on loopback: real ratings, reviews (or a handler built from the ratings
/// port), details and productpage; `body` gets productpage's port, which stands in for the ingress.
func withBookinfo<T: Sendable>(
    reviewsVersion: String = "v1",
    reviews: (@Sendable (_ ratingsPort: Int) -> any BookinfoHandler)? = nil,
    environment: [String: String] = [:],
    _ body: @Sendable (_ port: Int) async throws -> T
) async throws -> T {
    try await withServer(RatingsService(mode: .memory)) { ratingsPort in
        let service = reviews?(ratingsPort) ?? reviewsService(reviewsVersion, ratingsPort: ratingsPort)
        return try await withServer(AnyHandler(service)) { reviewsPort in
            try await withServer(DetailsService(environment: BookinfoEnvironment([:]))) { detailsPort in
                let configuration = ProductpageConfiguration(
                    BookinfoEnvironment(
                        [
                            "DETAILS_HOSTNAME": "127.0.0.1", "DETAILS_SERVICE_PORT": "\(detailsPort)",
                            "REVIEWS_HOSTNAME": "127.0.0.1", "REVIEWS_SERVICE_PORT": "\(reviewsPort)",
                            "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": "\(ratingsPort)",
                        ].merging(environment) { $1 }))
                return try await withServer(ProductpageService(configuration: configuration, metrics: MetricsRegistry()), body)
            }
        }
    }
}

/// One page: status and body.
func fetchPage(_ url: String, cookie: String? = nil) async throws -> (status: Int, body: String) {
    var request = HTTPClientRequest(url: url)
    if let cookie { request.headers.add(name: "cookie", value: cookie) }
    let response = try await TrafficDriver.client.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 4 << 20)
    return (Int(response.status.code), String(buffer: bytes))
}

/// A namespace as a test describes it.
struct FakeProbe: NamespaceProbe {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "no ingress in this test" }
    }

    var url: String?
    var labels: [String: String] = ["istio-injection": "enabled"]
    var podList: [(name: String, ready: String)] = []
    var findings: [Diagnostic] = []

    init(port: Int?, labels: [String: String] = ["istio-injection": "enabled"], pods: [(name: String, ready: String)] = [], diagnostics: [Diagnostic] = []) {
        url = port.map { "http://127.0.0.1:\($0)" }
        self.labels = labels
        podList = pods
        findings = diagnostics
    }

    func ingressURL() async throws -> String {
        guard let url else { throw Unavailable() }
        return url
    }
    func namespaceLabels() async throws -> [String: String] { labels }
    func pods() async throws -> [(name: String, ready: String)] { podList }
    func diagnostics() async throws -> [Diagnostic] { findings }
}

/// A counter shared with a handler.
final class Counter: Sendable {
    private let value = Mutex(0)
    /// The value before incrementing.
    func next() -> Int {
        value.withLock { current in
            defer { current += 1 }
            return current
        }
    }
}
