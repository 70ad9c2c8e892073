import AsyncHTTPClient
import BookinfoKit
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Productpage
import Testing

@Suite("productpage")
struct ProductpageTests {
    static let reviewsError = ClosureHandler { _ in .json(#"{"error":"nope"}"#, status: .serviceUnavailable) }

    @Test(
        "each reviews version shows its markers in the classic markup",
        arguments: [("v1", nil, 0, 0), ("v2", "black", 9, 1), ("v3", "red", 9, 1)] as [(String, String?, Int, Int)])
    func classicMarkers(_ version: String, color: String?, full: Int, empty: Int) async throws {
        try await withBookinfo(reviewsVersion: version) { port in
            let page = try await fetch("http://127.0.0.1:\(port)/productpage?u=normal").body
            #expect(page.contains("Book Reviews") && page.contains("Reviewer1") && page.contains("Reviewer2"))
            #expect(page.contains("<dt>ISBN-13:</dt>123-1234567890"))
            #expect(count(#"glyphicon glyphicon-star""#, in: page) == full)
            #expect(count("glyphicon-star-empty", in: page) == empty)
            #expect(page.contains(#"<font color="\#(color ?? "")">"#) == (color != nil))
            #expect(!page.contains("Ratings service is currently unavailable"))
            #expect(page.contains(##"data-toggle="modal" href="#login-modal">Sign in</button>"##))
        }
    }

    @Test(
        "each reviews version shows its markers in the modern markup",
        arguments: [("v1", nil), ("v2", "black"), ("v3", "red")] as [(String, String?)])
    func modernMarkers(_ version: String, color: String?) async throws {
        try await withBookinfo(reviewsVersion: version, environment: ["PRODUCTPAGE_UI": "modern"]) { port in
            let cookie = try await signIn("jason", port: port)
            let page = try await fetch("http://127.0.0.1:\(port)/productpage", headers: [cookie]).body
            #expect(page.contains("<title>Simple Bookstore App</title>"))
            #expect(page.contains(#"<h4 class="text-3xl font-semibold">Book Reviews</h4>"#))
            #expect(count(#"id="glyphicon glyphicon-star""#, in: page) == (color == nil ? 0 : 9))
            if let color { #expect(page.contains("gap-x-1 text-\(color)-500")) }
            #expect(page.contains(#"text-gray-50">jason</p>"#) && page.contains("Sign out"))
            #expect(page.contains("Reviews served by:") && page.contains("reviews-\(version)-pod"))
            #expect(!page.contains("<dt>ISBN-13"))
        }
    }

    @Test("ratings failing shows the ratings error once per review and no stars")
    func ratingsUnavailable() async throws {
        let ratingsDown = ClosureHandler { _ in .json(#"{"id": "0","podname": "p","clustername": "null","reviews": [{  "reviewer": "Reviewer1",  "text": "a", "rating": {"error": "Ratings service is currently unavailable"}},{  "reviewer": "Reviewer2",  "text": "b", "rating": {"error": "Ratings service is currently unavailable"}}]}"#) }
        for markup in ["classic", "modern"] {
            try await withBookinfo(reviews: ratingsDown, environment: ["PRODUCTPAGE_UI": markup]) { port in
                let page = try await fetch("http://127.0.0.1:\(port)/productpage").body
                #expect(count("Ratings service is currently unavailable", in: page) == 2)
                #expect(!page.contains("glyphicon glyphicon-star"))
            }
        }
    }

    @Test("a reviews upstream slower than 3 s is tried twice and the page gives up after about 6 s")
    func timingReviewsTimeoutAndRetry() async throws {
        let log = RequestLog()
        let slow = ClosureHandler { request in
            log.record(request)
            try await Task.sleep(for: .seconds(7))
            return .json("{}")
        }
        try await withBookinfo(reviews: slow) { port in
            let start = ContinuousClock.now
            let page = try await fetch("http://127.0.0.1:\(port)/productpage")
            let elapsed = ContinuousClock.now - start
            #expect(page.status == 200)
            #expect(page.body.contains("Error fetching product reviews!"))
            #expect(page.body.contains("Sorry, product reviews are currently unavailable for this book."))
            #expect(page.body.contains("Book Details"))
            #expect(elapsed > .milliseconds(5500) && elapsed < .milliseconds(7500), "page took \(elapsed)")
        }
        let calls = log.all
        #expect(calls.count == 2)
        if calls.count == 2 {
            let gap = calls[1].at - calls[0].at
            #expect(gap > .milliseconds(2700) && gap < .milliseconds(3600), "retry came \(gap) after the first try")
        }
    }

    @Test("a reviews error status is retried once at once; the API reports the last status")
    func reviewsErrorRetry() async throws {
        let log = RequestLog()
        let failing = Recording(inner: Self.reviewsError, log: log)
        let metrics = MetricsRegistry()
        try await withBookinfo(reviews: failing, metrics: metrics) { port in
            let page = try await fetch("http://127.0.0.1:\(port)/productpage")
            #expect(page.body.contains("Error fetching product reviews!"))
            #expect(log.count == 2)
            let api = try await fetch("http://127.0.0.1:\(port)/api/v1/products/0/reviews")
            #expect(api.status == 503)
            #expect(api.body == #"{"error": "Sorry, product reviews are currently unavailable for this book."}"#)
            #expect(log.count == 4)
        }
        #expect(metrics.counterValue("request_result_total", labels: [("destination_app", "reviews"), ("response_code", "503")]) == 2)
        #expect(metrics.counterValue("request_result_total", labels: [("destination_app", "details"), ("response_code", "200")]) == 1)
    }

    @Test("a details abort shows the details error; the API passes the abort status through")
    func detailsAbort() async throws {
        let abort = ClosureHandler { _ in Response.text("fault filter abort", status: .init(code: 555), contentType: "text/plain") }
        try await withBookinfo(details: abort) { port in
            let page = try await fetch("http://127.0.0.1:\(port)/productpage").body
            #expect(page.contains(#"<h4 class="text-center text-primary">Error fetching product details!</h4>"#))
            #expect(page.contains("<p>Sorry, product details are currently unavailable for this book.</p>"))
            #expect(page.contains("Book Reviews"))
            let api = try await fetch("http://127.0.0.1:\(port)/api/v1/products/0")
            #expect(api.status == 555)
            #expect(api.body == #"{"error": "Sorry, product details are currently unavailable for this book."}"#)
        }
    }

    @Test("the JSON API re-serialises upstream objects as the Python original does")
    func api() async throws {
        try await withBookinfo(reviewsVersion: "v2") { port in
            let list = try await fetch("http://127.0.0.1:\(port)/api/v1/products")
            #expect(list.status == 200 && list.header("content-type") == "application/json")
            #expect(list.body.hasPrefix(#"[{"id": 0, "title": "The Comedy of Errors", "descriptionHtml": "<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia Summary</a>"#))
            let details = try await fetch("http://127.0.0.1:\(port)/api/v1/products/0")
            #expect(details.body == #"{"id": 0, "author": "William Shakespeare", "year": 1595, "type": "paperback", "pages": 200, "publisher": "PublisherA", "language": "English", "ISBN-10": "1234567890", "ISBN-13": "123-1234567890"}"#)
            let reviews = try await fetch("http://127.0.0.1:\(port)/api/v1/products/0/reviews")
            #expect(reviews.body.hasPrefix(#"{"id": "0", "podname": "reviews-v2-pod", "clustername": "null", "reviews": [{"reviewer": "Reviewer1", "text": "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!", "rating": {"stars": 5, "color": "black"}}"#))
            let ratings = try await fetch("http://127.0.0.1:\(port)/api/v1/products/0/ratings")
            #expect(ratings.body == #"{"id": 0, "ratings": {"Reviewer1": 5, "Reviewer2": 4}}"#)
            #expect(try await fetch("http://127.0.0.1:\(port)/api/v1/products/abc").status == 400)
            #expect(try await fetch("http://127.0.0.1:\(port)/api/v1/products/abc/reviews").status == 404)
            #expect(try await fetch("http://127.0.0.1:\(port)/api/v1/products/abc/ratings").status == 400)
        }
        // No upstream at all: 500.
        let environment = ["DETAILS_SERVICE_PORT": "1", "DETAILS_HOSTNAME": "127.0.0.1"]
        try await withBookinfo(environment: environment) { port in
            let api = try await fetch("http://127.0.0.1:\(port)/api/v1/products/0")
            #expect(api.status == 500)
        }
    }

    @Test("upstream calls carry end-user from the session and the trace headers, nothing else")
    func headerPropagation() async throws {
        let detailsLog = RequestLog(), reviewsLog = RequestLog()
        let details = Recording(inner: DetailsServiceStub.details, log: detailsLog)
        let reviews = Recording(inner: DetailsServiceStub.reviews, log: reviewsLog)
        try await withBookinfo(details: details, reviews: reviews) { port in
            let cookie = try await signIn("jason", port: port)
            let incoming = [
                cookie, ("end-user", "mallory"), ("x-request-id", "r-42"), ("x-b3-traceid", "463ac35c9f6413ad"),
                ("x-b3-spanid", "a2fb4a1d1a96d312"), ("x-b3-parentspanid", "0020000000000001"), ("x-b3-sampled", "1"),
                ("x-b3-flags", "0"), ("x-ot-span-context", "ot"), ("traceparent", "00-abc-def-01"), ("user-agent", "ua/1"),
                ("x-unrelated", "secret"),
            ]
            _ = try await fetch("http://127.0.0.1:\(port)/productpage", headers: incoming)
            _ = try await fetch("http://127.0.0.1:\(port)/productpage", headers: [("end-user", "jason")])
        }
        for log in [detailsLog, reviewsLog] {
            let signedIn = try #require(log.all.first).headers
            #expect(signedIn[.endUser] == "jason")
            for (name, value) in [
                ("x-request-id", "r-42"), ("x-b3-traceid", "463ac35c9f6413ad"), ("x-b3-spanid", "a2fb4a1d1a96d312"),
                ("x-b3-parentspanid", "0020000000000001"), ("x-b3-sampled", "1"), ("x-b3-flags", "0"),
                ("x-ot-span-context", "ot"), ("traceparent", "00-abc-def-01"), ("user-agent", "ua/1"),
            ] {
                #expect(signedIn[.init(name)!] == value, "\(name)")
            }
            #expect(signedIn[.init("x-unrelated")!] == nil)
            let anonymous = try #require(log.all.last).headers
            #expect(anonymous[.endUser] == nil, "an incoming end-user header is not forwarded")
        }
    }

    @Test("login stores the user and redirects to the Referer; logout clears it")
    func loginLogout() async throws {
        try await withBookinfo { port in
            let base = "http://127.0.0.1:\(port)"
            let login = try await fetch(
                "\(base)/login", method: .POST, headers: [("content-type", "application/x-www-form-urlencoded"), ("referer", "\(base)/productpage")],
                body: "username=jason&passwd=x")
            #expect(login.status == 302)
            #expect(login.header("location") == "\(base)/productpage")
            let setCookie = try #require(login.header("set-cookie"))
            #expect(setCookie.hasPrefix("session=") && setCookie.hasSuffix("; HttpOnly; Path=/"))
            let cookie = ("cookie", String(setCookie.split(separator: ";")[0]))
            let page = try await fetch("\(base)/productpage", headers: [cookie])
            #expect(page.body.contains(#"jason  ( <a href="logout">sign out</a> )"#))
            #expect(page.body.contains("Signed in as jason"))
            #expect(page.header("vary") == "Cookie")

            let noReferer = try await fetch("\(base)/login?username=bob", method: .POST)
            #expect(noReferer.header("location") == "/productpage")
            let logout = try await fetch("\(base)/logout", headers: [cookie])
            #expect(logout.status == 302)
            #expect(logout.header("set-cookie") == "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/")

            let tampered = ("cookie", cookie.1.replacingOccurrences(of: ".", with: "x."))
            #expect(try await fetch("\(base)/productpage", headers: [tampered]).body.contains(">Sign in</button>"))
            let getLogin = try await fetch("\(base)/login")
            #expect(getLogin.status == 405)
            #expect(getLogin.header("allow") == "POST, OPTIONS")
        }
    }

    @Test("the signed-in user's name is escaped as Jinja escapes it, non-ASCII kept, a quote before a combining mark too")
    func userNameEscaped() async throws {
        try await withBookinfo { port in
            let user = "<b>\"O'Neil\" & 日本</b>\"\u{301}"
            let cookie = try await signIn(try #require(user.addingPercentEncoding(withAllowedCharacters: .alphanumerics)), port: port)
            let page = try await fetch("http://127.0.0.1:\(port)/productpage", headers: [cookie])
            #expect(page.body.contains("&lt;b&gt;&#34;O&#39;Neil&#34; &amp; 日本&lt;/b&gt;&#34;\u{301}  ( <a href=\"logout\">sign out</a> )"))
            #expect(!page.body.contains("<b>\"O'Neil"))
        }
    }

    @Test("an empty user name shows the Sign in button yet sends an empty end-user header")
    func emptyUser() async throws {
        let log = RequestLog()
        try await withBookinfo(reviews: Recording(inner: DetailsServiceStub.reviews, log: log)) { port in
            let cookie = try await signIn("", port: port)
            let page = try await fetch("http://127.0.0.1:\(port)/productpage", headers: [cookie])
            #expect(page.body.contains(">Sign in</button>"))
        }
        #expect(log.all.first?.headers[.endUser] == "")
    }

    @Test("health, landing page, 404s, HEAD and OPTIONS behave as Flask's")
    func plainRoutes() async throws {
        try await withBookinfo { port in
            let base = "http://127.0.0.1:\(port)"
            let health = try await fetch("\(base)/health")
            #expect(health.status == 200 && health.body == "Product page is healthy")
            for path in ["/", "/index.html"] {
                let landing = try await fetch(base + path).body
                #expect(landing.contains("Hello! This is a simple bookstore application consisting of three services as shown below"))
                #expect(landing.contains(#"href="/productpage?u=normal""#) && landing.contains(#"href="/productpage?u=test""#))
                #expect(landing.contains("127.0.0.1"))
            }
            for path in ["/productpage/", "/nothing", "/api/v1/products/0/other", "/static/none.css"] {
                #expect(try await fetch(base + path).status == 404, "\(path)")
            }
            let head = try await fetch("\(base)/productpage", method: .HEAD)
            #expect(head.status == 200 && head.body.isEmpty)
            let options = try await fetch("\(base)/productpage", method: .OPTIONS)
            #expect(options.status == 200 && options.header("allow") == "GET, HEAD, OPTIONS")
            #expect(try await fetch("\(base)/productpage", method: .DELETE).status == 405)
            // A method the HTTP parser does not know is a malformed request.
            #expect(try await fetch("\(base)/productpage", method: .RAW(value: "BREW")).status == 400)
            let png = try await fetch("\(base)/static/img/izzy.png")
            #expect(png.status == 200 && png.header("content-type") == "image/png")
        }
    }

    @Test("FLOOD_FACTOR adds that many reviews fetches per page view")
    func flood() async throws {
        let log = RequestLog()
        try await withBookinfo(reviews: Recording(inner: DetailsServiceStub.reviews, log: log), environment: ["FLOOD_FACTOR": "3"]) { port in
            let page = try await fetch("http://127.0.0.1:\(port)/productpage")
            #expect(page.body.contains("Book Reviews"))
        }
        #expect(log.count == 4)
    }

    @Test("bad input never brings productpage down")
    func badInput() async throws {
        try await withBookinfo { port in
            let base = "http://127.0.0.1:\(port)"
            // A header block over NIO's 80 KB limit is answered 400 and the connection closed; a
            // client still sending may see that close as a reset instead of the answer.
            do {
                let hugeHeader = try await fetch("\(base)/productpage", headers: [("x-huge", String(repeating: "a", count: 200_000))])
                #expect(hugeHeader.status == 400)
            } catch let error as HTTPClientError {
                #expect(error == .remoteConnectionClosed, "\(error)")
            } catch let error as IOError {
                #expect(error.errnoCode == ECONNRESET || error.errnoCode == EPIPE, "\(error)")
            }
            let hugeForm = try await fetch("\(base)/login", method: .POST, body: String(repeating: "u", count: 100_000))
            #expect(hugeForm.status == 413)
            let garbage = try await fetch("\(base)/login", method: .POST, body: "%%%=&&==\u{0}")
            #expect(garbage.status == 302)
            #expect(try await fetch("\(base)/health").status == 200)
        }
    }
}

/// Upstreams answering fixed bodies, for tests that only look at what productpage sends.
enum DetailsServiceStub {
    static let details = ClosureHandler { _ in
        .json(#"{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}"#)
    }
    static let reviews = ClosureHandler { _ in
        .json(#"{"id": "0","podname": "null","clustername": "null","reviews": [{  "reviewer": "Reviewer1",  "text": "a"},{  "reviewer": "Reviewer2",  "text": "b"}]}"#)
    }
}
