import Foundation
import Grading
import Testing

@testable import Labs

/// The repository's `labs/` folder, found from this file (Tests/LabsTests/… → three levels up).
enum Repository {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static let labs = (root as NSString).appendingPathComponent("labs")

    static func load() throws -> [Lab] { try LabCatalog.load(directory: labs) }
}

@Suite("The workshop's labs load and are complete")
struct RealLabsTests {
    @Test("the seven labs load, sorted by id")
    func sevenLabs() throws {
        let labs = try Repository.load()
        #expect(
            labs.map(\.id) == [
                "00-getting-started", "01-request-routing", "02-fault-injection", "03-traffic-shifting", "04-ab-testing",
                "05-blue-green", "06-canary",
            ])
    }

    @Test("every lab has 2–4 steps, each with an English and a Japanese page")
    func stepPages() throws {
        for lab in try Repository.load() {
            #expect((2...4).contains(lab.steps.count), "\(lab.id): \(lab.steps.count) steps")
            for step in lab.steps {
                #expect(step.markdown.en.hasPrefix("# "), "\(lab.id)/\(step.pagePath).en.md")
                #expect(step.markdown.ja.hasPrefix("# "), "\(lab.id)/\(step.pagePath).ja.md")
                #expect(Self.hasJapanese(step.markdown.ja), "\(lab.id)/\(step.pagePath).ja.md has no Japanese text")
                #expect(!Self.hasJapanese(step.markdown.en), "\(lab.id)/\(step.pagePath).en.md has Japanese text")
                #expect(Self.hasJapanese(step.title.ja) && !step.title.en.isEmpty)
            }
            #expect(Self.hasJapanese(lab.title.ja) && Self.hasJapanese(lab.summary.ja))
        }
    }

    @Test("every lab has at least three known-wrong configurations, each naming one of its checks")
    func wrongConfigs() throws {
        for lab in try Repository.load() {
            #expect(lab.wrong.count >= 3, "\(lab.id): \(lab.wrong.count) wrong configurations")
            for wrong in lab.wrong {
                #expect(lab.checks.contains { $0.id == wrong.checkID })
                #expect(!wrong.files.isEmpty && !wrong.diagnosis.isEmpty)
            }
            // Every check is exercised by at least one wrong configuration... except where none is natural.
            let covered = Set(lab.wrong.map(\.checkID))
            #expect(covered.count >= min(2, lab.checks.count), "\(lab.id): wrong configurations cover only \(covered.sorted())")
        }
    }

    @Test("every check belongs to a step, and the state it is graded in has a solution")
    func checksHaveSteps() throws {
        for lab in try Repository.load() {
            for check in lab.checks {
                let step = try #require(lab.step(ofCheck: check.id), "\(lab.id): \(check.id)")
                #expect(!step.checkIDs.isEmpty)
                #expect(lab.solvedFiles(forCheck: check.id).count > lab.startFiles.count || lab.startLabels != lab.solutionLabels)
            }
            #expect(lab.solutionFiles == lab.steps.flatMap(\.solutionFiles))
        }
    }

    @Test("lab 00 starts without injection, the others start injected")
    func injectionLabels() throws {
        for lab in try Repository.load() {
            #expect(lab.solutionLabels == ["istio-injection": "enabled"])
            #expect(lab.startLabels == (lab.id == "00-getting-started" ? [:] : ["istio-injection": "enabled"]))
        }
    }

    @Test("checks are parsed into the grader's model")
    func checkModel() throws {
        let labs = try Repository.load()
        let fault = try #require(labs.first { $0.id == "02-fault-injection" })
        let delay = try #require(fault.checks.first { $0.id == "jason-delay" })
        #expect(delay.visitor == .user("jason"))
        #expect(delay.path == "/productpage")
        #expect(delay.expect == .latency(.reviewsUnavailable, min: 5.5, max: 7.0, samples: 2))
        #expect(delay.controls == [Check.Control(visitor: .anonymous, expect: .latency(.v1, min: 0, max: 2.0, samples: 5))])
        let shifting = try #require(labs.first { $0.id == "03-traffic-shifting" })
        #expect(shifting.checks.first?.expect == .shares([.v1: 0.5, .v3: 0.5]))
        let start = try #require(labs.first)
        #expect(start.checks.first?.expect == .sidecarsInjected)
        #expect(start.checks.dropFirst().first?.expect == .covers([.v1, .v2, .v3], samples: 60))
        #expect(fault.steps.map(\.checkIDs) == [["jason-delay"], [], ["jason-abort"]])
    }

    static func hasJapanese(_ text: String) -> Bool {
        text.unicodeScalars.contains { (0x3040...0x30FF).contains($0.value) || (0x4E00...0x9FFF).contains($0.value) }
    }
}
