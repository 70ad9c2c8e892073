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
        let path = request.uri.path
        if path == "/health" {
            return Routed("/health", healthy ? .json(#"{"status":"Ratings is healthy"}"#)
                : .json(#"{"status":"Ratings is not healthy"}"#, status: .internalServerError))
        }
        guard path.hasPrefix("/ratings/") else {
            return Routed("not-found", Response(status: .notFound))
        }
        let id = Self.parseInt(path[path.index(after: path.lastIndex(of: "/")!)...])
        switch request.method {
        case .get:
            guard let id else { return Routed("/ratings/:id", Self.badID) }
            return Routed("/ratings/:id", try await get(id: id))
        case .post:
            guard let id else { return Routed("/ratings/:id", Self.badID) }
            var request = request
            let body = try await request.collectBody(upTo: Self.maxBodyBytes)
            return Routed("/ratings/:id", post(id: id, body: body))
        default:
            return Routed("/ratings/:id", Response(status: .methodNotAllowed, headers: [.allow: "GET, POST"]))
        }
    }

    static let badID = Response.json(#"{"error":"please provide numeric product ID"}"#, status: .badRequest)
    static let unavailable = Response.json(#"{"error":"Service unavailable"}"#, status: .serviceUnavailable)

    var healthy: Bool {
        if case .unhealthy = mode { return Self.phase(uptime(), period: .seconds(900)) == 0 }
        return true
    }

    func get(id: Int) async throws -> Response {
        switch mode {
        case .database(let database):
            do {
                let (first, second) = try await database.ratings()
                return .json(#"{"id":\#(id),"ratings":{"Reviewer1":\#(first),"Reviewer2":\#(second)}}"#)
            } catch {
                return .json(error.body, status: .internalServerError)
            }
        case .faulty:
            if coin() { return Self.unavailable }
        case .delayed:
            if coin() { try await Task.sleep(for: delay) }
        case .unavailable:
            if Self.phase(uptime(), period: .seconds(60)) == 1 { return Self.unavailable }
        case .unhealthy:
            if !healthy { return Self.unavailable }
        case .memory:
            break
        }
        let ratings = stored.get(id) ?? #"{"Reviewer1":5,"Reviewer2":4}"#
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
    /// digit; whatever follows the digits is ignored. Nil where JavaScript gives `NaN`.
    static func parseInt(_ text: Substring) -> Int? {
        var rest = text.drop { $0 == " " || $0 == "\t" || $0 == "\n" }
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        let digits = rest.prefix { ("0"..."9").contains($0) }
        guard !digits.isEmpty, let value = Int(digits) else { return nil }
        return negative ? -value : value
    }
}

/// Ratings POSTed per product id, shared by every copy of the service value.
final class RatingsStore: Sendable {
    private let values = Mutex<[Int: String]>([:])

    func get(_ id: Int) -> String? { values.withLock { $0[id] } }
    func set(_ id: Int, _ ratings: String) { values.withLock { $0[id] = ratings } }
}
