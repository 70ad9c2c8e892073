@testable import BookinfoKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A proxy stand-in that keeps connections alive: it answers every request head it reads with a
/// small 200, counts connections and requests, and can drop each connection after answering (as a
/// proxy that timed the idle connection out would, without saying so).
final class KeepAliveServer: Sendable {
    struct Counts: Sendable {
        var connections = 0
        var requests: [String] = []
    }

    final class Log: Sendable {
        let counts = Mutex(Counts())
    }

    let channel: any Channel
    let port: Int
    private let log: Log
    var connections: Int { log.counts.withLock { $0.connections } }
    var requests: [String] { log.counts.withLock { $0.requests } }

    init(closeAfterEachAnswer: Bool = false) async throws {
        let log = Log()
        self.log = log
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                log.counts.withLock { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Answerer(closeAfterEachAnswer: closeAfterEachAnswer) { head in log.counts.withLock { $0.requests.append(head) } })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func close() async throws { try await channel.close() }

    private final class Answerer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let closeAfterEachAnswer: Bool
        let record: @Sendable (String) -> Void
        var pending = ""

        init(closeAfterEachAnswer: Bool, record: @escaping @Sendable (String) -> Void) {
            self.closeAfterEachAnswer = closeAfterEachAnswer
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += String(buffer: Self.unwrapInboundIn(data))
            while let end = pending.range(of: "\r\n\r\n") {
                record(String(pending[..<end.lowerBound]))
                pending = String(pending[end.upperBound...])
                let body = #"{"ok":true}"#
                let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
                if closeAfterEachAnswer {
                    context.close(promise: nil)
                    return
                }
            }
        }
    }
}

@Suite("upstream connections to the sidecar")
struct ConnectionPoolTests {
    let logger = Logger(label: "test")

    static func ok(_ result: UpstreamResult) -> Bool {
        if case .response(200, let body) = result { return String(buffer: body) == #"{"ok":true}"# }
        return false
    }

    @Test("through a proxy, pooled calls reuse one kept-alive connection and send no Connection: close")
    func pooledReuses() async throws {
        let proxy = try await KeepAliveServer()
        let client = UpstreamClient(proxy: ("127.0.0.1", proxy.port), connections: .pooled)
        for index in 0..<20 {
            let result = await client.get(
                "http://reviews:9080/reviews/\(index)", headers: [("x-request-id", "r\(index)")], timeout: .seconds(3),
                logger: logger)
            #expect(Self.ok(result), "call \(index): \(result)")
        }
        #expect(proxy.connections == 1)
        #expect(proxy.requests.count == 20)
        #expect(proxy.requests.allSatisfy { !$0.lowercased().contains("connection: close") })
        #expect(proxy.requests.last?.hasPrefix("GET http://reviews:9080/reviews/19 HTTP/1.1\r\n") == true)
        #expect(client.pool?.idleCount == 1)
        try await proxy.close()
    }

    @Test("concurrent pooled calls open at most one connection each and leave them idle for later")
    func pooledConcurrent() async throws {
        let proxy = try await KeepAliveServer()
        let client = UpstreamClient(proxy: ("127.0.0.1", proxy.port), connections: .pooled)
        let logger = logger
        for _ in 0..<3 {
            let results = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        Self.ok(await client.get("http://details:9080/details/0", headers: [], timeout: .seconds(3), logger: logger))
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.allSatisfy { $0 })
        }
        #expect(proxy.requests.count == 24)
        #expect(proxy.connections <= 8, "\(proxy.connections) connections for 8 at a time")
        try await proxy.close()
    }

    @Test("a pooled connection the proxy dropped is replaced and the call still succeeds")
    func droppedConnectionRetried() async throws {
        let proxy = try await KeepAliveServer(closeAfterEachAnswer: true)
        let client = UpstreamClient(proxy: ("127.0.0.1", proxy.port), connections: .pooled)
        for index in 0..<5 {
            let result = await client.get("http://ratings:9080/ratings/0", headers: [], timeout: .seconds(3), logger: logger)
            #expect(Self.ok(result), "call \(index): \(result)")
        }
        #expect(proxy.requests.count == 5, "each request is answered once: \(proxy.requests.count)")
        try await proxy.close()
    }

    @Test("per-request mode opens a connection per call and sends Connection: close, even through a proxy")
    func perRequest() async throws {
        let proxy = try await KeepAliveServer()
        let client = UpstreamClient(proxy: ("127.0.0.1", proxy.port), connections: .perRequest)
        for _ in 0..<5 {
            #expect(Self.ok(await client.get("http://details:9080/details/0", headers: [], timeout: .seconds(3), logger: logger)))
        }
        #expect(proxy.connections == 5)
        #expect(proxy.requests.allSatisfy { $0.contains("\r\nConnection: close") })
        #expect(client.pool == nil)
        try await proxy.close()
    }

    @Test("the mode: pooled by default only with HTTP_PROXY; UPSTREAM_CONNECTIONS=per-request turns it off")
    func mode() {
        #expect(UpstreamClient.connections(BookinfoEnvironment([:])) == .perRequest)
        #expect(UpstreamClient.connections(BookinfoEnvironment(["UPSTREAM_CONNECTIONS": "pooled"])) == .perRequest)
        #expect(UpstreamClient.connections(BookinfoEnvironment(["HTTP_PROXY": "http://127.0.0.1:15001"])) == .pooled)
        #expect(
            UpstreamClient.connections(BookinfoEnvironment(["HTTP_PROXY": "127.0.0.1:15001", "UPSTREAM_CONNECTIONS": "per-request"]))
                == .perRequest)
    }
}
