@testable import BookinfoKit
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

/// The connection handler on an embedded channel, where the order of events is the test's to choose:
/// a shutdown that arrives mid-request, which a real server only shows by chance of timing.
@Suite("bookinfo HTTP/1.1 connection handler")
struct HTTP1HandlerTests {
    /// Answers every request at once with its path.
    struct Echo: BookinfoHandler {
        func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
            respondImmediately(to: request)!.routed
        }

        func respondImmediately(to request: Request) -> ImmediateRouted? {
            ImmediateRouted("echo", .text(request.uri.path, contentType: "text/plain"))
        }
    }

    func connection() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        try channel.pipeline.syncOperations.addHandler(
            BookinfoHTTP1Handler(
                responder: InstrumentedResponder(handler: Echo(), metrics: MetricsRegistry()), logger: Logger(label: "test"),
                maxBodyBytes: 1024))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9080)).wait()
        return channel
    }

    func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test("a shutdown mid-request lets the request finish, answers it with Connection: close, then closes")
    func quiesceMidRequest() throws {
        let channel = try connection()
        try channel.writeInbound(ByteBuffer(string: "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhe"))
        #expect(try written(channel).isEmpty)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive, "closed while a request was still arriving")
        try channel.writeInbound(ByteBuffer(string: "llo"))
        let answer = try written(channel)
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.contains("\r\nConnection: close\r\n") && answer.hasSuffix("\r\n\r\n/a"), "\(answer)")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("a shutdown on an idle connection closes it at once")
    func quiesceIdle() throws {
        let channel = try connection()
        try channel.writeInbound(ByteBuffer(string: "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"))
        let answer = try written(channel)
        #expect(answer.hasSuffix("\r\n\r\n/a") && !answer.contains("Connection: close"), "\(answer)")
        #expect(channel.isActive)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("a client that half-closes in the middle of a request gets the answers before it, then 400 for the cut-off one, and the connection closes")
    func halfClose() throws {
        let channel = try connection()
        try channel.writeInbound(ByteBuffer(string: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        let answers = try written(channel).components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(answers.count == 2)
        #expect(answers.first?.hasPrefix("200 OK\r\n") == true && answers.first?.hasSuffix("\r\n\r\n/a") == true)
        #expect(answers.last?.hasPrefix("400 Bad Request\r\n") == true && answers.last?.contains("\r\nConnection: close\r\n") == true)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }
}
