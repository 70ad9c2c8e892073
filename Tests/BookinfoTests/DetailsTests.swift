import BookinfoKit
import Details
import Hummingbird
import Testing

@Suite("details")
struct DetailsTests {
    static let book0 =
        #"{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}"#
    static let badID = #"{"error":"please provide numeric product id"}"#

    @Test("serves the book with the exact bytes of the original, the id echoed as a number")
    func details() async throws {
        try await withServer(DetailsService(environment: BookinfoEnvironment([:]))) { port in
            let zero = try await fetch("http://127.0.0.1:\(port)/details/0")
            #expect(zero.status == 200)
            #expect(zero.header("content-type") == "application/json")
            #expect(zero.body == Self.book0)
            let seven = try await fetch("http://127.0.0.1:\(port)/details/007?x=1")
            #expect(seven.body.hasPrefix(#"{"id":7,"author""#))
            let negative = try await fetch("http://127.0.0.1:\(port)/details/-3")
            #expect(negative.body.hasPrefix(#"{"id":-3,"#))
            let signed = try await fetch("http://127.0.0.1:\(port)/details/+5")
            #expect(signed.body.hasPrefix(#"{"id":5,"#))
            let largest = try await fetch("http://127.0.0.1:\(port)/details/9223372036854775807")
            #expect(largest.body.hasPrefix(#"{"id":9223372036854775807,"#))
            let posted = try await fetch("http://127.0.0.1:\(port)/details/0", method: .POST, body: "x")
            #expect(posted.body == Self.book0)
        }
    }

    @Test("rejects ids that are not integers with 400", arguments: [
        "/details/abc", "/details", "/details/", "/details/0/extra", "/details/1.5", "/details/%20", "/details/-", "/details/+-1",
        "/details/9223372036854775808", "/details/12a",
    ])
    func badIDs(_ path: String) async throws {
        try await withServer(DetailsService(environment: BookinfoEnvironment([:]))) { port in
            let answer = try await fetch("http://127.0.0.1:\(port)\(path)")
            #expect(answer.status == 400)
            #expect(answer.body == Self.badID)
        }
    }

    @Test("health answers on /health and below it; other paths are 404")
    func health() async throws {
        try await withServer(DetailsService(environment: BookinfoEnvironment([:]))) { port in
            for path in ["/health", "/health/x"] {
                let answer = try await fetch("http://127.0.0.1:\(port)\(path)")
                #expect(answer.status == 200)
                #expect(answer.body == #"{"status":"Details is healthy"}"#)
            }
            #expect(try await fetch("http://127.0.0.1:\(port)/healthz").status == 404)
            #expect(try await fetch("http://127.0.0.1:\(port)/").status == 404)
        }
    }

    @Test("v2 maps the first Google Books volume and forwards the trace headers")
    func externalBook() async throws {
        let log = RequestLog()
        let books = ClosureHandler { request in
            log.record(request)
            return .json(
                #"{"items":[{"volumeInfo":{"authors":["William Shakespeare"],"publishedDate":"1996","printType":"BOOK","pageCount":80,"publisher":"Dover Publications","language":"en","industryIdentifiers":[{"type":"ISBN_13","identifier":"9780486424613"},{"type":"ISBN_10","identifier":"0486424618"}]}}]}"#
            )
        }
        try await withServer(books) { booksPort in
            let environment = BookinfoEnvironment([
                "ENABLE_EXTERNAL_BOOK_SERVICE": "true", "DO_NOT_ENCRYPT": "true",
                "EXTERNAL_BOOK_SERVICE_URL": "http://127.0.0.1:\(booksPort)",
            ])
            try await withServer(DetailsService(environment: environment)) { port in
                let answer = try await fetch("http://127.0.0.1:\(port)/details/0", headers: [("end-user", "jason")])
                #expect(answer.status == 200)
                #expect(
                    answer.body
                        == #"{"id":0,"author":"William Shakespeare","year":"1996","type":"paperback","pages":80,"publisher":"Dover Publications","language":"English","ISBN-10":"0486424618","ISBN-13":"9780486424613"}"#
                )
            }
        }
        #expect(log.all.first?.path == "/books/v1/volumes")
        #expect(log.all.first?.headers[.endUser] == "jason")
    }

    @Test("v2 without a reachable book service answers 400 with the reason")
    func externalBookDown() async throws {
        let environment = BookinfoEnvironment([
            "ENABLE_EXTERNAL_BOOK_SERVICE": "true", "EXTERNAL_BOOK_SERVICE_URL": "http://127.0.0.1:1",
        ])
        try await withServer(DetailsService(environment: environment)) { port in
            let answer = try await fetch("http://127.0.0.1:\(port)/details/0")
            #expect(answer.status == 400)
            #expect(answer.body.hasPrefix(#"{"error":"upstream connection failed"#))
        }
    }
}
