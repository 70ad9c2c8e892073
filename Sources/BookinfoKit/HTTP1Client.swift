import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A minimal HTTP/1.1 GET client on SwiftNIO: by default one new TCP connection per request,
/// `Connection: close`; with a ``HTTP1ConnectionPool`` (only ever for the sidecar proxy), kept-alive
/// connections reused across requests.
///
/// It does just what bookinfo's upstream calls need and nothing more (no redirects, no TLS), so a
/// call costs little more than the socket system calls: the request is serialized once into a
/// `ByteBuffer` by the calling task, and the event loop connects (or takes an idle connection),
/// writes it, collects the answer with NIO's HTTP/1 response decoder and closes the channel or
/// gives it back to the pool.
enum HTTP1Client {
    /// Where the TCP connection goes.
    enum ConnectTarget: Sendable {
        /// A numeric address: connects without name resolution.
        case address(SocketAddress)
        /// A host name, resolved by NIO (Happy Eyeballs).
        case host(String, port: Int)

        init(host: String, port: Int) {
            // Only strings that can be numeric addresses are tried (a failed try costs an error):
            // IPv4 starts with a digit, IPv6 has a colon.
            let maybeNumeric = host.utf8.first.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } == true
                || host.utf8.contains(UInt8(ascii: ":"))
            if maybeNumeric, let address = try? SocketAddress(ipAddress: host, port: port) {
                self = .address(address)
            } else {
                self = .host(host, port: port)
            }
        }
    }

    /// The parts of an `http://` URL the client needs.
    struct URLParts: Equatable, Sendable {
        /// The host to connect to, without IPv6 brackets.
        var host: String
        /// The port; 80 when the URL has none.
        var port: Int
        /// `host[:port]` as written in the URL (IPv6 literals keep their brackets): the `Host` header.
        var authority: Substring
        /// The origin-form request target: path and query, `/` when the URL has no path.
        var target: Substring
    }

    /// Splits `http://host[:port][/path][?query][#fragment]`; nil for any other scheme or a malformed
    /// authority (user info, bad port, unclosed IPv6 bracket).
    static func parse(_ url: String) -> URLParts? {
        let utf8 = url.utf8
        // "http://", ASCII case-insensitive.
        guard utf8.count > 7 else { return nil }
        var index = utf8.startIndex
        for expected in "http://".utf8 {
            var byte = utf8[index]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
            guard byte == expected else { return nil }
            index = utf8.index(after: index)
        }
        let authorityStart = index
        var authorityEnd = utf8.endIndex
        var fragmentStart = utf8.endIndex
        var cursor = authorityStart
        while cursor != utf8.endIndex {
            let byte = utf8[cursor]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") {
                authorityEnd = cursor
                break
            }
            cursor = utf8.index(after: cursor)
        }
        cursor = authorityEnd
        while cursor != utf8.endIndex {
            if utf8[cursor] == UInt8(ascii: "#") {
                fragmentStart = cursor
                break
            }
            cursor = utf8.index(after: cursor)
        }
        let authority = url[authorityStart..<authorityEnd]
        guard !authority.isEmpty, !authority.utf8.contains(UInt8(ascii: "@")) else { return nil }

        let host: Substring
        var portText: Substring? = nil
        if authority.utf8.first == UInt8(ascii: "[") {
            guard let close = authority.utf8.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            host = authority[authority.utf8.index(after: authority.startIndex)..<close]
            let rest = authority[authority.utf8.index(after: close)...]
            if !rest.isEmpty {
                guard rest.utf8.first == UInt8(ascii: ":") else { return nil }
                portText = rest.dropFirst()
            }
        } else if let colon = authority.utf8.firstIndex(of: UInt8(ascii: ":")) {
            host = authority[..<colon]
            portText = authority[authority.utf8.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { return nil }
        var port = 80
        if let portText, !portText.isEmpty {
            guard portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let value = Int(portText), value <= 65535
            else { return nil }
            port = value
        }
        var target = url[authorityEnd..<fragmentStart]
        if target.utf8.first != UInt8(ascii: "/") {
            // Empty, or a query straight after the authority: the path is "/".
            target = target.isEmpty ? "/" : Substring("/" + target)
        }
        return URLParts(host: String(host), port: port, authority: authority, target: target)
    }

    /// The request bytes: request line, `Host`, the caller's headers, `Connection: close` (none
    /// when `keepAlive`: HTTP/1.1 keeps the connection open by default).
    ///
    /// - Parameters:
    ///   - parts: the parsed URL.
    ///   - absoluteForm: true when sending to a proxy: the request target is the whole URL.
    ///   - headers: header name/value pairs; a `connection` header among them is dropped (replaced
    ///     by `Connection: close` unless `keepAlive`), and a `host` header replaces the one taken
    ///     from the URL.
    ///   - keepAlive: the connection is to be reused for further requests.
    /// - Returns: the serialized head, or nil when a header holds CR, LF or NUL (or a name is empty
    ///   or has a colon or whitespace), which would let it inject lines into the request.
    static func serializeRequest(
        _ parts: URLParts, absoluteForm: Bool, headers: [(String, String)], keepAlive: Bool = false
    ) -> ByteBuffer? {
        var capacity = 64 + parts.authority.utf8.count * 2 + parts.target.utf8.count
        var hasHost = false
        for (name, value) in headers {
            capacity += name.utf8.count + value.utf8.count + 4
            guard isValidName(name), isValidValue(value) else { return nil }
            if !hasHost && name.utf8.count == 4 && asciiLowercasedEquals(name, "host") { hasHost = true }
        }
        var buffer = ByteBufferAllocator().buffer(capacity: capacity)
        buffer.writeStaticString("GET ")
        if absoluteForm {
            buffer.writeStaticString("http://")
            buffer.writeSubstring(parts.authority)
        }
        buffer.writeSubstring(parts.target)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        if !hasHost {
            buffer.writeStaticString("Host: ")
            buffer.writeSubstring(parts.authority)
            buffer.writeStaticString("\r\n")
        }
        for (name, value) in headers {
            if name.utf8.count == 10 && asciiLowercasedEquals(name, "connection") { continue }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString(keepAlive ? "\r\n" : "Connection: close\r\n\r\n")
        return buffer
    }

    private static func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { $0 > 0x20 && $0 != UInt8(ascii: ":") && $0 != 0x7F }
    }

    private static func isValidValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") && $0 != 0 }
    }

    private static func asciiLowercasedEquals(_ text: String, _ lowercase: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        guard text.utf8.count == expected.count else { return false }
        return zip(text.utf8, expected).allSatisfy { byte, wanted in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == wanted
        }
    }

    /// Sends `request` (serialized by ``serializeRequest(_:absoluteForm:headers:keepAlive:)``) on a
    /// new connection to `target`, or on an idle one of `pool`, and waits for the whole answer, at
    /// most until `deadline`. A pooled connection that the peer closed before answering (an idle
    /// connection it timed out) is replaced by a new one for a second try.
    static func execute(
        request: ByteBuffer, to target: ConnectTarget, deadline: NIODeadline, maxBodyBytes: Int,
        pool: HTTP1ConnectionPool? = nil
    ) async -> UpstreamResult {
        // The caller's own event loop when it runs on one (a bookinfo handler does, see
        // EventLoopTaskExecutor): the exchange then needs no thread switch there and back.
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
        if let pool, let channel = pool.take(preferring: loop) {
            let exchange = HTTP1Exchange(
                eventLoop: channel.eventLoop, request: request, target: target, deadline: deadline,
                maxBodyBytes: maxBodyBytes, pool: pool, reusing: channel)
            let result = await run(exchange)
            guard exchange.unansweredOnReusedConnection else { return result }
        }
        let exchange = HTTP1Exchange(
            eventLoop: loop, request: request, target: target,
            deadline: deadline, maxBodyBytes: maxBodyBytes, pool: pool, reusing: nil)
        return await run(exchange)
    }

    private static func run(_ exchange: HTTP1Exchange) async -> UpstreamResult {
        let eventLoop = exchange.eventLoop
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<UpstreamResult, Never>) in
                if eventLoop.inEventLoop {
                    exchange.start(continuation)
                } else {
                    eventLoop.execute { exchange.start(continuation) }
                }
            }
        } onCancel: {
            eventLoop.execute { exchange.finish(.failure(.connection("the request was cancelled"))) }
        }
    }
}

/// Turns the writes of ``HTTP1Exchange`` into bytes: the request head it writes is a placeholder
/// that only tells the response decoder (which observes outbound writes) that a GET was sent; the
/// real request is the pre-serialized body part. Stateless, so one instance serves every channel.
final class HTTP1RawRequestWriter: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = ByteBuffer

    static let shared = HTTP1RawRequestWriter()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch Self.unwrapOutboundIn(data) {
        case .body(.byteBuffer(let bytes)):
            context.write(Self.wrapOutboundOut(bytes), promise: promise)
        case .head, .end, .body(.fileRegion):
            promise?.succeed(())
        }
    }
}

/// One request/response exchange on its own connection.
///
/// All mutable state is touched only on `eventLoop` (hence `@unchecked Sendable`): `start`, the
/// connect callback, the channel handler methods, the deadline callback, and the cancellation
/// (scheduled onto the loop). `finish` runs at most once effectively and resumes the caller's
/// continuation exactly once (in `start` if it finished before it started, e.g. by cancellation).
final class HTTP1Exchange: ChannelInboundHandler, RemovableChannelHandler, NIOScheduledCallbackHandler,
    @unchecked Sendable
{
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// What the response decoder must see written to expect the response to a GET.
    private static let placeholderHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")

    let eventLoop: any EventLoop
    private let request: ByteBuffer
    private let target: HTTP1Client.ConnectTarget
    private let deadline: NIODeadline
    private let maxBodyBytes: Int
    /// Where a kept-alive connection goes back after a complete answer; nil: close it.
    private let pool: HTTP1ConnectionPool?
    /// An idle connection of `pool` to send on instead of connecting.
    private var reusing: (any Channel)?
    /// Set when a reused connection ended before any byte of an answer: the request may be sent
    /// again on a new connection. Read by the caller after the exchange finished.
    private(set) var unansweredOnReusedConnection = false
    private var answering = false
    private var keepAlive = false

    private var continuation: UnsafeContinuation<UpstreamResult, Never>?
    private var result: UpstreamResult?
    private var timer: NIOScheduledCallback?
    private var channel: (any Channel)?
    private var context: ChannelHandlerContext?
    private var status = 0
    private var body: ByteBuffer?

    init(
        eventLoop: any EventLoop, request: ByteBuffer, target: HTTP1Client.ConnectTarget, deadline: NIODeadline,
        maxBodyBytes: Int, pool: HTTP1ConnectionPool? = nil, reusing: (any Channel)? = nil
    ) {
        self.eventLoop = eventLoop
        self.request = request
        self.target = target
        self.deadline = deadline
        self.maxBodyBytes = maxBodyBytes
        self.pool = pool
        self.reusing = reusing
    }

    /// Arms the deadline and connects.
    func start(_ continuation: UnsafeContinuation<UpstreamResult, Never>) {
        eventLoop.assertInEventLoop()
        if let result {  // cancelled before it started
            continuation.resume(returning: result)
            return
        }
        self.continuation = continuation
        let now = NIODeadline.now()
        guard deadline > now else {
            finish(.failure(.timeout))
            return
        }
        do {
            timer = try eventLoop.scheduleCallback(at: deadline, handler: self)
        } catch {
            finish(.failure(.connection(String(describing: error))))
            return
        }
        if let channel = reusing {
            reusing = nil
            channelWasReused = true
            self.channel = channel
            do {
                try channel.pipeline.syncOperations.addHandler(self)  // writes the request in handlerAdded
            } catch {
                unansweredOnReusedConnection = true
                finish(.failure(.connection(String(describing: error))))
            }
            return
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A little beyond the deadline: the exchange's own timer reports the timeout; this only
            // makes sure a connection attempt never outlives it for long.
            .connectTimeout(deadline - now + .milliseconds(50))
        let connected: EventLoopFuture<any Channel>
        switch target {
        case .address(let address): connected = bootstrap.connect(to: address)
        case .host(let host, let port): connected = bootstrap.connect(host: host, port: port)
        }
        connected.whenComplete { outcome in self.connected(outcome) }
    }

    private func connected(_ outcome: Result<any Channel, any Error>) {
        eventLoop.assertInEventLoop()
        switch outcome {
        case .success(let channel):
            guard result == nil else {
                channel.close(promise: nil)
                return
            }
            self.channel = channel
            do {
                let pipeline = channel.pipeline.syncOperations
                try pipeline.addHandler(HTTP1RawRequestWriter.shared)
                try pipeline.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                try pipeline.addHandler(self)  // writes the request in handlerAdded
            } catch {
                finish(.failure(.connection(String(describing: error))))
            }
        case .failure(let error):
            if case ChannelError.connectTimeout = error {
                finish(.failure(.timeout))
            } else if NIODeadline.now() >= deadline {
                finish(.failure(.timeout))
            } else {
                finish(.failure(.connection(String(describing: error))))
            }
        }
    }

    /// Completes the exchange once: stops the timer, closes the connection (or, after a complete
    /// kept-alive answer, gives it back to the pool), resumes the caller.
    func finish(_ result: UpstreamResult, reusable: Bool = false) {
        eventLoop.assertInEventLoop()
        guard self.result == nil else { return }
        self.result = result
        timer?.cancel()
        timer = nil
        if let channel {
            self.channel = nil
            if reusable, let pool, let context {
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                pool.give(channel)
            } else {
                channel.close(promise: nil)
            }
        }
        if let continuation {
            self.continuation = nil
            continuation.resume(returning: result)
        }
    }

    // MARK: NIOScheduledCallbackHandler

    func handleScheduledCallback(eventLoop: some EventLoop) {
        timer = nil
        finish(.failure(.timeout))
    }

    // MARK: ChannelInboundHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard result == nil, context.channel.isActive else {
            if result == nil { failUnanswered("connection closed before the request was sent") }
            return
        }
        context.write(Self.wrapOutboundOut(.head(Self.placeholderHead)), promise: nil)
        context.writeAndFlush(Self.wrapOutboundOut(.body(.byteBuffer(request))), promise: nil)
    }

    /// A failure on a reused connection before any part of an answer arrived.
    private func failUnanswered(_ reason: String) {
        if pool != nil, !answering, channelWasReused { unansweredOnReusedConnection = true }
        finish(.failure(.connection(reason)))
    }

    private var channelWasReused = false

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard result == nil else { return }
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            answering = true
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
        case .body(var part):
            if body == nil {
                guard part.readableBytes <= maxBodyBytes else { return bodyTooLarge() }
                body = part
            } else {
                guard body!.readableBytes + part.readableBytes <= maxBodyBytes else { return bodyTooLarge() }
                body!.writeBuffer(&part)
            }
        case .end:
            finish(.response(status: status, body: body ?? ByteBuffer()), reusable: pool != nil && keepAlive)
        }
    }

    private func bodyTooLarge() {
        finish(.failure(.connection("the response body is larger than \(maxBodyBytes) bytes")))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failUnanswered(String(describing: error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        failUnanswered("the connection closed before the response was complete")
    }
}

/// Idle kept-alive connections to the sidecar proxy, shared by every upstream call of the process.
///
/// With a sidecar, Envoy balances each request over the upstream's endpoints, so reusing the
/// connection to it pins nothing; without one, calls open a connection each (kube-proxy balances
/// per connection), and no pool is made. Connections go back only after a complete answer that
/// keeps the connection alive; at most `maxIdle` wait, most recently used first.
final class HTTP1ConnectionPool: Sendable {
    private let idle = Mutex<[any Channel]>([])
    let maxIdle: Int

    init(maxIdle: Int = 256) {
        self.maxIdle = maxIdle
    }

    /// The most recently returned connection that is still open, if any; one on `loop` when
    /// there is one (a call on that loop then stays on its thread).
    func take(preferring loop: (any EventLoop)? = nil) -> (any Channel)? {
        idle.withLock { channels in
            if let loop, let index = channels.lastIndex(where: { $0.eventLoop === loop && $0.isActive }) {
                return channels.remove(at: index)
            }
            while let channel = channels.popLast() {
                if channel.isActive { return channel }
            }
            return nil
        }
    }

    /// Keeps `channel` for a later call, or closes it when enough are waiting.
    func give(_ channel: any Channel) {
        let kept = idle.withLock { channels in
            channels.removeAll { !$0.isActive }
            guard channels.count < maxIdle else { return false }
            channels.append(channel)
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    /// How many connections wait, for tests.
    var idleCount: Int { idle.withLock { $0.count } }
}
