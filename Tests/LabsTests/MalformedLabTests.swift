import Foundation
import Testing

@testable import Labs

/// A throw-away `labs/` folder holding one small lab that the tests then break.
struct ScratchLabs {
    let root: String
    var labs: String { (root as NSString).appendingPathComponent("labs") }
    let id = "02-fault-injection"
    var lab: String { (labs as NSString).appendingPathComponent(id) }

    static let labYAML = """
        id: 02-fault-injection
        title:
          en: Fault injection
          ja: フォールトインジェクション
        summary:
          en: Delay ratings for jason.
          ja: jason の ratings を遅らせます。
        steps:
          - id: delay
            title: {en: Delay, ja: 遅延}
            page: steps/01-delay
            solution: solution/01-delay
        checks:
          - id: jason-ok
            title: {en: jason sees v2, ja: jason には v2}
            visitor: {user: jason}
            expect: {all: v2, samples: 10}
          - id: jason-delay
            title: {en: Slow, ja: 遅い}
            visitor: {user: jason}
            expect: {latency: reviews-unavailable, min: 5.5, max: 7.0, samples: 1}
            controls:
              - visitor: anonymous
                expect: {shares: {v1: 0.5, v3: 0.5}}
        """

    static let manifest = """
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: reviews
        spec:
          hosts: [reviews]
          http:
            - route:
                - destination: {host: reviews, subset: v1}
        """

    init(labYAML: String = Self.labYAML, expect: String = "check: jason-delay\ndiagnosis: capital letters\n") throws {
        root = (NSTemporaryDirectory() as NSString).appendingPathComponent("labs-test-\(UUID().uuidString)")
        let files = [
            "lab.yaml": labYAML,
            "steps/01-delay.en.md": "# Delay\n",
            "steps/01-delay.ja.md": "# 遅延\n",
            "start/vs.yaml": Self.manifest,
            "solution/01-delay/vs.yaml": Self.manifest,
            "wrong/jason/vs.yaml": Self.manifest,
            "wrong/jason/expect.yaml": expect,
        ]
        for (name, text) in files {
            let path = (lab as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    func remove(_ name: String) throws { try FileManager.default.removeItem(atPath: (lab as NSString).appendingPathComponent(name)) }

    func load() throws(LabError) -> [Lab] {
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try LabCatalog.load(directory: labs)
    }

    /// The error loading gives (nil when it loads).
    func error() -> LabError? {
        do {
            _ = try load()
            return nil
        } catch {
            return error
        }
    }
}

@Suite("A malformed lab gives one clear error naming file and field")
struct MalformedLabTests {
    @Test("the scratch lab itself loads")
    func scratchLoads() throws {
        let labs = try ScratchLabs().load()
        #expect(labs.count == 1)
        #expect(labs[0].checks.count == 2)
        #expect(labs[0].wrong.map(\.name) == ["jason"])
        #expect(labs[0].steps[0].checkIDs == ["jason-ok", "jason-delay"])
    }

    @Test("an unknown expectation is named, with its place and a suggestion")
    func unknownExpectation() throws {
        let yaml = ScratchLabs.labYAML.replacingOccurrences(of: "{latency: reviews-unavailable", with: "{latncy: reviews-unavailable")
        let error = try #require(try ScratchLabs(labYAML: yaml).error())
        #expect(error.file == "labs/02-fault-injection/lab.yaml")
        #expect(error.lab == "02-fault-injection")
        #expect(error.field == "checks[1].expect")
        #expect(error.description.hasPrefix("labs/02-fault-injection/lab.yaml: checks[1].expect: unknown expectation 'latncy'"))
        #expect(error.message.contains("did you mean 'latency'"))
    }

    @Test("a missing Japanese title is named")
    func missingJapaneseTitle() throws {
        let yaml = ScratchLabs.labYAML.replacingOccurrences(of: "  ja: フォールトインジェクション\n", with: "")
        let error = try #require(try ScratchLabs(labYAML: yaml).error())
        #expect(error.description == "labs/02-fault-injection/lab.yaml: title.ja: missing")
    }

    @Test("a wrong configuration naming a check that does not exist is refused")
    func wrongNamesMissingCheck() throws {
        let error = try #require(try ScratchLabs(expect: "check: jason-dealy\ndiagnosis: capital letters\n").error())
        #expect(error.file == "labs/02-fault-injection/wrong/jason/expect.yaml")
        #expect(error.field == "check")
        #expect(error.message.contains("'jason-dealy'") && error.message.contains("jason-delay"))
    }

    @Test("an unknown outcome is named with the known ones")
    func unknownOutcome() throws {
        let yaml = ScratchLabs.labYAML.replacingOccurrences(of: "{all: v2,", with: "{all: v4,")
        let error = try #require(try ScratchLabs(labYAML: yaml).error())
        #expect(error.field == "checks[0].expect.all")
        #expect(error.message.contains("unknown outcome 'v4'") && error.message.contains("ratings-unavailable"))
    }

    @Test("shares that do not add up to 1 are refused")
    func sharesSum() throws {
        let yaml = ScratchLabs.labYAML.replacingOccurrences(of: "{v1: 0.5, v3: 0.5}", with: "{v1: 0.8, v3: 0.5}")
        let error = try #require(try ScratchLabs(labYAML: yaml).error())
        #expect(error.field == "checks[1].controls[0].expect.shares")
        #expect(error.message.contains("add up to 1.3"))
    }

    @Test("an id that differs from the folder name is refused")
    func idMismatch() throws {
        let yaml = ScratchLabs.labYAML.replacingOccurrences(of: "id: 02-fault-injection", with: "id: 02-faults")
        let error = try #require(try ScratchLabs(labYAML: yaml).error())
        #expect(error.field == "id")
        #expect(error.message.contains("'02-faults'") && error.message.contains("'02-fault-injection'"))
    }

    @Test("a missing Japanese step page is named")
    func missingJapanesePage() throws {
        let scratch = try ScratchLabs()
        try scratch.remove("steps/01-delay.ja.md")
        let error = try #require(scratch.error())
        #expect(error.field == "steps[0].page")
        #expect(error.message.contains("labs/02-fault-injection/steps/01-delay.ja.md is missing"))
    }

    @Test("a check naming a step that does not exist is refused")
    func unknownStep() throws {
        let yaml = ScratchLabs.labYAML.replacingOccurrences(of: "  - id: jason-ok\n", with: "  - id: jason-ok\n    step: abort\n")
        let error = try #require(try ScratchLabs(labYAML: yaml).error())
        #expect(error.field == "checks[0].step")
    }

    @Test("a misspelt top-level field is refused with a suggestion")
    func misspeltField() throws {
        let yaml = ScratchLabs.labYAML.replacingOccurrences(of: "summary:", with: "sumary:")
        let error = try #require(try ScratchLabs(labYAML: yaml).error())
        #expect(error.field == "sumary")
        #expect(error.message.contains("did you mean 'summary'"))
    }
}
