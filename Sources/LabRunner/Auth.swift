import Crypto
import Foundation
import Synchronization

/// Who is calling: the instructor (everything) or one student (their namespace only).
public enum Caller: Sendable, Equatable {
    case instructor
    case student(id: String, namespace: String)

    /// Whether this caller may touch `namespace`.
    public func mayUse(namespace: String) -> Bool {
        switch self {
        case .instructor: true
        case .student(_, let own): own == namespace
        }
    }
}

/// Tokens: random 256-bit values, shown once; only their SHA-256 is stored.
public enum Tokens {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares in constant time.
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// A token bucket per caller: `rate` requests per second, bursts up to `burst`.
public final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let burst: Double
    let buckets = Mutex<[String: Bucket]>([:])

    public init(rate: Double = 20, burst: Double = 60) {
        self.rate = rate
        self.burst = burst
    }

    /// Takes one token for `key`; false when the caller is over its rate.
    public func allow(_ key: String) -> Bool {
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            bucket.tokens = min(burst, bucket.tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return false
            }
            bucket.tokens -= 1
            buckets[key] = bucket
            return true
        }
    }
}
