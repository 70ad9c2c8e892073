/// Reads typed fields out of a ``Value`` tree, remembering each problem with its field path, so
/// that one pass reports every mistake of a document instead of the first one.
final class SpecReader {
    private(set) var problems: [(field: String, message: String)] = []

    func problem(_ field: String, _ message: String) {
        problems.append((field, message))
    }

    /// The members of a map; reports a wrong type and every key not in `known`.
    func map(_ value: Value?, _ path: String, known: Set<String>? = nil) -> [(String, Value)]? {
        guard let value, value != .null else { return nil }
        guard let members = value.objectMembers else {
            problem(path, "must be a map, found a \(value.typeName)")
            return nil
        }
        if let known {
            for (key, _) in members where !known.contains(key) {
                let hint = Self.closest(key, in: known).map { " (did you mean '\($0)'?)" } ?? ""
                problem(path.isEmpty ? key : "\(path).\(key)", "unknown field\(hint)")
            }
        }
        return members
    }

    func list(_ value: Value?, _ path: String) -> [Value] {
        guard let value, value != .null else { return [] }
        guard let values = value.arrayValue else {
            problem(path, "must be a list (items start with '- '), found a \(value.typeName)")
            return []
        }
        return values
    }

    func string(_ value: Value?, _ path: String) -> String? {
        guard let value, value != .null else { return nil }
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        default:
            problem(path, "must be a string, found a \(value.typeName)")
            return nil
        }
    }

    func strings(_ value: Value?, _ path: String) -> [String] {
        list(value, path).enumerated().compactMap { string($0.element, "\(path)[\($0.offset)]") }
    }

    func stringMap(_ value: Value?, _ path: String) -> [String: String] {
        var out: [String: String] = [:]
        for (key, item) in map(value, path) ?? [] {
            if let text = string(item, "\(path).\(key)") { out[key] = text }
        }
        return out
    }

    /// Every whole number in these APIs is a 32-bit protobuf or Kubernetes field.
    static let intRange = -2_147_483_648...4_294_967_295

    func int(_ value: Value?, _ path: String) -> Int? {
        guard let value, value != .null else { return nil }
        let number: Int
        switch value {
        case .int(let whole): number = whole
        case .double(let real) where real == real.rounded() && abs(real) < 9e18: number = Int(real)
        case .double(let real) where real == real.rounded():
            problem(path, "\(String(format: "%.0f", real)) is too large a number: it must fit in 32 bits")
            return nil
        case .string(let text) where Int(text) != nil: number = Int(text)!
        default:
            problem(path, "must be a whole number, found a \(value.typeName)")
            return nil
        }
        // Weights get their own message (they must fit uint32 and add up to 100).
        guard Self.intRange.contains(number) || path.hasSuffix(".weight") else {
            problem(path, "\(number) is too large a number: it must fit in 32 bits")
            return nil
        }
        return number
    }

    func double(_ value: Value?, _ path: String) -> Double? {
        guard let value, value != .null else { return nil }
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default:
            problem(path, "must be a number, found a \(value.typeName)")
            return nil
        }
    }

    func bool(_ value: Value?, _ path: String) -> Bool? {
        guard let value, value != .null else { return nil }
        guard case .bool(let flag) = value else {
            problem(path, "must be true or false, found a \(value.typeName)")
            return nil
        }
        return flag
    }

    /// A protobuf duration such as `7s`, `0.5s`, `100ms`, `1m`, `1h` or `1h30m`, in seconds.
    func duration(_ value: Value?, _ path: String) -> Double? {
        guard let text = string(value, path) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("-"), Self.parseDuration(String(trimmed.dropFirst())) != nil {
            problem(path, "'\(text)' is negative: a duration must be at least 1ms, such as 7s, 0.5s or 100ms")
            return nil
        }
        guard let seconds = Self.parseDuration(text) else {
            problem(path, "'\(text)' is not a duration: write a number with a unit, such as 7s, 0.5s or 100ms")
            return nil
        }
        guard seconds <= Self.maxDurationSeconds else {
            problem(path, "'\(text)' is too long: a duration can be at most 315576000000s (10,000 years, protobuf's limit); timeouts are usually a few seconds")
            return nil
        }
        return seconds
    }

    /// The longest duration protobuf (and so Istio and Envoy) can hold.
    public static let maxDurationSeconds = 315_576_000_000.0

    static func parseDuration(_ text: String) -> Double? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        let units: [(String, Double)] = [("ms", 0.001), ("us", 0.000001), ("µs", 0.000001), ("ns", 1e-9), ("s", 1), ("m", 60), ("h", 3600)]
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let amount = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += amount * unit.1
        }
        return total
    }

    /// The known key closest to a misspelt one (edit distance ≤ 2), for "did you mean".
    static func closest(_ key: String, in known: Set<String>) -> String? {
        Spelling.closest(key, in: known)
    }
}

import Foundation

/// "Did you mean …?" for names a user typed: the closest known name within an edit distance of 2.
public enum Spelling {
    public static func closest(_ word: String, in known: some Sequence<String>) -> String? {
        known.map { ($0, distance(word.lowercased(), $0.lowercased())) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
