import Foundation
import Synchronization

/// What `/static/` serves: Bootstrap and jQuery from folders on disk (Debian's `libjs-bootstrap`
/// and `libjs-jquery`, never copied into the repository) for the classic page, and the modern
/// page's two small files from the binary.
///
/// | path | file |
/// | --- | --- |
/// | `/static/bootstrap/{css,js,fonts}/NAME` | `<bootstrap folder>/{css,js,fonts}/NAME` |
/// | `/static/jquery.min.js`, `/static/jquery/NAME` | `<jquery folder>/jquery.min.js`, `<jquery folder>/NAME` |
/// | `/static/tailwind/tailwind.css`, `/static/img/izzy.png` | built in |
final class StaticFiles: Sendable {
    enum Lookup: Equatable {
        case found(contentType: String, Data)
        /// A path of the Bootstrap or jQuery folders whose file is not there.
        case missing(file: String)
        case unknown
    }

    let bootstrapDirectory: String
    let jqueryDirectory: String
    /// Files read once, by path below `/static/`.
    private let cache = Mutex<[String: (String, Data)]>([:])

    init(bootstrapDirectory: String, jqueryDirectory: String) {
        self.bootstrapDirectory = bootstrapDirectory
        self.jqueryDirectory = jqueryDirectory
    }

    static let contentTypes = [
        "css": "text/css; charset=utf-8", "js": "application/javascript; charset=utf-8",
        "map": "application/json", "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf",
        "eot": "application/vnd.ms-fontobject", "svg": "image/svg+xml",
    ]

    /// The file for a path below `/static/` (already free of `..`).
    func lookup(_ path: String) -> Lookup {
        if let (type, data) = StaticAssets.files[path] { return .found(contentType: type, data) }
        if let (type, data) = cache.withLock({ $0[path] }) { return .found(contentType: type, data) }
        guard let file = diskFile(path) else { return .unknown }
        guard let data = FileManager.default.contents(atPath: file) else { return .missing(file: file) }
        let type = Self.contentTypes[(file as NSString).pathExtension.lowercased()] ?? "application/octet-stream"
        cache.withLock { $0[path] = (type, data) }
        return .found(contentType: type, data)
    }

    /// The disk file a path names, or nil when the path is none of the served folders'.
    func diskFile(_ path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: { $0.isEmpty || $0.hasPrefix(".") }) else { return nil }
        switch parts.first {
        case "bootstrap" where parts.count == 3 && ["css", "js", "fonts"].contains(parts[1]):
            return "\(bootstrapDirectory)/\(parts[1])/\(parts[2])"
        case "jquery.min.js" where parts.count == 1:
            return "\(jqueryDirectory)/jquery.min.js"
        case "jquery" where parts.count == 2:
            return "\(jqueryDirectory)/\(parts[1])"
        default:
            return nil
        }
    }
}

/// The modern page's files, kept in the binary so an image needs nothing beside it.
enum StaticAssets {
    /// Path below `/static/` → (content type, bytes).
    static let files: [String: (String, Data)] = [
        "tailwind/tailwind.css": ("text/css; charset=utf-8", Data(tailwindShim.utf8)),
        "img/izzy.png": ("image/png", Data(base64Encoded: izzyPNG)!),
    ]

    /// The modern page loads this path with a `<script>` tag (as the original does with the
    /// Tailwind browser build); this small script styles the classes the page uses.
    static let tailwindShim = """
        (function () {
          var css = [
            "body{margin:0;font-family:ui-sans-serif,system-ui,sans-serif;color:#111827}",
            ".bg-gray-800{background:#1f2937}.text-white{color:#fff}.container{max-width:72rem}",
            ".mx-auto{margin-left:auto;margin-right:auto}.px-4{padding-left:1rem;padding-right:1rem}",
            ".flex{display:flex}.items-center{align-items:center}.justify-between{justify-content:space-between}",
            ".h-16{height:4rem}.text-5xl{font-size:3rem}.text-3xl{font-size:1.875rem}.text-2xl{font-size:1.5rem}",
            ".font-bold{font-weight:700}.font-semibold{font-weight:600}.text-blue-900{color:#1e3a8a}",
            ".text-gray-600{color:#4b5563}.text-red-500{color:#ef4444}.text-black-500{color:#000}",
            ".gap-x-1{column-gap:.25rem}.h-5{height:1.25rem}.w-5{width:1.25rem}.mt-8{margin-top:2rem}",
            ".py-12{padding-top:3rem;padding-bottom:3rem}.md\\:flex-row{flex-direction:row}.flex-col{flex-direction:column}",
            ".rounded-md{border-radius:.375rem}.bg-blue-600{background:#2563eb}.h-16.w-16,.h-9.w-9{border-radius:9999px;height:2.25rem;width:2.25rem}",
            "table{border-collapse:collapse}th,td{padding:.5rem;text-align:left}"
          ].join("");
          var style = document.createElement("style");
          style.textContent = css;
          document.head.appendChild(style);
        })();
        """

    static let izzyPNG = "iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAYAAACqaXHeAAAAwUlEQVR42u3b2RGCUAxAUaqzGZuzQ63AEfAtWU5mLOCeL4TkOIxZNo/n633m1y64FMio6HQYs8PDQqwODwWxO34bQpTwLRBR45cgRI+fipAlfgpCtvihCFnjhyG0Bsge/xdClfjbCK0BqsVfRmgNUDX+NAKAzgDV438iAADQGKBL/FcEAAAAAAAAAAAAT4P+CwAA4K2Qd4IA+gL4MgTAx1EAFiSsyACwJmdR0qqsZWnr8g4mnMw4mnI253DS6awpPR++VT4HxYO3egAAAABJRU5ErkJggg=="
}
