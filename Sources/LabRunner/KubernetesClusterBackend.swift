import Foundation
import KubernetesBackend
import LocalCluster
import Logging
import MeshModel

/// The workshop on a real Kubernetes + Istio cluster, through ``KubernetesBackend``: each student
/// a namespace of their own with RBAC, quota, their own ingress gateway and bookinfo; the labs'
/// objects written by server-side apply.
public actor KubernetesClusterBackend: ClusterBackend {
    public let backend: KubernetesBackend
    /// bookinfo, as the embedded engine deploys it, created in every student's namespace.
    let workloads: [Value]
    let logger: Logger
    let locks = NamespaceLocks()

    public init(backend: KubernetesBackend, workloads: [Value], logger: Logger) {
        self.backend = backend
        self.workloads = workloads
        self.logger = logger
    }

    nonisolated var client: KubeClient { backend.client }

    /// The kinds a namespace's mesh is made of, for analysis.
    static let analysedKinds: [KubeResource] = [.services, .deployments] + KubeResource.istioNetworking

    public func namespaceLabels(_ namespace: String) async throws -> [String: String]? {
        guard let object = try await client.getIfPresent(.namespaces, namespace: nil, name: namespace) else { return nil }
        guard object["metadata"]?["deletionTimestamp"] == nil else { return nil }
        var labels: [String: String] = [:]
        for (key, value) in object["metadata"]?["labels"]?.objectMembers ?? [] { labels[key] = value.stringValue }
        return labels
    }

    public func provision(_ student: StudentNamespace) async throws {
        let spec = StudentSpec(
            namespace: student.namespace, studentID: student.studentID, studentName: student.studentName, workshop: backend.configuration.workshop)
        try await locks.with([student.namespace]) {
            try await self.backend.provision(spec, workloads: self.workloads)
        }
    }

    public func removeNamespace(_ namespace: String) async throws {
        try await locks.with([namespace]) { try await self.backend.deleteStudent(namespace: namespace) }
    }

    public func setLabels(_ namespace: String, _ labels: [String: String?]) async throws {
        let patch: Value = ["metadata": ["labels": .object(labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value.map(Value.string) ?? .null) })]]
        try await locks.with([namespace]) {
            _ = try await self.client.mergePatch(.namespaces, namespace: nil, name: namespace, patch: patch)
        }
    }

    /// Deletes every pod; their Deployments create new ones, which the injection label now governs.
    public func restartWorkloads(_ namespace: String) async throws {
        try await locks.with([namespace]) {
            for pod in try await self.client.list(.pods, namespace: namespace).items {
                guard let name = pod["metadata"]?["name"]?.stringValue else { continue }
                do {
                    _ = try await self.client.delete(.pods, namespace: namespace, name: name)
                } catch let error as KubeStatusError where error.isNotFound {
                    continue
                }
            }
        }
    }

    /// The namespaced resource of a kind (`virtualservice` or `VirtualService`).
    static func resource(kind: String, doing verb: String) throws -> KubeResource {
        guard let resource = KubeResource.all.first(where: { $0.kind.lowercased() == kind.lowercased() && $0.namespaced }) else {
            throw BackendError.unsupported("the Kubernetes backend does not \(verb) \(kind) objects")
        }
        return resource
    }

    public func objects(ofKind kind: String, namespace: String) async throws -> [KubeObject] {
        try await objects(Self.resource(kind: kind, doing: "read"), namespace: namespace)
    }

    func objects(_ resource: KubeResource, namespace: String) async throws -> [KubeObject] {
        try await client.list(resource, namespace: namespace).items.enumerated().map { index, item in
            var value = item
            // Lists leave each item's apiVersion and kind out.
            value["apiVersion"] = .string(resource.apiVersion)
            value["kind"] = .string(resource.kind)
            return try KubeObject(value: value, file: "\(resource.plural) in \(namespace)", document: index + 1)
        }
    }

    public func deleteObjects(_ targets: [(kind: String, name: String)], namespace: String) async throws {
        let targets = try targets.map { (try Self.resource(kind: $0.kind, doing: "delete"), $0.name) }
        try await locks.with([namespace]) {
            // All or none: every object must exist before any is deleted.
            var missing: [String] = []
            for (resource, name) in targets where try await self.client.getIfPresent(resource, namespace: namespace, name: name) == nil {
                missing.append("\(resource.kind.lowercased()) \"\(name)\"")
            }
            guard missing.isEmpty else {
                throw KubeStatusError(
                    code: 404, reason: "NotFound", message: "\(missing.joined(separator: ", ")) not found", method: "DELETE",
                    path: "/namespaces/\(namespace)")
            }
            for (resource, name) in targets {
                do {
                    _ = try await self.client.delete(resource, namespace: namespace, name: name)
                } catch let error as KubeStatusError where error.isNotFound {
                    continue
                }
            }
        }
    }

    /// Validates every object as the embedded engine does, has the server admit every one of
    /// them (`dryRun=All`, so Istio's webhook and the quota judge them too), and only then applies
    /// them; should the server still refuse one, what this apply changed is put back.
    public func applyObjects(_ objects: [KubeObject], namespace: String) async throws -> ApplyOutcome {
        let errors = objects.flatMap { Validation.validate($0) }.filter { $0.severity == .error }.map(\.description)
        guard errors.isEmpty else { throw BackendError.invalid(errors) }
        if let other = objects.first(where: { $0.kind == "Namespace" || ($0.metadata.namespace.map { $0 != namespace } ?? false) }) {
            throw BackendError.invalid(["\(other.source.file): \(other.reference): the workshop applies objects only into namespace \(namespace)"])
        }
        // Every object's API is known before the cluster is asked anything.
        let resources = try objects.map { object in
            guard let resource = KubeResource.forObject(apiVersion: object.apiVersion, kind: object.kind) else {
                throw BackendError.invalid(["\(object.source.file): \(object.reference): apiVersion: \(object.apiVersion) \(object.kind) is not one the workshop writes to a cluster"])
            }
            return resource
        }
        return try await locks.with([namespace]) {
            for object in objects { _ = try await self.client.apply(object.body, namespace: namespace, dryRun: true) }
            var lines: [String] = []
            var undo: [(resource: KubeResource, name: String, previous: Value?)] = []
            do {
                for (object, resource) in zip(objects, resources) {
                    let body = object.body
                    let previous = try await self.client.getIfPresent(resource, namespace: namespace, name: object.metadata.name)
                    let stored = try await self.client.apply(body, namespace: namespace)
                    undo.append((resource, object.metadata.name, previous))
                    let group = resource.group.isEmpty ? "" : ".\(resource.group)"
                    let verb = previous.map { Self.sameContent($0, stored) ? "unchanged" : "configured" } ?? "created"
                    lines.append("\(resource.kind.lowercased())\(group)/\(object.metadata.name) \(verb)")
                }
            } catch {
                await self.undo(undo.reversed(), namespace: namespace)
                throw error
            }
            // The apply stands; should the cluster not answer the analysis, it goes without warnings.
            var warnings: [Diagnostic] = []
            do {
                warnings = try await self.diagnostics(namespace)
            } catch {
                self.logger.warning("no analysis after an apply", metadata: ["lab.namespace": "\(namespace)", "lab.error": "\(error)"])
            }
            return ApplyOutcome(lines: lines, warnings: warnings)
        }
    }

    /// Whether two versions of an object differ only in what the server keeps (versions, field
    /// ownership, status).
    static func sameContent(_ a: Value, _ b: Value) -> Bool {
        func content(_ value: Value) -> Value {
            var copy = value
            for field in ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"] { copy["metadata"]?[field] = nil }
            copy["status"] = nil
            return copy
        }
        return content(a) == content(b)
    }

    /// Puts back what a failed apply changed: objects it created are deleted, objects it changed
    /// get their previous content again.
    func undo(_ changes: [(resource: KubeResource, name: String, previous: Value?)], namespace: String) async {
        for change in changes {
            do {
                if let previous = change.previous {
                    _ = try await client.apply(previous, namespace: namespace)
                } else {
                    _ = try await client.delete(change.resource, namespace: namespace, name: change.name)
                }
            } catch {
                logger.error(
                    "could not undo part of a refused apply",
                    metadata: ["lab.namespace": "\(namespace)", "lab.object": "\(change.resource.kind)/\(change.name)", "lab.error": "\(error)"])
            }
        }
    }

    public func waitUntilReady(_ namespace: String) async throws {
        try await backend.waitForPodsReady(namespace: namespace)
    }

    public func ingressURL(of namespace: String) async throws -> String? {
        try await backend.ingressAddress(namespace: namespace)?.url
    }

    public func podReadiness(_ namespace: String) async throws -> [(name: String, ready: String)] {
        try await client.list(.pods, namespace: namespace).items.compactMap { pod in
            guard let name = pod["metadata"]?["name"]?.stringValue else { return nil }
            let statuses = pod["status"]?["containerStatuses"]?.arrayValue ?? []
            let total = max(statuses.count, pod["spec"]?["containers"]?.arrayValue?.count ?? 0)
            let ready = statuses.filter { $0["ready"] == .bool(true) }.count
            return (name, "\(ready)/\(total)")
        }
        .sorted { $0.name < $1.name }
    }

    public func snapshot(_ namespace: String) async throws -> MeshSnapshot {
        let labels = try await namespaceLabels(namespace) ?? [:]
        var objects: [KubeObject] = []
        for resource in Self.analysedKinds { objects += try await self.objects(resource, namespace: namespace) }
        return MeshSnapshot.build(namespace: namespace, namespaceLabels: labels, objects: objects).0
    }

    public func requestsByVersion(service: String, namespace: String) async throws -> [String: Int] {
        throw BackendError.unsupported(
            "traffic counts per version come from the embedded engine's Envoys; on a cluster, read them from Istio's telemetry (Prometheus istio_requests_total)")
    }

    public func studentKubeconfig(namespace: String) async throws -> String? {
        try await backend.studentKubeconfig(namespace: namespace)
    }
}
