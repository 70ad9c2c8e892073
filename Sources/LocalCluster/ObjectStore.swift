import Foundation
import MeshModel

/// The objects of every namespace, in creation order, saved to one JSON file per namespace
/// (written by rename, so a crash leaves either the old or the new file, never half of one).
struct ObjectStore {
    struct Namespace: Sendable {
        var labels: [String: String]
        var objects: [KubeObject]
        var ports: [String: Int]
        /// uid, creationTimestamp and resourceVersion of the Namespace object.
        var meta: Value = [:]
        var annotations: [String: String] = [:]
    }

    /// A namespace file is the engine's own: far more documents than a request may carry.
    static let limits = ManifestLoader.Limits(maxValues: 50_000_000, maxDepth: 200, maxDocuments: 1_000_000)

    let directory: String
    var namespaces: [String: Namespace] = [:]

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where file.hasSuffix(".json") {
            let name = String(file.dropLast(5))
            guard let text = try? String(contentsOfFile: (directory as NSString).appendingPathComponent(file), encoding: .utf8),
                let loaded = try? ManifestLoader.load(text, file: file, limits: Self.limits), let header = loaded.first, header.kind == "Namespace"
            else { continue }
            var ports: [String: Int] = [:]
            for (key, value) in header.body["status"]?["ports"]?.objectMembers ?? [] {
                if case .int(let port) = value { ports[key] = port }
            }
            var meta: Value = [:]
            for key in ["uid", "creationTimestamp", "resourceVersion"] { meta[key] = header.body["metadata"]?[key] }
            if meta["uid"] == nil { meta["uid"] = .string(UUID().uuidString.lowercased()) }
            if meta["creationTimestamp"] == nil { meta["creationTimestamp"] = .string(ISO8601DateFormatter().string(from: Date())) }
            namespaces[name] = Namespace(
                labels: header.metadata.labels, objects: Array(loaded.dropFirst()), ports: ports, meta: meta,
                annotations: header.metadata.annotations)
        }
    }

    static func metadata(_ name: String, _ namespace: Namespace) -> Value {
        var metadata: Value = ["name": .string(name)]
        for (key, value) in namespace.meta.objectMembers ?? [] { metadata[key] = value }
        metadata["labels"] = .object(namespace.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        if !namespace.annotations.isEmpty {
            metadata["annotations"] = .object(namespace.annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        }
        return metadata
    }

    /// Writes one namespace (or removes its file when it is gone).
    func save(_ name: String) throws {
        let path = (directory as NSString).appendingPathComponent("\(name).json")
        guard let namespace = namespaces[name] else {
            try? FileManager.default.removeItem(atPath: path)
            return
        }
        var header: Value = [
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": Self.metadata(name, namespace),
            "status": ["ports": .object(namespace.ports.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })],
        ]
        header["spec"] = nil
        let documents = ([header] + namespace.objects.map(\.body)).map(\.prettyJSON)
        let text = documents.joined(separator: "---\n")
        let temporary = path + ".tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}
