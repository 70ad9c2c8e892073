import BookinfoKit
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import ServiceLifecycle
import Testing
import Logging

@Suite("BookinfoKit")
struct BookinfoKitTests {
    @Test("upstream URLs follow SERVICES_DOMAIN, *_HOSTNAME and *_SERVICE_PORT")
    func upstreamBase() {
        #expect(BookinfoEnvironment([:]).upstreamBase(for: "details") == "http://details:9080")
        #expect(
            BookinfoEnvironment(["SERVICES_DOMAIN": "default.svc.cluster.local"]).upstreamBase(for: "reviews")
                == "http://reviews.default.svc.cluster.local:9080")
        #expect(
            BookinfoEnvironment(["RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": "1234"]).upstreamBase(
                for: "ratings") == "http://127.0.0.1:1234")
    }

    @Test("JSON keeps key order and numbers as written through a round trip")
    func jsonRoundTrip() throws {
        let value = try JSONValue.parse(#" { "b" : 1.50, "a" : [true, null, "x\"\u00e9"], "c": {} } "#)
        #expect(value.compact == #"{"b":1.50,"a":[true,null,"x\"é"],"c":{}}"#)
        #expect(value["b"]?.templateText == "1.50")
        #expect(value["a"]?.arrayValue?.count == 3)
    }

    @Test("the HTTP/1.1 server answers pipelined requests in order, HEAD without a body, closes on Connection: close, and refuses an over-large body with 413")
    func wire() async throws {
        let echo = ClosureHandler { request in .text(request.uri.path, contentType: "text/plain") }
        try await withServer(echo) { port in
            let pipelined = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nHEAD /c HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            // rawExchange returns once the server closes: only the last request asked for that.
            let answers = try rawExchange(port: port, Array(pipelined.utf8)).components(separatedBy: "HTTP/1.1 200 OK\r\n").dropFirst()
            #expect(answers.count == 4)
            let bodies = answers.map { $0.components(separatedBy: "\r\n\r\n").last ?? "" }
            #expect(bodies == ["/a", "/b", "", "/d"])
            let heads = answers.map { $0.lowercased() }
            #expect(heads.allSatisfy { $0.contains("content-length: 2\r\n") })
            #expect(answers.allSatisfy { $0.contains(/\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT\r\n/) })
            #expect(heads.last?.contains("connection: close") == true)
            #expect(heads.dropLast().allSatisfy { !$0.contains("connection: close") })

            // A request in absolute form (as sent to a proxy) is routed by its path.
            let absolute = try rawExchange(port: port, Array("GET http://details:9080/abs?x=1 HTTP/1.1\r\nHost: details:9080\r\nConnection: close\r\n\r\n".utf8))
            #expect(absolute.hasPrefix("HTTP/1.1 200 OK") && absolute.hasSuffix("\r\n\r\n/abs"), "\(absolute)")

            let tooLarge = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" + String(repeating: "x", count: 1_100_000)
            let refused = try rawExchange(port: port, Array(tooLarge.utf8))
            #expect(refused.hasPrefix("HTTP/1.1 413"), "\(refused.prefix(200))")
            #expect(try await fetch("http://127.0.0.1:\(port)/still-up").body == "/still-up")

            // A malformed request after a good one: the good one is answered, then 400 and close.
            let garbled = try rawExchange(port: port, Array("GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nBad Header\r\n\r\n".utf8))
            let parts = garbled.components(separatedBy: "HTTP/1.1 ")
            #expect(parts.count == 3 && parts[1].hasPrefix("200 OK") && parts[1].hasSuffix("\r\n\r\n/ok"), "\(garbled)")
            #expect(parts.last?.hasPrefix("400 Bad Request\r\n") == true && parts.last?.contains("Connection: close\r\n") == true, "\(garbled)")

            // HTTP/1.0: answered in 1.0, kept alive only when asked, and then said so.
            let old = try rawExchange(port: port, Array("GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /c HTTP/1.0\r\n\r\n".utf8))
            let oldAnswers = old.components(separatedBy: "HTTP/1.0 200 OK\r\n").dropFirst()
            #expect(oldAnswers.count == 2, "\(old)")
            #expect(oldAnswers.first?.contains("Connection: keep-alive\r\n") == true && oldAnswers.first?.hasSuffix("/k") == true)
            #expect(oldAnswers.last?.contains("Connection: close\r\n") == true && oldAnswers.last?.hasSuffix("/c") == true)

            // Expect: 100-continue gets its interim answer before the body is sent.
            let continued = try rawExchange(
                port: port, Array("POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi".utf8))
            #expect(continued.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n") && continued.hasSuffix("/p"), "\(continued)")
        }
    }

    @Test("requests a handler answers at once and those it answers in a task keep their order on one connection, and both are counted")
    func immediateAndTaskAnswers() async throws {
        struct Mixed: BookinfoHandler {
            func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
                if let answer = respondImmediately(to: request) { return answer.routed }
                try await Task.sleep(for: .milliseconds(20))
                return Routed("slow", .text("slow" + request.uri.path, contentType: "text/plain"))
            }

            func respondImmediately(to request: Request) -> ImmediateRouted? {
                request.uri.path.hasPrefix("/slow") ? nil : ImmediateRouted("fast", .text("fast" + request.uri.path, contentType: "text/plain"))
            }
        }
        let metrics = MetricsRegistry()
        try await withServer(Mixed(), metrics: metrics) { port in
            let paths = ["/slow1", "/a", "/b", "/slow2", "/c"]
            let pipelined = paths.map { "GET \($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined() + "GET /end HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let answers = try rawExchange(port: port, Array(pipelined.utf8)).components(separatedBy: "HTTP/1.1 200 OK\r\n").dropFirst()
            let bodies = answers.map { $0.components(separatedBy: "\r\n\r\n").last ?? "" }
            #expect(bodies == ["slow/slow1", "fast/a", "fast/b", "slow/slow2", "fast/c", "fast/end"])
        }
        #expect(metrics.counterValue("http_requests_total", labels: [("route", "fast"), ("method", "GET"), ("status", "200")]) == 4)
        #expect(metrics.counterValue("http_requests_total", labels: [("route", "slow"), ("method", "GET"), ("status", "200")]) == 2)
    }

    @Test("a path's integer: optional sign, ASCII digits, how many bytes it took; nil without a digit or on overflow")
    func leadingInteger() {
        func read(_ text: String) -> (value: Int, length: Int)? { DecimalText.leadingInteger(Substring(text).utf8) }
        #expect(read("42")! == (42, 2))
        #expect(read("-7x")! == (-7, 2))
        #expect(read("+0012/")! == (12, 5))
        #expect(read("9223372036854775807")! == (Int.max, 19))
        for text in ["", "+", "-", "+-1", "x1", "9223372036854775808", "-9223372036854775809", "\u{663}"] {
            #expect(read(text) == nil, "\(text)")
        }
        #expect(DecimalText.lastSegment("/ratings/12") == "12")
        #expect(DecimalText.lastSegment("/ratings/") == "")
        #expect(DecimalText.lastSegment("plain") == "plain")
    }

    @Test("JSONText.quote escapes what JSON requires and copies everything else, non-ASCII included")
    func jsonQuote() throws {
        #expect(JSONText.quote("") == #""""#)
        #expect(JSONText.quote("reviews-v2-7f9c 日本 é") == #""reviews-v2-7f9c 日本 é""#)
        #expect(JSONText.quote("a\"b\\c\nd\re\tf\u{1}g\u{1f}h\u{7f}") == #""a\"b\\c\nd\re\tf\u0001g\u001fh\#u{7f}""#)
        for text in ["plain", "\"quoted\" 日本", "ctrl \u{0}\u{8}\u{c}", "back\\slash"] {
            #expect(try JSONValue.parse(JSONText.quote(text)).stringValue == text)
        }
    }

    @Test("JSON strings: plain ones, non-ASCII, escapes anywhere in them, surrogate pairs")
    func jsonStrings() throws {
        let cases: [(String, String)] = [
            (#""""#, ""), (#""plain text""#, "plain text"), (#""日本語 é""#, "日本語 é"),
            (#""ab\ncd""#, "ab\ncd"), (#""\"quoted\"""#, "\"quoted\""), (#""tail\\""#, "tail\\"),
            (#""a\u00e9b\ud83d\ude00c""#, "aéb😀c"),
        ]
        for (text, expected) in cases {
            #expect(try JSONValue.parse(text).stringValue == expected, "\(text)")
        }
        let keys = try JSONValue.parse(#"{"plain":1,"esc\taped":2}"#)
        #expect(keys["plain"]?.templateText == "1")
        #expect(keys["esc\taped"]?.templateText == "2")
        #expect(throws: JSONParseError.self) { try JSONValue.parse("\"raw \u{01} control\"") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("\"raw\nnewline\"") }
    }

    @Test("invalid JSON is rejected", arguments: ["", "{", "{\"a\":}", "[1,]", "01", "\"abc", "{} x", "nul"])
    func jsonRejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("deeply nested JSON is rejected instead of exhausting the stack")
    func jsonDepth() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 100_000)) }
    }

    @Test("the propagated headers are picked in list order and a lone b3 header is expanded")
    func propagation() {
        let incoming: HTTPFields = [
            HTTPField.Name("x-b3-sampled")!: "1", .requestID: "abc", HTTPField.Name("x-unrelated")!: "no",
            .endUser: "jason",
        ]
        let picked = PropagatedHeaders.pick(PropagatedHeaders.tracing, from: incoming)
        #expect(picked.map(\.0) == ["x-request-id", "x-b3-sampled"])
        #expect(PropagatedHeaders.pick(PropagatedHeaders.forwardedByBackends, from: incoming).last! == ("end-user", "jason"))
        let b3: HTTPFields = [HTTPField.Name("b3")!: "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"]
        let expanded = PropagatedHeaders.expandB3(b3)
        #expect(expanded.map(\.0) == ["x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "x-b3-parentspanid"])
        #expect(expanded[2].1 == "1")
    }

    @Test("metrics render in the Prometheus text format")
    func metricsExposition() {
        let metrics = MetricsRegistry()
        metrics.increment("request_result_total", help: "Results of requests", labels: [("destination_app", "details"), ("response_code", "200")])
        metrics.increment("request_result_total", help: "Results of requests", labels: [("destination_app", "details"), ("response_code", "200")])
        metrics.observe("latency_seconds", help: "Latency.", labels: [("route", "/x")], value: 0.003)
        let text = metrics.exposition()
        #expect(text.contains("# TYPE request_result_total counter\n"))
        #expect(text.contains(#"request_result_total{destination_app="details",response_code="200"} 2"#))
        #expect(text.contains(#"request_result_created{destination_app="details",response_code="200"} "#))
        #expect(text.contains(#"latency_seconds_bucket{route="/x",le="0.0025"} 0"#))
        #expect(text.contains(#"latency_seconds_bucket{route="/x",le="0.005"} 1"#))
        #expect(text.contains(#"latency_seconds_count{route="/x"} 1"#))
        #expect(text.contains("process_resident_memory_bytes "))
    }

    @Test("every upstream request asks for its own connection")
    func connectionPerRequest() async throws {
        let log = RequestLog()
        try await withServer(ClosureHandler { request in log.record(request); return .json("{}") }) { port in
            for _ in 0..<3 {
                let result = await UpstreamClient().get(
                    "http://127.0.0.1:\(port)/x", headers: [("x-request-id", "r1")], timeout: .seconds(3),
                    logger: Logger(label: "test"))
                #expect(result.isOK)
            }
        }
        #expect(log.count == 3)
        for entry in log.all {
            #expect(entry.headers[.connection] == "close")
            #expect(entry.headers[.requestID] == "r1")
        }
    }

    @Test("an upstream slower than the deadline is a timeout, and a closed port a connection failure")
    func upstreamFailures() async throws {
        let slow = ClosureHandler { _ in try await Task.sleep(for: .seconds(5)); return .json("{}") }
        try await withServer(slow) { port in
            let start = ContinuousClock.now
            let result = await UpstreamClient().get(
                "http://127.0.0.1:\(port)/", headers: [], timeout: .milliseconds(300), logger: Logger(label: "test"))
            guard case .failure(.timeout) = result else { Issue.record("expected a timeout, got \(result)"); return }
            #expect(ContinuousClock.now - start < .seconds(4))
        }
        let refused = await UpstreamClient().get(
            "http://127.0.0.1:1/", headers: [], timeout: .seconds(2), logger: Logger(label: "test"))
        guard case .failure(.connection) = refused else { Issue.record("expected a connection failure, got \(refused)"); return }
    }

    @Test("/metrics counts requests by route and status")
    func metricsEndpoint() async throws {
        let metrics = MetricsRegistry()
        let body = try await withServer(ClosureHandler { _ in .json("{}") }, metrics: metrics) { port in
            _ = try await fetch("http://127.0.0.1:\(port)/anything")
            return try await fetch("http://127.0.0.1:\(port)/metrics")
        }
        #expect(body.status == 200)
        #expect(body.header("content-type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(body.body.contains(#"http_requests_total{route="test",method="GET",status="200"} 1"#))
    }

    @Test("graceful shutdown lets an in-flight request finish")
    func gracefulShutdown() async throws {
        let (ports, portsContinuation) = AsyncStream<Int>.makeStream()
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let handler = ClosureHandler { _ in
            startedContinuation.yield()
            try? await Task.sleep(for: .milliseconds(500))
            return .json(#"{"done":true}"#)
        }
        let app = BookinfoServer.application(
            name: "test", handler: handler, metrics: MetricsRegistry(), host: "127.0.0.1", port: 0,
            onServerRunning: { portsContinuation.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var portIterator = ports.makeAsyncIterator()
            let port = await portIterator.next()!
            async let answer = fetch("http://127.0.0.1:\(port)/slow")
            var startedIterator = started.makeAsyncIterator()
            await startedIterator.next()
            await group.triggerGracefulShutdown()
            let response = try await answer
            #expect(response.status == 200)
            #expect(response.body == #"{"done":true}"#)
            try await tasks.waitForAll()
        }
    }
}
