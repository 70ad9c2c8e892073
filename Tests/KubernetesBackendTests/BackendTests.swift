import Foundation
import KubernetesBackend
import MeshModel
import Synchronization
import Testing

/// A stand-in cluster for the backend: objects kept by path, server-side apply stores the body,
/// the quota controller and the kubelet are played by filling in statuses.
final class FakeCluster: Sendable {
    let objects = Mutex<[String: Value]>([:])
    /// How many more GETs a deleted namespace is still seen by (it is Terminating meanwhile).
    let terminatingReads = Mutex<[String: Int]>([:])
    let podsReady: Bool
    let fillQuotaStatus: Bool

    init(podsReady: Bool = true, fillQuotaStatus: Bool = true) {
        self.podsReady = podsReady
        self.fillQuotaStatus = fillQuotaStatus
    }

    static func notFound(_ path: String) -> Answer {
        .json(#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","message":"\#(path) not found","code":404}"#, status: 404)
    }

    func handle(_ request: SeenRequest) throws -> Answer {
        switch request.method {
        case "PATCH":
            var object = try JSON.parse(request.body)
            if object["kind"] == "ResourceQuota", fillQuotaStatus { object["status"] = ["hard": object["spec"]!["hard"]!] }
            if object["kind"] == "Service", object["spec"]?["type"] == "LoadBalancer" {
                object["status"] = ["loadBalancer": ["ingress": [["ip": "127.0.0.1"]]]]
            }
            objects.withLock { $0[request.path] = object }
            return .json(object.json)
        case "POST" where request.path.hasSuffix("/token"):
            return .json(#"{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","status":{"token":"minted-token"}}"#, status: 201)
        case "DELETE":
            guard objects.withLock({ $0[request.path] }) != nil else { return Self.notFound(request.path) }
            terminatingReads.withLock { $0[request.path] = 2 }
            return .json(#"{"kind":"Status","status":"Success","code":200}"#)
        case "GET":
            if let remaining = terminatingReads.withLock({ $0[request.path] }) {
                if remaining == 0 {
                    objects.withLock { _ = $0.removeValue(forKey: request.path) }
                    return Self.notFound(request.path)
                }
                terminatingReads.withLock { $0[request.path] = remaining - 1 }
            }
            if let object = objects.withLock({ $0[request.path] }) { return .json(object.json) }
            let last = String(request.path.split(separator: "/").last ?? "")
            guard KubeResource.all.contains(where: { $0.plural == last }) else { return Self.notFound(request.path) }
            return .json(try list(request).json)
        default:
            return .json("{}", status: 405)
        }
    }

    /// A list: the objects directly under the path; pods made up from the Deployments.
    func list(_ request: SeenRequest) throws -> Value {
        let all = objects.withLock { $0 }
        if request.path.hasSuffix("/pods") {
            let namespacePath = request.path.replacingOccurrences(of: "/api/v1", with: "/apis/apps/v1").replacingOccurrences(of: "/pods", with: "/deployments")
            let pods: [Value] = all.filter { $0.key.hasPrefix(namespacePath + "/") }.sorted { $0.key < $1.key }.map { _, deployment in
                [
                    "metadata": [
                        "name": .string((deployment["metadata"]?["name"]?.stringValue ?? "") + "-0"),
                        "labels": deployment["spec"]?["template"]?["metadata"]?["labels"] ?? [:],
                    ],
                    "status": podsReady
                        ? ["phase": "Running", "conditions": [["type": "Ready", "status": "True"]]]
                        : [
                            "phase": "Pending",
                            "containerStatuses": [
                                [
                                    "name": "app", "image": "meshdojo/missing:0.1.0",
                                    "state": ["waiting": ["reason": "ImagePullBackOff", "message": "Back-off pulling image"]],
                                ]
                            ],
                        ],
                ]
            }
            return ["kind": "PodList", "metadata": ["resourceVersion": "1"], "items": .array(pods)]
        }
        var items = all.filter { key, _ in
            key.hasPrefix(request.path + "/") && !key.dropFirst(request.path.count + 1).contains("/")
        }.sorted { $0.key < $1.key }.map(\.value)
        if let selector = request.query["labelSelector"] {
            let wanted = selector.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
            items = items.filter { item in wanted.allSatisfy { item["metadata"]?["labels"]?[$0[0]] == .string($0[1]) } }
        }
        return ["kind": "List", "metadata": ["resourceVersion": "1"], "items": .array(items)]
    }
}

@Suite("the Kubernetes backend against a stand-in cluster")
struct BackendTests {
    static func configuration() -> KubernetesBackend.Configuration {
        var configuration = KubernetesBackend.Configuration(workshop: "istio-101")
        configuration.pollInterval = .milliseconds(20)
        configuration.quotaTimeout = .milliseconds(300)
        configuration.readyTimeout = .seconds(2)
        configuration.deletionTimeout = .seconds(2)
        return configuration
    }

    static let workload: Value = [
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "details-v1"],
        "spec": [
            "selector": ["matchLabels": ["app": "details"]],
            "template": ["metadata": ["labels": ["app": "details", "version": "v1"]]],
        ],
    ]

    @Test("provisioning applies the plan in order, waits for the quota, applies the workloads and waits for ready pods")
    func provision() async throws {
        let cluster = FakeCluster()
        try await withAPIServer({ try cluster.handle($0) }) { port, log in
            let backend = KubernetesBackend(client: try testClient(port), configuration: Self.configuration())
            try await backend.provision(ada, workloads: [Self.workload])
            let applied = log.all.filter { $0.method == "PATCH" }.map(\.path)
            #expect(applied == [
                "/api/v1/namespaces/student-ada",
                "/api/v1/namespaces/student-ada/resourcequotas/meshdojo-student",
                "/api/v1/namespaces/student-ada/limitranges/meshdojo-student",
                "/api/v1/namespaces/student-ada/serviceaccounts/meshdojo-student",
                "/apis/rbac.authorization.k8s.io/v1/namespaces/student-ada/roles/meshdojo-student",
                "/apis/rbac.authorization.k8s.io/v1/namespaces/student-ada/rolebindings/meshdojo-student",
                "/api/v1/namespaces/student-ada/serviceaccounts/istio-ingressgateway",
                "/apis/apps/v1/namespaces/student-ada/deployments/istio-ingressgateway",
                "/api/v1/namespaces/student-ada/services/istio-ingressgateway",
                "/apis/apps/v1/namespaces/student-ada/deployments/details-v1",
            ])
            // The quota was read back before the first workload went in.
            let paths = log.all.map { "\($0.method) \($0.path)" }
            let quotaRead = try #require(paths.firstIndex(of: "GET /api/v1/namespaces/student-ada/resourcequotas/meshdojo-student"))
            let firstWorkload = try #require(paths.firstIndex(of: "PATCH /api/v1/namespaces/student-ada/serviceaccounts/meshdojo-student"))
            #expect(quotaRead < firstWorkload)

            #expect(try await backend.ingressAddress(namespace: "student-ada") == IngressAddress(host: "127.0.0.1", port: 80))
            #expect(try await backend.students() == [ada])

            let kubeconfig = try await backend.studentKubeconfig(namespace: "student-ada")
            let config = try KubeConfig.parse(kubeconfig: kubeconfig)
            #expect(config.credentials == .token("minted-token") && config.namespace == "student-ada")

            try await backend.deleteStudent(namespace: "student-ada")
            #expect(log.all.contains { $0.method == "DELETE" && $0.path == "/api/v1/namespaces/student-ada" })
            #expect(try await backend.students().isEmpty)
        }
    }

    @Test("a quota the controller never counts, and pods that cannot pull their image, end the wait with a message")
    func failures() async throws {
        let uncounted = FakeCluster(fillQuotaStatus: false)
        try await withAPIServer({ try uncounted.handle($0) }) { port, _ in
            let backend = KubernetesBackend(client: try testClient(port), configuration: Self.configuration())
            let error = try await #require(throws: KubernetesBackendError.self) { try await backend.provision(ada) }
            guard case .quotaNotReady(let namespace, _) = error else {
                Issue.record("expected quotaNotReady, got \(error)")
                return
            }
            #expect(namespace == "student-ada")
            #expect(error.description.contains("quota controller"))
        }
        let unpullable = FakeCluster(podsReady: false)
        try await withAPIServer({ try unpullable.handle($0) }) { port, _ in
            let backend = KubernetesBackend(client: try testClient(port), configuration: Self.configuration())
            let error = try await #require(throws: KubernetesBackendError.self) { try await backend.provision(ada, workloads: [Self.workload]) }
            #expect(error.description.contains("cannot pull meshdojo/missing:0.1.0 (ImagePullBackOff)"), "\(error)")
            guard case .podsNotReady(_, _, let timedOut) = error else {
                Issue.record("expected podsNotReady, got \(error)")
                return
            }
            // That the wait ended on the pod's state, not on the deadline, is what says "at once".
            #expect(!timedOut, "an image that cannot be pulled ends the wait at once")
        }
    }

    @Test("the student's kubeconfig names the API server students reach; namespaces not the workshop's are left alone")
    func kubeconfigAndGuards() async throws {
        let cluster = FakeCluster()
        try await withAPIServer({ try cluster.handle($0) }) { port, log in
            var configuration = Self.configuration()
            configuration.studentAPIServer = "https://k8s.example.test:6443"
            configuration.studentCertificateAuthorityPEM = Array("PUBLIC-CA".utf8)
            let backend = KubernetesBackend(client: try testClient(port), configuration: configuration)
            let config = try KubeConfig.parse(kubeconfig: try await backend.studentKubeconfig(namespace: "student-ada"))
            #expect(config.server == "https://k8s.example.test:6443")
            #expect(config.certificateAuthorityPEM == Array("PUBLIC-CA".utf8))
            #expect(log.all.last?.path == "/api/v1/namespaces/student-ada/serviceaccounts/meshdojo-student/token")

            let client = try testClient(port)
            _ = try await client.apply(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "kube-system"]])
            let refused = try await #require(throws: KubernetesBackendError.self) { try await backend.deleteStudent(namespace: "kube-system") }
            #expect(refused.description.contains("is not a student namespace of workshop istio-101"))
            #expect(!log.all.contains { $0.method == "DELETE" })
            try await backend.deleteStudent(namespace: "student-gone")

            var other = ada
            other.workshop = "another"
            let wrongWorkshop = try await #require(throws: KubernetesBackendError.self) { try await backend.provision(other) }
            #expect(wrongWorkshop.description.contains("belongs to workshop another"))
        }
    }

    @Test("readiness names quota refusals and crashes; pods still starting are waited for")
    func readinessDiagnosis() {
        let deployment: Value = [
            "metadata": ["name": "reviews-v2"],
            "spec": ["replicas": 1, "selector": ["matchLabels": ["app": "reviews", "version": "v2"]]],
            "status": [
                "conditions": [
                    [
                        "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                        "message": "pods \"reviews-v2-abc\" is forbidden: exceeded quota: meshdojo-student, requested: requests.cpu=150m, used: requests.cpu=2400m, limited: requests.cpu=2400m",
                    ]
                ]
            ],
        ]
        let quota = KubernetesBackend.readiness(deployments: [deployment], pods: [])
        #expect(quota.fatal.count == 1)
        #expect(quota.fatal[0].contains("exceeded quota") && quota.fatal[0].contains("ResourceQuota is too small"))

        let starting: Value = [
            "metadata": ["name": "reviews-v2-abc", "labels": ["app": "reviews", "version": "v2"]],
            "status": ["containerStatuses": [["name": "reviews", "state": ["waiting": ["reason": "ContainerCreating"]]]]],
        ]
        var plain = deployment
        plain["status"] = nil
        let waiting = KubernetesBackend.readiness(deployments: [plain], pods: [starting])
        #expect(waiting.fatal.isEmpty)
        #expect(waiting.waiting.contains("Pod/reviews-v2-abc container reviews: ContainerCreating"))

        var crashing = starting
        crashing["status"] = ["containerStatuses": [["name": "reviews", "state": ["waiting": ["reason": "CrashLoopBackOff"]]]]]
        #expect(KubernetesBackend.readiness(deployments: [plain], pods: [crashing]).fatal.first?.contains("keeps crashing") == true)

        var ready = starting
        ready["status"] = ["conditions": [["type": "Ready", "status": "True"]]]
        #expect(KubernetesBackend.readiness(deployments: [plain], pods: [ready]).waiting.isEmpty)
    }

    @Test("the ingress address: the load balancer's IP or hostname, else the nodePort on the node address")
    func ingress() {
        var service = StudentProvisioning.gatewayService(ada)
        #expect(KubernetesBackend.ingressAddress(service: service, nodeAddress: nil) == nil)
        service["spec"]?["ports"] = [["name": "http2", "port": 80, "targetPort": 8080, "nodePort": 31080]]
        #expect(KubernetesBackend.ingressAddress(service: service, nodeAddress: "127.0.0.1") == IngressAddress(host: "127.0.0.1", port: 31080))
        service["status"] = ["loadBalancer": ["ingress": [["hostname": "lb.example.test"]]]]
        #expect(KubernetesBackend.ingressAddress(service: service, nodeAddress: "127.0.0.1")?.url == "http://lb.example.test:80")
        service["status"] = ["loadBalancer": ["ingress": [["ip": "::1"]]]]
        #expect(KubernetesBackend.ingressAddress(service: service, nodeAddress: nil)?.url == "http://[::1]:80")
    }

    @Test("students come back from namespace labels; other namespaces and terminating ones do not")
    func reconstruct() {
        #expect(KubernetesBackend.student(namespace: StudentProvisioning.namespace(ada)) == ada)
        var terminating = StudentProvisioning.namespace(ada)
        terminating["status"] = ["phase": "Terminating"]
        #expect(KubernetesBackend.student(namespace: terminating) == nil)
        #expect(KubernetesBackend.student(namespace: ["metadata": ["name": "default", "labels": ["kubernetes.io/metadata.name": "default"]]]) == nil)
        var withSystemLabel = StudentProvisioning.namespace(ada)
        withSystemLabel["metadata"]?["labels"]?["kubernetes.io/metadata.name"] = "student-ada"
        #expect(KubernetesBackend.student(namespace: withSystemLabel) == ada)
    }

    @Test("istiod's PILOT_SCOPE_GATEWAY_TO_NAMESPACE decides whether gateways are scoped")
    func scoping() {
        func istiod(_ env: Value) -> Value {
            ["spec": ["template": ["spec": ["containers": [["name": "discovery", "env": env]]]]]]
        }
        #expect(KubernetesBackend.gatewayScoping(istiod: istiod([["name": "PILOT_SCOPE_GATEWAY_TO_NAMESPACE", "value": "true"]])) == .scoped)
        #expect(KubernetesBackend.gatewayScoping(istiod: istiod([["name": "PILOT_SCOPE_GATEWAY_TO_NAMESPACE", "value": "false"]])) == .notScoped)
        #expect(KubernetesBackend.gatewayScoping(istiod: istiod([["name": "PILOT_TRACE_SAMPLING", "value": "1"]])) == .notScoped)
    }
}
