import EnvoyConfig
import Foundation
import MeshModel

/// Inputs shared by the tests: the project's bookinfo manifests, the Istio samples (read in place
/// from the shared folder, never copied) and a fixed topology.
enum Fixtures {
    static let namespace = "default"

    /// The repository root: three levels up from this file's folder's parent (`Tests/EnvoyConfigTests/Support`).
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sharedRoot = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let samplesRoot = sharedRoot.appendingPathComponent("istio-samples")
    /// `Tests/EnvoyConfigTests/Resources/golden` in the source tree.
    static let goldenSourceRoot = repoRoot.appendingPathComponent("Tests/EnvoyConfigTests/Resources/golden")
    static let eras = ["current", "1.0.6"]

    /// The sample files of an era, sorted by name.
    static func samples(era: String) -> [String] {
        let folder = samplesRoot.appendingPathComponent(era).path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }

    static func load(_ url: URL) throws -> [KubeObject] {
        try ManifestLoader.load(path: url.path)
    }

    /// Services and Deployments of `bookinfo/platform/kube/bookinfo.yaml`.
    static func bookinfoWorkloads() throws -> [KubeObject] {
        try load(repoRoot.appendingPathComponent("bookinfo/platform/kube/bookinfo.yaml"))
            .filter { ["Service", "Deployment"].contains($0.kind) }
    }

    static let networkingKinds: Set<String> = ["VirtualService", "DestinationRule", "Gateway", "ServiceEntry"]

    /// bookinfo + the era's `destination-rule-all.yaml` + the networking objects of the samples + `extraYAML`.
    static func snapshot(era: String = "current", samples: [String] = [], extraYAML: String? = nil) throws -> MeshSnapshot {
        let eraFolder = samplesRoot.appendingPathComponent(era)
        var objects = try bookinfoWorkloads()
        objects += try load(eraFolder.appendingPathComponent("destination-rule-all.yaml"))
        for sample in samples {
            objects += try load(eraFolder.appendingPathComponent(sample)).filter { networkingKinds.contains($0.kind) }
        }
        if let extraYAML { objects += try ManifestLoader.load(extraYAML, file: "inline.yaml") }
        let (snapshot, _) = MeshSnapshot.build(
            namespace: namespace, namespaceLabels: ["istio-injection": "enabled"], objects: objects)
        return snapshot
    }

    /// One pod per Deployment (`<deployment>-0`), ports counted up from `firstPort` in steps of 10
    /// (app, +1 sidecar outbound, +2 sidecar inbound), all injected unless named in `withoutSidecar`.
    static func topology(
        _ snapshot: MeshSnapshot, withoutSidecar: Set<String> = [], ports: (() -> Int)? = nil
    ) -> NamespaceTopology {
        var next = 20_000
        func port() -> Int {
            if let ports { return ports() }
            defer { next += 1 }
            return next
        }
        var pods: [PodEndpoint] = []
        for deployment in snapshot.deployments.sorted(by: { $0.name < $1.name }) {
            let name = "\(deployment.name)-0"
            let app = port()
            let sidecar = withoutSidecar.contains(deployment.name) ? nil : SidecarPorts(outboundPort: port(), inboundPort: port())
            pods.append(PodEndpoint(name: name, labels: deployment.podLabels, appPort: app, sidecar: sidecar))
        }
        return NamespaceTopology(namespace: namespace, pods: pods, kubeProxyPort: port(), ingressPort: port())
    }

    /// Translates bookinfo with the given samples of an era.
    static func translate(era: String = "current", samples: [String] = [], extraYAML: String? = nil) throws -> EnvoyResources {
        let snapshot = try snapshot(era: era, samples: samples, extraYAML: extraYAML)
        return EnvoyTranslator.translate(snapshot, topology: topology(snapshot))
    }

    static let reviews = "reviews.default.svc.cluster.local"
    static let ratings = "ratings.default.svc.cluster.local"
    static let productpage = "productpage.default.svc.cluster.local"
}

extension EnvoyResources {
    /// All three lists as one document, the form the golden files hold.
    var goldenDocument: Value {
        [
            "listeners": .array(listeners), "clusters": .array(clusters),
            "route_configurations": .array(routeConfigurations),
        ]
    }

    func routeConfiguration(_ name: String) -> Value? {
        routeConfigurations.first { $0["name"]?.stringValue == name }
    }

    var clusterNames: Set<String> { Set(clusters.compactMap { $0["name"]?.stringValue }) }
    var listenerNames: [String] { listeners.compactMap { $0["name"]?.stringValue } }
}

extension Array where Element == Value {
    /// The first element whose `name` is `name`.
    func named(_ name: String) -> Value? {
        first { $0["name"]?.stringValue == name }
    }
}
