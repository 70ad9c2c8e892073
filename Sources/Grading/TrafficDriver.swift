import AsyncHTTPClient
import Logging
import NIOCore

/// One productpage view as the grader saw it.
public struct Sample: Sendable, Equatable {
    /// HTTP status, or 0 when no response arrived (connection refused, timeout).
    public var status: Int
    public var outcome: Outcome
    public var fullStars: Int
    public var color: PageClassifier.StarColor?
    /// Seconds from sending the request to the end of the body.
    public var latency: Double
    /// The transport error when no response arrived.
    public var error: String?

    public init(
        status: Int, outcome: Outcome, fullStars: Int = 0, color: PageClassifier.StarColor? = nil, latency: Double,
        error: String? = nil
    ) {
        self.status = status
        self.outcome = outcome
        self.fullStars = fullStars
        self.color = color
        self.latency = latency
        self.error = error
    }

    /// Whether a response arrived at all.
    public var answered: Bool { error == nil }

    /// One line for a verdict's evidence, e.g. `HTTP 200, v2 (9 black stars), 0.012 s`.
    public var line: String {
        if let error { return "no response after \(Self.seconds(latency)) (\(error))" }
        var what = "HTTP \(status), \(outcome.rawValue)"
        if fullStars > 0 { what += " (\(fullStars) \(color?.rawValue ?? "uncoloured") stars)" }
        return what + ", \(Self.seconds(latency))"
    }

    static func seconds(_ value: Double) -> String {
        let millis = Int((value * 1000).rounded())
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - String(millis % 1000).count))\(millis % 1000) s"
    }
}

/// Why traffic could not be sent.
public struct TrafficError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Sends real GET requests to `ingressURL + path` as a ``Visitor`` and classifies what comes back.
///
/// Signed-in visitors log in once through productpage's form (`POST /login`) and reuse the
/// `session` cookie; redirects are never followed. Requests run with bounded concurrency, and
/// each has its own timeout. Samples are returned in the order the requests were issued, so a
/// sequential test fed from them does not depend on which response happened to finish first.
public actor TrafficDriver {
    /// The process-wide client: no redirects, no retried connection attempts (a refused
    /// connection is an observation, not something to hide). Never shut down.
    public static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Largest page body read.
    static let maximumBody = 4 << 20

    public let ingressURL: String
    public let path: String
    public let concurrency: Int
    public let timeout: Duration
    let logger: Logger
    /// The `Cookie` header per signed-in user.
    var cookies: [String: String] = [:]
    /// Requests sent so far, sign-ins included.
    public private(set) var requestsSent = 0

    /// - Parameters:
    ///   - ingressURL: `http://127.0.0.1:PORT` of the namespace's ingress (no trailing slash needed).
    ///   - path: the page to fetch, `/productpage` by default.
    ///   - concurrency: requests in flight at most (at least 1).
    ///   - timeout: per-request deadline.
    public init(
        ingressURL: String, path: String = "/productpage", concurrency: Int = 4, timeout: Duration = .seconds(15),
        logger: Logger = Logger(label: "meshdojo.grading")
    ) {
        self.ingressURL = ingressURL.hasSuffix("/") ? String(ingressURL.dropLast()) : ingressURL
        self.path = path.hasPrefix("/") ? path : "/" + path
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.logger = logger
    }

    /// Signs `visitor` in if needed (once); throws when the login form does not answer with a
    /// `session` cookie.
    public func prepare(_ visitor: Visitor) async throws {
        guard case .user(let user) = visitor, cookies[user] == nil else { return }
        var request = HTTPClientRequest(url: ingressURL + "/login")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "username=\(Self.formEncoded(user))&passwd=x"))
        requestsSent += 1
        let response: HTTPClientResponse
        do {
            response = try await Self.client.execute(request, timeout: timeAmount)
            _ = try await response.body.collect(upTo: Self.maximumBody)
        } catch {
            throw TrafficError("could not sign in as '\(user)' at \(ingressURL)/login: \(error)")
        }
        let session = response.headers["set-cookie"].lazy
            .compactMap { $0.split(separator: ";").first.map { String($0.drop { $0 == " " }) } }
            .first { $0.hasPrefix("session=") && $0.count > "session=".count }
        guard let session else {
            throw TrafficError("signing in as '\(user)' at \(ingressURL)/login answered HTTP \(response.status.code) without a session cookie")
        }
        cookies[user] = session
    }

    /// Sends `count` requests as `visitor`, at most `concurrency` at a time, and returns the
    /// samples in issue order. Transport failures become samples with status 0.
    public func samples(_ count: Int, as visitor: Visitor) async throws -> [Sample] {
        try await prepare(visitor)
        let cookie: String? = if case .user(let user) = visitor { cookies[user] } else { nil }
        let url = ingressURL + path
        let timeout = timeAmount
        let width = concurrency
        requestsSent += max(0, count)
        return await withTaskGroup(of: (Int, Sample).self) { group in
            var results = [Sample?](repeating: nil, count: max(0, count))
            var next = 0
            while next < min(width, count) {
                let index = next
                group.addTask { (index, await Self.fetch(url, cookie: cookie, timeout: timeout)) }
                next += 1
            }
            while let (index, sample) = await group.next() {
                results[index] = sample
                if next < count {
                    let index = next
                    group.addTask { (index, await Self.fetch(url, cookie: cookie, timeout: timeout)) }
                    next += 1
                }
            }
            return results.compactMap { $0 }
        }
    }

    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = timeout.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// One GET, classified.
    static func fetch(_ url: String, cookie: String?, timeout: TimeAmount) async -> Sample {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        if let cookie { request.headers.add(name: "cookie", value: cookie) }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let response = try await client.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: maximumBody)
            let latency = seconds(clock.now - start)
            let page = PageClassifier.inspect(status: Int(response.status.code), body: String(buffer: bytes))
            return Sample(status: Int(response.status.code), outcome: page.outcome, fullStars: page.fullStars, color: page.color, latency: latency)
        } catch {
            return Sample(status: 0, outcome: .other, latency: seconds(clock.now - start), error: "\(error)")
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// `application/x-www-form-urlencoded` value encoding.
    static func formEncoded(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "*"):
                out.append(Character(Unicode.Scalar(byte)))
            case UInt8(ascii: " "):
                out.append("+")
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return out
    }
}
