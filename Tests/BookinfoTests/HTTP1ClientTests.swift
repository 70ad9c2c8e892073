@testable import BookinfoKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A TCP server that records each raw request head and answers with fixed bytes, then closes, so
/// tests see exactly what the client sends and can give it any answer (chunked, EOF-delimited, none).
final class RawServer: Sendable {
    final class Log: Sendable {
        let requests = Mutex<[String]>([])
    }

    let channel: any Channel
    private let log: Log

    /// The listening port (kept: a closed channel no longer has a local address).
    let port: Int
    var received: [String] { log.requests.withLock { $0 } }

    /// - Parameters:
    ///   - host: the address to listen on.
    ///   - response: the bytes to answer with; nil never answers (the connection stays open).
    init(host: String = "127.0.0.1", response: String?) async throws {
        let log = Log()
        self.log = log
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Responder(response: response, record: { text in log.requests.withLock { $0.append(text) } }))
                }
            }
            .bind(host: host, port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func close() async throws { try await channel.close() }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let response: String?
        let record: @Sendable (String) -> Void
        var buffer = ByteBuffer()
        var answered = false

        init(response: String?, record: @escaping @Sendable (String) -> Void) {
            self.response = response
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var part = Self.unwrapInboundIn(data)
            buffer.writeBuffer(&part)
            let text = String(buffer: buffer)
            guard !answered, text.contains("\r\n\r\n") else { return }
            answered = true
            record(text)
            guard let response else { return }
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: response))).whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}

/// Client-side TCP sockets to `port` that are still open (established or waiting for our close),
/// from /proc/net/tcp and tcp6; a leaked connection shows up here.
func openClientSockets(toPort port: Int) -> Int {
    var count = 0
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 3, let remotePort = fields[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) })
            else { continue }
            // 01 ESTABLISHED, 08 CLOSE_WAIT (the peer closed, we did not).
            if remotePort == port && (fields[3] == "01" || fields[3] == "08") { count += 1 }
        }
    }
    return count
}

func openFileDescriptors() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
}

@Suite("HTTP1Client")
struct HTTP1ClientTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}"
    let logger = Logger(label: "test")

    @Test("http URLs are split into host, port, authority and target")
    func parse() {
        let plain = HTTP1Client.parse("http://reviews:9080/reviews/0")
        #expect(plain == .init(host: "reviews", port: 9080, authority: "reviews:9080", target: "/reviews/0"))
        #expect(HTTP1Client.parse("http://details")
            == .init(host: "details", port: 80, authority: "details", target: "/"))
        #expect(HTTP1Client.parse("HTTP://127.0.0.1:1234?x=1#frag")
            == .init(host: "127.0.0.1", port: 1234, authority: "127.0.0.1:1234", target: "/?x=1"))
        #expect(HTTP1Client.parse("http://[::1]:9080/a/b?c=d#e")
            == .init(host: "::1", port: 9080, authority: "[::1]:9080", target: "/a/b?c=d"))
        #expect(HTTP1Client.parse("http://[fe80::1]/")
            == .init(host: "fe80::1", port: 80, authority: "[fe80::1]", target: "/"))
        #expect(HTTP1Client.parse("http://host:/x") == .init(host: "host", port: 80, authority: "host:", target: "/x"))
        for invalid in [
            "https://www.googleapis.com/books/v1/volumes", "http://", "http:///x", "http://[::1/x", "http://[::1]x/",
            "http://a:b/", "http://a:70000/", "http://user@host/", "ftp://x/", "reviews:9080/x",
        ] {
            #expect(HTTP1Client.parse(invalid) == nil, "\(invalid)")
        }
    }

    @Test("the request has Host, the given headers and Connection: close; absolute form for a proxy")
    func serialize() throws {
        let parts = try #require(HTTP1Client.parse("http://reviews:9080/reviews/0"))
        let headers = [("x-request-id", "r1"), ("Connection", "keep-alive"), ("end-user", "jason")]
        let origin = try #require(HTTP1Client.serializeRequest(parts, absoluteForm: false, headers: headers))
        #expect(String(buffer: origin)
            == "GET /reviews/0 HTTP/1.1\r\nHost: reviews:9080\r\nx-request-id: r1\r\nend-user: jason\r\nConnection: close\r\n\r\n")
        let absolute = try #require(HTTP1Client.serializeRequest(parts, absoluteForm: true, headers: []))
        #expect(String(buffer: absolute)
            == "GET http://reviews:9080/reviews/0 HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n\r\n")
        let ownHost = try #require(HTTP1Client.serializeRequest(parts, absoluteForm: false, headers: [("host", "x")]))
        #expect(String(buffer: ownHost) == "GET /reviews/0 HTTP/1.1\r\nhost: x\r\nConnection: close\r\n\r\n")
        #expect(HTTP1Client.serializeRequest(parts, absoluteForm: false, headers: [("x", "a\r\nInjected: 1")]) == nil)
        #expect(HTTP1Client.serializeRequest(parts, absoluteForm: false, headers: [("bad name", "a")]) == nil)
    }

    @Test("through a proxy the request line carries the whole URL and Host the service")
    func proxyAbsoluteForm() async throws {
        let proxy = try await RawServer(response: Self.ok)
        let client = UpstreamClient(proxy: ("127.0.0.1", proxy.port))
        let result = await client.get(
            "http://reviews:9080/reviews/0", headers: [("x-request-id", "r1")], timeout: .seconds(3), logger: logger)
        try await proxy.close()
        guard case .response(200, let body) = result else { Issue.record("got \(result)"); return }
        #expect(String(buffer: body) == #"{"ok":true}"#)
        let request = try #require(proxy.received.first)
        #expect(request.hasPrefix("GET http://reviews:9080/reviews/0 HTTP/1.1\r\n"))
        #expect(request.contains("\r\nHost: reviews:9080\r\n"))
        #expect(request.contains("\r\nx-request-id: r1\r\n"))
        #expect(request.contains("\r\nConnection: close\r\n"))
    }

    @Test("an IPv6 literal URL connects to it and sends origin form with a bracketed Host")
    func ipv6Literal() async throws {
        guard let server = try? await RawServer(host: "::1", response: Self.ok) else { return }  // no IPv6 loopback
        let result = await UpstreamClient(proxy: nil).get(
            "http://[::1]:\(server.port)/ratings/0", headers: [], timeout: .seconds(3), logger: logger)
        try await server.close()
        #expect(result.isOK)
        let request = try #require(server.received.first)
        #expect(request.hasPrefix("GET /ratings/0 HTTP/1.1\r\nHost: [::1]:\(server.port)\r\n"))
    }

    @Test("a host name is resolved")
    func hostName() async throws {
        let server = try await RawServer(response: Self.ok)
        let result = await UpstreamClient(proxy: nil).get(
            "http://localhost:\(server.port)/", headers: [], timeout: .seconds(3), logger: logger)
        // localhost may resolve to ::1 first; Happy Eyeballs falls back to 127.0.0.1.
        try await server.close()
        #expect(result.isOK)
    }

    @Test("chunked, EOF-delimited and error answers are collected whole")
    func responseFraming() async throws {
        let answers: [(String, Int, String)] = [
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", 200, "abcdefg"),
            ("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\nno healthy upstream", 503, "no healthy upstream"),
            ("HTTP/1.1 204 No Content\r\n\r\n", 204, ""),
        ]
        for (raw, status, text) in answers {
            let server = try await RawServer(response: raw)
            let result = await UpstreamClient(proxy: nil).get(
                "http://127.0.0.1:\(server.port)/", headers: [], timeout: .seconds(3), logger: logger)
            try await server.close()
            guard case .response(let got, let body) = result else { Issue.record("got \(result)"); continue }
            #expect(got == status)
            #expect(String(buffer: body) == text)
        }
    }

    @Test("a body over maxBodyBytes is a connection failure")
    func bodyLimit() async throws {
        let server = try await RawServer(
            response: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + String(repeating: "x", count: 100))
        var client = UpstreamClient(proxy: nil)
        client.maxBodyBytes = 10
        let result = await client.get("http://127.0.0.1:\(server.port)/", headers: [], timeout: .seconds(3), logger: logger)
        try await server.close()
        guard case .failure(.connection) = result else { Issue.record("got \(result)"); return }
    }

    @Test("a server that closes without answering is a connection failure")
    func closedWithoutAnswer() async throws {
        let server = try await RawServer(response: "")
        let result = await UpstreamClient(proxy: nil).get(
            "http://127.0.0.1:\(server.port)/", headers: [], timeout: .seconds(3), logger: logger)
        try await server.close()
        guard case .failure(.connection) = result else { Issue.record("got \(result)"); return }
    }

    @Test("a silent server times out at the deadline and its connection is closed")
    func timingSilentServer() async throws {
        let server = try await RawServer(response: nil)
        let start = ContinuousClock.now
        let result = await UpstreamClient(proxy: nil).get(
            "http://127.0.0.1:\(server.port)/", headers: [], timeout: .milliseconds(200), logger: logger)
        let elapsed = ContinuousClock.now - start
        guard case .failure(.timeout) = result else { Issue.record("got \(result)"); return }
        #expect(elapsed >= .milliseconds(190) && elapsed < .seconds(2))
        try await Task.sleep(for: .milliseconds(100))
        #expect(openClientSockets(toPort: server.port) == 0)
        try await server.close()
    }

    @Test("a cancelled task gets its answer at once")
    func cancellation() async throws {
        let server = try await RawServer(response: nil)
        let start = ContinuousClock.now
        let task = Task {
            await UpstreamClient(proxy: nil).get(
                "http://127.0.0.1:\(server.port)/", headers: [], timeout: .seconds(10), logger: logger)
        }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.value
        #expect(ContinuousClock.now - start < .seconds(5))
        guard case .failure(.connection) = result else { Issue.record("got \(result)"); return }
        try await server.close()
    }

    @Test("many requests, sequential and concurrent, leave no connection or descriptor behind")
    func noLeaks() async throws {
        let server = try await RawServer(response: Self.ok)
        let url = "http://127.0.0.1:\(server.port)/details/0"
        let client = UpstreamClient(proxy: nil)
        let descriptorsBefore = openFileDescriptors()
        for _ in 0..<300 {
            let result = await client.get(url, headers: [("x-request-id", "r")], timeout: .seconds(3), logger: logger)
            #expect(result.isOK)
        }
        let failures = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 {
                group.addTask { await client.get(url, headers: [], timeout: .seconds(10), logger: logger).isOK }
            }
            return await group.reduce(0) { $0 + ($1 ? 0 : 1) }
        }
        #expect(failures == 0)
        try await Task.sleep(for: .milliseconds(200))
        #expect(openClientSockets(toPort: server.port) == 0)
        // Other suites run in parallel and open sockets of their own, hence the slack; a leak of one
        // descriptor per request would add 500.
        #expect(openFileDescriptors() - descriptorsBefore < 100)
        #expect(server.received.count == 500)
        try await server.close()
    }
}
