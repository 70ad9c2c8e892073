import Foundation
import MeshModel
import Testing

@testable import Labs

/// The namespace a lab's state is analysed in (not `default`, as a learner's namespace is not).
private let namespace = "student-1"

/// Objects of several files applied in order: a later object replaces the one of the same kind and
/// name in place (as `labctl apply` does; creation order is kept, which decides VirtualService conflicts).
func applied(_ files: [String]) throws -> [KubeObject] {
    var objects: [KubeObject] = []
    for file in files {
        for object in try ManifestLoader.load(path: file) {
            if let index = objects.firstIndex(where: { $0.kind == object.kind && $0.metadata.name == object.metadata.name }) {
                objects[index] = object
            } else {
                objects.append(object)
            }
        }
    }
    return objects
}

func analysis(_ files: [String], labels: [String: String]) throws -> [Diagnostic] {
    let (snapshot, problems) = MeshSnapshot.build(namespace: namespace, namespaceLabels: labels, objects: try applied(files))
    return problems + Analysis.analyze(snapshot)
}

@Suite("Lab manifests are valid Istio and do what the lab says")
struct LabManifestTests {
    @Test("every start, solution and wrong manifest parses and validates without errors (but the refused ones)")
    func manifestsValidate() throws {
        for lab in try Repository.load() {
            let refused = Set(lab.wrong.filter(\.refused).flatMap(\.files))
            let files = lab.startFiles + lab.solutionFiles + lab.wrong.flatMap(\.files)
            for file in files where !refused.contains(file) {
                let objects = try ManifestLoader.load(path: file)
                #expect(!objects.isEmpty, "\(file) holds no object")
                let errors = Validation.validate(objects).filter { $0.severity == .error }
                #expect(errors.isEmpty, "\(errors.map(\.description).joined(separator: "\n"))")
                for object in objects where object.group == "networking.istio.io" {
                    #expect(object.apiVersion == "networking.istio.io/v1alpha3", "\(file): \(object.reference)")
                }
            }
        }
    }

    @Test("refused wrong configurations are refused at apply time, with the expected explanation")
    func refusedConfigs() throws {
        var seen = 0
        for lab in try Repository.load() {
            for wrong in lab.wrong where wrong.refused {
                seen += 1
                let errors = Validation.validate(try wrong.files.flatMap { try ManifestLoader.load(path: $0) }).filter { $0.severity == .error }
                #expect(!errors.isEmpty, "\(lab.id)/wrong/\(wrong.name) is accepted")
                #expect(errors.contains { $0.description.contains(wrong.diagnosis) }, "\(lab.id)/wrong/\(wrong.name): \(errors)")
            }
        }
        #expect(seen >= 1)
    }

    @Test("the state each check is graded in is clean for labctl analyze (no warnings)")
    func solvedStatesAreClean() throws {
        for lab in try Repository.load() {
            for check in lab.checks {
                let found = try analysis(lab.solvedFiles(forCheck: check.id), labels: lab.solutionLabels)
                let warnings = found.filter { $0.severity != .info }
                #expect(warnings.isEmpty, "\(lab.id) \(check.id): \(warnings.map(\.description).joined(separator: "\n"))")
            }
        }
    }

    @Test("each wrong configuration explained by analysis gets that explanation from the analyzer")
    func wrongConfigsAreExplained() throws {
        for lab in try Repository.load() {
            for wrong in lab.wrong where !wrong.refused && wrong.explainedBy == .analysis {
                let labels = wrong.namespaceLabels ?? lab.solutionLabels
                let found = try analysis(lab.files(for: wrong), labels: labels)
                #expect(
                    found.contains { $0.description.contains(wrong.diagnosis) },
                    "\(lab.id)/wrong/\(wrong.name): '\(wrong.diagnosis)' not in \(found.map(\.description))")
            }
        }
    }

    @Test("wrong configurations explained by their route are not named by the analyzer (only the traced route says it)")
    func trafficOnlyConfigs() throws {
        var seen = 0
        for lab in try Repository.load() {
            for wrong in lab.wrong where wrong.explainedBy == .route {
                seen += 1
                let found = try analysis(lab.files(for: wrong), labels: wrong.namespaceLabels ?? lab.solutionLabels)
                #expect(!found.contains { $0.description.lowercased().contains(wrong.diagnosis.lowercased()) }, "\(lab.id)/wrong/\(wrong.name): \(found)")
            }
        }
        #expect(seen >= 10)
    }

    @Test("a wrong configuration changes the state its check is graded in")
    func wrongConfigsDiffer() throws {
        for lab in try Repository.load() {
            for wrong in lab.wrong {
                let solved = try applied(lab.solvedFiles(forCheck: wrong.checkID)).map(\.body)
                let broken = try applied(lab.files(for: wrong)).map(\.body)
                #expect(solved != broken || wrong.namespaceLabels != nil, "\(lab.id)/wrong/\(wrong.name) is the solution")
            }
        }
    }
}
