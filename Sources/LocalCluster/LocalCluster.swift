import EnvoyConfig
import Foundation
import Logging
import MeshModel
import ServiceLifecycle

/// The embedded engine: namespaces of Kubernetes-shaped objects, each run on this machine with
/// supervised bookinfo processes and one real Envoy (sidecars, kube-proxy and ingress gateway).
///
/// Every change is validated first and applied all-or-nothing: a rejected manifest changes
/// nothing. Networking changes return only once Envoy has confirmed them. State lives in
/// `stateDirectory` so a restarted engine recreates every namespace.
///
/// One actor, so that a namespace's objects, pods and Envoy change together; its parts are types
/// of their own (``ObjectStore`` keeps the objects on disk, ``EnvoyProcess`` one Envoy,
/// ``SupervisedProcess`` one process, ``Supervisor`` the background jobs, ``WatchHub`` the
/// watches) and its work is in files by concern: namespaces and change locks here, objects in
/// `+Objects`, pods, reconciling and Envoy's counters in `+Pods`, the Kubernetes views in `+Views`.
public actor LocalCluster {
    public struct Configuration: Sendable {
        public var stateDirectory: String
        /// Where the bookinfo executables are.
        public var binDirectory: String
        public var envoyBinary: String
        public var ports: PortAllocator
        /// The most objects one namespace may hold.
        public var maxObjectsPerNamespace = 250
        /// The most pods one Deployment may ask for (each is a real process on this machine).
        public var maxReplicas = 5

        public init(stateDirectory: String, binDirectory: String, envoyBinary: String, ports: PortAllocator = PortAllocator()) {
            self.stateDirectory = stateDirectory
            self.binDirectory = binDirectory
            self.envoyBinary = envoyBinary
            self.ports = ports
        }
    }

    final class NamespaceRuntime {
        var envoy: EnvoyProcess?
        var pods: [String: PodRuntime] = [:]
        var pushing = false
        /// Pushes asked for, the highest one Envoy confirmed, and the highest one that failed.
        var requested = 0
        var confirmed = 0
        var failedThrough = 0
        var lastError: (any Error)?
    }

    public let configuration: Configuration
    let logger: Logger
    var store: ObjectStore
    var runtimes: [String: NamespaceRuntime] = [:]
    /// Every change, for watches.
    public nonisolated let hub = WatchHub()
    /// Runs the engine's background jobs (readiness watches, restarts); its owner runs it.
    public nonisolated let supervisor = Supervisor()
    /// Namespaces being changed, and who waits for each (changes to one namespace are serialised).
    var locks = LockQueue()
    /// Recent events per namespace (Scheduled, Started, Killing, …), newest last.
    var events: [String: [Value]] = [:]

    public init(configuration: Configuration, logger: Logger = Logger(label: "meshdojo.cluster")) throws {
        self.configuration = configuration
        self.logger = logger
        store = try ObjectStore(directory: (configuration.stateDirectory as NSString).appendingPathComponent("namespaces"))
    }

    /// Recreates every stored namespace (after a restart of the engine).
    public func restore() async throws {
        // A runner that was killed leaves no children (they get SIGKILL with it); should any
        // have survived (another kernel, an older runner), end them before their ports are reused.
        let swept = SupervisedProcess.sweep(directory: configuration.stateDirectory)
        if swept > 0 { logger.warning("ended processes a previous runner left behind", metadata: ["mesh.processes": "\(swept)"]) }
        for name in store.namespaces.keys.sorted() {
            try await startRuntime(name)
            try await reconcile(name)
        }
    }

    /// Stops every process of every namespace.
    public func shutdown() async {
        hub.finishAll()
        defer { supervisor.finish() }
        let all = runtimes.values.map { $0 }
        runtimes = [:]
        await withTaskGroup(of: Void.self) { group in
            for runtime in all {
                for pod in runtime.pods.values { group.addTask { await pod.process?.stop() } }
                if let envoy = runtime.envoy { group.addTask { await envoy.stop() } }
            }
        }
    }

    // MARK: Namespaces

    public struct NamespaceInfo: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var ingressPort: Int?
    }

    public func namespaces() -> [NamespaceInfo] {
        store.namespaces.keys.sorted().map { NamespaceInfo(name: $0, labels: store.namespaces[$0]!.labels, ingressPort: store.namespaces[$0]!.ports["ingress"]) }
    }

    public func namespace(_ name: String) -> NamespaceInfo? {
        namespaces().first { $0.name == name }
    }

    /// Creates a namespace and its Envoy; an existing one only gets the labels merged.
    public func createNamespace(_ name: String, labels: [String: String] = [:]) async throws {
        try await withLocks([name]) { try await self.createNamespaceLocked(name, labels: labels) }
    }

    @discardableResult
    func createNamespaceLocked(_ name: String, labels: [String: String]) async throws -> Bool {
        guard KubeObject.isDNSLabelish(name), !name.contains("."), name.count <= 63 else {
            throw LocalClusterError.invalid(["namespace name '\(name)' is not valid: use at most 63 lower-case letters, digits and '-'"])
        }
        if store.namespaces[name] != nil {
            try labelLocked(name, set: labels.mapValues { Optional($0) })
            return false
        }
        let version = hub.nextVersion()
        store.namespaces[name] = .init(
            labels: labels, objects: [], ports: [:],
            meta: ["uid": .string(UUID().uuidString.lowercased()), "creationTimestamp": .string(Self.timestamp()), "resourceVersion": .string(String(version))])
        try store.save(name)
        do {
            try await startRuntime(name)
            try await reconcile(name)
        } catch {
            await stopRuntime(name)
            store.namespaces[name] = nil
            try? store.save(name)
            throw error
        }
        publishNamespace(name, .added, version: version)
        return true
    }

    /// Sets (or, with a nil value, removes) namespace labels. Like Kubernetes, a changed
    /// `istio-injection` label affects only pods started afterwards.
    public func label(_ name: String, set labels: [String: String?]) async throws {
        try await withLocks([name]) { try self.labelLocked(name, set: labels) }
    }

    func labelLocked(_ name: String, set labels: [String: String?]) throws {
        guard var namespace = store.namespaces[name] else { throw LocalClusterError.notFound("namespace \(name)") }
        let before = namespace.labels
        for (key, value) in labels { namespace.labels[key] = value }
        guard namespace.labels != before else { return }
        let version = hub.nextVersion()
        namespace.meta["resourceVersion"] = .string(String(version))
        store.namespaces[name] = namespace
        try store.save(name)
        publishNamespace(name, .modified, version: version)
    }

    /// Replaces a namespace's labels and annotations (a PUT or PATCH of the Namespace object).
    public func updateNamespace(_ name: String, labels: [String: String], annotations: [String: String], expectedVersion: String?) async throws {
        try await withLocks([name]) {
            guard var namespace = self.store.namespaces[name] else { throw LocalClusterError.notFound("namespace \(name)") }
            if let expectedVersion, expectedVersion != namespace.meta["resourceVersion"]?.stringValue {
                throw LocalClusterError.conflict("namespaces \"\(name)\": the object has been modified")
            }
            guard namespace.labels != labels || namespace.annotations != annotations else { return }
            let version = self.hub.nextVersion()
            namespace.labels = labels
            namespace.annotations = annotations
            namespace.meta["resourceVersion"] = .string(String(version))
            self.store.namespaces[name] = namespace
            try self.store.save(name)
            self.publishNamespace(name, .modified, version: version)
        }
    }

    public func deleteNamespace(_ name: String) async throws {
        try await withLocks([name]) { try await self.deleteNamespaceLocked(name) }
    }

    func deleteNamespaceLocked(_ name: String) async throws {
        guard store.namespaces[name] != nil else { throw LocalClusterError.notFound("namespace \(name)") }
        let object = namespaceObject(name)
        for pod in runtimes[name]?.pods.values.map({ $0 }) ?? [] { publishPod(pod, namespace: name, .deleted) }
        await stopRuntime(name)
        for port in store.namespaces[name]!.ports.values { configuration.ports.release(port) }
        store.namespaces[name] = nil
        events[name] = nil
        try store.save(name)
        if let object { hub.publish(WatchEvent(type: .deleted, kind: "Namespace", namespace: nil, object: object, resourceVersion: hub.nextVersion())) }
    }

    func stopRuntime(_ name: String) async {
        guard let runtime = runtimes.removeValue(forKey: name) else { return }
        await withTaskGroup(of: Void.self) { group in
            for pod in runtime.pods.values { group.addTask { await pod.process?.stop() } }
            if let envoy = runtime.envoy { group.addTask { await envoy.stop() } }
        }
        runtime.pods.values.forEach(release)
    }

    func publishNamespace(_ name: String, _ type: WatchEvent.Kind, version: Int) {
        guard let object = namespaceObject(name) else { return }
        hub.publish(WatchEvent(type: type, kind: "Namespace", namespace: nil, object: object, resourceVersion: version))
    }

    // MARK: Serialising changes per namespace

    /// Runs `body` holding the change locks of `namespaces` (taken in name order, so two
    /// callers never wait for each other crosswise).
    func withLocks<T: Sendable>(_ namespaces: [String], _ body: () async throws -> T) async throws -> T {
        let names = Array(Set(namespaces)).sorted()
        for name in names { await acquire(name) }
        defer { for name in names { release(name) } }
        return try await body()
    }

    func acquire(_ name: String) async {
        if locks.take(name) { return }
        await withCheckedContinuation { locks.wait(name, $0) }
    }

    func release(_ name: String) {
        locks.handOver(name)?.resume()
    }

    /// Where a namespace's Envoy admin socket goes: `<state>/admin/` (mode 0700), or a private
    /// folder under /tmp when that path would be too long for a Unix socket (108 bytes).
    func adminSocket(_ namespace: String) throws -> String {
        var hasher = StableHash()
        hasher.add(namespace)
        let file = "\(hasher.hex(10)).sock"
        var folder = (configuration.stateDirectory as NSString).appendingPathComponent("admin")
        if folder.utf8.count + file.utf8.count + 2 > 100 {
            var state = StableHash()
            state.add(configuration.stateDirectory)
            folder = "/tmp/meshdojo-admin-\(getuid())-\(state.hex(8))"
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard chmod(folder, 0o700) == 0 else { throw LocalClusterError.invalid(["cannot make \(folder) private to the runner"]) }
        return (folder as NSString).appendingPathComponent(file)
    }

    func startRuntime(_ name: String) async throws {
        guard runtimes[name] == nil, var namespace = store.namespaces[name] else { return }
        namespace.ports["admin"] = nil
        for key in ["ingress", "kube-proxy"] {
            if let port = namespace.ports[key], configuration.ports.reserve(port) { continue }
            namespace.ports[key] = try configuration.ports.allocate()
        }
        store.namespaces[name] = namespace
        try store.save(name)
        let runtime = NamespaceRuntime()
        runtimes[name] = runtime
        let directory = (configuration.stateDirectory as NSString).appendingPathComponent("envoy/\(name)")
        let envoy = try EnvoyProcess(
            binary: configuration.envoyBinary, directory: directory, nodeID: "meshdojo.\(name)", adminSocket: try adminSocket(name),
            initial: resources(name), supervisor: supervisor, logger: logger)
        runtime.envoy = envoy
        try await envoy.start()
    }
}

/// FNV-1a, for short stable names.
struct StableHash {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        value ^= 0xff
    }

    func hex(_ length: Int) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var number = value
        var out = ""
        for _ in 0..<length {
            out.append(alphabet[Int(number % UInt64(alphabet.count))])
            number /= UInt64(alphabet.count)
        }
        return out
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}

/// The engine as a service of the runner's `ServiceGroup`: it runs until the group shuts down
/// (or is cancelled), then stops every process it started. It stands first in the group, so it
/// stops last, after the API servers have answered their last requests.
extension LocalCluster: Service {
    /// Waits for the group's shutdown, then stops every process. (The ``supervisor`` runs apart,
    /// from before the engine restores its namespaces, which needs it.)
    public func run() async throws {
        // Graceful shutdown and cancellation end the wait alike; either way the processes stop.
        try? await gracefulShutdown()
        await shutdown()
    }
}
