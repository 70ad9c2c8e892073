import Foundation
import Testing

@testable import MeshModel

/// Paths and loaders shared by the MeshModel tests.
enum Fixtures {
    /// The repository root: this file is Tests/MeshModelTests/TestSupport.swift.
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The shared folder next to the checkout (Istio samples, CRDs, notes).
    static let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let bookinfo = repoRoot.appendingPathComponent("bookinfo/platform/kube/bookinfo.yaml").path

    static func sample(_ name: String, version: String = "current") -> String {
        shared.appendingPathComponent("istio-samples/\(version)/\(name)").path
    }

    /// Every sample file of one release folder.
    static func samples(_ version: String) -> [String] {
        let folder = shared.appendingPathComponent("istio-samples/\(version)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { folder.appendingPathComponent($0).path }
    }

    /// One object from inline YAML.
    static func object(_ yaml: String, file: String = "test.yaml") throws -> KubeObject {
        let objects = try ManifestLoader.load(yaml, file: file)
        return try #require(objects.first)
    }

    /// A snapshot of namespace `default` from files (bookinfo first, as applied).
    static func snapshot(_ paths: [String], injected: Bool = true) throws -> MeshSnapshot {
        let objects = try paths.flatMap { try ManifestLoader.load(path: $0) }
        let (snapshot, problems) = MeshSnapshot.build(
            namespace: "default", namespaceLabels: injected ? ["istio-injection": "enabled"] : [:], objects: objects)
        #expect(problems.isEmpty, "\(problems)")
        return snapshot
    }
}
