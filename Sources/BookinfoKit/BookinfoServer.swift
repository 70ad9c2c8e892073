import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// One answer of a bookinfo handler: the route it matched (the metrics label) and the response,
/// Hummingbird's (``Routed``) or one complete at once (``ImmediateRouted``).
public struct RoutedAnswer<Answer: Sendable>: Sendable {
    public var route: String
    public var response: Answer

    public init(_ route: String, _ response: Answer) {
        self.route = route
        self.response = response
    }
}

/// An answer of ``BookinfoHandler/respond(to:context:)``.
public typealias Routed = RoutedAnswer<Response>

/// An answer of ``BookinfoHandler/respondImmediately(to:)``: ready at once.
public typealias ImmediateRouted = RoutedAnswer<ImmediateResponse>

extension RoutedAnswer where Answer == ImmediateResponse {
    /// The same answer for ``BookinfoHandler/respond(to:context:)``.
    public var routed: Routed { Routed(route, response.response) }
}

/// A bookinfo service's request handling, without the shared instrumentation.
public protocol BookinfoHandler: Sendable {
    /// Answers one request; errors thrown here become a 500 (or the status of an `HTTPError`).
    /// Answers every request, those ``respondImmediately(to:)`` answers too (wrappers in tests
    /// forward only this); ``PlanningHandler`` gives both from one decision.
    func respond(to request: Request, context: BasicRequestContext) async throws -> Routed

    /// The answer when it needs no waiting (no upstream call, database or delay), the same one
    /// ``respond(to:context:)`` gives; nil when it does. The server answers these in the
    /// connection's channel handler, without the task (and its two trips through the event
    /// loop's queue) an asynchronous answer needs. By default nil.
    func respondImmediately(to request: Request) -> ImmediateRouted?
}

extension BookinfoHandler {
    public func respondImmediately(to request: Request) -> ImmediateRouted? { nil }
}

/// What a handler decides about a request before anything waits: the answer, or what is left to
/// do for it (an upstream call, a database read, a delay), with what was parsed on the way.
public enum Plan<Pending: Sendable>: Sendable {
    case now(ImmediateRouted)
    case later(Pending)
}

/// A handler that decides once, without waiting, whether it can answer at once: both
/// ``BookinfoHandler`` entry points come from ``plan(_:)``, so they cannot disagree, and the part
/// that waits gets the request already parsed.
public protocol PlanningHandler: BookinfoHandler {
    associatedtype Pending: Sendable
    /// The answer, or what is left to do for it.
    func plan(_ request: Request) -> Plan<Pending>
    /// Finishes an answer ``plan(_:)`` left for later.
    func finish(_ pending: Pending, request: Request, context: BasicRequestContext) async throws -> Routed
}

extension PlanningHandler {
    // Inlinable, so each service's copy is specialised for its own types (these run every request).
    @inlinable
    public func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        switch plan(request) {
        case .now(let answer): answer.routed
        case .later(let pending): try await finish(pending, request: request, context: context)
        }
    }

    @inlinable
    public func respondImmediately(to request: Request) -> ImmediateRouted? {
        if case .now(let answer) = plan(request) { return answer }
        return nil
    }
}

/// Wraps a handler with what every service shares: `GET /metrics`, request counting and
/// latency by route and status, and the request id in the log metadata.
public struct InstrumentedResponder<Handler: BookinfoHandler>: ImmediateResponder {
    public typealias Context = BasicRequestContext
    let handler: Handler
    let metrics: MetricsRegistry

    public init(handler: Handler, metrics: MetricsRegistry) {
        self.handler = handler
        self.metrics = metrics
    }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        if let requestID = request.headers[.requestID] {
            context.logger[metadataKey: "bookinfo.request_id"] = .string(requestID)
        }
        let routed: Routed
        if let page = metricsPage(request) {
            routed = page.routed
        } else {
            do {
                routed = try await handler.respond(to: request, context: context)
            } catch is NIOTooManyBytesError {
                routed = Routed("error", Response(status: .contentTooLarge))
            } catch let error as HTTPError {
                routed = Routed("error", Response(status: error.status, headers: error.headers))
            } catch {
                context.logger.error("handler failed", metadata: ["bookinfo.error": "\(error)"])
                routed = Routed("error", Response(status: .internalServerError))
            }
        }
        record(request, route: routed.route, status: routed.response.status, since: start, logger: context.logger)
        return routed.response
    }

    public func respondImmediately(to request: Request, logger: Logger) -> ImmediateResponse? {
        let start = ContinuousClock.now
        guard let answer = metricsPage(request) ?? handler.respondImmediately(to: request) else { return nil }
        var logger = logger
        // Only the debug line below logs here: the id is looked up only when it is written.
        if logger.logLevel <= .debug, let requestID = request.headers[.requestID] {
            logger[metadataKey: "bookinfo.request_id"] = .string(requestID)
        }
        record(request, route: answer.route, status: answer.response.status, since: start, logger: logger)
        return answer.response
    }

    /// `GET /metrics`; nil for any other request. (`respond` goes straight to the handler's
    /// `respond`, which answers what `respondImmediately` would: the server has already asked.)
    private func metricsPage(_ request: Request) -> ImmediateRouted? {
        guard request.uri.path == "/metrics", request.method == .get || request.method == .head else { return nil }
        return ImmediateRouted("/metrics", .text(metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8"))
    }

    /// Counts the request and its latency, and logs it at debug level.
    private func record(_ request: Request, route: String, status: HTTPResponse.Status, since start: ContinuousClock.Instant, logger: Logger) {
        let seconds = (ContinuousClock.now - start).seconds
        let status = String(status.code)
        metrics.increment(
            "http_requests_total", help: "HTTP requests answered, by route, method and status.",
            labels: [("route", route), ("method", request.method.rawValue), ("status", status)])
        metrics.observe(
            "http_request_duration_seconds", help: "Time to answer an HTTP request, by route.",
            labels: [("route", route)], value: seconds)
        logger.debug(
            "request",
            metadata: [
                "http.method": "\(request.method)", "http.path": "\(request.uri.path)", "http.status": "\(status)",
                "http.duration_ms": "\(seconds * 1000)",
            ])
    }
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension Response {
    /// A 200 (or `status`) response with a body of bytes and a content type.
    public static func text(_ body: String, status: HTTPResponse.Status = .ok, contentType: String) -> Response {
        Response(
            status: status, headers: [.contentType: contentType],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// A JSON response whose body is given as already-serialised bytes.
    public static func json(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        text(body, status: status, contentType: "application/json")
    }
}

/// Starting a bookinfo service: command-line port, listening address, logging, the Hummingbird app.
public enum BookinfoServer {
    /// Largest request body the server reads (a handler may accept less); a longer one is a 413.
    public static let maxRequestBodyBytes = 1 << 20

    /// The port from the first command-line argument, or `defaultPort`; nil, with `usage` printed
    /// to standard error, when the argument is missing (and there is no default) or not a port
    /// number. The executable decides how to end (status 2).
    public static func port(arguments: [String], usage: String, defaultPort: Int? = nil) -> Int? {
        guard arguments.count > 1 else {
            if let defaultPort { return defaultPort }
            FileHandle.standardError.write(Data("usage: \(usage)\n".utf8))
            return nil
        }
        guard let port = Int(arguments[1]), (0...65535).contains(port) else {
            FileHandle.standardError.write(Data("usage: \(usage)\n\(arguments[1]): not a port number\n".utf8))
            return nil
        }
        return port
    }

    /// The address to listen on: `LISTEN_HOST` when set, otherwise `::` (IPv6 and IPv4 alike)
    /// where the machine has IPv6, else `0.0.0.0`.
    public static func listenHost(_ environment: BookinfoEnvironment) -> String {
        if let host = environment["LISTEN_HOST"], !host.isEmpty { return host }
        return ipv6Available() ? "::" : "0.0.0.0"
    }

    static func ipv6Available() -> Bool {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_any
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
            }
        }
    }

    /// Structured (JSON lines) logging on standard error, level from `LOG_LEVEL` (default info).
    public static func bootstrapLogging(_ environment: BookinfoEnvironment) {
        let level = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// The Hummingbird application serving `handler` on `host:port`.
    ///
    /// - Parameters:
    ///   - name: the service name, used as the logger label.
    ///   - handler: the service's request handling.
    ///   - metrics: the registry behind `GET /metrics`.
    ///   - host: the address to bind; see ``listenHost(_:)``.
    ///   - port: the port, 0 for any free one.
    ///   - services: long-lived services that start before and stop after the server.
    ///   - logLevel: the application logger's level; `LOG_LEVEL` (default info) when nil.
    ///   - onEventLoops: whether requests are served by ``BookinfoHTTP1Channel``, each answered on
    ///     its connection's event loop (see ``EventLoopTaskExecutor``); false (Hummingbird's own
    ///     HTTP/1 channel, handlers in the task pool) where the handler blocks (files, child
    ///     processes), which would stall the loop's other connections.
    ///   - onServerRunning: called with the bound port once the server accepts connections.
    public static func application<Handler: BookinfoHandler>(
        name: String, handler: Handler, metrics: MetricsRegistry, host: String, port: Int,
        services: [any Service] = [], logLevel: Logger.Level? = nil, onEventLoops: Bool = true,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> Application<InstrumentedResponder<Handler>> {
        let logger = {
            var logger = Logger(label: name)
            logger.logLevel = logLevel ?? LoggingSystemLevel.current
            return logger
        }()
        let responder = InstrumentedResponder(handler: handler, metrics: metrics)
        return Application(
            responder: responder,
            server: onEventLoops ? .bookinfoHTTP1(responder, maxBodyBytes: maxRequestBodyBytes) : .http1(),
            configuration: .init(address: .hostname(host, port: port), serverName: nil, backlog: 1024),
            services: services,
            onServerRunning: { channel in
                logger.info("listening", metadata: ["bookinfo.address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                await onServerRunning(channel.localAddress?.port ?? port)
            },
            logger: logger
        )
    }
}

/// The level chosen at bootstrap, so application loggers follow `LOG_LEVEL` too.
enum LoggingSystemLevel {
    static var current: Logger.Level {
        ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    }
}
