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
    var held: Set<String> = []
    var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]
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
        if !held.contains(name) {
            held.insert(name)
            return
        }
        await withCheckedContinuation { continuation in waiting[name, default: []].append(continuation) }
    }

    func release(_ name: String) {
        if var queue = waiting[name], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[name] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            held.remove(name)
        }
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

    // MARK: Objects

    /// What an apply did to each object, as kubectl prints it.
    public struct ApplyResult: Sendable {
        public var lines: [String]
        /// Analysis of the namespace after the change (warnings to show; nothing was refused).
        public var warnings: [Diagnostic]
        /// Each object as stored (with uid, resourceVersion, generation and creationTimestamp).
        public var stored: [KubeObject] = []
        /// Whether each object was new.
        public var created: [Bool] = []
    }

    /// Validates every object and applies them all, or none.
    ///
    /// - Parameters:
    ///   - objects: the documents, Namespace objects included (they are created first).
    ///   - namespace: the namespace for objects that name none.
    ///   - expectedVersions: `Kind/name` → the `resourceVersion` the caller based its change on
    ///     (optimistic concurrency: another version is a conflict).
    ///   - dryRun: validate and return what would be stored, changing nothing.
    /// - Throws: ``LocalClusterError/invalid(_:)`` with every validation error (nothing changed),
    ///   ``LocalClusterError/conflict(_:)``, or Envoy's rejection (every touched namespace is put
    ///   back as it was, namespaces this apply created are removed again, and the previous
    ///   configuration keeps serving). Other namespaces are never touched.
    public func apply(_ objects: [KubeObject], namespace: String, expectedVersions: [String: String] = [:], dryRun: Bool = false) async throws -> ApplyResult {
        var errors = objects.flatMap { Validation.validate($0) }.filter { $0.severity == .error }.map(\.description)
        // One object twice in one file is a mistake; across files the later one wins, as with
        // `kubectl apply -f a.yaml -f b.yaml`.
        var seen: Set<String> = []
        for object in objects {
            let key = "\(object.source.file)\n\(object.metadata.namespace ?? namespace)/\(object.kind)/\(object.metadata.name)"
            if !seen.insert(key).inserted {
                errors.append("\(object.source.file) (document \(object.source.document)): \(object.reference): appears twice in this file; keep one of them")
            }
        }
        var latest: [String: Int] = [:]
        for (index, object) in objects.enumerated() { latest["\(object.metadata.namespace ?? namespace)/\(object.kind)/\(object.metadata.name)"] = index }
        let objects = objects.enumerated().filter { latest["\($0.element.metadata.namespace ?? namespace)/\($0.element.kind)/\($0.element.metadata.name)"] == $0.offset }.map(\.element)
        let targets = Set(objects.filter { $0.kind != "Namespace" }.map { $0.metadata.namespace ?? namespace })
            .union(objects.filter { $0.kind == "Namespace" }.map(\.metadata.name))
        guard errors.isEmpty else { throw LocalClusterError.invalid(errors) }
        return try await withLocks(Array(targets)) {
            try await self.applyLocked(objects, namespace: namespace, expectedVersions: expectedVersions, dryRun: dryRun)
        }
    }

    func applyLocked(_ objects: [KubeObject], namespace: String, expectedVersions: [String: String], dryRun: Bool) async throws -> ApplyResult {
        var errors: [String] = []
        for object in objects where object.kind != "Namespace" {
            let target = object.metadata.namespace ?? namespace
            if store.namespaces[target] == nil, !objects.contains(where: { $0.kind == "Namespace" && $0.metadata.name == target }) {
                errors.append("\(object.source.file): \(object.reference): namespace \"\(target)\" not found (create it first: kubectl create namespace \(target))")
            }
            let current = store.namespaces[target]?.objects.first { $0.kind == object.kind && $0.metadata.name == object.metadata.name }
            if let expected = expectedVersions[object.reference], current?.body["metadata"]?["resourceVersion"]?.stringValue != expected {
                throw LocalClusterError.conflict(object.reference)
            }
            if current == nil, (store.namespaces[target]?.objects.count ?? 0) >= configuration.maxObjectsPerNamespace {
                errors.append("\(object.source.file): \(object.reference): namespace \"\(target)\" already holds \(configuration.maxObjectsPerNamespace) objects, the most one namespace may hold; delete some first")
            }
        }
        errors += objects.flatMap(workloadProblems)
        guard errors.isEmpty else { throw LocalClusterError.invalid(errors) }
        var lines: [String] = []
        var result = ApplyResult(lines: [], warnings: [])
        if dryRun {
            for object in objects where object.kind != "Namespace" {
                let target = object.metadata.namespace ?? namespace
                let current = store.namespaces[target]?.objects.first { $0.kind == object.kind && $0.metadata.name == object.metadata.name }
                var stored = stamp(object.withNamespace(target), over: current, version: hub.currentVersion)
                // A dry run stores nothing, so the object keeps the version it has.
                if let version = current?.body["metadata"]?["resourceVersion"] { stored.body["metadata"]?["resourceVersion"] = version }
                result.stored.append(stored)
                result.created.append(current == nil)
            }
            return result
        }
        var created: [String] = []
        do {
            for object in objects where object.kind == "Namespace" {
                if try await createNamespaceLocked(object.metadata.name, labels: object.metadata.labels) { created.append(object.metadata.name) }
                lines.append("namespace/\(object.metadata.name) \(created.contains(object.metadata.name) ? "created" : "configured")")
            }
        } catch {
            for name in created { try? await deleteNamespaceLocked(name) }
            throw error
        }
        var previous: [String: ObjectStore.Namespace] = [:]
        var changes: [(WatchEvent.Kind, KubeObject)] = []
        for object in objects where object.kind != "Namespace" {
            let target = object.metadata.namespace ?? namespace
            if previous[target] == nil { previous[target] = store.namespaces[target]! }
            var space = store.namespaces[target]!
            let resource = "\(object.kind.lowercased()).\(Self.groupSuffix(object))\(object.metadata.name)"
            if let index = space.objects.firstIndex(where: { $0.kind == object.kind && $0.metadata.name == object.metadata.name }) {
                let current = space.objects[index]
                let unchanged = Self.sameContent(current.body, object.withNamespace(target).body)
                let stored = unchanged ? current : stamp(object.withNamespace(target), over: current, version: hub.nextVersion())
                space.objects[index] = stored
                lines.append("\(resource) \(unchanged ? "unchanged" : "configured")")
                result.stored.append(stored)
                result.created.append(false)
                if !unchanged { changes.append((.modified, stored)) }
            } else {
                let stored = stamp(object.withNamespace(target), over: nil, version: hub.nextVersion())
                space.objects.append(stored)
                lines.append("\(resource) created")
                result.stored.append(stored)
                result.created.append(true)
                changes.append((.added, stored))
            }
            store.namespaces[target] = space
        }
        let touched = previous.keys.sorted()
        do {
            for target in touched { try await reconcile(target) }
        } catch {
            // Only what this apply touched goes back; every other namespace keeps its changes.
            for (target, space) in previous { store.namespaces[target] = space }
            for target in touched {
                do { try await reconcile(target) } catch {
                    logger.error("restoring the previous configuration failed", metadata: ["mesh.namespace": "\(target)", "mesh.error": "\(error)"])
                }
            }
            for name in created { try? await deleteNamespaceLocked(name) }
            throw error
        }
        for target in touched { try store.save(target) }
        for (type, object) in changes { publish(object, type) }
        result.lines = lines
        result.warnings = touched.flatMap { analyze($0) }
        return result
    }

    /// Environment variables a pod of the embedded engine may set: bookinfo's own settings.
    /// Anything else (`LD_PRELOAD`, `PATH`, …) would reach a process on the runner's machine.
    public static let allowedEnvironment: Set<String> = [
        "SERVICES_DOMAIN", "DETAILS_HOSTNAME", "DETAILS_SERVICE_PORT", "REVIEWS_HOSTNAME", "REVIEWS_SERVICE_PORT",
        "RATINGS_HOSTNAME", "RATINGS_SERVICE_PORT", "FLOOD_FACTOR", "PRODUCTPAGE_UI", "PRODUCTPAGE_SESSION_SECRET",
        "ENABLE_EXTERNAL_BOOK_SERVICE", "DO_NOT_ENCRYPT", "SERVICE_VERSION", "ENABLE_RATINGS", "STAR_COLOR", "CLUSTER_NAME",
        "DB_TYPE", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "DATABASE_URL", "LOG_LEVEL", "LOG_DIR",
        "MONGO_DB_URL", "MYSQL_DB_HOST", "MYSQL_DB_PORT", "MYSQL_DB_USER", "MYSQL_DB_PASSWORD", "POSTGRES_DB", "POSTGRES_PASSWORD",
        "POSTGRES_USER",
    ]

    /// What the embedded engine cannot run for a Deployment: too many replicas, or environment
    /// variables outside ``allowedEnvironment``.
    func workloadProblems(_ object: KubeObject) -> [String] {
        guard object.kind == "Deployment", let deployment = WorkloadParser.deployment(object, namespace: object.metadata.namespace ?? "default").0 else { return [] }
        var problems: [String] = []
        let place = "\(object.source.file) (document \(object.source.document)): \(object.reference)"
        if deployment.replicas > configuration.maxReplicas {
            problems.append("\(place): spec.replicas: \(deployment.replicas) is more than this workshop runs (at most \(configuration.maxReplicas) pods per Deployment; each pod is a process on the runner's machine)")
        }
        for (index, container) in deployment.containers.enumerated() {
            for (name, _) in container.env where !Self.allowedEnvironment.contains(name) {
                problems.append("\(place): spec.template.spec.containers[\(index)].env: \(name) is not one of bookinfo's settings, so the embedded engine does not pass it to the process (allowed: SERVICE_VERSION, ENABLE_RATINGS, STAR_COLOR, DB_TYPE, … as bookinfo/README lists)")
            }
        }
        return problems
    }

    static func groupSuffix(_ object: KubeObject) -> String {
        let group = object.group
        return group.isEmpty ? "" : "\(group)/"
    }

    /// The object with the server's metadata: uid and creation time kept from `current`, a new
    /// resourceVersion, and generation raised when the spec changed. Deployments and Services
    /// keep no written status (the engine reports their status).
    func stamp(_ object: KubeObject, over current: KubeObject?, version: Int) -> KubeObject {
        var stored = object
        var metadata = object.body["metadata"] ?? [:]
        let old = current?.body["metadata"]
        metadata["uid"] = old?["uid"] ?? .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = old?["creationTimestamp"] ?? .string(Self.timestamp())
        metadata["resourceVersion"] = .string(String(version))
        var generation = 1
        if let old, case .int(let number) = old["generation"] ?? .null {
            generation = (current?.body["spec"] ?? .null) == (object.body["spec"] ?? .null) ? number : number + 1
        }
        metadata["generation"] = .int(generation)
        metadata["selfLink"] = nil
        metadata["deletionTimestamp"] = nil
        stored.body["metadata"] = metadata
        if ["Deployment", "Service", "Pod", "ReplicaSet"].contains(object.kind) { stored.body["status"] = nil }
        return stored
    }

    /// Whether two bodies differ only in server-set metadata.
    static func sameContent(_ a: Value, _ b: Value) -> Bool {
        func strip(_ value: Value) -> Value {
            var copy = value
            var metadata = copy["metadata"] ?? [:]
            for key in ["uid", "creationTimestamp", "resourceVersion", "generation", "selfLink"] { metadata[key] = nil }
            copy["metadata"] = metadata
            copy["status"] = nil
            return copy
        }
        return strip(a) == strip(b)
    }

    static func timestamp(_ date: Date = Date()) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    func publish(_ object: KubeObject, _ type: WatchEvent.Kind) {
        let version = Int(object.body["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? hub.nextVersion()
        hub.publish(WatchEvent(type: type, kind: object.kind, namespace: object.metadata.namespace, object: view(object), resourceVersion: version))
    }

    /// Deletes one object by kind and name, all-or-nothing like ``apply(_:namespace:expectedVersions:dryRun:)``.
    /// - Throws: ``LocalClusterError/notFound(_:)`` when there is no such object.
    public func delete(kind: String, name: String, namespace: String) async throws {
        try await delete([(kind, name)], namespace: namespace)
    }

    /// Deletes several objects of one namespace, all or none: when one is missing nothing is deleted.
    /// - Throws: ``LocalClusterError/notFound(_:)`` naming every missing object.
    public func delete(_ targets: [(kind: String, name: String)], namespace: String) async throws {
        try await withLocks([namespace]) {
            guard var space = self.store.namespaces[namespace] else { throw LocalClusterError.notFound("namespace \(namespace)") }
            let missing = targets.filter { target in !space.objects.contains { $0.kind.lowercased() == target.kind.lowercased() && $0.metadata.name == target.name } }
            guard missing.isEmpty else {
                throw LocalClusterError.notFound(missing.map { "\($0.kind.lowercased()) \"\($0.name)\"" }.joined(separator: ", "))
            }
            let previous = space
            var removed: [KubeObject] = []
            for target in targets {
                if let index = space.objects.firstIndex(where: { $0.kind.lowercased() == target.kind.lowercased() && $0.metadata.name == target.name }) {
                    removed.append(space.objects.remove(at: index))
                }
            }
            self.store.namespaces[namespace] = space
            do {
                try await self.reconcile(namespace)
            } catch {
                self.store.namespaces[namespace] = previous
                do { try await self.reconcile(namespace) } catch {
                    self.logger.error("restoring the previous configuration failed", metadata: ["mesh.namespace": "\(namespace)", "mesh.error": "\(error)"])
                }
                throw error
            }
            try self.store.save(namespace)
            for object in removed { self.publish(object, .deleted) }
        }
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
        try await withLocks([namespace]) {
            guard let runtime = self.runtimes[namespace], let pod = runtime.pods.removeValue(forKey: name) else {
                throw LocalClusterError.notFound("pods \"\(name)\"")
            }
            pod.deletionRequested = Date()
            self.record(pod, namespace: namespace, reason: "Killing", message: "Stopping container \(pod.container?.name ?? pod.deployment)")
            try await self.reconcile(namespace)
            await pod.process?.stop()
            self.release(pod)
            self.publishPod(pod, namespace: namespace, .deleted)
        }
    }

    /// Replaces every pod (as `kubectl rollout restart` would), so a changed injection label takes effect.
    public func restartPods(_ namespace: String) async throws {
        try await withLocks([namespace]) {
            guard let runtime = self.runtimes[namespace] else { throw LocalClusterError.notFound("namespace \(namespace)") }
            let old = Array(runtime.pods.values)
            runtime.pods = [:]
            try await self.reconcile(namespace)
            await withTaskGroup(of: Void.self) { group in
                for pod in old { group.addTask { await pod.process?.stop() } }
            }
            old.forEach(self.release)
            for pod in old { self.publishPod(pod, namespace: namespace, .deleted) }
        }
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
        // A gateway pod's port is the namespace's ingress port, which stays with the namespace.
        if !pod.gateway { configuration.ports.release(pod.appPort) }
        if let sidecar = pod.sidecar {
            configuration.ports.release(sidecar.outboundPort)
            configuration.ports.release(sidecar.inboundPort)
        }
    }

    // MARK: Reconcile

    func resources(_ namespace: String) -> EnvoyResources {
        let ports = store.namespaces[namespace]?.ports ?? [:]
        let topology = NamespaceTopology(
            namespace: namespace, pods: (runtimes[namespace]?.pods.values.filter { !$0.gateway }.map(\.endpoint) ?? []).sorted { $0.name < $1.name },
            kubeProxyPort: ports["kube-proxy"] ?? 0, ingressPort: ports["ingress"])
        return EnvoyTranslator.translate(snapshot(namespace), topology: topology)
    }

    /// Brings the namespace's Envoy up to date and returns once Envoy confirmed a configuration
    /// that includes everything known when the call was made. Calls that arrive while a push is
    /// running are folded into one more push after it; each caller learns whether the push that
    /// covered its own call was confirmed or rejected.
    func pushConfig(_ namespace: String) async throws {
        guard let runtime = runtimes[namespace], let envoy = runtime.envoy else { return }
        runtime.requested += 1
        let mine = runtime.requested
        if runtime.pushing {
            while runtime.confirmed < mine, runtime.failedThrough < mine, runtimes[namespace] === runtime {
                try await Task.sleep(for: .milliseconds(2))
            }
            if runtime.confirmed >= mine { return }
            throw runtime.lastError ?? LocalClusterError.notFound("namespace \(namespace)")
        }
        runtime.pushing = true
        defer { runtime.pushing = false }
        var failure: (any Error)?
        while runtime.confirmed < runtime.requested, runtimes[namespace] === runtime {
            let target = runtime.requested
            do {
                try await envoy.apply(resources(namespace))
                runtime.confirmed = target
            } catch {
                runtime.failedThrough = target
                runtime.lastError = error
                if failure == nil { failure = error }
                if runtime.requested == target { break }
            }
        }
        if let failure { throw failure }
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
                stale += current.sorted { $0.createdAt < $1.createdAt }.dropFirst(max(deployment.replicas, 0))
            }
            for _ in 0..<max(0, deployment.replicas - current.count) { wanted.append((deployment, hash)) }
        }
        let deploymentNames = Set(snapshot.deployments.map(\.name))
        stale += runtime.pods.values.filter { !deploymentNames.contains($0.deployment) }
        for pod in stale {
            runtime.pods[pod.name] = nil
            pod.deletionRequested = Date()
            record(pod, namespace: namespace, reason: "Killing", message: "Stopping container \(pod.container?.name ?? pod.deployment)")
        }
        for (deployment, hash) in wanted {
            let pod = try makePod(deployment, hash: hash, namespace: namespace, injected: space.labels["istio-injection"] == "enabled")
            runtime.pods[pod.name] = pod
            recordStart(pod, namespace: namespace)
            try pod.process?.start()
            publishPod(pod, namespace: namespace, .added)
            watchReadiness(pod, namespace: namespace)
        }
        try await pushConfig(namespace)
        await withTaskGroup(of: Void.self) { group in
            for pod in stale { group.addTask { await pod.process?.stop() } }
        }
        stale.forEach(release)
        for pod in stale { publishPod(pod, namespace: namespace, .deleted) }
    }

    static func templateHash(_ deployment: DeploymentSpec) -> String {
        var hasher = StableHash()
        hasher.add(deployment.podLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        for container in deployment.containers {
            hasher.add(container.image)
            hasher.add(container.args.joined(separator: " "))
            hasher.add(container.env.map { "\($0.0)=\($0.1)" }.joined(separator: ","))
        }
        // Every template annotation counts (`kubectl rollout restart` sets one to restart the pods).
        hasher.add(deployment.podAnnotations.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        return hasher.hex(10)
    }

    func makePod(_ deployment: DeploymentSpec, hash: String, namespace: String, injected: Bool) throws -> PodRuntime {
        let suffix = StableHash.randomSuffix()
        let name = "\(deployment.name)-\(hash)-\(suffix)"
        let container = deployment.containers[0]
        if Self.isInjectedGateway(deployment) {
            guard let ingress = store.namespaces[namespace]?.ports["ingress"] else { throw LocalClusterError.notFound("namespace \(namespace)") }
            let pod = PodRuntime(
                name: name, deployment: deployment.name, templateHash: hash, labels: deployment.podLabels, image: container.image,
                appPort: ingress, sidecar: nil, process: nil, failure: nil, container: container,
                serviceAccount: deployment.serviceAccountName, gateway: true)
            pod.ready = true
            return pod
        }
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
                appPort: appPort, sidecar: sidecar, process: nil, failure: "ErrImageNotLocal", container: container,
                serviceAccount: deployment.serviceAccountName)
        }
        let proxyPort = sidecar?.outboundPort ?? store.namespaces[namespace]?.ports["kube-proxy"] ?? 0
        var environment = baked
        for (key, value) in container.env { environment[key] = value }
        environment["HOSTNAME"] = name
        environment["LISTEN_HOST"] = "127.0.0.1"
        environment["HTTP_PROXY"] = "http://127.0.0.1:\(proxyPort)"
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        // A crashing pod should just exit (and be restarted): Swift's backtracer would otherwise
        // stay behind as a process of its own, outliving the pod and the runner.
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let podsDirectory = (configuration.stateDirectory as NSString).appendingPathComponent("pods/\(namespace)")
        try FileManager.default.createDirectory(atPath: podsDirectory, withIntermediateDirectories: true)
        let logFile = (podsDirectory as NSString).appendingPathComponent("\(name).log")
        let process = SupervisedProcess(
            spec: .init(
                executable: (configuration.binDirectory as NSString).appendingPathComponent(executable),
                arguments: [String(appPort)], environment: environment, workingDirectory: podsDirectory,
                logFile: logFile, dieWithParent: true),
            supervisor: supervisor, logger: logger)
        return PodRuntime(
            name: name, deployment: deployment.name, templateHash: hash, labels: deployment.podLabels, image: container.image,
            appPort: appPort, sidecar: sidecar, process: process, failure: nil, container: container,
            serviceAccount: deployment.serviceAccountName, logFile: logFile)
    }

    /// Whether a Deployment is an Istio gateway by injection (`inject.istio.io/templates: gateway`
    /// and the `auto` image), which the namespace's ingress Envoy stands in for.
    static func isInjectedGateway(_ deployment: DeploymentSpec) -> Bool {
        let templates = deployment.podAnnotations["inject.istio.io/templates"]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        return templates.contains("gateway") || deployment.containers.first?.image == "auto"
    }

    /// Marks the pod ready once its port answers, and not ready while it is down; each change
    /// updates the endpoints in Envoy.
    func watchReadiness(_ pod: PodRuntime, namespace: String) {
        guard !pod.gateway else { return }
        supervisor.spawn { [weak self] in
            var wasReady = false
            while !Task.isCancelled, let self, await self.isCurrent(pod, namespace: namespace) {
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
        publishPod(pod, namespace: namespace, .modified)
        publishDeployment(pod.deployment, namespace: namespace)
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
