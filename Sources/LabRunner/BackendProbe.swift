import Grading
import MeshModel

/// What the grader may ask about a namespace, answered by whichever backend runs it.
struct BackendProbe: NamespaceProbe {
    let backend: any ClusterBackend
    let namespace: String

    func ingressURL() async throws -> String {
        guard let url = try await backend.ingressURL(of: namespace) else {
            throw WorkshopError.notFound("the ingress gateway of namespace \(namespace)")
        }
        return url
    }

    func namespaceLabels() async throws -> [String: String] {
        try await backend.namespaceLabels(namespace) ?? [:]
    }

    func pods() async throws -> [(name: String, ready: String)] {
        try await backend.podReadiness(namespace)
    }

    func diagnostics() async throws -> [Diagnostic] {
        try await backend.diagnostics(namespace)
    }

    func snapshot() async throws -> MeshSnapshot? {
        try await backend.snapshot(namespace)
    }
}

/// Bounds how many checks run at once, so a class checking together keeps the machine responsive.
actor CheckSlots {
    let limit: Int
    var running = 0
    var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = limit
    }

    func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
