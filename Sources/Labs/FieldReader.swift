import Foundation
import Grading
import MeshModel

/// Reads typed fields of one YAML file's ``Value`` tree; the first problem throws a ``LabError``
/// naming the file and the field path.
struct FieldReader {
    let file: String
    let lab: String?

    func fail(_ field: String?, _ message: String) -> LabError {
        LabError(file: file, lab: lab, field: field, message: message)
    }

    /// The members of a map, refusing keys outside `known` (with a "did you mean").
    func map(_ value: Value?, _ path: String, known: [String]? = nil) throws(LabError) -> [(String, Value)] {
        guard let value, value != .null else { throw fail(path, "missing") }
        guard let members = value.objectMembers else { throw fail(path, "must be a map, found a \(value.typeName)") }
        if let known {
            for (key, _) in members where !known.contains(key) {
                let hint = Self.closest(key, in: known).map { " (did you mean '\($0)'?)" } ?? ""
                throw fail(Self.join(path, key), "unknown field\(hint); known fields: \(known.joined(separator: ", "))")
            }
        }
        return members
    }

    func list(_ value: Value?, _ path: String) throws(LabError) -> [Value] {
        guard let value, value != .null else { throw fail(path, "missing") }
        guard let values = value.arrayValue else { throw fail(path, "must be a list (items start with '- '), found a \(value.typeName)") }
        return values
    }

    func string(_ value: Value?, _ path: String) throws(LabError) -> String {
        guard let value, value != .null else { throw fail(path, "missing") }
        guard case .string(let text) = value else { throw fail(path, "must be a string, found a \(value.typeName)") }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw fail(path, "must not be empty") }
        return text
    }

    func int(_ value: Value?, _ path: String) throws(LabError) -> Int {
        guard let value, value != .null else { throw fail(path, "missing") }
        guard case .int(let number) = value else { throw fail(path, "must be a whole number, found a \(value.typeName)") }
        return number
    }

    func double(_ value: Value?, _ path: String) throws(LabError) -> Double {
        switch value {
        case .int(let number)?: return Double(number)
        case .double(let number)?: return number
        case nil, .null?: throw fail(path, "missing")
        case let other?: throw fail(path, "must be a number, found a \(other.typeName)")
        }
    }

    func bool(_ value: Value?, _ path: String) throws(LabError) -> Bool {
        guard let value, value != .null else { throw fail(path, "missing") }
        guard case .bool(let flag) = value else { throw fail(path, "must be true or false, found a \(value.typeName)") }
        return flag
    }

    func stringMap(_ value: Value?, _ path: String) throws(LabError) -> [String: String] {
        var out: [String: String] = [:]
        for (key, item) in try map(value, path) {
            let itemPath = Self.join(path, key)
            switch item {
            case .string(let text): out[key] = text
            default: throw fail(itemPath, "must be a string (quote values such as \"true\"), found a \(item.typeName)")
            }
        }
        return out
    }

    /// Both languages of a `{en, ja}` text.
    func localized(_ value: Value?, _ path: String) throws(LabError) -> LocalizedText {
        let members = try map(value, path, known: ["en", "ja"])
        let object = Value.object(members)
        return LocalizedText(en: try string(object["en"], "\(path).en"), ja: try string(object["ja"], "\(path).ja"))
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The known key closest to a misspelt one (edit distance ≤ 2).
    static func closest(_ key: String, in known: [String]) -> String? {
        Spelling.closest(key, in: known)
    }
}
