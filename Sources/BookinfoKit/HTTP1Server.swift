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
/// two bridges cost more CPU than the handler. Here NIO's decoder parses the request, one channel
/// handler collects it, answers it (at once when the responder can, see
/// ``ImmediateResponder``, otherwise in a task on the connection's event loop, see
/// ``EventLoopTaskExecutor``) and writes the whole response as one buffer: status line, fields
/// and body serialised here, in one write and one flush. NIO's response encoder, header
/// validator, pipelining and error handlers are not in the pipeline; this handler does what they
/// did for bookinfo (the fields come from `HTTPFields`, whose names are validated and whose
/// values are legalised when made), and reading is held only while pipelined requests wait,
/// where NIO's pipelining handler held it for every request (two `epoll_ctl` calls a request).
///
/// Hummingbird still runs the listening socket, the services and the graceful shutdown: on
/// SIGTERM it stops accepting and asks each connection to quiesce, which closes an idle
/// connection at once and a busy one after its response.
struct BookinfoHTTP1Channel<Responder: ImmediateResponder>: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
    }

    let responder: Responder
    /// Largest request body read; a longer one is answered 413 and the connection closed.
    let maxBodyBytes: Int

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
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
    static func bookinfoHTTP1<Responder: ImmediateResponder>(_ responder: Responder, maxBodyBytes: Int) -> HTTPServerBuilder {
        .init { _ in BookinfoHTTP1Channel(responder: responder, maxBodyBytes: maxBodyBytes) }
    }
}

/// A responder that can answer some requests without suspending: those are answered in the
/// channel handler itself, with no task.
public protocol ImmediateResponder: HTTPResponder where Context == BasicRequestContext {
    /// The whole answer when it is ready at once; nil sends the request to `respond(to:context:)`.
    func respondImmediately(to request: Request, logger: Logger) -> ImmediateResponse?
}

/// A response whose body is complete: what a handler answers without suspending.
public struct ImmediateResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: ByteBuffer

    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A body of text with its content type.
    public static func text(_ body: String, status: HTTPResponse.Status = .ok, contentType: String) -> ImmediateResponse {
        ImmediateResponse(status: status, headers: [.contentType: contentType], body: ByteBuffer(string: body))
    }

    /// A JSON body given as already-serialised text.
    public static func json(_ body: String, status: HTTPResponse.Status = .ok) -> ImmediateResponse {
        ImmediateResponse(status: status, headers: jsonFields, body: ByteBuffer(string: body))
    }

    /// Shared, so a JSON answer does not build its one field again.
    private static let jsonFields: HTTPFields = [.contentType: "application/json"]

    /// The same answer as Hummingbird's response type.
    public var response: Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

/// One connection's requests: collects each request, answers it, and writes each response as one
/// buffer, in the order the requests came (pipelined ones wait their turn).
final class BookinfoHTTP1Handler<Responder: ImmediateResponder>: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Why the connection stops taking requests: answered (once the requests before it are)
    /// with this status, then closed.
    private enum Refusal {
        case badRequest, contentTooLarge
    }

    private let responder: Responder
    private let logger: Logger
    private let maxBodyBytes: Int
    private let dateCache = HTTPDateCache()

    /// The request being received, and its body so far.
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    /// Complete requests waiting for the one being answered (pipelining).
    private var waiting = CircularBuffer<(HTTPRequestHead, ByteBuffer)>()
    /// A response is being produced (in a task).
    private var responding = false
    /// A read was asked for while requests waited: passed on when they are answered.
    private var readHeld = false
    /// A malformed or over-large request: nothing after it is read.
    private var refusal: Refusal?
    /// The client half-closed, or the server is shutting down: close after the last answer.
    private var closing = false
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

    private var idle: Bool { !responding && waiting.isEmpty }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard refusal == nil else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
            if head.method != .GET, head.method != .HEAD, head.version.minor >= 1,
                head.headers.first(name: "expect")?.lowercased() == "100-continue", idle
            {
                // curl waits a second for this before sending a body over 1 KiB.
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
            }
        case .body(var part):
            guard head != nil else { return }
            if (body?.readableBytes ?? 0) + part.readableBytes > maxBodyBytes {
                // The rest is not read: answered 413 and closed once earlier requests are answered.
                body = nil
                refuse(.contentTooLarge, context: context)
            } else if body == nil {
                body = part
            } else {
                body!.writeBuffer(&part)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            waiting.append((head, body ?? ByteBuffer()))
            body = nil
            if !responding { drain(context: context) }
        }
    }

    func read(context: ChannelHandlerContext) {
        if waiting.isEmpty, refusal == nil {
            context.read()
        } else {
            readHeld = true
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            // Requests already received are still answered.
            closing = true
            if idle { context.close(promise: nil) }
        case is ChannelShouldQuiesceEvent:
            // Shutting down: the request being answered (or received) is the last.
            closing = true
            waiting.removeAll()
            if idle, head == nil { context.close(promise: nil) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            refuse(.badRequest, context: context)
        } else {
            context.close(promise: nil)
        }
    }

    private func refuse(_ reason: Refusal, context: ChannelHandlerContext) {
        guard refusal == nil else { return }
        refusal = reason
        head = nil
        if idle { writeRefusal(context: context) }
    }

    private func writeRefusal(context: ChannelHandlerContext) {
        let status: HTTPResponse.Status = refusal == .contentTooLarge ? .contentTooLarge : .badRequest
        write(status: status, headers: [:], body: ByteBuffer(), method: .GET, version: .http1_1, keepAlive: false, context: context)
    }

    /// Answers the waiting requests in order, until one needs a task or the connection closes;
    /// then the refusal, if any, or the read that was held.
    private func drain(context: ChannelHandlerContext) {
        while let (head, body) = waiting.popFirst() {
            guard serve(head, body: body, context: context) == .open else { return }
        }
        if refusal != nil {
            writeRefusal(context: context)
        } else if readHeld {
            readHeld = false
            context.read()
        }
    }

    private enum Served {
        /// Answered, the connection stays open.
        case open
        /// Answered, the connection closes.
        case closed
        /// Being answered in a task.
        case pending
    }

    private func serve(_ head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) -> Served {
        let request: Request
        do {
            request = Request(head: try Self.request(head), body: RequestBody(buffer: body))
        } catch {
            write(status: .badRequest, headers: [:], body: ByteBuffer(), method: head.method, version: head.version, keepAlive: false, context: context)
            return .closed
        }
        if let answer = responder.respondImmediately(to: request, logger: logger) {
            return send(answer.status, answer.headers, answer.body, for: head) ? .open : .closed
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
            loop.execute {
                let handler = handler.value
                handler.responding = false
                if handler.send(status, headers, bytes, for: head), let context = handler.context {
                    handler.drain(context: context)
                }
            }
        }
        return .pending
    }

    /// Writes the answer to `head`; false when the connection closes after it.
    private func send(_ status: HTTPResponse.Status, _ headers: HTTPFields, _ body: ByteBuffer, for head: HTTPRequestHead) -> Bool {
        guard let context else { return false }
        let last = !head.isKeepAlive || (closing && waiting.isEmpty && self.head == nil && refusal == nil)
        write(status: status, headers: headers, body: body, method: head.method, version: head.version, keepAlive: !last, context: context)
        return !last
    }

    /// One buffer: status line, the fields, `content-length` from the body unless the response
    /// has one (a HEAD answer keeps its GET's), `date`, `connection` when it differs from the
    /// version's default, then the body (none for HEAD); written and flushed, then the
    /// connection closed unless it is kept alive.
    private func write(
        status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer, method: HTTPMethod, version: HTTPVersion,
        keepAlive: Bool, context: ChannelHandlerContext
    ) {
        let sendsBody = method != .HEAD
        var out = context.channel.allocator.buffer(capacity: 160 + headers.count * 48 + (sendsBody ? body.readableBytes : 0))
        let http10 = version.major == 1 && version.minor == 0
        out.writeStaticString(http10 ? "HTTP/1.0 " : "HTTP/1.1 ")
        out.writeString(String(status.code))
        out.writeStaticString(" ")
        out.writeString(status.reasonPhrase)
        out.writeStaticString("\r\n")
        var hasLength = false
        for field in headers {
            if field.name == .contentLength { hasLength = true }
            out.writeString(field.name.rawName)
            out.writeStaticString(": ")
            out.writeString(field.value)
            out.writeStaticString("\r\n")
        }
        if !hasLength, status.code >= 200, status != .noContent, status != .notModified {
            out.writeStaticString("Content-Length: ")
            out.writeString(String(body.readableBytes))
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("Date: ")
        out.writeString(dateCache.current())
        if !keepAlive {
            out.writeStaticString("\r\nConnection: close")
        } else if http10 {
            out.writeStaticString("\r\nConnection: keep-alive")
        }
        out.writeStaticString("\r\n\r\n")
        if sendsBody { out.writeImmutableBuffer(body) }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
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
            if authority == nil, name.utf8.count == 4, name.lowercased() == "host" {
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
