import Foundation
import Testing

@testable import MeshModel

@Suite("Istio's own samples and the project's bookinfo validate")
struct SampleValidationTests {
    @Test("every current Istio sample loads, parses and validates without errors", arguments: Fixtures.samples("current"))
    func currentSample(_ path: String) throws {
        try expectValid(path)
    }

    @Test("every Istio 1.0.6 sample loads, parses and validates without errors", arguments: Fixtures.samples("1.0.6"))
    func legacySample(_ path: String) throws {
        try expectValid(path)
    }

    @Test("both sample folders are found next to the checkout")
    func samplesArePresent() {
        #expect(Fixtures.samples("current").count >= 20)
        #expect(Fixtures.samples("1.0.6").count >= 20)
    }

    @Test("the project's bookinfo.yaml validates without any finding")
    func projectBookinfo() throws {
        let objects = try ManifestLoader.load(path: Fixtures.bookinfo)
        #expect(objects.count >= 13)
        #expect(Validation.validate(objects).isEmpty)
    }

    func expectValid(_ path: String) throws {
        let objects = try ManifestLoader.load(path: path)
        #expect(!objects.isEmpty)
        let errors = Validation.validate(objects).filter { $0.severity == .error }
        #expect(errors.isEmpty, "\(errors.map(\.description).joined(separator: "\n"))")
    }
}
