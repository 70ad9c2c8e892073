import BookinfoKit
import Foundation
import Synchronization
import Testing

/// The classic page styled with no internet: Bootstrap and jQuery served by productpage itself
/// from Debian's `libjs-bootstrap` and `libjs-jquery` folders (or the folders the environment names),
/// checked down to the pixels headless Chromium draws with every non-loopback address unreachable.
@Suite("productpage offline styling", .serialized)
struct OfflineStylingTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// A throw-away folder, removed after `body`.
    static func withTemporaryFolder<T>(_ body: (String) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("meshdojo-static-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return try await body(folder)
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test("/static/ serves Bootstrap and jQuery from the folders PRODUCTPAGE_BOOTSTRAP_DIR and PRODUCTPAGE_JQUERY_DIR name")
    func configuredFolders() async throws {
        try await Self.withTemporaryFolder { folder in
            try Self.write("/* css */", to: "\(folder)/bs/css/bootstrap.min.css")
            try Self.write("/* theme */", to: "\(folder)/bs/css/bootstrap-theme.min.css")
            try Self.write("// bs", to: "\(folder)/bs/js/bootstrap.min.js")
            try Self.write("font", to: "\(folder)/bs/fonts/glyphicons-halflings-regular.woff2")
            try Self.write("less", to: "\(folder)/bs/less/bootstrap.less")
            try Self.write("secret", to: "\(folder)/bs/css/.hidden")
            try Self.write("// jq", to: "\(folder)/jq/jquery.min.js")
            let environment = ["PRODUCTPAGE_BOOTSTRAP_DIR": "\(folder)/bs", "PRODUCTPAGE_JQUERY_DIR": "\(folder)/jq"]
            try await withBookinfo(environment: environment) { port in
                let base = "http://127.0.0.1:\(port)/static"
                for (path, type, body) in [
                    ("bootstrap/css/bootstrap.min.css", "text/css; charset=utf-8", "/* css */"),
                    ("bootstrap/css/bootstrap-theme.min.css", "text/css; charset=utf-8", "/* theme */"),
                    ("bootstrap/js/bootstrap.min.js", "application/javascript; charset=utf-8", "// bs"),
                    ("bootstrap/fonts/glyphicons-halflings-regular.woff2", "font/woff2", "font"),
                    ("jquery.min.js", "application/javascript; charset=utf-8", "// jq"),
                    ("jquery/jquery.min.js", "application/javascript; charset=utf-8", "// jq"),
                ] {
                    let answer = try await fetch("\(base)/\(path)")
                    #expect(answer.status == 200, "\(path)")
                    #expect(answer.header("content-type") == type, "\(path)")
                    #expect(answer.body == body, "\(path)")
                }
                for path in ["bootstrap/less/bootstrap.less", "bootstrap/css/.hidden", "bootstrap/css/missing.css", "bootstrap/bootstrap.min.css"] {
                    #expect(try await fetch("\(base)/\(path)").status == 404, "\(path)")
                }
                // The modern page's built-in files are still there.
                #expect(try await fetch("\(base)/tailwind/tailwind.css").status == 200)
            }
        }
    }

    /// The built `productpage` executable.
    static var productpageBinary: String {
        let folder = ProcessInfo.processInfo.environment["MESHDOJO_BIN_DIR"] ?? repoRoot + "/.build/debug"
        return folder + "/productpage"
    }

    @Test("a missing Bootstrap folder answers 404 and logs which file is missing and what to install")
    func missingFolderIsLogged() async throws {
        let binary = Self.productpageBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the productpage executable first (swift build)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["0"]
        process.environment = [
            "LISTEN_HOST": "127.0.0.1", "PRODUCTPAGE_BOOTSTRAP_DIR": "/nonexistent/bootstrap",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        let log = Mutex("")
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let chunk = String(decoding: handle.availableData, as: UTF8.self)
            log.withLock { $0 += chunk }
        }
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            stderr.fileHandleForReading.readabilityHandler = nil
        }
        // The port from the "listening" line: …"bookinfo.address":"[IPv4]127.0.0.1/127.0.0.1:PORT"…
        var port: Int?
        for _ in 0..<200 where port == nil {
            try await Task.sleep(for: .milliseconds(50))
            port = log.withLock { text in
                text.split(separator: "\n").first { $0.contains("listening") }.flatMap { line in
                    line.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression)
                        .flatMap { Int(line[$0].split(separator: ":").last ?? "") }
                }
            }
        }
        let bound = try #require(port, "productpage did not report its port: \(log.withLock { $0 })")
        let answer = try await fetch("http://127.0.0.1:\(bound)/static/bootstrap/css/bootstrap.min.css")
        #expect(answer.status == 404)
        var line: Substring?
        for _ in 0..<100 where line == nil {
            line = log.withLock { $0.split(separator: "\n").first { $0.contains("static file missing") } }
            if line == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let missing = try #require(line, "no log line for the missing file: \(log.withLock { $0 })")
        #expect(missing.contains("/nonexistent/bootstrap/css/bootstrap.min.css"))
        #expect(missing.contains("libjs-bootstrap") && missing.contains("PRODUCTPAGE_BOOTSTRAP_DIR"))
        #expect(missing.contains("\"error\"") || missing.contains("error"))
    }

    /// Headless Chromium's screenshot of `url` with only loopback reachable: every other host
    /// goes to a proxy on the discard port, and no name resolves.
    static func screenshot(_ url: String, in folder: String, name: String) async throws -> PNGImage {
        let browser = try #require(
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "chromium is needed (scripts/test installs it)")
        let file = "\(folder)/\(name).png"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--user-data-dir=\(folder)/profile-\(name)", "--window-size=1280,1000", "--virtual-time-budget=5000",
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--screenshot=\(file)", url,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let data = try #require(FileManager.default.contents(atPath: file), "chromium wrote no screenshot")
        return try await PNGImage.decode(data)
    }

    /// What the tests look for in a screenshot of the product page, 1280 pixels wide.
    struct Look: CustomStringConvertible {
        /// The navbar's background, sampled where no text is (either side of the brand and the button).
        var navbar: [PNGImage.Pixel]
        /// Pixels of the star colour in the reviews column.
        var starPixels: Int
        /// Rows where Bootstrap's `text-primary` blue shows both far left and far right: the
        /// "Book Details" and "Book Reviews" headings side by side.
        var twoColumnRows: Int

        var navbarDark: Bool { navbar.allSatisfy { $0.luminance < 90 } }

        var description: String {
            "navbar \(navbar.map { "(\($0.r),\($0.g),\($0.b))" }), \(starPixels) star pixels, \(twoColumnRows) two-column rows"
        }

        init(_ image: PNGImage, star: PNGImage.Pixel) {
            navbar = [(20, 10), (20, 40), (640, 10), (640, 40), (900, 25)].map { image.pixel($0.0, $0.1) }
            var stars = 0
            for y in 0..<image.height {
                for x in image.width / 2..<image.width where image.pixel(x, y).near(star, tolerance: 60) { stars += 1 }
            }
            starPixels = stars
            let primary = PNGImage.Pixel(r: 0x33, g: 0x7a, b: 0xb7)
            func blue(_ xs: Range<Int>, _ y: Int) -> Bool { xs.contains { image.pixel($0, y).near(primary, tolerance: 40) } }
            twoColumnRows = (0..<image.height).filter { blue(0..<450, $0) && blue(830..<image.width, $0) }.count
        }
    }

    @Test("with the network off, the classic page is styled in headless Chromium: dark navbar, red stars, two columns")
    func styledOffline() async throws {
        for file in ["/usr/share/javascript/bootstrap/css/bootstrap.min.css", "/usr/share/javascript/jquery/jquery.min.js"] {
            try #require(FileManager.default.fileExists(atPath: file), "\(file) is missing: install libjs-bootstrap and libjs-jquery (scripts/test does)")
        }
        let red = PNGImage.Pixel(r: 255, g: 0, b: 0)
        try await Self.withTemporaryFolder { folder in
            let local = try await withBookinfo(reviewsVersion: "v3") { port in
                let font = try await fetch("http://127.0.0.1:\(port)/static/bootstrap/fonts/glyphicons-halflings-regular.woff2")
                #expect(font.status == 200 && font.header("content-type") == "font/woff2", "the star glyphs' font is served")
                return Look(try await Self.screenshot("http://127.0.0.1:\(port)/productpage", in: folder, name: "local"), star: red)
            }
            #expect(local.navbarDark, "\(local)")
            #expect(local.starPixels > 300, "nine red stars are drawn: \(local)")
            #expect(local.twoColumnRows > 5, "details and reviews sit side by side: \(local)")

            // The same page linking 1.0.6's CDNs gets no styles with the network off: what the
            // checks above would see if the page were not styled locally.
            let cdn = try await withBookinfo(reviewsVersion: "v3", environment: ["PRODUCTPAGE_UI": "classic-1.0.6"]) { port in
                Look(try await Self.screenshot("http://127.0.0.1:\(port)/productpage", in: folder, name: "cdn"), star: red)
            }
            #expect(!cdn.navbarDark, "\(cdn)")
            #expect(cdn.starPixels < 50, "\(cdn)")
            #expect(cdn.twoColumnRows == 0, "\(cdn)")
        }
    }
}
