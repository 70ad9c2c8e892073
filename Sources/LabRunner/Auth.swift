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

/// Service-account tokens the runner's Kubernetes API issues (the TokenRequest API,
/// `serviceaccounts/{name}/token`), as the Kubernetes backend asks for a student's kubeconfig.
///
/// A token names its namespace, its ServiceAccount and when it expires, signed with HMAC-SHA256
/// under a key derived from the instructor's token, so the runner keeps no table of them and
/// they survive its restarts. Whoever holds one acts as a student of that namespace.
public struct ServiceAccountTokens: Sendable {
    let key: SymmetricKey
    static let prefix = "mdsa."

    public init(instructorTokenHash: String) {
        key = SymmetricKey(data: SHA256.hash(data: Data("meshdojo service-account tokens\n\(instructorTokenHash)".utf8)))
    }

    public struct Claims: Equatable, Sendable {
        public var namespace: String
        public var serviceAccount: String
        /// Seconds since 1970.
        public var expires: Int

        /// `namespace`, `serviceAccount` and `expires` a line each (names are DNS labels: no newlines).
        var text: String { "\(namespace)\n\(serviceAccount)\n\(expires)" }

        init(namespace: String, serviceAccount: String, expires: Int) {
            self.namespace = namespace
            self.serviceAccount = serviceAccount
            self.expires = expires
        }

        init?(text: String) {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            guard lines.count == 3, let expires = Int(lines[2]) else { return nil }
            self.init(namespace: String(lines[0]), serviceAccount: String(lines[1]), expires: expires)
        }
    }

    public func issue(namespace: String, serviceAccount: String, expires: Date) -> String {
        let claims = Claims(namespace: namespace, serviceAccount: serviceAccount, expires: Int(expires.timeIntervalSince1970))
        let payload = Self.base64URL(Data(claims.text.utf8))
        let signature = Self.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)))
        return Self.prefix + payload + "." + signature
    }

    /// The claims of a well-signed, unexpired token; nil for anything else.
    public func verify(_ token: String, now: Date = Date()) -> Claims? {
        guard token.hasPrefix(Self.prefix) else { return nil }
        let parts = token.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let signature = Self.decode(String(parts[1])), let payload = Self.decode(String(parts[0])) else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data(parts[0].utf8), using: key) else { return nil }
        guard let claims = Claims(text: String(decoding: payload, as: UTF8.self)), claims.expires > Int(now.timeIntervalSince1970) else { return nil }
        return claims
    }

    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
