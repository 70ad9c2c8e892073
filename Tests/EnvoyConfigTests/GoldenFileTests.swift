import EnvoyConfig
import Foundation
import MeshModel
import Testing

/// The translation of bookinfo + `destination-rule-all.yaml` + each Istio sample, compared with the
/// checked-in golden files. `REFRESH_GOLDEN=1 swift test ...` rewrites them in the source tree.
@Suite("Golden translations of the Istio samples")
struct GoldenFileTests {
    /// `era/sample.yaml` for every sample of both eras.
    static let cases: [String] = Fixtures.eras.flatMap { era in Fixtures.samples(era: era).map { "\(era)/\($0)" } }

    @Test("every era has samples to compare")
    func samplesArePresent() {
        for era in Fixtures.eras {
            #expect(Fixtures.samples(era: era).count > 10, "no samples found under \(Fixtures.samplesRoot.path)/\(era)")
        }
    }

    @Test("the translation of each sample matches its golden file", arguments: cases)
    func matchesGolden(_ sample: String) throws {
        let parts = sample.split(separator: "/", maxSplits: 1).map(String.init)
        let era = parts[0]
        let file = parts[1]
        let actual = try Fixtures.translate(era: era, samples: [file]).goldenDocument.prettyJSON
        let goldenName = "\(era)/\(file.replacingOccurrences(of: ".yaml", with: ".json"))"
        if ProcessInfo.processInfo.environment["REFRESH_GOLDEN"] == "1" {
            let url = Fixtures.goldenSourceRoot.appendingPathComponent(goldenName)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try #require(Self.golden(goldenName), "missing golden file \(goldenName); run with REFRESH_GOLDEN=1")
        if let difference = Self.firstDifference(expected: expected, actual: actual) {
            Issue.record("\(goldenName) differs: \(difference) (REFRESH_GOLDEN=1 rewrites the golden files)")
        }
    }

    @Test("translating the same input twice gives the same output")
    func deterministic() throws {
        let first = try Fixtures.translate(samples: ["virtual-service-reviews-50-v3.yaml", "bookinfo-gateway.yaml"])
        let second = try Fixtures.translate(samples: ["virtual-service-reviews-50-v3.yaml", "bookinfo-gateway.yaml"])
        #expect(first.goldenDocument.prettyJSON == second.goldenDocument.prettyJSON)
        #expect(first.files(version: 3) == second.files(version: 3))
    }

    /// The golden file from the source tree, else from the test bundle (a copy made at build time).
    static func golden(_ name: String) -> String? {
        let bundled = Bundle.module.resourceURL?.appendingPathComponent("Resources/golden/\(name)")
        for url in [Fixtures.goldenSourceRoot.appendingPathComponent(name), bundled].compactMap({ $0 }) {
            if let text = try? String(contentsOf: url, encoding: .utf8) { return text }
        }
        return nil
    }

    /// "line N: expected `…`, got `…`" for the first differing line, nil when equal.
    static func firstDifference(expected: String, actual: String) -> String? {
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(expectedLines.count, actualLines.count) {
            let want = index < expectedLines.count ? String(expectedLines[index]) : "<end of file>"
            let got = index < actualLines.count ? String(actualLines[index]) : "<end of file>"
            if want != got { return "line \(index + 1): expected `\(want)`, got `\(got)`" }
        }
        return nil
    }
}
