import BookinfoKit
import Foundation
import Hummingbird
import HTTPTypes
import Synchronization

/// Istio's `ratings` service (spec §5): `GET`/`POST /ratings/<id>` and `/health`.
public struct RatingsService: PlanningHandler {
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

    /// What a ratings request leaves for later: a GET from the database or that may be delayed,
    /// and a POST (its body is read then).
    public enum Pending: Sendable {
        case fromDatabase(id: Int, any RatingsDatabase)
        case delayed(id: Int)
        case post(id: Int)
    }

    public func plan(_ request: Request) -> Plan<Pending> {
        let path = request.uri.path
        if path == "/health" {
            return .now(ImmediateRouted("/health", healthy ? .json(#"{"status":"Ratings is healthy"}"#)
                : .json(#"{"status":"Ratings is not healthy"}"#, status: .internalServerError)))
        }
        guard path.hasPrefix("/ratings/") else {
            return .now(ImmediateRouted("not-found", ImmediateResponse(status: .notFound)))
        }
        let id = Self.productID(path)
        switch request.method {
        case .get:
            guard let id else { return .now(ImmediateRouted("/ratings/:id", Self.badID)) }
            return get(id: id)
        case .post:
            guard let id else { return .now(ImmediateRouted("/ratings/:id", Self.badID)) }
            return .later(.post(id: id))
        default:
            return .now(ImmediateRouted("/ratings/:id", ImmediateResponse(status: .methodNotAllowed, headers: [.allow: "GET, POST"])))
        }
    }

    public func finish(_ pending: Pending, request: Request, context: BasicRequestContext) async throws -> Routed {
        switch pending {
        case .fromDatabase(let id, let database):
            do {
                let (first, second) = try await database.ratings()
                return Routed("/ratings/:id", .json(#"{"id":\#(id),"ratings":{"Reviewer1":\#(first),"Reviewer2":\#(second)}}"#))
            } catch {
                return Routed("/ratings/:id", .json(error.body, status: .internalServerError))
            }
        case .delayed(let id):
            if coin() { try await Task.sleep(for: delay) }
            return Routed("/ratings/:id", answer(id: id).response)
        case .post(let id):
            var request = request
            let body = try await request.collectBody(upTo: Self.maxBodyBytes)
            return Routed("/ratings/:id", post(id: id, body: body))
        }
    }

    /// The id as the original reads it: `parseInt` of the last path segment.
    static func productID(_ path: String) -> Int? {
        parseInt(DecimalText.lastSegment(path))
    }

    static let badID = ImmediateResponse.json(#"{"error":"please provide numeric product ID"}"#, status: .badRequest)
    static let unavailable = ImmediateResponse.json(#"{"error":"Service unavailable"}"#, status: .serviceUnavailable)

    var healthy: Bool {
        if case .unhealthy = mode { return Self.phase(uptime(), period: .seconds(900)) == 0 }
        return true
    }

    /// A GET's answer: at once, unless it reads the database or may be delayed (the coin for
    /// the delay is drawn later, once).
    func get(id: Int) -> Plan<Pending> {
        switch mode {
        case .database(let database):
            return .later(.fromDatabase(id: id, database))
        case .delayed:
            return .later(.delayed(id: id))
        case .faulty:
            if coin() { return .now(ImmediateRouted("/ratings/:id", Self.unavailable)) }
        case .unavailable:
            if Self.phase(uptime(), period: .seconds(60)) == 1 { return .now(ImmediateRouted("/ratings/:id", Self.unavailable)) }
        case .unhealthy:
            if !healthy { return .now(ImmediateRouted("/ratings/:id", Self.unavailable)) }
        case .memory:
            break
        }
        return .now(ImmediateRouted("/ratings/:id", answer(id: id)))
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
    /// the digits overflow an `Int`.
    static func parseInt(_ text: Substring) -> Int? {
        let rest = text.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") }
        return DecimalText.leadingInteger(rest)?.value
    }
}

/// Ratings POSTed per product id, shared by every copy of the service value.
final class RatingsStore: Sendable {
    private let values = Mutex<[Int: String]>([:])

    func get(_ id: Int) -> String? { values.withLock { $0[id] } }
    func set(_ id: Int, _ ratings: String) { values.withLock { $0[id] = ratings } }
}
