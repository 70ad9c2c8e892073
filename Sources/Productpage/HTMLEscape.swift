/// Jinja2/MarkupSafe escaping: `& < > " '` become `&amp; &lt; &gt; &#34; &#39;`.
func htmlEscape(_ text: String) -> String {
    guard text.contains(where: { "&<>\"'".contains($0) }) else { return text }
    var out = ""
    out.reserveCapacity(text.count + 16)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&#34;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}
