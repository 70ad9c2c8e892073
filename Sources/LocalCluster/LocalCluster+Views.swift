import EnvoyConfig
import Foundation
import MeshModel

/// The engine's state as Kubernetes objects: Namespaces, Pods (owned by ReplicaSets owned by
/// Deployments), Deployment status, the namespace's `istio-ingressgateway` Service, and Events.
extension LocalCluster {
    /// The node name pods report.
    public static let nodeName = "meshdojo"

    public func namespaceObject(_ name: String) -> Value? {
        guard let space = store.namespaces[name] else { return nil }
        var metadata = ObjectStore.metadata(name, space)
        if metadata["labels"] == [:] { metadata["labels"] = nil }
        var labels = metadata["labels"] ?? [:]
        labels["kubernetes.io/metadata.name"] = .string(name)
        metadata["labels"] = labels
        var status: Value = ["phase": "Active"]
        if let port = space.ports["ingress"] { status["ingress"] = .string("http://127.0.0.1:\(port)") }
        return ["apiVersion": "v1", "kind": "Namespace", "metadata": metadata, "spec": ["finalizers": ["kubernetes"]], "status": status]
    }

    public func namespaceObjects() -> [Value] {
        store.namespaces.keys.sorted().compactMap(namespaceObject)
    }

    /// Every object of a kind in a namespace as the API shows it (engine-made kinds included).
    public func list(kind: String, namespace: String) -> [Value] {
        switch kind {
        case "Pod":
            return (runtimes[namespace]?.pods.values.map { podObject($0, namespace: namespace) } ?? []).sorted { name($0) < name($1) }
        case "ReplicaSet":
            return replicaSets(namespace)
        case "Event":
            return events[namespace] ?? []
        case "Service":
            var services = objects(kind: "Service", namespace: namespace).map { view($0) }
            if !services.contains(where: { name($0) == "istio-ingressgateway" }), let gateway = ingressService(namespace) { services.append(gateway) }
            return services
        default:
            return objects(kind: kind, namespace: namespace).map { view($0) }
        }
    }

    public func get(kind: String, name wanted: String, namespace: String) -> Value? {
        list(kind: kind, namespace: namespace).first { name($0) == wanted }
    }

    nonisolated func name(_ object: Value) -> String {
        object["metadata"]?["name"]?.stringValue ?? ""
    }

    /// ``view(_:asWritten:)`` for callers outside the engine.
    public func viewObject(_ object: KubeObject, asWritten: Bool = false) -> Value {
        view(object, asWritten: asWritten)
    }

    /// A stored object with what the engine reports about it (a Deployment's status, a
    /// LoadBalancer Service's address).
    /// - Parameter asWritten: keep the ports as written (what a patch is computed on), rather than
    ///   as the engine serves them.
    func view(_ object: KubeObject, asWritten: Bool = false) -> Value {
        var body = object.body
        switch object.kind {
        case "Deployment":
            body["status"] = deploymentStatus(object)
        case "Service":
            var spec = body["spec"] ?? [:]
            if spec["type"] == nil { spec["type"] = "ClusterIP" }
            if spec["clusterIP"] == nil { spec["clusterIP"] = .string(Self.clusterIP(object.metadata.name)) }
            body["spec"] = spec
            body["status"] = ["loadBalancer": [:]]
            if object.metadata.name == "istio-ingressgateway", !asWritten, let gateway = ingressService(object.metadata.namespace ?? "") {
                // An applied gateway Service (as the Kubernetes backend creates one) is served by
                // the namespace's ingress: its HTTP port is the local ingress port at 127.0.0.1.
                body["status"] = gateway["status"]
                let ports = spec["ports"]?.arrayValue ?? []
                body["spec"]?["ports"] = .array(ports.map { port in
                    guard port["name"] == "http2" || port["port"] == .int(80) else { return port }
                    var local = port
                    local["port"] = gateway["spec"]?["ports"]?.arrayValue?.first?["port"] ?? port["port"] ?? .null
                    local["nodePort"] = local["port"]
                    return local
                })
            }
        case "ResourceQuota":
            // The engine enforces no quota; it reports the limits as counted, as the quota
            // controller does, and what it can count of their use.
            let hard = body["spec"]?["hard"] ?? [:]
            body["status"] = ["hard": hard, "used": .object(quotaUse(hard, namespace: object.metadata.namespace ?? ""))]
        default:
            break
        }
        return body
    }

    /// What the namespace uses of the counted resources a quota limits (pods and object counts).
    func quotaUse(_ hard: Value, namespace: String) -> [(String, Value)] {
        (hard.objectMembers ?? []).compactMap { key, _ in
            switch key {
            case "pods", "count/pods": (key, .string(String(runtimes[namespace]?.pods.count ?? 0)))
            case "services", "count/services": (key, .string(String(objects(kind: "Service", namespace: namespace).count)))
            case "configmaps", "count/configmaps": (key, .string(String(objects(kind: "ConfigMap", namespace: namespace).count)))
            case "secrets", "count/secrets": (key, .string(String(objects(kind: "Secret", namespace: namespace).count)))
            default: nil
            }
        }
    }

    /// A stable made-up cluster address, so `kubectl get svc` looks as it does on a cluster.
    static func clusterIP(_ name: String) -> String {
        var hasher = StableHash()
        hasher.add(name)
        return "10.96.\(Int(hasher.value % 250) + 1).\(Int((hasher.value >> 8) % 250) + 1)"
    }

    func pods(of deployment: String, namespace: String) -> [PodRuntime] {
        (runtimes[namespace]?.pods.values.filter { $0.deployment == deployment } ?? []).sorted { $0.createdAt < $1.createdAt }
    }

    func deploymentStatus(_ object: KubeObject) -> Value {
        let namespace = object.metadata.namespace ?? ""
        guard let spec = WorkloadParser.deployment(object, namespace: namespace).0 else { return [:] }
        let hash = Self.templateHash(spec)
        let pods = pods(of: spec.name, namespace: namespace)
        let updated = pods.filter { $0.templateHash == hash }
        let ready = pods.filter(\.ready).count
        let available = ready >= spec.replicas
        var generation = 1
        if case .int(let number) = object.body["metadata"]?["generation"] ?? .null { generation = number }
        let now = Self.timestamp()
        var status: Value = [
            "observedGeneration": .int(generation), "replicas": .int(pods.count), "updatedReplicas": .int(updated.count),
            "readyReplicas": .int(ready), "availableReplicas": .int(ready),
            "conditions": [
                [
                    "type": "Available", "status": .string(available ? "True" : "False"),
                    "reason": .string(available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable"),
                    "message": .string(available ? "Deployment has minimum availability." : "Deployment does not have minimum availability."),
                    "lastUpdateTime": .string(now), "lastTransitionTime": .string(now),
                ],
                [
                    "type": "Progressing", "status": "True",
                    "reason": .string(updated.count == spec.replicas && pods.count == spec.replicas ? "NewReplicaSetAvailable" : "ReplicaSetUpdated"),
                    "message": .string("ReplicaSet \"\(spec.name)-\(hash)\" is progressing."),
                    "lastUpdateTime": .string(now), "lastTransitionTime": .string(now),
                ],
            ],
        ]
        if pods.count - ready > 0 { status["unavailableReplicas"] = .int(pods.count - ready) }
        if ready == 0 { status["readyReplicas"] = nil; status["availableReplicas"] = nil }
        return status
    }

    /// One ReplicaSet per Deployment template that has pods, and the current one.
    func replicaSets(_ namespace: String) -> [Value] {
        var out: [Value] = []
        for object in objects(kind: "Deployment", namespace: namespace) {
            guard let spec = WorkloadParser.deployment(object, namespace: namespace).0 else { continue }
            let current = Self.templateHash(spec)
            let pods = pods(of: spec.name, namespace: namespace)
            var hashes = Set(pods.map(\.templateHash))
            hashes.insert(current)
            for hash in hashes.sorted() {
                let mine = pods.filter { $0.templateHash == hash }
                let desired = hash == current ? spec.replicas : 0
                var template = object.body["spec"]?["template"] ?? [:]
                var templateMetadata = template["metadata"] ?? [:]
                var labels = templateMetadata["labels"] ?? [:]
                labels["pod-template-hash"] = .string(hash)
                templateMetadata["labels"] = labels
                template["metadata"] = templateMetadata
                var selector = object.body["spec"]?["selector"] ?? [:]
                var matchLabels = selector["matchLabels"] ?? [:]
                matchLabels["pod-template-hash"] = .string(hash)
                selector["matchLabels"] = matchLabels
                let ready = mine.filter(\.ready).count
                out.append([
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": [
                        "name": .string("\(spec.name)-\(hash)"), "namespace": .string(namespace), "uid": .string(replicaSetUID(object, hash)),
                        "resourceVersion": object.body["metadata"]?["resourceVersion"] ?? "1",
                        "creationTimestamp": object.body["metadata"]?["creationTimestamp"] ?? .string(Self.timestamp()),
                        "labels": labels,
                        "ownerReferences": [[
                            "apiVersion": "apps/v1", "kind": "Deployment", "name": .string(spec.name),
                            "uid": object.body["metadata"]?["uid"] ?? "", "controller": true, "blockOwnerDeletion": true,
                        ]],
                    ],
                    "spec": ["replicas": .int(desired), "selector": selector, "template": template],
                    "status": ["replicas": .int(mine.count), "readyReplicas": .int(ready), "availableReplicas": .int(ready), "fullyLabeledReplicas": .int(mine.count)],
                ])
            }
        }
        return out
    }

    func replicaSetUID(_ deployment: KubeObject, _ hash: String) -> String {
        var hasher = StableHash()
        hasher.add(deployment.body["metadata"]?["uid"]?.stringValue ?? deployment.metadata.name)
        hasher.add(hash)
        let hex = String(format: "%016llx", hasher.value)
        return "\(hex.prefix(8))-\(hex.dropFirst(8).prefix(4))-4\(hex.dropFirst(13).prefix(3))-8\(hex.suffix(3))-\(hex)".prefix(36).lowercased()
    }

    /// The namespace's ingress gateway as Kubernetes shows it: a LoadBalancer Service whose
    /// address is the loopback address and whose port is the local ingress port.
    func ingressService(_ namespace: String) -> Value? {
        guard let space = store.namespaces[namespace], let port = space.ports["ingress"] else { return nil }
        return [
            "apiVersion": "v1", "kind": "Service",
            "metadata": [
                "name": "istio-ingressgateway", "namespace": .string(namespace),
                "uid": .string(replicaSetUID(KubeObject(apiVersion: "v1", kind: "Service", metadata: .init(name: namespace), body: [:], source: .init(file: "", document: 0)), "ingress")),
                "resourceVersion": space.meta["resourceVersion"] ?? "1", "creationTimestamp": space.meta["creationTimestamp"] ?? .string(Self.timestamp()),
                "labels": ["app": "istio-ingressgateway", "istio": "ingressgateway"],
            ],
            "spec": [
                "type": "LoadBalancer", "clusterIP": .string(Self.clusterIP("istio-ingressgateway." + namespace)),
                "selector": ["istio": "ingressgateway"],
                "ports": [["name": "http2", "port": .int(port), "targetPort": .int(port), "nodePort": .int(port), "protocol": "TCP"]],
            ],
            "status": ["loadBalancer": ["ingress": [["ip": "127.0.0.1"]]]],
        ]
    }

    // MARK: pods

    func podObject(_ pod: PodRuntime, namespace: String) -> Value {
        let created = Self.timestamp(pod.createdAt)
        let containerName = pod.container?.name ?? pod.deployment
        var labels = pod.labels
        labels["pod-template-hash"] = pod.templateHash
        var annotations: [(String, Value)] = [("kubectl.kubernetes.io/default-container", .string(containerName))]
        if pod.sidecar != nil {
            labels["security.istio.io/tlsMode"] = "istio"
            labels["service.istio.io/canonical-name"] = labels["app"] ?? pod.deployment
            labels["service.istio.io/canonical-revision"] = labels["version"] ?? "latest"
            annotations.append(("sidecar.istio.io/status", "{\"containers\":[\"istio-proxy\"]}"))
        }
        var containers: [Value] = [[
            "name": .string(containerName), "image": .string(pod.image), "imagePullPolicy": "IfNotPresent",
            "ports": .array((pod.container?.ports ?? []).map { ["containerPort": .int($0), "protocol": "TCP"] }),
            "env": .array((pod.container?.env ?? []).map { ["name": .string($0.0), "value": .string($0.1)] }),
        ]]
        if pod.sidecar != nil {
            containers.append(["name": "istio-proxy", "image": "envoyproxy/envoy:v1.40.0", "ports": [["containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"]]])
        }
        let running = pod.process?.pid != nil
        let phase = pod.phase
        var statuses: [Value] = []
        var appState: Value
        if pod.failure != nil {
            appState = ["waiting": ["reason": .string(phase), "message": .string("image \(pod.image) is not one the embedded engine can run")]]
        } else if running {
            appState = ["running": ["startedAt": .string(created)]]
        } else {
            appState = ["waiting": ["reason": .string(phase)]]
        }
        statuses.append([
            "name": .string(containerName), "image": .string(pod.image), "imageID": "", "ready": .bool(pod.ready),
            "started": .bool(running), "restartCount": .int(pod.process?.restarts ?? 0), "state": appState,
            "containerID": .string("meshdojo://\(pod.process?.pid.map(String.init) ?? "-")"),
        ])
        if pod.sidecar != nil {
            statuses.append([
                "name": "istio-proxy", "image": "envoyproxy/envoy:v1.40.0", "imageID": "", "ready": true, "started": true,
                "restartCount": 0, "state": ["running": ["startedAt": .string(created)]],
            ])
        }
        let ready = pod.ready ? "True" : "False"
        var metadata: Value = [
            "name": .string(pod.name), "generateName": .string("\(pod.deployment)-\(pod.templateHash)-"), "namespace": .string(namespace),
            "uid": .string(pod.uid), "resourceVersion": .string(String(pod.resourceVersion)), "creationTimestamp": .string(created),
            "labels": .object(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }),
            "annotations": .object(annotations),
            "ownerReferences": [[
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": .string("\(pod.deployment)-\(pod.templateHash)"),
                "uid": .string(replicaSetUIDFor(pod, namespace: namespace)), "controller": true, "blockOwnerDeletion": true,
            ]],
        ]
        if let deleted = pod.deletionRequested { metadata["deletionTimestamp"] = .string(Self.timestamp(deleted)) }
        return [
            "apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": [
                "containers": .array(containers), "nodeName": .string(Self.nodeName), "restartPolicy": "Always",
                "serviceAccountName": .string(pod.serviceAccount ?? "default"), "terminationGracePeriodSeconds": 30,
            ],
            "status": [
                "phase": .string(pod.failure == nil ? (running ? "Running" : "Pending") : "Pending"),
                "conditions": [
                    ["type": "PodReadyToStartContainers", "status": .string(running ? "True" : "False")],
                    ["type": "Initialized", "status": "True"],
                    ["type": "Ready", "status": .string(ready)],
                    ["type": "ContainersReady", "status": .string(ready)],
                    ["type": "PodScheduled", "status": "True"],
                ],
                "hostIP": "127.0.0.1", "podIP": "127.0.0.1", "podIPs": [["ip": "127.0.0.1"]], "startTime": .string(created),
                "containerStatuses": .array(statuses), "qosClass": "BestEffort",
                // Where the engine runs the pod (for tests and measurements).
                "meshdojo": ["appPort": .int(pod.appPort), "pid": pod.process?.pid.map { .int(Int($0)) } ?? .null],
            ],
        ]
    }

    func replicaSetUIDFor(_ pod: PodRuntime, namespace: String) -> String {
        guard let deployment = object(kind: "Deployment", name: pod.deployment, namespace: namespace) else { return "" }
        return replicaSetUID(deployment, pod.templateHash)
    }

    func publishPod(_ pod: PodRuntime, namespace: String, _ type: WatchEvent.Kind) {
        pod.resourceVersion = hub.nextVersion()
        hub.publish(WatchEvent(type: type, kind: "Pod", namespace: namespace, object: podObject(pod, namespace: namespace), resourceVersion: pod.resourceVersion))
    }

    func publishDeployment(_ name: String, namespace: String) {
        guard let deployment = object(kind: "Deployment", name: name, namespace: namespace) else { return }
        hub.publish(WatchEvent(type: .modified, kind: "Deployment", namespace: namespace, object: view(deployment), resourceVersion: hub.nextVersion()))
    }

    /// The output of a pod's container: the app's log, or the sidecar's lines of the namespace
    /// Envoy's log.
    public func podLog(namespace: String, pod name: String, container: String?, tailLines: Int?) throws -> String {
        guard let pod = runtimes[namespace]?.pods[name] else { throw LocalClusterError.notFound("pods \"\(name)\"") }
        let appName = pod.container?.name ?? pod.deployment
        let path: String
        switch container {
        case nil, appName?:
            guard let file = pod.logFile else { return "" }
            path = file
        case "istio-proxy"? where pod.sidecar != nil:
            // The namespace's Envoy hosts every sidecar; its access log tags each line with the pod.
            path = (configuration.stateDirectory as NSString).appendingPathComponent("envoy/\(namespace)/envoy.log")
        case let other?:
            let names = [appName] + (pod.sidecar != nil ? ["istio-proxy"] : [])
            throw LocalClusterError.invalid(["container \(other) is not valid for pod \(name); choose one of: [\(names.joined(separator: " "))]"])
        }
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        var text = String(decoding: data.suffix(4 << 20), as: UTF8.self)
        if container == "istio-proxy", pod.sidecar != nil {
            let tags = ["[\(pod.name) inbound]", "[\(pod.name) outbound]"]
            text = text.split(separator: "\n", omittingEmptySubsequences: true).filter { line in tags.contains { line.hasPrefix($0) } }
                .map { $0 + "\n" }.joined()
        }
        if let tailLines, tailLines >= 0 {
            text = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(tailLines + 1).joined(separator: "\n")
        }
        return text
    }

    // MARK: events

    func record(_ pod: PodRuntime, namespace: String, reason: String, message: String, type: String = "Normal", container: String? = nil) {
        let now = Self.timestamp()
        let version = hub.nextVersion()
        var involved: Value = [
            "kind": "Pod", "namespace": .string(namespace), "name": .string(pod.name), "uid": .string(pod.uid), "apiVersion": "v1",
        ]
        if let container { involved["fieldPath"] = .string("spec.containers{\(container)}") }
        let event: Value = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": [
                "name": .string("\(pod.name).\(String(version, radix: 16))"), "namespace": .string(namespace),
                "uid": .string(UUID().uuidString.lowercased()), "resourceVersion": .string(String(version)), "creationTimestamp": .string(now),
            ],
            "involvedObject": involved, "reason": .string(reason), "message": .string(message),
            "source": ["component": .string(reason == "Scheduled" ? "default-scheduler" : "kubelet"), "host": .string(Self.nodeName)],
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1, "type": .string(type),
            "reportingComponent": .string(reason == "Scheduled" ? "default-scheduler" : "kubelet"), "reportingInstance": .string(Self.nodeName),
        ]
        var list = events[namespace] ?? []
        list.append(event)
        if list.count > 500 { list.removeFirst(list.count - 500) }
        events[namespace] = list
        hub.publish(WatchEvent(type: .added, kind: "Event", namespace: namespace, object: event, resourceVersion: version))
    }

    func recordStart(_ pod: PodRuntime, namespace: String) {
        record(pod, namespace: namespace, reason: "Scheduled", message: "Successfully assigned \(namespace)/\(pod.name) to \(Self.nodeName)")
        let name = pod.container?.name ?? pod.deployment
        if let failure = pod.failure {
            record(pod, namespace: namespace, reason: "Failed", message: "Failed to pull image \"\(pod.image)\": \(failure): the embedded engine runs bookinfo's images only", type: "Warning", container: name)
            return
        }
        var containers = [name]
        if pod.sidecar != nil { containers.append("istio-proxy") }
        for container in containers {
            let image = container == "istio-proxy" ? "envoyproxy/envoy:v1.40.0" : pod.image
            record(pod, namespace: namespace, reason: "Pulled", message: "Container image \"\(image)\" already present on machine", container: container)
            record(pod, namespace: namespace, reason: "Created", message: "Created container \(container)", container: container)
            record(pod, namespace: namespace, reason: "Started", message: "Started container \(container)", container: container)
        }
    }
}
