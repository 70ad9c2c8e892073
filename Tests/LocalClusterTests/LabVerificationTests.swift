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
        func snapshot() async throws -> MeshSnapshot? { await cluster.snapshot(namespace) }
    }

    /// The services a wrong configuration's own objects are about (`ingress` for a Gateway):
    /// its causes may name only objects about these, and the namespace.
    static func services(of objects: [KubeObject], namespace: String) -> Set<String> {
        let snapshot = MeshSnapshot.build(namespace: namespace, namespaceLabels: [:], objects: objects).0
        var services: Set<String> = []
        func short(_ host: String) -> String { host.split(separator: ".").first.map(String.init) ?? host }
        for service in snapshot.virtualServices {
            services.formUnion(service.hosts.filter { $0 != "*" }.map(short))
            services.formUnion(Analysis.destinations(of: service).map { short($0.0.host) })
            if service.gateways.contains(where: { $0 != "mesh" }) { services.insert("ingress") }
        }
        services.formUnion(snapshot.destinationRules.map { short($0.host) })
        if !snapshot.gateways.isEmpty { services.insert("ingress") }
        return services
    }

    /// What a cause must be: led by the mistake, about the wrong configuration's services, in
    /// both languages, and free of the server's paths.
    static func expectCauses(_ verdict: Verdict, _ wrong: WrongConfig, lab: Lab, namespace: String, applied: [KubeObject]) throws {
        let label = "\(lab.id)/\(wrong.name)"
        let listing = verdict.causes.map { "- \($0.text.en) [\($0.objects.joined(separator: ", "))]" }.joined(separator: "\n")
        print("[causes] \(label): \(verdict.summary.en)\n\(listing)")
        guard let first = verdict.causes.first else {
            Issue.record("\(label): no cause given (summary: \(verdict.summary.en))")
            return
        }
        #expect(first.text.en.lowercased().contains(wrong.diagnosis.lowercased()), "\(label): the first cause must name '\(wrong.diagnosis)':\n\(listing)")
        #expect(Set(verdict.causes.map(\.text.en)).count == verdict.causes.count, "\(label): a cause is repeated:\n\(listing)")
        let mine = services(of: try wrong.files.flatMap { try ManifestLoader.load(path: $0) }, namespace: namespace)
        for cause in verdict.causes {
            for name in cause.objects where !name.hasPrefix("Namespace/") {
                let object = applied.first { "\($0.kind)/\($0.metadata.name)" == name }
                let about = object.map { services(of: [$0], namespace: namespace) } ?? []
                #expect(!about.isDisjoint(with: mine), "\(label): '\(name)' (about \(about.sorted())) is off the path of the mistake (\(mine.sorted())):\n\(listing)")
            }
            for text in [cause.text.en, cause.text.ja] {
                #expect(!text.contains(MeshFixture.repoRoot) && !text.contains(NSTemporaryDirectory()), "\(label): a server path in '\(text)'")
            }
            #expect(cause.text.ja != cause.text.en && cause.text.ja.unicodeScalars.contains { $0.value >= 0x3040 }, "\(label): no Japanese for '\(cause.text.en)'")
        }
    }

    /// Puts the namespace in the state of `files` with `labels`, as a learner would reach it.
    @discardableResult
    static func reset(_ cluster: LocalCluster, _ namespace: String, labels: [String: String], files: [String]) async throws -> [KubeObject] {
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
        // As the workshop applies them: findings name the file as `labs/…`, the learner's path.
        let objects = try files.flatMap { file in try ManifestLoader.load(path: file).map { ($0, file) } }.filter { $0.0.kind != "Namespace" }.map { object, file -> KubeObject in
            var copy = object
            copy.metadata.namespace = nil
            copy.source.file = LabCatalog.learnerPath(file)
            return copy
        }
        _ = try await cluster.apply(objects, namespace: namespace)
        try await cluster.waitForPods(namespace)
        return objects
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
            let applied = try await Self.reset(cluster, namespace, labels: wrong.namespaceLabels ?? lab.solutionLabels, files: lab.files(for: wrong))
            let verdict = await Grader().grade(check, probe: probe)
            #expect(!verdict.passed, "\(labID)/\(wrong.name) must fail \(check.id)")
            try Self.expectCauses(verdict, wrong, lab: lab, namespace: namespace, applied: applied)
        }
        try await cluster.deleteNamespace(namespace)
    }
}
