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

/// Plain HTTP/1.1 GETs to other bookinfo services.
///
/// Istio's productpage opens a new connection per upstream request so that, without a mesh,
/// kube-proxy spreads the load over every version of a service; this client does the same by
/// sending `Connection: close`, so no request is pinned to a reused connection (spec §1). Through
/// a sidecar (`HTTP_PROXY` set, as the local mesh and Istio's injection set it) Envoy balances each
/// request, so there the connections to the sidecar are kept alive and pooled instead, unless
/// `UPSTREAM_CONNECTIONS=per-request` asks for one connection per call anyway.
///
/// `http://` URLs go through ``HTTP1Client``, a minimal client written on SwiftNIO; only
/// `https://` URLs (details v2's Google Books call) go through AsyncHTTPClient.
public struct UpstreamClient: Sendable {
    /// How `http://` calls use connections.
    public enum Connections: String, Sendable {
        /// A new connection per call, `Connection: close`.
        case perRequest = "per-request"
        /// Kept-alive connections to the proxy, reused across calls (only with a proxy).
        case pooled
    }

    /// The client for `https://` URLs.
    let http: HTTPClient
    /// The HTTP proxy every `http://` call goes through, if any.
    let proxy: HTTP1Client.ConnectTarget?
    /// Idle connections to `proxy`; nil: a connection per call.
    let pool: HTTP1ConnectionPool?
    /// Largest upstream body accepted; bookinfo bodies are under 1 KiB.
    public var maxBodyBytes = 1 << 20

    /// - Parameter http: the client for `https://` URLs (and any URL ``HTTP1Client`` does not take);
    ///   by default one per process that lives as long as the process and so needs no shutdown.
    public init(http: HTTPClient = UpstreamClient.processClient) {
        self.http = http
        self.proxy = Self.processProxy.map { HTTP1Client.ConnectTarget(host: $0.host, port: $0.port) }
        self.pool = Self.processPool
    }

    /// - Parameters:
    ///   - http: the client for `https://` URLs.
    ///   - proxy: host and port of the HTTP proxy for `http://` URLs; nil to connect directly.
    ///   - connections: `.pooled` keeps connections to the proxy alive (ignored without a proxy).
    init(
        http: HTTPClient = UpstreamClient.processClient, proxy: (host: String, port: Int)?,
        connections: Connections = .perRequest
    ) {
        self.http = http
        self.proxy = proxy.map { HTTP1Client.ConnectTarget(host: $0.host, port: $0.port) }
        self.pool = proxy != nil && connections == .pooled ? HTTP1ConnectionPool() : nil
    }

    /// `HTTP_PROXY`/`http_proxy` of the process, read once.
    static let processProxy: (host: String, port: Int)? = httpProxy(BookinfoEnvironment())

    /// How the process's calls use connections: `UPSTREAM_CONNECTIONS` (`pooled` or `per-request`),
    /// by default pooled when there is a proxy.
    public static let processConnections: Connections = connections(BookinfoEnvironment())

    /// `UPSTREAM_CONNECTIONS` when it names a mode, otherwise pooled with a proxy and per request
    /// without one. Without a proxy it is always per request: pooling would pin calls to the
    /// endpoint kube-proxy chose for the connection.
    public static func connections(_ environment: BookinfoEnvironment) -> Connections {
        guard httpProxy(environment) != nil else { return .perRequest }
        return environment["UPSTREAM_CONNECTIONS"].flatMap { Connections(rawValue: $0.lowercased()) } ?? .pooled
    }

    /// The process's connections to its proxy, when pooled.
    static let processPool: HTTP1ConnectionPool? = processConnections == .pooled ? HTTP1ConnectionPool() : nil

    /// The process-wide client for `https://` URLs: a refused connection fails at once instead of
    /// being retried until the deadline, as Python's `requests` does, so a missing upstream is
    /// reported immediately. When `HTTP_PROXY` (or `http_proxy`) is set, as the local mesh sets it to
    /// the pod's sidecar, every call goes through that proxy, as `requests` does.
    public static let processClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(10))
        if let proxy = processProxy {
            configuration.proxy = .server(host: proxy.host, port: proxy.port)
        }
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Host and port of `HTTP_PROXY`/`http_proxy` (`http://host:port` or `host:port`), if set.
    public static func httpProxy(_ environment: BookinfoEnvironment) -> (host: String, port: Int)? {
        guard var text = environment["HTTP_PROXY"] ?? environment["http_proxy"], !text.isEmpty else { return nil }
        if let scheme = text.range(of: "://") { text = String(text[scheme.upperBound...]) }
        text = String(text.prefix { $0 != "/" })
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            return (text, 80)
        }
        return (String(text[..<colon]), port)
    }

    /// Sends one GET and waits at most `timeout` for the whole answer.
    ///
    /// Without a pool, each call opens a new TCP connection (to the proxy when one is set, sending
    /// the request in absolute form), sends `Host`, `headers` and `Connection: close`, and closes the
    /// connection when the answer is complete, the deadline passes or the task is cancelled. With a
    /// pool it sends on an idle connection to the proxy when there is one and gives the connection
    /// back after a complete kept-alive answer.
    ///
    /// - Parameters:
    ///   - url: the absolute `http://` (or `https://`) URL.
    ///   - headers: header name/value pairs to send (propagated headers, `end-user`, `Accept`).
    ///   - timeout: the per-attempt deadline, covering connect, head and body.
    ///   - logger: where the client logs its own trace messages.
    /// - Returns: the response or the failure; never throws.
    public func get(
        _ url: String, headers: [(String, String)], timeout: TimeAmount, logger: Logger
    ) async -> UpstreamResult {
        let deadline = NIODeadline.now() + timeout
        guard let parts = HTTP1Client.parse(url) else {
            // https (details v2's Google Books call), or a URL the minimal client does not take:
            // AsyncHTTPClient serves it or reports it as before.
            return await getThroughHTTPClient(url, headers: headers, deadline: deadline, logger: logger)
        }
        guard
            let request = HTTP1Client.serializeRequest(
                parts, absoluteForm: proxy != nil, headers: headers, keepAlive: pool != nil)
        else {
            return .failure(.connection("a header name or value is not valid in HTTP/1.1"))
        }
        let target = proxy ?? HTTP1Client.ConnectTarget(host: parts.host, port: parts.port)
        let result = await HTTP1Client.execute(
            request: request, to: target, deadline: deadline, maxBodyBytes: maxBodyBytes, pool: pool)
        if case .failure(let failure) = result {
            logger.trace("upstream GET failed", metadata: ["url": "\(url)", "error": "\(failure)"])
        }
        return result
    }

    /// The AsyncHTTPClient path, for `https://` URLs.
    private func getThroughHTTPClient(
        _ url: String, headers: [(String, String)], deadline: NIODeadline, logger: Logger
    ) async -> UpstreamResult {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(contentsOf: headers)
        request.headers.replaceOrAdd(name: "connection", value: "close")
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
