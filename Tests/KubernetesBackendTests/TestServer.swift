import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import KubernetesBackend
import Synchronization

/// A request the test API server saw.
struct SeenRequest: Sendable {
    var method: String
    var path: String
    var query: [String: String]
    /// By lower-case name.
    var headers: [String: String]
    var body: String
}

/// What the test API server answers: a status, headers and a body written in chunks (with a
/// pause between them, so they travel as separate writes).
struct Answer: Sendable {
    var status: Int = 200
    var contentType = "application/json"
    var chunks: [String]
    var pause: Duration = .milliseconds(20)
    /// Break the connection off after the chunks, without ending the body.
    var breakOff = false

    static func json(_ text: String, status: Int = 200) -> Answer { Answer(status: status, chunks: [text]) }
}

/// Requests seen so far, shared with the handler.
final class RequestLog: Sendable {
    let requests = Mutex<[SeenRequest]>([])
    func append(_ request: SeenRequest) { requests.withLock { $0.append(request) } }
    var all: [SeenRequest] { requests.withLock { $0 } }
}

/// Runs a stand-in API server on 127.0.0.1 (a port the kernel picks) while `body` runs.
func withAPIServer<T: Sendable>(
    tls: TLSConfiguration? = nil,
    _ handler: @escaping @Sendable (SeenRequest) async throws -> Answer,
    _ body: @Sendable (_ port: Int, _ log: RequestLog) async throws -> T
) async throws -> T {
    let log = RequestLog()
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let responder = CallbackResponder<BasicRequestContext> { request, _ in
        var request = request
        let bytes = try await request.collectBody(upTo: 1 << 20)
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters {
            query[String(name)] = String(value).removingPercentEncoding ?? String(value)
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        let seen = SeenRequest(
            method: request.method.rawValue, path: request.uri.path, query: query, headers: headers, body: String(buffer: bytes))
        log.append(seen)
        let answer = try await handler(seen)
        var responseHeaders = HTTPFields()
        responseHeaders[.contentType] = answer.contentType
        return Response(
            status: .init(code: answer.status), headers: responseHeaders,
            body: ResponseBody { writer in
                for (index, chunk) in answer.chunks.enumerated() {
                    if index > 0 { try await Task.sleep(for: answer.pause) }
                    try await writer.write(ByteBuffer(string: chunk))
                }
                if answer.breakOff { throw CancellationError() }
                try await writer.finish(nil)
            })
    }
    let app = Application(
        responder: responder,
        server: try tls.map { try .tls(tlsConfiguration: $0) } ?? .http1(),
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) },
        // Quiet: stopping the server mid-watch is what the tests do, not an error to print.
        logger: {
            var logger = Logger(label: "test-api-server")
            logger.logLevel = .critical
            return logger
        }())
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            let result = try await body(port, log)
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// A client of the stand-in server at `port`, with a bearer token.
func testClient(_ port: Int, token: String = "test-token") throws -> KubeClient {
    try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)", credentials: .token(token)))
}

/// The folder of this test target's sources (for golden files to be written back).
let testSourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

/// The package's root folder.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A test resource's path: the copy in the test bundle (whose resource URL is the bundle, or its
/// `Resources` folder, depending on the platform's Foundation), else the source folder's.
func resource(_ relative: String) -> String {
    let candidates: [String] = [
        Bundle.module.bundleURL.appendingPathComponent("Resources/" + relative).path,
        Bundle.module.resourceURL?.appendingPathComponent(relative).path,
        testSourceDirectory + "/Resources/" + relative,
    ].compactMap { $0 }
    return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
}
