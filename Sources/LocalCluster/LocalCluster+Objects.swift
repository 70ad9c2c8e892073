import Foundation
import MeshModel

/// The engine's objects: validated, all-or-nothing apply and delete, serialised per namespace,
/// each change confirmed by Envoy before it is acknowledged.
extension LocalCluster {
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
        "POSTGRES_USER", "UPSTREAM_CONNECTIONS",
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
}
