import Foundation
import MeshModel

/// Who a namespace is for.
public struct StudentSpec: Sendable, Equatable {
    /// The student's namespace (a DNS label: `student-ada`).
    public var namespace: String
    /// The student's id, as a label value (`ada`, `s-0042`).
    public var studentID: String
    /// The name the student gave, any text (kept as an annotation, since labels cannot hold it).
    public var studentName: String
    /// The workshop's name, as a label value (`istio-101`).
    public var workshop: String
    /// More labels for the namespace (the workshop's own); they may not replace MeshDojo's.
    public var labels: [String: String]

    public init(namespace: String, studentID: String, studentName: String, workshop: String, labels: [String: String] = [:]) {
        self.namespace = namespace
        self.studentID = studentID
        self.studentName = studentName
        self.workshop = workshop
        self.labels = labels
    }
}

/// A student that cannot be provisioned as given, and why.
public struct ProvisioningError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One step of a provisioning plan: objects applied together, before the next step starts.
public struct ProvisioningStep: Sendable, Equatable {
    public enum Name: String, Sendable, Equatable {
        case namespace, quota, rbac, gateway
    }

    public var name: Name
    public var objects: [Value]
}

/// Everything a student's namespace holds before bookinfo goes in, as pure functions (golden-tested).
///
/// The plan applies, in order: the Namespace; its ResourceQuota and LimitRange (which must exist
/// before any pod, or the pods escape the quota); the student's ServiceAccount, Role and
/// RoleBinding; and the student's own ingress gateway (Istio gateway injection).
public enum StudentProvisioning {
    // MARK: Names

    public static let workshopLabel = "meshdojo.dev/workshop"
    public static let studentLabel = "meshdojo.dev/student"
    public static let managedByLabel = "app.kubernetes.io/managed-by"
    public static let managedByValue = "meshdojo"
    public static let injectionLabel = "istio-injection"
    public static let studentNameAnnotation = "meshdojo.dev/student-name"
    /// The student's service account, Role and RoleBinding share this name.
    public static let studentAccount = "meshdojo-student"
    /// The ResourceQuota and LimitRange.
    public static let quotaName = "meshdojo-student"
    /// The gateway's Deployment, Service and ServiceAccount.
    public static let gatewayName = "istio-ingressgateway"
    /// The label Istio's bookinfo-gateway.yaml selects (`istio: ingressgateway`).
    public static let gatewaySelector = ["istio": "ingressgateway"]
    /// The gateway Service's HTTP port, its name and the pod port behind it.
    public static let gatewayHTTPPort = 80
    public static let gatewayHTTPPortName = "http2"
    public static let gatewayTargetPort = 8080
    public static let gatewayStatusPort = 15021

    /// The label selector of every namespace of a workshop.
    public static func workshopSelector(_ workshop: String) -> String {
        "\(managedByLabel)=\(managedByValue),\(workshopLabel)=\(workshop)"
    }

    // MARK: Sizing

    // Quota and defaults are sized for bookinfo *with* Istio sidecars, the classic failure being a
    // quota sized for the applications alone that refuses the injected pods.
    //
    // Per pod (requests): the application container gets the LimitRange's default request of 50m CPU
    // and 64Mi (bookinfo's manifests set none; the Swift services idle at about 10–20 MiB), the
    // injected istio-proxy brings Istio's default 100m CPU and 128Mi → 150m and 192Mi. The istio-init
    // container (or the native-sidecar init container) asks for no more than the sum, so the pod
    // counts 150m / 192Mi.
    // - bookinfo: 6 pods (details, ratings, reviews v1/v2/v3, productpage) → 900m, 1152Mi;
    // - the student's gateway: 1 pod, its only container is the proxy → 100m, 128Mi;
    //   steady state: 7 pods, 1000m, 1280Mi.
    // - a rolling restart of everything (the labs restart pods after labelling the namespace)
    //   surges one extra pod per Deployment (maxSurge 25% rounds up to 1) → up to 14 pods, 2000m, 2560Mi.
    // Hard limits with headroom for that: 16 pods, 16 × 150m = 2400m CPU, 16 × 192Mi = 3Gi memory.
    // Limits are not quota'd: Istio's default proxy limit (2 CPU, 1Gi) on 16 pods would make a
    // meaningless 32-CPU cap; the LimitRange's max instead admits exactly that proxy limit.
    public static let quotaHard: [(String, String)] = [
        ("pods", "16"),
        ("requests.cpu", "2400m"),
        ("requests.memory", "3Gi"),
        // bookinfo's 4, the gateway's 1, and room for a lab's extra Service.
        ("services", "8"),
        // The gateway's Service is the one load balancer a student has.
        ("services.loadbalancers", "1"),
    ]
    public static let containerDefaultRequest: [(String, String)] = [("cpu", "50m"), ("memory", "64Mi")]
    public static let containerDefaultLimit: [(String, String)] = [("cpu", "500m"), ("memory", "256Mi")]
    /// Istio's default istio-proxy limits (2 CPU, 1Gi) fit exactly.
    public static let containerMax: [(String, String)] = [("cpu", "2"), ("memory", "1Gi")]

    // MARK: RBAC

    /// What a student may do in their own namespace, and nothing cluster-wide: the labs' Istio
    /// objects with every verb kubectl uses; pods read, delete (to restart them) and their logs;
    /// Deployments, ReplicaSets, Services and Events read.
    public static let studentRoleRules: [PermissionRule] = [
        PermissionRule(
            apiGroup: "networking.istio.io", resources: KubeResource.istioNetworking.map(\.plural),
            verbs: [.get, .list, .watch, .create, .update, .patch, .delete], why: "the labs' routing, fault and traffic objects"),
        PermissionRule(apiGroup: "", resources: ["pods"], verbs: [.get, .list, .watch, .delete], why: "see and restart pods"),
        PermissionRule(apiGroup: "", resources: ["pods/log"], verbs: [.get], why: "read logs"),
        PermissionRule(
            apiGroup: "apps", resources: ["deployments", "replicasets"], verbs: [.get, .list, .watch], why: "see the workloads"),
        PermissionRule(apiGroup: "", resources: ["services", "events"], verbs: [.get, .list, .watch], why: "see services and events"),
    ]

    // MARK: Objects

    /// Checks the names and labels a student's objects will carry.
    public static func validate(_ student: StudentSpec) throws(ProvisioningError) {
        guard isDNSLabel(student.namespace) else {
            throw ProvisioningError(
                "namespace \"\(student.namespace)\" is not a DNS label: at most 63 lower-case letters, digits and '-', "
                    + "starting and ending with a letter or digit")
        }
        for (what, value) in [("student id", student.studentID), ("workshop name", student.workshop)] where !isLabelValue(value) || value.isEmpty {
            throw ProvisioningError(
                "\(what) \"\(value)\" cannot be a label value: 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit")
        }
        let own: Set = [workshopLabel, studentLabel, managedByLabel, injectionLabel]
        for (key, value) in student.labels {
            if own.contains(key) { throw ProvisioningError("label \(key) is MeshDojo's own and cannot be set by the workshop") }
            guard isLabelKey(key) else { throw ProvisioningError("\"\(key)\" is not a valid label key") }
            guard isLabelValue(value) else { throw ProvisioningError("label \(key)=\"\(value)\" has a value that is not a valid label value") }
        }
    }

    /// The labels every object of a student carries.
    public static func commonLabels(_ student: StudentSpec) -> [(String, Value)] {
        [
            (managedByLabel, .string(managedByValue)),
            (workshopLabel, .string(student.workshop)),
            (studentLabel, .string(student.studentID)),
        ]
    }

    static func metadata(_ name: String, _ student: StudentSpec, namespaced: Bool = true, labels extra: [(String, Value)] = []) -> Value {
        var metadata: Value = ["name": .string(name)]
        if namespaced { metadata["namespace"] = .string(student.namespace) }
        metadata["labels"] = .object(commonLabels(student) + extra)
        return metadata
    }

    static func resources(_ pairs: [(String, String)]) -> Value { .object(pairs.map { ($0.0, .string($0.1)) }) }

    public static func namespace(_ student: StudentSpec) -> Value {
        var metadata = metadata(
            student.namespace, student,
            namespaced: false,
            labels: [(injectionLabel, "enabled")] + student.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        metadata["annotations"] = [studentNameAnnotation: .string(student.studentName)]
        return ["apiVersion": "v1", "kind": "Namespace", "metadata": metadata]
    }

    public static func resourceQuota(_ student: StudentSpec) -> Value {
        ["apiVersion": "v1", "kind": "ResourceQuota", "metadata": metadata(quotaName, student), "spec": ["hard": resources(quotaHard)]]
    }

    public static func limitRange(_ student: StudentSpec) -> Value {
        [
            "apiVersion": "v1", "kind": "LimitRange", "metadata": metadata(quotaName, student),
            "spec": [
                "limits": [
                    [
                        "type": "Container",
                        "defaultRequest": resources(containerDefaultRequest),
                        "default": resources(containerDefaultLimit),
                        "max": resources(containerMax),
                    ]
                ]
            ],
        ]
    }

    public static func serviceAccount(_ student: StudentSpec) -> Value {
        ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(studentAccount, student)]
    }

    public static func role(_ student: StudentSpec) -> Value {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata(studentAccount, student),
            "rules": .array(studentRoleRules.map(\.value)),
        ]
    }

    public static func roleBinding(_ student: StudentSpec) -> Value {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": metadata(studentAccount, student),
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(studentAccount)],
            "subjects": [["kind": "ServiceAccount", "name": .string(studentAccount), "namespace": .string(student.namespace)]],
        ]
    }

    static var gatewayLabels: [(String, Value)] {
        [("app", .string(gatewayName))] + gatewaySelector.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }
    }

    public static func gatewayServiceAccount(_ student: StudentSpec) -> Value {
        ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(gatewayName, student, labels: gatewayLabels)]
    }

    /// The student's ingress gateway by Istio gateway injection: istiod's `gateway` template turns
    /// the `auto` container into an Envoy gateway; with `PILOT_SCOPE_GATEWAY_TO_NAMESPACE=true`
    /// a Gateway object selects only the gateway pods of its own namespace.
    public static func gatewayDeployment(_ student: StudentSpec) -> Value {
        let selector: Value = .object(gatewaySelector.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        return [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(gatewayName, student, labels: gatewayLabels),
            "spec": [
                "replicas": 1,
                "selector": ["matchLabels": selector],
                "template": [
                    "metadata": [
                        "annotations": ["inject.istio.io/templates": "gateway"],
                        "labels": .object(gatewayLabels + [("sidecar.istio.io/inject", "true")]),
                    ],
                    "spec": [
                        "serviceAccountName": .string(gatewayName),
                        "containers": [
                            [
                                "name": "istio-proxy",
                                // Replaced by the injector with the proxy image istiod runs.
                                "image": "auto",
                                "securityContext": [
                                    "allowPrivilegeEscalation": false,
                                    "capabilities": ["drop": ["ALL"]],
                                    "runAsNonRoot": true,
                                    "runAsUser": 1337,
                                    "runAsGroup": 1337,
                                ],
                            ]
                        ],
                    ],
                ],
            ],
        ]
    }

    /// `Service/istio-ingressgateway`, a LoadBalancer: port 80 (`http2`) to the gateway's 8080, and
    /// Istio's status port 15021 (readiness, `/healthz/ready`).
    public static func gatewayService(_ student: StudentSpec) -> Value {
        [
            "apiVersion": "v1", "kind": "Service", "metadata": metadata(gatewayName, student, labels: gatewayLabels),
            "spec": [
                "type": "LoadBalancer",
                "selector": .object(gatewaySelector.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }),
                "ports": [
                    [
                        "name": .string(gatewayHTTPPortName), "port": .int(gatewayHTTPPort), "targetPort": .int(gatewayTargetPort),
                        "protocol": "TCP",
                    ],
                    ["name": "status-port", "port": .int(gatewayStatusPort), "targetPort": .int(gatewayStatusPort), "protocol": "TCP"],
                ],
            ],
        ]
    }

    /// The objects in apply order, by step: namespace; quota + limit range; RBAC; gateway.
    public static func plan(_ student: StudentSpec) throws(ProvisioningError) -> [ProvisioningStep] {
        try validate(student)
        return [
            ProvisioningStep(name: .namespace, objects: [namespace(student)]),
            ProvisioningStep(name: .quota, objects: [resourceQuota(student), limitRange(student)]),
            ProvisioningStep(name: .rbac, objects: [serviceAccount(student), role(student), roleBinding(student)]),
            ProvisioningStep(
                name: .gateway, objects: [gatewayServiceAccount(student), gatewayDeployment(student), gatewayService(student)]),
        ]
    }

    // MARK: The student's kubeconfig

    /// A kubeconfig for a student's service-account token (from the TokenRequest API), its
    /// namespace as the context's default.
    public static func kubeconfig(
        server: String, certificateAuthorityPEM: [UInt8]?, namespace: String, token: String, insecureSkipTLSVerify: Bool = false
    ) -> String {
        let name = "meshdojo-\(namespace)"
        var cluster = "    server: \(Value.quote(server))\n"
        if let certificateAuthorityPEM {
            cluster += "    certificate-authority-data: \(Data(certificateAuthorityPEM).base64EncodedString())\n"
        }
        if insecureSkipTLSVerify { cluster += "    insecure-skip-tls-verify: true\n" }
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: \(name)
              cluster:
            \(cluster)contexts:
            - name: \(name)
              context:
                cluster: \(name)
                namespace: \(namespace)
                user: \(name)
            current-context: \(name)
            users:
            - name: \(name)
              user:
                token: \(Value.quote(token))

            """
    }

    // MARK: Name rules

    static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alnum(_ b: UInt8) -> Bool { (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) }
        return alnum(bytes.first!) && alnum(bytes.last!) && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
    }

    static func isLabelValue(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return true }
        guard bytes.count <= 63 else { return false }
        func alnum(_ b: UInt8) -> Bool { (0x61...0x7A).contains(b) || (0x41...0x5A).contains(b) || (0x30...0x39).contains(b) }
        return alnum(bytes.first!) && alnum(bytes.last!)
            && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    static func isLabelKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last, !name.isEmpty, isLabelValue(String(name)) else { return false }
        if parts.count == 2 {
            let prefix = String(parts[0])
            guard !prefix.isEmpty, prefix.utf8.count <= 253 else { return false }
            return prefix.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
        }
        return true
    }
}
