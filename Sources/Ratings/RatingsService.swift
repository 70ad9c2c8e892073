import BookinfoKit
import Foundation
import Hummingbird
import HTTPTypes
import Synchronization

/// Istio's `ratings` service (spec §5): `GET`/`POST /ratings/<id>` and `/health`.
public struct RatingsService: BookinfoHandler {
    let mode: RatingsMode
    /// Ratings POSTed per product id, as compact JSON text (per process, lost on restart).
    let stored = RatingsStore()
    /// Where the random variants draw their coin; replaced in tests.
    let coin: @Sendable () -> Bool
    /// Time since start, for the variants that flip on a schedule; replaced in tests.
    let uptime: @Sendable () -> Duration
    /// How long `v-delayed` holds a delayed answer.
    let delay: Duration
    /// Largest POST body accepted.
    public static let maxBodyBytes = 64 * 1024

    /// - Parameters:
    ///   - mode: the variant, usually ``RatingsMode/from(_:)``.
    ///   - coin: a fair coin for `v-faulty` and `v-delayed`.
    ///   - uptime: time since the service started.
    ///   - delay: the `v-delayed` delay, 7 s as in the original.
    public init(
        mode: RatingsMode, coin: (@Sendable () -> Bool)? = nil, uptime: (@Sendable () -> Duration)? = nil,
        delay: Duration = .seconds(7)
    ) {
        self.mode = mode
        self.coin = coin ?? { Bool.random() }
        let start = ContinuousClock.now
        self.uptime = uptime ?? { ContinuousClock.now - start }
        self.delay = delay
    }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        if let answer = respondImmediately(to: request) { return answer.routed }
        // Left for here: a GET from the database or that may be delayed, and a POST.
        let id = Self.productID(request.uri.path) ?? 0
        if request.method == .get {
            return Routed("/ratings/:id", try await get(id: id))
        }
        var request = request
        let body = try await request.collectBody(upTo: Self.maxBodyBytes)
        return Routed("/ratings/:id", post(id: id, body: body))
    }

    public func respondImmediately(to request: Request) -> ImmediateRouted? {
        let path = request.uri.path
        if path == "/health" {
            return ImmediateRouted("/health", healthy ? .json(#"{"status":"Ratings is healthy"}"#)
                : .json(#"{"status":"Ratings is not healthy"}"#, status: .internalServerError))
        }
        guard path.hasPrefix("/ratings/") else {
            return ImmediateRouted("not-found", ImmediateResponse(status: .notFound))
        }
        let id = Self.productID(path)
        switch request.method {
        case .get:
            guard let id else { return ImmediateRouted("/ratings/:id", Self.badID) }
            return getImmediately(id: id).map { ImmediateRouted("/ratings/:id", $0) }
        case .post:
            guard id != nil else { return ImmediateRouted("/ratings/:id", Self.badID) }
            return nil
        default:
            return ImmediateRouted("/ratings/:id", ImmediateResponse(status: .methodNotAllowed, headers: [.allow: "GET, POST"]))
        }
    }

    /// The id as the original reads it: `parseInt` of the last path segment.
    static func productID(_ path: String) -> Int? {
        let utf8 = path.utf8
        let start = utf8.lastIndex(of: UInt8(ascii: "/")).map { utf8.index(after: $0) } ?? utf8.startIndex
        return parseInt(path[start...])
    }

    static let badID = ImmediateResponse.json(#"{"error":"please provide numeric product ID"}"#, status: .badRequest)
    static let unavailable = ImmediateResponse.json(#"{"error":"Service unavailable"}"#, status: .serviceUnavailable)

    var healthy: Bool {
        if case .unhealthy = mode { return Self.phase(uptime(), period: .seconds(900)) == 0 }
        return true
    }

    /// A GET's answer where no database is read and no delay is drawn; nil for those two modes.
    func getImmediately(id: Int) -> ImmediateResponse? {
        switch mode {
        case .database, .delayed:
            return nil
        case .faulty:
            if coin() { return Self.unavailable }
        case .unavailable:
            if Self.phase(uptime(), period: .seconds(60)) == 1 { return Self.unavailable }
        case .unhealthy:
            if !healthy { return Self.unavailable }
        case .memory:
            break
        }
        return answer(id: id)
    }

    /// A GET's answer in the modes ``getImmediately(id:)`` leaves: from the database, or after
    /// the coin's delay.
    func get(id: Int) async throws -> Response {
        switch mode {
        case .database(let database):
            do {
                let (first, second) = try await database.ratings()
                return .json(#"{"id":\#(id),"ratings":{"Reviewer1":\#(first),"Reviewer2":\#(second)}}"#)
            } catch {
                return .json(error.body, status: .internalServerError)
            }
        case .delayed:
            if coin() { try await Task.sleep(for: delay) }
            return answer(id: id).response
        default:
            return (getImmediately(id: id) ?? answer(id: id)).response
        }
    }

    /// The ratings of `id`: those POSTed, or the built-in ones.
    func answer(id: Int) -> ImmediateResponse {
        let ratings = self.stored.get(id) ?? #"{"Reviewer1":5,"Reviewer2":4}"#
        return .json(#"{"id":\#(id),"ratings":\#(ratings)}"#)
    }

    func post(id: Int, body: ByteBuffer) -> Response {
        guard let ratings = try? JSONValue.parse(body.readableBytesView) else {
            return .json(#"{"error":"please provide valid ratings JSON"}"#, status: .badRequest)
        }
        if case .database = mode {
            return .json(#"{"error":"Post not implemented for database backed ratings"}"#, status: .notImplemented)
        }
        let text = ratings.compact
        stored.set(id, text)
        return .json(#"{"id":\#(id),"ratings":\#(text)}"#)
    }

    /// 0 or 1: which half of the flip cycle `elapsed` falls in.
    static func phase(_ elapsed: Duration, period: Duration) -> Int {
        Int(elapsed / period) % 2
    }

    /// JavaScript's `parseInt(text, 10)`: leading white space, an optional sign, then at least one
    /// digit; whatever follows the digits is ignored. Nil where JavaScript gives `NaN`, and where
    /// the digits overflow an `Int`. Read byte by byte, as every GET reads it.
    static func parseInt(_ text: Substring) -> Int? {
        var rest = text.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") }
        var negative = false
        if let sign = rest.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            rest = rest.dropFirst()
        }
        var value = 0
        var digits = 0
        for byte in rest {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { break }
            let (times10, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowedAgain) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflowed, !overflowedAgain else { return nil }
            value = sum
            digits += 1
        }
        guard digits > 0 else { return nil }
        return negative ? -value : value
    }
}

/// Ratings POSTed per product id, shared by every copy of the service value.
final class RatingsStore: Sendable {
    private let values = Mutex<[Int: String]>([:])

    func get(_ id: Int) -> String? { values.withLock { $0[id] } }
    func set(_ id: Int, _ ratings: String) { values.withLock { $0[id] = ratings } }
}
