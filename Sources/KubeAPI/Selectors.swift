import Foundation
import MeshModel

/// Label selectors (`app=reviews,version!=v1`, `version in (v1,v2)`, `app`, `!app`) and field
/// selectors (`metadata.name=reviews-v1`, `involvedObject.uid=…`), as list and watch take them.
public struct Selector: Sendable, Equatable {
    enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, [String])
        case notIn(String, [String])
        case exists(String)
        case notExists(String)
    }

    var requirements: [Requirement]

    public static let everything = Selector(requirements: [])

    /// Parses a label selector.
    /// - Throws: ``StatusError`` 400 naming the bad term.
    public static func labels(_ text: String?) throws(StatusError) -> Selector {
        guard let text, !text.isEmpty else { return .everything }
        var requirements: [Requirement] = []
        for term in splitTerms(text) {
            let term = term.trimmingCharacters(in: .whitespaces)
            if let range = term.range(of: " notin ") ?? term.range(of: " in ") {
                let key = term[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let values = term[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: " ()")).split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                requirements.append(term[range].contains("notin") ? .notIn(key, values) : .in(key, values))
            } else if let requirement = try comparison(term) {
                requirements.append(requirement)
            } else if term.hasPrefix("!") {
                requirements.append(.notExists(String(term.dropFirst()).trimmingCharacters(in: .whitespaces)))
            } else if !term.isEmpty, term.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) }) {
                requirements.append(.exists(term))
            } else {
                throw StatusError.badRequest("unable to parse requirement: \(term)")
            }
        }
        return Selector(requirements: requirements)
    }

    /// Parses a field selector (`=`, `==`, `!=` only).
    public static func fields(_ text: String?) throws(StatusError) -> Selector {
        guard let text, !text.isEmpty else { return .everything }
        var requirements: [Requirement] = []
        for term in text.split(separator: ",").map(String.init) {
            guard let requirement = try comparison(term) else { throw StatusError.badRequest("invalid selector: '\(text)'; can't understand '\(term)'") }
            requirements.append(requirement)
        }
        return Selector(requirements: requirements)
    }

    static func comparison(_ term: String) throws(StatusError) -> Requirement? {
        if let range = term.range(of: "!=") {
            return .notEquals(term[..<range.lowerBound].trimmingCharacters(in: .whitespaces), term[range.upperBound...].trimmingCharacters(in: .whitespaces))
        }
        if let range = term.range(of: "==") ?? term.range(of: "=") {
            return .equals(term[..<range.lowerBound].trimmingCharacters(in: .whitespaces), term[range.upperBound...].trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Splits on commas outside parentheses.
    static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        terms.append(current)
        return terms
    }

    /// Whether a map of labels (or of field values) satisfies every requirement.
    public func matches(_ values: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): values[key] == value
            case .notEquals(let key, let value): values[key] != value
            case .in(let key, let options): values[key].map(options.contains) ?? false
            case .notIn(let key, let options): !(values[key].map(options.contains) ?? false)
            case .exists(let key): values[key] != nil
            case .notExists(let key): values[key] == nil
            }
        }
    }

    /// Whether an object's labels match.
    public func matchesLabels(of object: Value) -> Bool {
        if requirements.isEmpty { return true }
        var labels: [String: String] = [:]
        for (key, value) in object["metadata"]?["labels"]?.objectMembers ?? [] { labels[key] = value.stringValue ?? TablePrinter.text(value) }
        return matches(labels)
    }

    /// Whether an object's fields match (each key a dotted path into the object).
    public func matchesFields(of object: Value) -> Bool {
        requirements.allSatisfy { requirement in
            func field(_ key: String) -> String {
                var current: Value? = object
                for part in key.split(separator: ".") { current = current?[String(part)] }
                return TablePrinter.text(current)
            }
            switch requirement {
            case .equals(let key, let value): return field(key) == value
            case .notEquals(let key, let value): return field(key) != value
            default: return true
            }
        }
    }
}
