import Foundation
import Synchronization

/// Counters and histograms in memory, rendered in the Prometheus text format (version 0.0.4).
///
/// Every service exposes one registry on `GET /metrics`: `bookinfo_http_requests_total` and
/// `bookinfo_http_request_duration_seconds` by route and status, the process metrics, and whatever
/// a service adds (productpage's `request_result_total`).
public final class MetricsRegistry: Sendable {
    /// Upper bounds of the latency histogram buckets, in seconds.
    public static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct Family {
        var help: String
        var type: String
        /// Rendered label set (`{a="b"}`) → value(s).
        var counters: [String: Double] = [:]
        var histograms: [String: Histogram] = [:]
        var created: [String: Double] = [:]

        mutating func count(_ key: String, by: Double) {
            counters[key, default: 0] += by
            if created[key] == nil { created[key] = Date().timeIntervalSince1970 }
        }
    }

    private struct Histogram {
        var counts = [UInt64](repeating: 0, count: MetricsRegistry.buckets.count)
        var sum = 0.0
        var count: UInt64 = 0

        mutating func record(_ value: Double) {
            for (index, bound) in MetricsRegistry.buckets.enumerated() where value <= bound {
                counts[index] += 1
            }
            sum += value
            count += 1
        }
    }

    private let families = Mutex<[String: Family]>([:])
    private let startTime = Date().timeIntervalSince1970

    public init() {}

    /// Adds `by` to the counter `name` with these labels, creating it on first use.
    public func increment(_ name: String, help: String, labels: [(String, String)], by: Double = 1) {
        let key = Self.render(labels)
        families.withLock { families in
            families[name, default: Family(help: help, type: "counter")].count(key, by: by)
        }
    }

    /// Records one observation of `value` seconds in the histogram `name`.
    public func observe(_ name: String, help: String, labels: [(String, String)], value: Double) {
        let key = Self.render(labels)
        // Mutated in place: copying the family or the histogram out and back would copy their
        // storage (every label set's buckets) on each request.
        families.withLock { families in
            families[name, default: Family(help: help, type: "histogram")].histograms[key, default: Histogram()]
                .record(value)
        }
    }

    /// The current value of a counter, for tests and benchmarks.
    public func counterValue(_ name: String, labels: [(String, String)]) -> Double {
        families.withLock { $0[name]?.counters[Self.render(labels)] ?? 0 }
    }

    /// Every metric in the Prometheus text exposition format, families sorted by name.
    public func exposition() -> String {
        var out = ""
        let snapshot = families.withLock { $0 }
        for name in snapshot.keys.sorted() {
            let family = snapshot[name]!
            out += "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.type)\n"
            for key in family.counters.keys.sorted() {
                out += "\(name)\(key) \(Self.format(family.counters[key]!))\n"
            }
            for key in family.histograms.keys.sorted() {
                let histogram = family.histograms[key]!
                let inner = key.isEmpty ? "" : String(key.dropFirst().dropLast()) + ","
                for (index, bound) in Self.buckets.enumerated() {
                    out += "\(name)_bucket{\(inner)le=\"\(Self.format(bound))\"} \(histogram.counts[index])\n"
                }
                out += "\(name)_bucket{\(inner)le=\"+Inf\"} \(histogram.count)\n"
                out += "\(name)_sum\(key) \(Self.format(histogram.sum))\n"
                out += "\(name)_count\(key) \(histogram.count)\n"
            }
            if !family.created.isEmpty {
                out += "# HELP \(name.replacingSuffix("_total", with: "_created")) \(family.help)\n"
                out += "# TYPE \(name.replacingSuffix("_total", with: "_created")) gauge\n"
                for key in family.created.keys.sorted() {
                    out += "\(name.replacingSuffix("_total", with: "_created"))\(key) \(Self.format(family.created[key]!))\n"
                }
            }
        }
        out += ProcessStats.current().exposition(startTime: startTime)
        return out
    }

    /// `{name="value",…}`, the key of a label set.
    static func render(_ labels: [(String, String)]) -> String {
        if labels.isEmpty { return "" }
        // Runs twice a request. Label values are routes, methods and status codes, nearly always
        // with nothing to escape: then the bytes are copied into one string of the exact size,
        // which costs a fraction of appending (or interpolating) the pieces one by one.
        guard !labels.contains(where: { needsEscaping($0.1) }) else {
            return "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        let count = labels.reduce(1) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 }  // `{`, then `name="value"` and `,` or `}`
        return String(unsafeUninitializedCapacity: count) { buffer in
            var end = 0
            func append(_ text: String) {
                end += UnsafeMutableBufferPointer(rebasing: buffer[end...]).initialize(from: text.utf8).1
            }
            func append(_ character: Unicode.Scalar) {
                buffer[end] = UInt8(ascii: character)
                end += 1
            }
            append("{" as Unicode.Scalar)
            for (index, (name, value)) in labels.enumerated() {
                if index > 0 { append("," as Unicode.Scalar) }
                append(name)
                append("=\"")
                append(value)
                append("\"" as Unicode.Scalar)
            }
            append("}" as Unicode.Scalar)
            return end
        }
    }

    static func needsEscaping(_ value: String) -> Bool {
        value.utf8.contains { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

extension String {
    fileprivate func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self + replacement
    }
}
