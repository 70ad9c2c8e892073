import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1

/// What one upstream GET produced: a status and body, or no answer at all.
public enum UpstreamResult: Sendable {
    /// The upstream answered (any status).
    case response(status: Int, body: ByteBuffer)
    /// No answer: the per-attempt deadline passed, the connection failed, or the body was too large.
    case failure(UpstreamFailure)

    /// The status when one was received.
    public var status: Int? {
        if case .response(let status, _) = self { return status }
        return nil
    }

    /// True for an HTTP 200 answer, the only one bookinfo counts as success.
    public var isOK: Bool { status == 200 }
}

/// Why an upstream call produced no response.
public enum UpstreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case timeout
    case connection(String)

    public var description: String {
        switch self {
        case .timeout: "upstream request timed out"
        case .connection(let reason): "upstream connection failed: \(reason)"
        }
    }
}

/// Plain HTTP/1.1 GETs to other bookinfo services, each on a connection of its own.
///
/// Istio's productpage opens a new connection per upstream request so that, without a mesh,
/// kube-proxy spreads the load over every version of a service; this client does the same by
/// sending `Connection: close`, so no request is pinned to a reused connection (spec §1).
public struct UpstreamClient: Sendable {
    let http: HTTPClient
    /// Largest upstream body accepted; bookinfo bodies are under 1 KiB.
    public var maxBodyBytes = 1 << 20

    /// - Parameter http: the client to send through; by default one per process that lives as long
    ///   as the process and so needs no shutdown.
    public init(http: HTTPClient = UpstreamClient.processClient) {
        self.http = http
    }

    /// The process-wide client: a refused connection fails at once instead of being retried until
    /// the deadline, as Python's `requests` does, so a missing upstream is reported immediately.
    public static let processClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(10))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Sends one GET and waits at most `timeout` for the whole answer.
    ///
    /// - Parameters:
    ///   - url: the absolute `http://` URL.
    ///   - headers: header name/value pairs to send (propagated headers, `end-user`, `Accept`).
    ///   - timeout: the per-attempt deadline, covering connect, head and body.
    ///   - logger: where the client logs its own trace messages.
    /// - Returns: the response or the failure; never throws.
    public func get(
        _ url: String, headers: [(String, String)], timeout: TimeAmount, logger: Logger
    ) async -> UpstreamResult {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(contentsOf: headers)
        request.headers.replaceOrAdd(name: "connection", value: "close")
        let deadline = NIODeadline.now() + timeout
        do {
            let response = try await http.execute(request, deadline: deadline, logger: logger)
            let body = try await response.body.collect(upTo: maxBodyBytes)
            return .response(status: Int(response.status.code), body: body)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout
            || error == .connectTimeout
        {
            return .failure(.timeout)
        } catch {
            if NIODeadline.now() >= deadline { return .failure(.timeout) }
            return .failure(.connection(String(describing: error)))
        }
    }
}
