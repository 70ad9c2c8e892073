import Foundation
import Grading
import Labs
import LocalCluster
import MeshModel
import Testing

/// Lab content is tested like code: on the real mesh, each check passes in the state its step's
/// reference solution produces, and each known-wrong configuration fails its named check with
/// the expected diagnosis.
@Suite("lab verification", .serialized)
struct LabVerificationTests {
    static let labs: [Lab] = (try? LabCatalog.load(directory: MeshFixture.repoRoot + "/labs")) ?? []

    struct Probe: NamespaceProbe {
        let cluster: LocalCluster
        let namespace: String
        func ingressURL() async throws -> String { await cluster.ingressURL(namespace) ?? "" }
        func namespaceLabels() async throws -> [String: String] { await cluster.namespace(namespace)?.labels ?? [:] }
        func pods() async throws -> [(name: String, ready: String)] { await cluster.pods(namespace).map { ($0.name, $0.ready) } }
        func diagnostics() async throws -> [Diagnostic] { await cluster.analyze(namespace) }
    }

    /// Puts the namespace in the state of `files` with `labels`, as a learner would reach it.
    static func reset(_ cluster: LocalCluster, _ namespace: String, labels: [String: String], files: [String]) async throws {
        for kind in ["VirtualService", "DestinationRule", "Gateway", "ServiceEntry"] {
            for object in await cluster.objects(kind: kind, namespace: namespace) {
                try await cluster.delete(kind: kind, name: object.metadata.name, namespace: namespace)
            }
        }
        let injection = labels["istio-injection"]
        if await cluster.namespace(namespace)?.labels["istio-injection"] != injection {
            try await cluster.label(namespace, set: ["istio-injection": injection])
            try await cluster.restartPods(namespace)
        }
        let objects = try files.flatMap { try ManifestLoader.load(path: $0) }.filter { $0.kind != "Namespace" }.map { object -> KubeObject in
            var copy = object
            copy.metadata.namespace = nil
            return copy
        }
        _ = try await cluster.apply(objects, namespace: namespace)
        try await cluster.waitForPods(namespace)
    }

    @Test("the labs folder holds the seven workshop labs")
    func catalog() {
        #expect(Self.labs.map(\.id) == [
            "00-getting-started", "01-request-routing", "02-fault-injection", "03-traffic-shifting", "04-ab-testing",
            "05-blue-green", "06-canary",
        ])
    }

    @Test("every check passes on its reference solution and every wrong configuration fails its check", arguments: labs.map(\.id))
    func timingVerify(_ labID: String) async throws {
        let lab = try #require(Self.labs.first { $0.id == labID })
        let cluster = try await MeshFixture.cluster.value
        let namespace = "verify-\(labID.prefix(2))"
        try await cluster.createNamespace(namespace, labels: lab.startLabels)
        let probe = Probe(cluster: cluster, namespace: namespace)
        for check in lab.checks {
            try await Self.reset(cluster, namespace, labels: lab.solutionLabels, files: lab.solvedFiles(forCheck: check.id))
            let verdict = await Grader().grade(check, probe: probe)
            #expect(verdict.passed, "\(labID)/\(check.id) on its solution: \(verdict.summary.en) \(verdict.evidence)")
        }
        for wrong in lab.wrong {
            let check = try #require(lab.checks.first { $0.id == wrong.checkID })
            if wrong.refused {
                do {
                    _ = try await cluster.apply(try wrong.files.flatMap { try ManifestLoader.load(path: $0) }, namespace: namespace)
                    Issue.record("\(labID)/\(wrong.name) must be refused")
                } catch {
                    #expect("\(error)".lowercased().contains(wrong.diagnosis.lowercased()), "\(labID)/\(wrong.name): \(error)")
                }
                continue
            }
            try await Self.reset(cluster, namespace, labels: wrong.namespaceLabels ?? lab.solutionLabels, files: lab.files(for: wrong))
            let verdict = await Grader().grade(check, probe: probe)
            let explanation = ([verdict.summary.en] + verdict.causes + verdict.evidence).joined(separator: "\n")
            #expect(!verdict.passed, "\(labID)/\(wrong.name) must fail \(check.id)")
            #expect(explanation.lowercased().contains(wrong.diagnosis.lowercased()), "\(labID)/\(wrong.name): expected '\(wrong.diagnosis)' in:\n\(explanation)")
        }
        try await cluster.deleteNamespace(namespace)
    }
}
