import MeshModel

/// Small building blocks of Envoy's JSON (durations, fractional percents, addresses).
enum EnvoyValues {
    /// The largest circuit-breaker threshold, istiod's "unlimited".
    static let unlimited = 4_294_967_295

    /// A protobuf JSON duration: `7s`, `0.5s`, `0s`.
    static func duration(_ seconds: Double) -> Value {
        // Validation caps durations at protobuf's limit; clamp anyway so no input can trap here.
        let clamped = min(max(seconds.isFinite ? seconds : 0, 0), 315_576_000_000)
        var whole = Int(clamped.rounded(.down))
        var fraction = Int(((clamped - Double(whole)) * 1_000_000_000).rounded())
        if fraction >= 1_000_000_000 {
            whole += 1
            fraction -= 1_000_000_000
        }
        guard fraction > 0 else { return .string("\(whole)s") }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return .string("\(whole).\(digits)s")
    }

    /// A `FractionalPercent` per million from a 0–100 percentage (nil = 0 %).
    static func fractionalPercent(_ percentage: Double?) -> Value {
        let percent = min(max((percentage ?? 0).isFinite ? (percentage ?? 0) : 0, 0), 100)
        let numerator = Int((percent * 10_000).rounded())
        return ["numerator": .int(min(max(numerator, 0), 1_000_000)), "denominator": "MILLION"]
    }

    /// `{socket_address: {address, port_value}}`.
    static func socketAddress(host: String, port: Int) -> Value {
        ["socket_address": ["address": .string(host), "port_value": .int(port)]]
    }

    /// An Envoy `StringMatcher` (the presence check has no string form and matches any value).
    static func stringMatcher(_ match: StringMatch) -> Value {
        switch match {
        case .exact(let text): ["exact": .string(text)]
        case .prefix(let text): ["prefix": .string(text)]
        case .regex(let text): ["safe_regex": ["regex": .string(text)]]
        case .present: ["safe_regex": ["regex": ".*"]]
        }
    }

    /// Whether every label of `selector` is in `labels`.
    static func labels(_ labels: [String: String], contain selector: [String: String]) -> Bool {
        selector.allSatisfy { labels[$0.key] == $0.value }
    }
}
