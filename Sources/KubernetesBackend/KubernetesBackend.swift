import Logging
import MeshModel

/// Where a namespace's ingress gateway answers: the grader's target.
public struct IngressAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `http://host:port`, with an IPv6 address in brackets.
    public var url: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// Whether istiod scopes Gateways to their own namespace (`PILOT_SCOPE_GATEWAY_TO_NAMESPACE`).
public enum GatewayScoping: Sendable, Equatable {
    case scoped
    /// istiod runs without the setting (or with it false): students' Gateways would collide.
    case notScoped
    /// istiod's Deployment could not be read; the reason says why.
    case unknown(String)
}

/// A provisioning or readiness step that did not complete, in plain words.
public enum KubernetesBackendError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The quota controller had not computed the ResourceQuota's status in time; pods created
    /// before that are refused ("status unknown for quota").
    case quotaNotReady(namespace: String, waited: Duration)
    /// Pods that will not become ready without a change (image pull, quota, crash), or that were
    /// still not ready when the wait ended.
    case podsNotReady(namespace: String, problems: [String], timedOut: Bool)
    case namespaceNotDeleted(namespace: String, waited: Duration, conditions: [String])
    case badStudent(String)

    public var description: String {
        switch self {
        case .quotaNotReady(let namespace, let waited):
            "ResourceQuota meshdojo-student in \(namespace) had no status after \(waited): the cluster's quota controller "
                + "has not counted it yet, and pods created before that are refused"
        case .podsNotReady(let namespace, let problems, let timedOut):
            (timedOut ? "pods in \(namespace) were still not ready when the wait ended: " : "pods in \(namespace) will not become ready: ")
                + problems.joined(separator: "; ")
        case .namespaceNotDeleted(let namespace, let waited, let conditions):
            "namespace \(namespace) was still there \(waited) after it was deleted"
                + (conditions.isEmpty ? "" : ": " + conditions.joined(separator: "; "))
        case .badStudent(let message):
            message
        }
    }
}

/// Provisions and removes students' namespaces in a real cluster through ``KubeClient``, finds their
/// ingress address, reconstructs them from namespace labels and mints their kubeconfigs.
public actor KubernetesBackend {
    public struct Configuration: Sendable {
        /// The workshop's name: the `meshdojo.dev/workshop` label of its namespaces.
        public var workshop: String
        /// A node's address, for a gateway Service that has no load-balancer address (NodePort).
        public var nodeAddress: String?
        /// Wait for the quota controller to fill in the ResourceQuota's status before workloads.
        public var waitForQuotaStatus = true
        public var quotaTimeout: Duration = .seconds(60)
        public var readyTimeout: Duration = .seconds(300)
        public var deletionTimeout: Duration = .seconds(300)
        public var pollInterval: Duration = .seconds(1)
        /// The API server URL and CA the *students* reach (in the cluster, the runner's own is a
        /// service address students cannot use); the runner's own when nil.
        public var studentAPIServer: String?
        public var studentCertificateAuthorityPEM: [UInt8]?
        public var studentTokenSeconds = 12 * 3600
        /// Where istiod runs, for ``KubernetesBackend/gatewayScoping()``.
        public var istiodNamespace = "istio-system"
        public var istiodDeployment = "istiod"

        public init(workshop: String, nodeAddress: String? = nil) {
            self.workshop = workshop
            self.nodeAddress = nodeAddress
        }
    }

    public nonisolated let client: KubeClient
    public nonisolated let configuration: Configuration
    let logger: Logger

    public init(client: KubeClient, configuration: Configuration, logger: Logger = Logger(label: "meshdojo.kubernetes-backend")) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Provisioning

    /// Applies the student's plan in order (namespace; quota and limit range, waited for; RBAC;
    /// gateway), then `workloads` (bookinfo) into the namespace, then waits for every pod to be ready.
    public func provision(_ student: StudentSpec, workloads: [Value] = []) async throws {
        guard student.workshop == configuration.workshop else {
            throw KubernetesBackendError.badStudent(
                "student \(student.studentID) belongs to workshop \(student.workshop), not \(configuration.workshop)")
        }
        let plan: [ProvisioningStep]
        do {
            plan = try StudentProvisioning.plan(student)
        } catch {
            throw KubernetesBackendError.badStudent(error.description)
        }
        for step in plan {
            for object in step.objects { _ = try await client.apply(object) }
            if step.name == .quota { try await waitForQuota(namespace: student.namespace) }
        }
        try await apply(workloads, namespace: student.namespace)
        try await waitForPodsReady(namespace: student.namespace)
        logger.info("provisioned", metadata: ["namespace": "\(student.namespace)", "student": "\(student.studentID)"])
    }

    /// Server-side applies objects into a namespace, in order.
    public func apply(_ objects: [Value], namespace: String) async throws {
        for object in objects { _ = try await client.apply(object, namespace: namespace) }
    }

    /// Waits until the ResourceQuota exists and (unless configured off) the quota controller has
    /// filled in `status.hard` for every resource it limits.
    public func waitForQuota(namespace: String) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.quotaTimeout
        while true {
            if let quota = try await client.getIfPresent(.resourceQuotas, namespace: namespace, name: StudentProvisioning.quotaName) {
                guard configuration.waitForQuotaStatus else { return }
                let wanted = Set(quota["spec"]?["hard"]?.objectMembers?.map(\.0) ?? [])
                let counted = Set(quota["status"]?["hard"]?.objectMembers?.map(\.0) ?? [])
                if wanted.isSubset(of: counted) { return }
            }
            guard clock.now < deadline else {
                throw KubernetesBackendError.quotaNotReady(namespace: namespace, waited: configuration.quotaTimeout)
            }
            try await Task.sleep(for: configuration.pollInterval)
        }
    }

    /// Waits until every Deployment of the namespace has as many ready pods as it wants. Stops at
    /// once, saying why, when a pod cannot become ready without a change: an image that cannot be
    /// pulled, a quota that refuses pods, a container that keeps crashing.
    public func waitForPodsReady(namespace: String) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.readyTimeout
        while true {
            let deployments = try await client.list(.deployments, namespace: namespace).items
            let pods = try await client.list(.pods, namespace: namespace).items
            let readiness = Self.readiness(deployments: deployments, pods: pods)
            if readiness.waiting.isEmpty { return }
            if !readiness.fatal.isEmpty {
                throw KubernetesBackendError.podsNotReady(namespace: namespace, problems: readiness.fatal, timedOut: false)
            }
            guard clock.now < deadline else {
                throw KubernetesBackendError.podsNotReady(namespace: namespace, problems: readiness.waiting, timedOut: true)
            }
            try await Task.sleep(for: configuration.pollInterval)
        }
    }

    /// What keeps a namespace's workloads from being ready: everything still waited for, and the
    /// problems that will not go away by waiting.
    public static func readiness(deployments: [Value], pods: [Value]) -> (waiting: [String], fatal: [String]) {
        var waiting: [String] = []
        var fatal: [String] = []
        let live = pods.filter { $0["metadata"]?["deletionTimestamp"] == nil && $0["status"]?["phase"] != "Succeeded" }
        for deployment in deployments {
            let name = deployment["metadata"]?["name"]?.stringValue ?? "?"
            let wanted = deployment["spec"]?["replicas"]?.intValue ?? 1
            let selector = deployment["spec"]?["selector"]?["matchLabels"]?.objectMembers ?? []
            let own = live.filter { pod in
                selector.allSatisfy { pod["metadata"]?["labels"]?[$0.0] == $0.1 }
            }
            let ready = own.filter(isReady).count
            if ready >= wanted { continue }
            waiting.append("Deployment/\(name): \(ready) of \(wanted) pods ready")
            for condition in deployment["status"]?["conditions"]?.arrayValue ?? []
            where condition["type"] == "ReplicaFailure" && condition["status"] == "True" {
                let message = condition["message"]?.stringValue ?? condition["reason"]?.stringValue ?? "pods cannot be created"
                fatal.append("Deployment/\(name) cannot create pods: \(message)"
                    + (message.contains("exceeded quota") ? " (the namespace's ResourceQuota is too small for it)" : ""))
            }
            for pod in own where !isReady(pod) {
                let podName = pod["metadata"]?["name"]?.stringValue ?? "?"
                let statuses = (pod["status"]?["initContainerStatuses"]?.arrayValue ?? []) + (pod["status"]?["containerStatuses"]?.arrayValue ?? [])
                for status in statuses {
                    guard let reason = status["state"]?["waiting"]?["reason"]?.stringValue else { continue }
                    let container = status["name"]?.stringValue ?? "?"
                    let message = status["state"]?["waiting"]?["message"]?.stringValue.map { ": \($0)" } ?? ""
                    switch reason {
                    case "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName":
                        let image = status["image"]?.stringValue ?? "its image"
                        fatal.append("Pod/\(podName) container \(container) cannot pull \(image) (\(reason))\(message)")
                    case "CrashLoopBackOff":
                        fatal.append("Pod/\(podName) container \(container) keeps crashing (CrashLoopBackOff)\(message)")
                    case "CreateContainerConfigError":
                        fatal.append("Pod/\(podName) container \(container) cannot start (CreateContainerConfigError)\(message)")
                    default:
                        waiting.append("Pod/\(podName) container \(container): \(reason)\(message)")
                    }
                }
                for condition in pod["status"]?["conditions"]?.arrayValue ?? []
                where condition["type"] == "PodScheduled" && condition["status"] == "False" {
                    waiting.append("Pod/\(podName) is not scheduled: \(condition["message"]?.stringValue ?? "no node fits")")
                }
            }
        }
        return (waiting, fatal)
    }

    static func isReady(_ pod: Value) -> Bool {
        (pod["status"]?["conditions"]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
    }

    // MARK: Ingress

    /// The student's gateway address: the load balancer's IP or hostname and port 80 (`http2`),
    /// else that port's nodePort on the configured node address; nil while there is neither.
    public func ingressAddress(namespace: String) async throws -> IngressAddress? {
        guard let service = try await client.getIfPresent(.services, namespace: namespace, name: StudentProvisioning.gatewayName) else {
            return nil
        }
        return Self.ingressAddress(service: service, nodeAddress: configuration.nodeAddress)
    }

    public static func ingressAddress(service: Value, nodeAddress: String?) -> IngressAddress? {
        let ports = service["spec"]?["ports"]?.arrayValue ?? []
        let http = ports.first { $0["name"]?.stringValue == StudentProvisioning.gatewayHTTPPortName }
            ?? ports.first { $0["port"]?.intValue == StudentProvisioning.gatewayHTTPPort }
        guard let http else { return nil }
        if let ingress = service["status"]?["loadBalancer"]?["ingress"]?.arrayValue?.first,
           let host = ingress["ip"]?.stringValue ?? ingress["hostname"]?.stringValue, !host.isEmpty
        {
            return IngressAddress(host: host, port: http["port"]?.intValue ?? StudentProvisioning.gatewayHTTPPort)
        }
        if let nodeAddress, let nodePort = http["nodePort"]?.intValue {
            return IngressAddress(host: nodeAddress, port: nodePort)
        }
        return nil
    }

    // MARK: Students

    /// The workshop's students, read back from their namespaces' labels (after a restart).
    /// Namespaces being deleted are left out.
    public func students() async throws -> [StudentSpec] {
        let namespaces = try await client.list(.namespaces, namespace: nil, labelSelector: StudentProvisioning.workshopSelector(configuration.workshop))
        return namespaces.items.compactMap(Self.student(namespace:)).sorted { $0.namespace < $1.namespace }
    }

    /// The student a namespace was provisioned for, from its labels; nil for other namespaces.
    public static func student(namespace: Value) -> StudentSpec? {
        guard namespace["status"]?["phase"] != "Terminating", namespace["metadata"]?["deletionTimestamp"] == nil,
              let name = namespace["metadata"]?["name"]?.stringValue,
              let labels = namespace["metadata"]?["labels"]?.objectMembers,
              labels.contains(where: { $0.0 == StudentProvisioning.managedByLabel && $0.1 == .string(StudentProvisioning.managedByValue) }),
              let workshop = labels.first(where: { $0.0 == StudentProvisioning.workshopLabel })?.1.stringValue,
              let id = labels.first(where: { $0.0 == StudentProvisioning.studentLabel })?.1.stringValue
        else { return nil }
        let own: Set = [
            StudentProvisioning.managedByLabel, StudentProvisioning.workshopLabel, StudentProvisioning.studentLabel,
            StudentProvisioning.injectionLabel,
        ]
        var extra: [String: String] = [:]
        for (key, value) in labels where !own.contains(key) && !key.hasPrefix("kubernetes.io/") {
            if let text = value.stringValue { extra[key] = text }
        }
        let displayName = namespace["metadata"]?["annotations"]?[StudentProvisioning.studentNameAnnotation]?.stringValue ?? id
        return StudentSpec(namespace: name, studentID: id, studentName: displayName, workshop: workshop, labels: extra)
    }

    /// Deletes a student's namespace and waits until the cluster has removed it.
    public func deleteStudent(namespace: String) async throws {
        guard let existing = try await client.getIfPresent(.namespaces, namespace: nil, name: namespace) else { return }
        guard existing["metadata"]?["labels"]?[StudentProvisioning.managedByLabel] == .string(StudentProvisioning.managedByValue),
              existing["metadata"]?["labels"]?[StudentProvisioning.workshopLabel] == .string(configuration.workshop)
        else {
            throw KubernetesBackendError.badStudent(
                "namespace \(namespace) is not a student namespace of workshop \(configuration.workshop); it was left alone")
        }
        do {
            _ = try await client.delete(.namespaces, namespace: nil, name: namespace)
        } catch let error as KubeStatusError where error.isNotFound {
            return
        }
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.deletionTimeout
        while let current = try await client.getIfPresent(.namespaces, namespace: nil, name: namespace) {
            guard clock.now < deadline else {
                let conditions = (current["status"]?["conditions"]?.arrayValue ?? []).compactMap { condition -> String? in
                    guard condition["status"] == "True" else { return nil }
                    return [condition["type"]?.stringValue, condition["message"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
                }
                throw KubernetesBackendError.namespaceNotDeleted(namespace: namespace, waited: configuration.deletionTimeout, conditions: conditions)
            }
            try await Task.sleep(for: configuration.pollInterval)
        }
    }

    /// A kubeconfig acting as the student's ServiceAccount in their namespace (TokenRequest API).
    public func studentKubeconfig(namespace: String) async throws -> String {
        let token = try await client.requestToken(
            serviceAccount: StudentProvisioning.studentAccount, namespace: namespace, expirationSeconds: configuration.studentTokenSeconds)
        return StudentProvisioning.kubeconfig(
            server: configuration.studentAPIServer ?? client.config.server,
            certificateAuthorityPEM: configuration.studentAPIServer == nil
                ? client.config.certificateAuthorityPEM : configuration.studentCertificateAuthorityPEM,
            namespace: namespace, token: token.token,
            insecureSkipTLSVerify: configuration.studentAPIServer == nil && client.config.insecureSkipTLSVerify)
    }

    // MARK: Istio

    /// Reads istiod's Deployment for `PILOT_SCOPE_GATEWAY_TO_NAMESPACE`.
    public func gatewayScoping() async throws -> GatewayScoping {
        let deployment: Value?
        do {
            deployment = try await client.getIfPresent(.deployments, namespace: configuration.istiodNamespace, name: configuration.istiodDeployment)
        } catch let error as KubeStatusError where error.isForbidden {
            return .unknown("the runner may not read \(configuration.istiodNamespace)/\(configuration.istiodDeployment): \(error.message)")
        }
        guard let deployment else {
            return .unknown("no Deployment \(configuration.istiodDeployment) in \(configuration.istiodNamespace) (a revisioned or external istiod?)")
        }
        return Self.gatewayScoping(istiod: deployment)
    }

    public static func gatewayScoping(istiod: Value) -> GatewayScoping {
        let containers = istiod["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? []
        for container in containers {
            for variable in container["env"]?.arrayValue ?? [] where variable["name"] == "PILOT_SCOPE_GATEWAY_TO_NAMESPACE" {
                guard let value = variable["value"]?.stringValue else {
                    return .unknown("PILOT_SCOPE_GATEWAY_TO_NAMESPACE comes from a reference, not a value")
                }
                return value.lowercased() == "true" ? .scoped : .notScoped
            }
        }
        return .notScoped
    }
}
