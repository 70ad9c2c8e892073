import EnvoyConfig
import Foundation
import MeshModel

/// The engine's pods: supervised bookinfo processes brought in line with the Deployments, their
/// readiness, the Envoy configuration that routes between them, and Envoy's counters.
extension LocalCluster {
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
