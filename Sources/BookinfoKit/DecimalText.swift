/// Reading the integer ids in request paths, byte by byte (each request reads one; splitting the
/// path and walking its characters cost about 3 % of a details request's CPU).
public enum DecimalText {
    /// The optionally signed decimal integer (ASCII digits) that `text` starts with, and how many
    /// bytes it took; nil when no digit follows the sign, or when the value overflows an `Int`.
    public static func leadingInteger(_ text: Substring.UTF8View) -> (value: Int, length: Int)? {
        var rest = text
        var negative = false
        var length = 0
        if let sign = rest.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            rest = rest.dropFirst()
            length = 1
        }
        var value = 0
        var digits = 0
        for byte in rest {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { break }
            let (times10, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowedAgain) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflowed, !overflowedAgain else { return nil }
            value = sum
            digits += 1
        }
        guard digits > 0 else { return nil }
        return (negative ? -value : value, length + digits)
    }

    /// The last segment of `path` (after its last `/`).
    public static func lastSegment(_ path: String) -> Substring {
        let utf8 = path.utf8
        let start = utf8.lastIndex(of: UInt8(ascii: "/")).map { utf8.index(after: $0) } ?? utf8.startIndex
        return path[start...]
    }
}
