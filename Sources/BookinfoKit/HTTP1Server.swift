import Foundation
import Hummingbird
import HummingbirdCore
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// HTTP/1.1 for the bookinfo services, on NIO's own channel handlers.
///
/// Hummingbird's HTTP/1 channel hands every request part through an async sequence and every
/// response part through an async writer (`NIOAsyncChannel`); for bookinfo's tiny requests those
/// two bridges cost more CPU than the handler. Here the request is decoded and collected by
/// channel handlers, one task (on the connection's event loop, see ``EventLoopTaskExecutor``)
/// runs the responder, and the response is written by the channel handler in one flush.
///
/// Hummingbird still runs the listening socket, the services and the graceful shutdown: on
/// SIGTERM it stops accepting and asks each connection to quiesce, which NIO's pipelining handler
/// does by closing idle connections and closing busy ones after their response.
struct BookinfoHTTP1Channel<Responder: HTTPResponder>: ServerChildChannel where Responder.Context == BasicRequestContext {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
    }

    let responder: Responder
    /// Largest request body read; a longer one is answered 413 and the connection closed.
    let maxBodyBytes: Int

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            // Pipelined requests wait for the previous response; a malformed request gets 400.
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
            try pipeline.addHandler(
                BookinfoHTTP1Handler(responder: responder, logger: logger, maxBodyBytes: maxBodyBytes))
            return Value(channel: channel)
        }
    }

    /// Lasts as long as the connection, so the server's graceful shutdown waits for it; when the
    /// server's task is cancelled instead, the connection is closed at once.
    func handle(value: Value, logger: Logger) async {
        let channel = value.channel
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                channel.closeFuture.whenComplete { _ in continuation.resume() }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

extension HTTPServerBuilder {
    /// Bookinfo's HTTP/1.1 server (see ``BookinfoHTTP1Channel``); it answers with `responder`
    /// directly, so the builder's own responder (Hummingbird's request-context wrapper) is unused.
    static func bookinfoHTTP1<Responder: HTTPResponder>(_ responder: Responder, maxBodyBytes: Int) -> HTTPServerBuilder
    where Responder.Context == BasicRequestContext {
        .init { _ in BookinfoHTTP1Channel(responder: responder, maxBodyBytes: maxBodyBytes) }
    }
}

/// One connection's requests: collects each request, answers it in a task on the channel's event
/// loop, writes head, body and end with one flush, and closes when the client asked to.
final class BookinfoHTTP1Handler<Responder: HTTPResponder>: ChannelInboundHandler, RemovableChannelHandler
where Responder.Context == BasicRequestContext {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: Responder
    private let logger: Logger
    private let maxBodyBytes: Int
    private let dateCache = HTTPDateCache()

    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false
    /// A response is being produced; reads wait (NIO's pipelining handler holds the next request).
    private var responding = false
    /// The client half-closed: close once the response in progress is written.
    private var closeAfterResponse = false
    private var context: ChannelHandlerContext?

    init(responder: Responder, logger: Logger, maxBodyBytes: Int) {
        self.responder = responder
        self.logger = logger
        self.maxBodyBytes = maxBodyBytes
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
            tooLarge = false
        case .body(var part):
            guard !tooLarge, let head else { return }
            if (body?.readableBytes ?? 0) + part.readableBytes > maxBodyBytes {
                // Answered at once, and the rest is not read: the connection closes.
                tooLarge = true
                body = nil
                write(status: .contentTooLarge, headers: [:], for: head, keepAlive: false, context: context)
            } else if body == nil {
                body = part
            } else {
                body!.writeBuffer(&part)
            }
        case .end:
            guard let head, !tooLarge else { return }
            self.head = nil
            answer(head, body: body ?? ByteBuffer(), context: context)
            body = nil
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            if responding { closeAfterResponse = true } else { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func answer(_ head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        let request: Request
        do {
            request = Request(head: try Self.request(head), body: RequestBody(buffer: body))
        } catch {
            write(status: .badRequest, headers: [:], for: head, keepAlive: false, context: context)
            return
        }
        responding = true
        let requestContext = BasicRequestContext(source: ApplicationRequestContextSource(channel: context.channel, logger: logger))
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let responder = self.responder
        Task(executorPreference: EventLoopTaskExecutor(loop)) {
            var response: Response
            do {
                response = try await responder.respond(to: request, context: requestContext)
            } catch {
                response = Response(status: .internalServerError)
            }
            let collected = BodyCollector()
            do {
                try await response.body.write(collected)
            } catch {
                response = Response(status: .internalServerError)
                collected.buffer.clear()
            }
            let (status, headers, bytes) = (response.status, response.headers, collected.buffer)
            // Through the loop's queue even though the task runs on the loop: written inline from
            // the task, details cost about 10 % more CPU per request in interleaved runs.
            loop.execute { handler.value.finished(status: status, headers: headers, body: bytes, for: head) }
        }
    }

    /// Writes the answer (on the loop); NIO's pipelining handler then lets the next request through.
    private func finished(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer, for head: HTTPRequestHead) {
        responding = false
        guard let context else { return }
        write(status: status, headers: headers, body: body, for: head, keepAlive: head.isKeepAlive && !closeAfterResponse, context: context)
    }

    /// Head, body (none for HEAD) and end in one flush; `content-length` from the body unless the
    /// response has one (a HEAD answer keeps its GET's), `date`, and `connection: close` when the
    /// connection closes after it.
    private func write(
        status: HTTPResponse.Status, headers fields: HTTPFields, body: ByteBuffer = ByteBuffer(), for request: HTTPRequestHead,
        keepAlive: Bool, context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 3)
        for field in fields { headers.add(name: field.name.rawName, value: field.value) }
        if fields[.contentLength] == nil, status.code >= 200, status != .noContent, status != .notModified {
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        headers.add(name: "Date", value: dateCache.current())
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: request.version, status: HTTPResponseStatus(statusCode: status.code, reasonPhrase: status.reasonPhrase),
            headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// The request as HTTP types see it: the `Host` header becomes the authority, the other
    /// fields stay in order (as NIO's own conversion does, without its URL parsing for the
    /// origin-form paths every bookinfo request has).
    static func request(_ head: HTTPRequestHead) throws -> HTTPRequest {
        guard let method = HTTPRequest.Method(head.method.rawValue) else { throw HTTPError(.badRequest) }
        var fields = HTTPFields()
        fields.reserveCapacity(head.headers.count)
        var authority: String?
        for (name, value) in head.headers {
            if authority == nil, name.lowercased() == "host" {
                authority = value
                continue
            }
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        var path = head.uri
        if !path.hasPrefix("/"), path != "*", let components = URLComponents(string: path), components.scheme != nil {
            // Absolute form (through a proxy): keep the path and query.
            path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            if let query = components.percentEncodedQuery { path += "?" + query }
        }
        return HTTPRequest(method: method, scheme: "http", authority: authority, path: path, headerFields: fields)
    }
}

/// Collects a response body into one buffer (bookinfo bodies are small and complete at once).
final class BodyCollector: ResponseBodyWriter, @unchecked Sendable {
    var buffer = ByteBuffer()

    func write(_ part: ByteBuffer) async throws {
        var part = part
        buffer.writeBuffer(&part)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// The `Date` header's value, made at most once a second. Each connection has its own (it is
/// touched only on the connection's loop): a per-thread one measured no cheaper on kept-alive
/// connections, and a connection of its own per request formats the date once anyway.
final class HTTPDateCache {
    private var second = -1
    private var value = ""

    /// Now, as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
    func current() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let seconds = Int(now.tv_sec)
        if seconds != second {
            second = seconds
            value = Self.format(seconds)
        }
        return value
    }

    static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
