import Grading
import LocalCluster
import MeshModel

/// What the grader may ask about a namespace, answered by the local engine.
struct LocalProbe: NamespaceProbe {
    let cluster: LocalCluster
    let namespace: String

    func ingressURL() async throws -> String {
        guard let url = await cluster.ingressURL(namespace) else { throw LocalClusterError.notFound("namespace \(namespace)") }
        return url
    }

    func namespaceLabels() async throws -> [String: String] {
        await cluster.namespace(namespace)?.labels ?? [:]
    }

    func pods() async throws -> [(name: String, ready: String)] {
        await cluster.pods(namespace).map { ($0.name, $0.ready) }
    }

    func diagnostics() async throws -> [Diagnostic] {
        await cluster.analyze(namespace)
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
