import Foundation
import KubernetesBackend
import LocalCluster
import MeshModel

/// Where a class's namespaces live: the embedded engine on this machine, or a real Kubernetes +
/// Istio cluster. The workshop, the resource API and the grader hold only this, chosen once at
/// start; nothing above it knows which backend runs.
///
/// Every change to one namespace is serialised, and every change is all or nothing: a refused
/// apply or delete leaves the namespace as it was.
public protocol ClusterBackend: Sendable {
    /// The namespace's labels, or nil when there is no such namespace.
    func namespaceLabels(_ namespace: String) async throws -> [String: String]?
    /// Creates a student's namespace with everything a student needs in it (on a cluster: RBAC,
    /// quota, the student's own ingress gateway and bookinfo), or completes one that exists.
    func provision(_ student: StudentNamespace) async throws
    /// Deletes a namespace and everything in it, and returns once it is gone.
    func removeNamespace(_ namespace: String) async throws
    /// Sets (or, with a nil value, removes) namespace labels.
    func setLabels(_ namespace: String, _ labels: [String: String?]) async throws
    /// Replaces every pod, so a changed injection label takes effect.
    func restartWorkloads(_ namespace: String) async throws
    /// The objects of one kind in the namespace.
    func objects(ofKind kind: String, namespace: String) async throws -> [KubeObject]
    /// Deletes objects of one namespace, all or none: when one is missing nothing is deleted.
    func deleteObjects(_ targets: [(kind: String, name: String)], namespace: String) async throws
    /// Validates every object and applies them all, or none.
    func applyObjects(_ objects: [KubeObject], namespace: String) async throws -> ApplyOutcome
    /// Returns once every pod of the namespace is ready, or throws saying what keeps them from it.
    func waitUntilReady(_ namespace: String) async throws
    /// `http://host:port` of the namespace's ingress gateway, nil while it has none.
    func ingressURL(of namespace: String) async throws -> String?
    /// Each pod's name and `READY` column (`2/2`).
    func podReadiness(_ namespace: String) async throws -> [(name: String, ready: String)]
    /// The namespace's configuration, typed (what the analyzer and the grader's path trace read).
    func snapshot(_ namespace: String) async throws -> MeshSnapshot
    /// Requests that reached each version of a service, where the backend can count them.
    func requestsByVersion(service: String, namespace: String) async throws -> [String: Int]
    /// A kubeconfig for the student's own identity in the namespace, when the backend issues
    /// them (nil: the runner's own Kubernetes API serves the student with their workshop token).
    func studentKubeconfig(namespace: String) async throws -> String?
}

/// Whom a namespace is for.
public struct StudentNamespace: Sendable, Equatable {
    public var namespace: String
    public var studentID: String
    public var studentName: String

    public init(namespace: String, studentID: String, studentName: String) {
        self.namespace = namespace
        self.studentID = studentID
        self.studentName = studentName
    }
}

/// What an apply did: kubectl's lines (`virtualservice.networking.istio.io/reviews created`) and
/// the analyzer's warnings about the result.
public struct ApplyOutcome: Sendable {
    public var lines: [String]
    public var warnings: [Diagnostic]

    public init(lines: [String], warnings: [Diagnostic]) {
        self.lines = lines
        self.warnings = warnings
    }
}

/// Refusals of a backend that are not the embedded engine's own errors.
public enum BackendError: Error, Sendable, CustomStringConvertible {
    /// Objects that do not validate: every problem, naming file, object and field.
    case invalid([String])
    /// What this backend cannot do (with the reason and what to use instead).
    case unsupported(String)

    public var description: String {
        switch self {
        case .invalid(let problems): problems.joined(separator: "\n")
        case .unsupported(let text): text
        }
    }
}

// MARK: The embedded engine

extension ClusterBackend {
    /// The analyzer's findings for the namespace.
    public func diagnostics(_ namespace: String) async throws -> [Diagnostic] {
        Analysis.analyze(try await snapshot(namespace))
    }
}

extension LocalCluster: ClusterBackend {
    public func namespaceLabels(_ namespace: String) async throws -> [String: String]? {
        self.namespace(namespace)?.labels
    }

    public func provision(_ student: StudentNamespace) async throws {
        try await createNamespace(student.namespace)
    }

    public func removeNamespace(_ namespace: String) async throws {
        try await deleteNamespace(namespace)
    }

    public func setLabels(_ namespace: String, _ labels: [String: String?]) async throws {
        try await label(namespace, set: labels)
    }

    public func restartWorkloads(_ namespace: String) async throws {
        try await restartPods(namespace)
    }

    public func objects(ofKind kind: String, namespace: String) async throws -> [KubeObject] {
        objects(kind: kind, namespace: namespace)
    }

    public func deleteObjects(_ targets: [(kind: String, name: String)], namespace: String) async throws {
        try await delete(targets, namespace: namespace)
    }

    public func applyObjects(_ objects: [KubeObject], namespace: String) async throws -> ApplyOutcome {
        let result = try await apply(objects, namespace: namespace)
        return ApplyOutcome(lines: result.lines, warnings: result.warnings)
    }

    public func waitUntilReady(_ namespace: String) async throws {
        try await waitForPods(namespace)
    }

    public func ingressURL(of namespace: String) async throws -> String? {
        ingressURL(namespace)
    }

    public func podReadiness(_ namespace: String) async throws -> [(name: String, ready: String)] {
        pods(namespace).map { ($0.name, $0.ready) }
    }

    public func requestsByVersion(service: String, namespace: String) async throws -> [String: Int] {
        try await trafficByVersion(service: service, namespace: namespace)
    }

    public func studentKubeconfig(namespace: String) async throws -> String? {
        nil
    }
}
