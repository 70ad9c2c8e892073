import AsyncHTTPClient
import BookinfoKit
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// A handler built from a closure, for upstreams whose behaviour a test controls.
struct ClosureHandler: BookinfoHandler {
    let body: @Sendable (Request) async throws -> Response

    func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        Routed("test", try await body(request))
    }
}

/// What a test upstream received: headers and arrival times of each request.
final class RequestLog: Sendable {
    struct Entry: Sendable {
        var path: String
        var headers: HTTPFields
        var at: ContinuousClock.Instant
    }

    private let entries = Mutex<[Entry]>([])

    func record(_ request: Request) {
        entries.withLock { $0.append(Entry(path: request.uri.path, headers: request.headers, at: .now)) }
    }

    var all: [Entry] { entries.withLock { $0 } }
    var count: Int { entries.withLock { $0.count } }
}

/// Runs `handler` on 127.0.0.1 on a free port while `body` runs, then stops it.
func withServer<Handler: BookinfoHandler, T: Sendable>(
    _ handler: Handler, metrics: MetricsRegistry = MetricsRegistry(),
    _ body: @Sendable (_ port: Int) async throws -> T
) async throws -> T {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = BookinfoServer.application(
        name: "test", handler: handler, metrics: metrics, host: "127.0.0.1", port: 0, logLevel: .critical,
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

/// One HTTP exchange as a test sees it.
struct Fetched: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// The tests' client: it does not follow redirects, so tests see them, and lives as long as the process.
let testClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.redirectConfiguration = .disallow
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

/// Sends one request over a real socket and collects the whole answer.
func fetch(
    _ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil
) async throws -> Fetched {
    var request = HTTPClientRequest(url: url)
    request.method = method
    request.headers.add(contentsOf: headers)
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await testClient.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 4 << 20)
    return Fetched(
        status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
        body: String(buffer: bytes))
}

/// Occurrences of `needle` in `haystack`.
func count(_ needle: String, in haystack: String) -> Int {
    haystack.components(separatedBy: needle).count - 1
}

/// A real service that also records each request it receives.
struct Recording<Inner: BookinfoHandler>: BookinfoHandler {
    let inner: Inner
    let log: RequestLog

    func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        log.record(request)
        return try await inner.respond(to: request, context: context)
    }
}

/// Sends `bytes` on a new TCP connection to 127.0.0.1:`port` and returns everything read until the
/// server closes the connection (at most 10 s of silence), for tests of the wire itself.
func rawExchange(port: Int, _ bytes: [UInt8]) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { break }  // the server closed early; what it answered is still read below
        sent += n
    }
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        received += chunk[0..<n]
    }
    return String(decoding: received, as: UTF8.self)
}
