/// Jinja2/MarkupSafe escaping: `& < > " '` become `&amp; &lt; &gt; &#34; &#39;`.
///
/// Works on the UTF-8 bytes: the five are ASCII, and an ASCII byte never occurs inside another
/// character's encoding. As MarkupSafe works on code points, a quote followed by a combining
/// mark is escaped too (a `Character` loop would see one grapheme and leave it).
func htmlEscape(_ text: String) -> String {
    let utf8 = text.utf8
    func special(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"): true
        default: false
        }
    }
    guard utf8.contains(where: special) else { return text }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count + 32)
    for byte in utf8 {
        switch byte {
        case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
        case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
        case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
        case UInt8(ascii: "\""): out.append(contentsOf: "&#34;".utf8)
        case UInt8(ascii: "'"): out.append(contentsOf: "&#39;".utf8)
        default: out.append(byte)
        }
    }
    return String(decoding: out, as: UTF8.self)
}
