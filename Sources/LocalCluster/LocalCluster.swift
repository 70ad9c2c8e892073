import EnvoyConfig
import Foundation
import Logging
import MeshModel

/// The embedded engine: namespaces of Kubernetes-shaped objects, each run on this machine with
/// supervised bookinfo processes and one real Envoy (sidecars, kube-proxy and ingress gateway).
///
/// Every change is validated first and applied all-or-nothing: a rejected manifest changes
/// nothing. Networking changes return only once Envoy has confirmed them. State lives in
/// `stateDirectory` so a restarted engine recreates every namespace.
public actor LocalCluster {
    public struct Configuration: Sendable {
        public var stateDirectory: String
        /// Where the bookinfo executables are.
        public var binDirectory: String
        public var envoyBinary: String
        public var ports: PortAllocator

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
        var dirty = false
    }

    public let configuration: Configuration
    let logger: Logger
    var store: ObjectStore
    var runtimes: [String: NamespaceRuntime] = [:]

    public init(configuration: Configuration, logger: Logger = Logger(label: "meshdojo.cluster")) throws {
        self.configuration = configuration
        self.logger = logger
        store = try ObjectStore(directory: (configuration.stateDirectory as NSString).appendingPathComponent("namespaces"))
    }

    /// Recreates every stored namespace (after a restart of the engine).
    public func restore() async throws {
        for name in store.namespaces.keys.sorted() {
            try await startRuntime(name)
            try await reconcile(name)
        }
    }

    /// Stops every process of every namespace.
    public func shutdown() async {
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
        guard KubeObject.isDNSLabelish(name), !name.contains(".") else {
            throw LocalClusterError.invalid(["namespace name '\(name)' is not valid: use lower-case letters, digits and '-'"])
        }
        if store.namespaces[name] != nil {
            try await label(name, set: labels)
            return
        }
        store.namespaces[name] = .init(labels: labels, objects: [], ports: [:])
        try store.save(name)
        try await startRuntime(name)
        try await reconcile(name)
    }

    /// Sets (or, with a nil value, removes) namespace labels. Like Kubernetes, a changed
    /// `istio-injection` label affects only pods started afterwards.
    public func label(_ name: String, set labels: [String: String?]) async throws {
        guard var namespace = store.namespaces[name] else { throw LocalClusterError.notFound("namespace \(name)") }
        for (key, value) in labels { namespace.labels[key] = value }
        store.namespaces[name] = namespace
        try store.save(name)
    }

    public func deleteNamespace(_ name: String) async throws {
        guard store.namespaces[name] != nil else { throw LocalClusterError.notFound("namespace \(name)") }
        if let runtime = runtimes.removeValue(forKey: name) {
            await withTaskGroup(of: Void.self) { group in
                for pod in runtime.pods.values { group.addTask { await pod.process?.stop() } }
                if let envoy = runtime.envoy { group.addTask { await envoy.stop() } }
            }
            runtime.pods.values.forEach(release)
        }
        for port in store.namespaces[name]!.ports.values { configuration.ports.release(port) }
        store.namespaces[name] = nil
        try store.save(name)
    }

    func startRuntime(_ name: String) async throws {
        guard runtimes[name] == nil, var namespace = store.namespaces[name] else { return }
        for key in ["admin", "ingress", "kube-proxy"] {
            if let port = namespace.ports[key], configuration.ports.reserve(port) { continue }
            namespace.ports[key] = try configuration.ports.allocate()
        }
        store.namespaces[name] = namespace
        try store.save(name)
        let runtime = NamespaceRuntime()
        runtimes[name] = runtime
        let directory = (configuration.stateDirectory as NSString).appendingPathComponent("envoy/\(name)")
        let envoy = try EnvoyProcess(
            binary: configuration.envoyBinary, directory: directory, nodeID: "meshdojo.\(name)", adminPort: namespace.ports["admin"]!,
            initial: resources(name), logger: logger)
        runtime.envoy = envoy
        try await envoy.start()
    }

    // MARK: Objects

    /// What an apply did to each object, as kubectl prints it.
    public struct ApplyResult: Sendable {
        public var lines: [String]
        /// Analysis of the namespace after the change (warnings to show; nothing was refused).
        public var warnings: [Diagnostic]
    }

    /// Validates every object and applies them all, or none.
    ///
    /// - Parameters:
    ///   - objects: the documents, Namespace objects included (they are created first).
    ///   - namespace: the namespace for objects that name none.
    /// - Throws: ``LocalClusterError/invalid(_:)`` with every validation error (nothing changed),
    ///   or Envoy's rejection (the previous configuration is restored and keeps serving).
    public func apply(_ objects: [KubeObject], namespace: String) async throws -> ApplyResult {
        var errors = objects.flatMap { Validation.validate($0) }.filter { $0.severity == .error }.map(\.description)
        for object in objects where object.kind != "Namespace" {
            let target = object.metadata.namespace ?? namespace
            if store.namespaces[target] == nil, !objects.contains(where: { $0.kind == "Namespace" && $0.metadata.name == target }) {
                errors.append("\(object.source.file): \(object.reference): namespace \"\(target)\" not found (create it first: labctl create namespace \(target))")
            }
        }
        guard errors.isEmpty else { throw LocalClusterError.invalid(errors) }
        var lines: [String] = []
        for object in objects where object.kind == "Namespace" {
            let existed = store.namespaces[object.metadata.name] != nil
            try await createNamespace(object.metadata.name, labels: object.metadata.labels)
            lines.append("namespace/\(object.metadata.name) \(existed ? "configured" : "created")")
        }
        let previous = store.namespaces
        var touched: [String] = []
        for object in objects where object.kind != "Namespace" {
            let target = object.metadata.namespace ?? namespace
            let stored = object.withNamespace(target)
            var space = store.namespaces[target]!
            let resource = "\(object.kind.lowercased()).\(Self.groupSuffix(object))\(object.metadata.name)"
            if let index = space.objects.firstIndex(where: { $0.kind == object.kind && $0.metadata.name == object.metadata.name }) {
                let unchanged = space.objects[index].body == stored.body
                space.objects[index] = stored
                lines.append("\(resource) \(unchanged ? "unchanged" : "configured")")
            } else {
                space.objects.append(stored)
                lines.append("\(resource) created")
            }
            store.namespaces[target] = space
            if !touched.contains(target) { touched.append(target) }
        }
        do {
            for target in touched { try await reconcile(target) }
        } catch {
            store.namespaces = previous
            for target in touched { try? await reconcile(target) }
            throw error
        }
        for target in touched { try store.save(target) }
        let warnings = touched.flatMap { analyze($0) }
        return ApplyResult(lines: lines, warnings: warnings)
    }

    static func groupSuffix(_ object: KubeObject) -> String {
        let group = object.group
        return group.isEmpty ? "" : "\(group)/"
    }

    /// Deletes one object by kind and name, all-or-nothing like ``apply(_:namespace:)``.
    /// - Throws: ``LocalClusterError/notFound(_:)`` when there is no such object.
    public func delete(kind: String, name: String, namespace: String) async throws {
        guard var space = store.namespaces[namespace] else { throw LocalClusterError.notFound("namespace \(namespace)") }
        guard let index = space.objects.firstIndex(where: { $0.kind.lowercased() == kind.lowercased() && $0.metadata.name == name }) else {
            throw LocalClusterError.notFound("\(kind.lowercased()) \"\(name)\"")
        }
        space.objects.remove(at: index)
        let previous = store.namespaces
        store.namespaces[namespace] = space
        do {
            try await reconcile(namespace)
        } catch {
            store.namespaces = previous
            try? await reconcile(namespace)
            throw error
        }
        try store.save(namespace)
    }

    public func objects(kind: String, namespace: String) -> [KubeObject] {
        (store.namespaces[namespace]?.objects ?? []).filter { $0.kind.lowercased() == kind.lowercased() }
    }

    public func object(kind: String, name: String, namespace: String) -> KubeObject? {
        objects(kind: kind, namespace: namespace).first { $0.metadata.name == name }
    }

    public func snapshot(_ namespace: String) -> MeshSnapshot {
        let space = store.namespaces[namespace]
        return MeshSnapshot.build(namespace: namespace, namespaceLabels: space?.labels ?? [:], objects: space?.objects ?? []).0
    }

    public func analyze(_ namespace: String) -> [Diagnostic] {
        Analysis.analyze(snapshot(namespace))
    }

    /// `http://127.0.0.1:<port>` of the namespace's ingress gateway.
    public func ingressURL(_ namespace: String) -> String? {
        store.namespaces[namespace]?.ports["ingress"].map { "http://127.0.0.1:\($0)" }
    }

    // MARK: Pods

    public func pods(_ namespace: String) -> [PodStatus] {
        (runtimes[namespace]?.pods.values.map(\.status) ?? []).sorted { $0.name < $1.name }
    }

    /// Deletes a pod; its Deployment starts a replacement (with a sidecar if the namespace is now injected).
    public func deletePod(_ name: String, namespace: String) async throws {
        guard let runtime = runtimes[namespace], let pod = runtime.pods.removeValue(forKey: name) else {
            throw LocalClusterError.notFound("pod \"\(name)\"")
        }
        try await pushConfig(namespace)
        await pod.process?.stop()
        release(pod)
        try await reconcile(namespace)
    }

    /// Replaces every pod (as `kubectl rollout restart` would), so a changed injection label takes effect.
    public func restartPods(_ namespace: String) async throws {
        guard let runtime = runtimes[namespace] else { throw LocalClusterError.notFound("namespace \(namespace)") }
        let old = Array(runtime.pods.values)
        runtime.pods = [:]
        try await reconcile(namespace)
        await withTaskGroup(of: Void.self) { group in
            for pod in old { group.addTask { await pod.process?.stop() } }
        }
        old.forEach(release)
    }

    /// Waits until every pod of the namespace is ready (bounded).
    public func waitForPods(_ namespace: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let pods = runtimes[namespace]?.pods.values.map { $0 } ?? []
            if pods.allSatisfy({ $0.ready || $0.failure != nil }) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LocalClusterError.envoyTimeout("pods of \(namespace) not ready within \(timeout)")
    }

    func release(_ pod: PodRuntime) {
        configuration.ports.release(pod.appPort)
        if let sidecar = pod.sidecar {
            configuration.ports.release(sidecar.outboundPort)
            configuration.ports.release(sidecar.inboundPort)
        }
    }

    // MARK: Reconcile

    func resources(_ namespace: String) -> EnvoyResources {
        let ports = store.namespaces[namespace]?.ports ?? [:]
        let topology = NamespaceTopology(
            namespace: namespace, pods: (runtimes[namespace]?.pods.values.map(\.endpoint) ?? []).sorted { $0.name < $1.name },
            kubeProxyPort: ports["kube-proxy"] ?? 0, ingressPort: ports["ingress"])
        return EnvoyTranslator.translate(snapshot(namespace), topology: topology)
    }

    /// Brings the namespace's Envoy up to date. Calls that arrive while a push is running are
    /// folded into one more push after it, so a burst of pod readiness changes costs two pushes.
    func pushConfig(_ namespace: String) async throws {
        guard let runtime = runtimes[namespace], let envoy = runtime.envoy else { return }
        if runtime.pushing {
            runtime.dirty = true
            while runtime.pushing { try await Task.sleep(for: .milliseconds(2)) }
            return
        }
        runtime.pushing = true
        defer { runtime.pushing = false }
        repeat {
            runtime.dirty = false
            try await envoy.apply(resources(namespace))
        } while runtime.dirty
    }

    /// Brings pods in line with the Deployments, then Envoy in line with everything.
    func reconcile(_ namespace: String) async throws {
        guard let runtime = runtimes[namespace], let space = store.namespaces[namespace] else { return }
        let snapshot = snapshot(namespace)
        var stale: [PodRuntime] = []
        var wanted: [(DeploymentSpec, String)] = []
        for deployment in snapshot.deployments {
            let hash = Self.templateHash(deployment)
            let current = runtime.pods.values.filter { $0.deployment == deployment.name && $0.templateHash == hash }
            stale += runtime.pods.values.filter { $0.deployment == deployment.name && $0.templateHash != hash }
            if current.count > deployment.replicas {
                stale += current.sorted { $0.createdAt < $1.createdAt }.dropFirst(deployment.replicas)
            }
            for _ in 0..<max(0, deployment.replicas - current.count) { wanted.append((deployment, hash)) }
        }
        let deploymentNames = Set(snapshot.deployments.map(\.name))
        stale += runtime.pods.values.filter { !deploymentNames.contains($0.deployment) }
        for pod in stale { runtime.pods[pod.name] = nil }
        for (deployment, hash) in wanted {
            let pod = try makePod(deployment, hash: hash, namespace: namespace, injected: space.labels["istio-injection"] == "enabled")
            runtime.pods[pod.name] = pod
            try pod.process?.start()
            watchReadiness(pod, namespace: namespace)
        }
        try await pushConfig(namespace)
        await withTaskGroup(of: Void.self) { group in
            for pod in stale { group.addTask { await pod.process?.stop() } }
        }
        stale.forEach(release)
    }

    static func templateHash(_ deployment: DeploymentSpec) -> String {
        var hasher = StableHash()
        hasher.add(deployment.podLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        for container in deployment.containers {
            hasher.add(container.image)
            hasher.add(container.args.joined(separator: " "))
            hasher.add(container.env.map { "\($0.0)=\($0.1)" }.joined(separator: ","))
        }
        hasher.add(deployment.podAnnotations["sidecar.istio.io/inject"] ?? "")
        return hasher.hex(10)
    }

    func makePod(_ deployment: DeploymentSpec, hash: String, namespace: String, injected: Bool) throws -> PodRuntime {
        let suffix = StableHash.randomSuffix()
        let name = "\(deployment.name)-\(hash)-\(suffix)"
        let container = deployment.containers[0]
        let appPort = try configuration.ports.allocate()
        let annotation = deployment.podAnnotations["sidecar.istio.io/inject"]
        let wantsSidecar = annotation.map { $0 == "true" } ?? injected
        var sidecar: SidecarPorts?
        if wantsSidecar {
            sidecar = SidecarPorts(outboundPort: try configuration.ports.allocate(), inboundPort: try configuration.ports.allocate())
        }
        guard let (executable, baked) = ImageCatalog.resolve(container.image) else {
            return PodRuntime(
                name: name, deployment: deployment.name, templateHash: hash, labels: deployment.podLabels, image: container.image,
                appPort: appPort, sidecar: sidecar, process: nil, failure: "ErrImageNotLocal")
        }
        let proxyPort = sidecar?.outboundPort ?? store.namespaces[namespace]?.ports["kube-proxy"] ?? 0
        var environment = baked
        for (key, value) in container.env { environment[key] = value }
        environment["HOSTNAME"] = name
        environment["LISTEN_HOST"] = "127.0.0.1"
        environment["HTTP_PROXY"] = "http://127.0.0.1:\(proxyPort)"
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let podsDirectory = (configuration.stateDirectory as NSString).appendingPathComponent("pods/\(namespace)")
        try FileManager.default.createDirectory(atPath: podsDirectory, withIntermediateDirectories: true)
        let process = SupervisedProcess(
            spec: .init(
                executable: (configuration.binDirectory as NSString).appendingPathComponent(executable),
                arguments: [String(appPort)], environment: environment, workingDirectory: podsDirectory,
                logFile: (podsDirectory as NSString).appendingPathComponent("\(deployment.name).log")),
            logger: logger)
        return PodRuntime(
            name: name, deployment: deployment.name, templateHash: hash, labels: deployment.podLabels, image: container.image,
            appPort: appPort, sidecar: sidecar, process: process, failure: nil)
    }

    /// Marks the pod ready once its port answers, and not ready while it is down; each change
    /// updates the endpoints in Envoy.
    func watchReadiness(_ pod: PodRuntime, namespace: String) {
        Task { [weak self] in
            var wasReady = false
            while let self, await self.isCurrent(pod, namespace: namespace) {
                let ready = PortAllocator.isListening(pod.appPort)
                if ready != wasReady {
                    wasReady = ready
                    await self.setReady(pod, ready, namespace: namespace)
                }
                try? await Task.sleep(for: ready ? .milliseconds(500) : .milliseconds(20))
            }
        }
    }

    func isCurrent(_ pod: PodRuntime, namespace: String) -> Bool {
        runtimes[namespace]?.pods[pod.name] === pod
    }

    func setReady(_ pod: PodRuntime, _ ready: Bool, namespace: String) async {
        pod.ready = ready
        do { try await pushConfig(namespace) } catch {
            logger.error("endpoint update failed", metadata: ["mesh.namespace": "\(namespace)", "mesh.error": "\(error)"])
        }
    }

    /// Requests that reached each version of a service (`version` label → count since the
    /// namespace's Envoy started), from Envoy's per-host counters: real traffic, whoever sent it.
    public func trafficByVersion(service: String, namespace: String) async throws -> [String: Int] {
        guard let runtime = runtimes[namespace], let envoy = runtime.envoy else { throw LocalClusterError.notFound("namespace \(namespace)") }
        let perHost = try await envoy.requestsPerHost(clusterContaining: "|\(service).\(namespace).svc.cluster.local")
        var byVersion: [String: Int] = [:]
        for pod in runtime.pods.values where pod.labels["app"] == service {
            let count = (perHost[pod.endpoint.servingPort] ?? 0)
            byVersion[pod.labels["version"] ?? "unknown", default: 0] += count
        }
        return byVersion
    }

    /// The Envoy of a namespace, for measurements.
    public func envoyPID(_ namespace: String) async -> Int32? {
        await runtimes[namespace]?.envoy?.pid
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
