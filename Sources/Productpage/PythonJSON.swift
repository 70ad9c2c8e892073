import BookinfoKit

/// JSON as the Python productpage writes it: `", "` and `": "` separators, non-ASCII escaped.
enum PythonJSON {
    static func serialize(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(_, let text): text
        case .string(let text): quote(text)
        case .array(let values): "[" + values.map(serialize).joined(separator: ", ") + "]"
        case .object(let members): "{" + members.map { quote($0.0) + ": " + serialize($0.1) }.joined(separator: ", ") + "}"
        }
    }

    /// A string literal with Python's `ensure_ascii` escapes.
    static func quote(_ text: String) -> String {
        var out = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(unit)!)
            default:
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out + "\""
    }
}
