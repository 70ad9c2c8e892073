import Foundation
import KubernetesBackend
import MeshModel
import Testing

/// The student every golden file is made for.
let ada = StudentSpec(
    namespace: "student-ada", studentID: "ada", studentName: "Ada Lovelace", workshop: "istio-101",
    labels: ["meshdojo.dev/cohort": "2026-12"])

/// Compares `value` (keys sorted, indented) with `Resources/golden/<name>.json`; with
/// REFRESH_GOLDEN=1 writes the file in the source folder instead.
func expectGolden(_ value: Value, _ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    try expectGolden(text: value.sortedKeys.prettyJSON, file: "\(name).json", sourceLocation: sourceLocation)
}

/// Compares `text` with `Resources/golden/<file>`; with REFRESH_GOLDEN=1 writes it instead.
func expectGolden(text: String, file: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    if ProcessInfo.processInfo.environment["REFRESH_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(atPath: testSourceDirectory + "/Resources/golden", withIntermediateDirectories: true)
        try text.write(toFile: testSourceDirectory + "/Resources/golden/" + file, atomically: true, encoding: .utf8)
        return
    }
    guard let golden = FileManager.default.contents(atPath: resource("golden/" + file)) else {
        Issue.record("no golden file \(file): run the tests once with REFRESH_GOLDEN=1", sourceLocation: sourceLocation)
        return
    }
    #expect(String(decoding: golden, as: UTF8.self) == text, "\(file) differs; REFRESH_GOLDEN=1 rewrites it", sourceLocation: sourceLocation)
}

@Suite("per-student provisioning objects")
struct ProvisioningTests {
    @Test("every object of the plan is pinned by a golden file")
    func golden() throws {
        let plan = try StudentProvisioning.plan(ada)
        var names: [String] = []
        for step in plan {
            for object in step.objects {
                let name = "\(step.name.rawValue)-\(object["kind"]!.stringValue!.lowercased())-\(object["metadata"]!["name"]!.stringValue!)"
                names.append(name)
                try expectGolden(object, name)
            }
        }
        #expect(names == [
            "namespace-namespace-student-ada",
            "quota-resourcequota-meshdojo-student", "quota-limitrange-meshdojo-student",
            "rbac-serviceaccount-meshdojo-student", "rbac-role-meshdojo-student", "rbac-rolebinding-meshdojo-student",
            "gateway-serviceaccount-istio-ingressgateway", "gateway-deployment-istio-ingressgateway", "gateway-service-istio-ingressgateway",
        ])
        try expectGolden(
            text: StudentProvisioning.kubeconfig(
                server: "https://203.0.113.10:6443", certificateAuthorityPEM: Array("-----BEGIN CERTIFICATE-----\n".utf8),
                namespace: "student-ada", token: "eyJ.token"),
            file: "student-kubeconfig.yaml")
    }

    @Test("apply order: namespace, then quota and limit range, then RBAC, then the gateway")
    func order() throws {
        let plan = try StudentProvisioning.plan(ada)
        #expect(plan.map(\.name) == [.namespace, .quota, .rbac, .gateway])
        #expect(plan[1].objects.map { $0["kind"] } == ["ResourceQuota", "LimitRange"])
        #expect(plan[2].objects.map { $0["kind"] } == ["ServiceAccount", "Role", "RoleBinding"])
        #expect(plan[3].objects.map { $0["kind"] } == ["ServiceAccount", "Deployment", "Service"])
        for step in plan.dropFirst() {
            for object in step.objects { #expect(object["metadata"]?["namespace"] == "student-ada") }
        }
    }

    @Test("the namespace carries the injection label, the workshop's and the student's labels, and the name as an annotation")
    func namespaceLabels() throws {
        let namespace = StudentProvisioning.namespace(ada)
        let labels = namespace["metadata"]?["labels"]
        #expect(labels?["istio-injection"] == "enabled")
        #expect(labels?["meshdojo.dev/workshop"] == "istio-101")
        #expect(labels?["meshdojo.dev/student"] == "ada")
        #expect(labels?["app.kubernetes.io/managed-by"] == "meshdojo")
        #expect(labels?["meshdojo.dev/cohort"] == "2026-12")
        #expect(namespace["metadata"]?["annotations"]?["meshdojo.dev/student-name"] == "Ada Lovelace")
        #expect(StudentProvisioning.workshopSelector("istio-101") == "app.kubernetes.io/managed-by=meshdojo,meshdojo.dev/workshop=istio-101")
    }

    @Test("the gateway is injected by Istio's gateway template and exposed as istio-ingressgateway, 80 → 8080 and 15021")
    func gateway() throws {
        let deployment = StudentProvisioning.gatewayDeployment(ada)
        let template = deployment["spec"]?["template"]
        #expect(template?["metadata"]?["annotations"]?["inject.istio.io/templates"] == "gateway")
        #expect(template?["metadata"]?["labels"]?["istio"] == "ingressgateway")
        #expect(template?["metadata"]?["labels"]?["sidecar.istio.io/inject"] == "true")
        #expect(template?["spec"]?["containers"]?.arrayValue?.first?["image"] == "auto")
        let service = StudentProvisioning.gatewayService(ada)
        #expect(service["metadata"]?["name"] == "istio-ingressgateway")
        #expect(service["spec"]?["type"] == "LoadBalancer")
        let ports = service["spec"]?["ports"]?.arrayValue ?? []
        #expect(ports.map { $0["name"] } == ["http2", "status-port"])
        #expect(ports.map { $0["port"] } == [80, 15021])
        #expect(ports.map { $0["targetPort"] } == [8080, 15021])
    }

    @Test("the Role stays in the namespace and grants only what the lab-runner itself holds (RBAC escalation prevention)")
    func roleWithinRunner() {
        let granted = LeastPrivilege.permissions(of: StudentProvisioning.studentRoleRules)
        #expect(granted.isSubset(of: LeastPrivilege.permissions), "\(granted.subtracting(LeastPrivilege.permissions).sorted())")
        #expect(!granted.contains { $0.resource == "namespaces" || $0.resource.hasPrefix("roles") || $0.resource.hasPrefix("secrets") })
        #expect(granted.contains(Permission(apiGroup: "", resource: "pods/log", verb: "get")))
        #expect(!granted.contains(Permission(apiGroup: "apps", resource: "deployments", verb: "patch")))
        let role = StudentProvisioning.role(ada)
        #expect(role["kind"] == "Role")
    }

    @Test("the quota holds bookinfo's six pods and the gateway, each with its sidecar, through a rolling restart")
    func quotaFitsSidecars() {
        func millicores(_ text: String) -> Int { text.hasSuffix("m") ? Int(text.dropLast())! : Int(text)! * 1000 }
        func mebibytes(_ text: String) -> Int { text.hasSuffix("Gi") ? Int(text.dropLast(2))! * 1024 : Int(text.dropLast(2))! }
        let hard = Dictionary(uniqueKeysWithValues: StudentProvisioning.quotaHard)
        let request = Dictionary(uniqueKeysWithValues: StudentProvisioning.containerDefaultRequest)
        let max = Dictionary(uniqueKeysWithValues: StudentProvisioning.containerMax)
        // Istio's default istio-proxy resources.
        let sidecarCPU = 100, sidecarMemory = 128, sidecarLimitCPU = 2000, sidecarLimitMemory = 1024
        let bookinfoPod = (millicores(request["cpu"]!) + sidecarCPU, mebibytes(request["memory"]!) + sidecarMemory)
        let gatewayPod = (sidecarCPU, sidecarMemory)
        // Steady state and a restart of every Deployment with one surge pod each.
        let pods = 6 + 1 + 6 + 1
        let cpu = 12 * bookinfoPod.0 + 2 * gatewayPod.0
        let memory = 12 * bookinfoPod.1 + 2 * gatewayPod.1
        #expect(Int(hard["pods"]!)! >= pods)
        #expect(millicores(hard["requests.cpu"]!) >= cpu)
        #expect(mebibytes(hard["requests.memory"]!) >= memory)
        // A quota sized for the applications alone would not do: the sidecars double what is needed.
        #expect(millicores(hard["requests.cpu"]!) >= 2 * 7 * millicores(request["cpu"]!))
        #expect(millicores(max["cpu"]!) >= sidecarLimitCPU && mebibytes(max["memory"]!) >= sidecarLimitMemory)
        #expect(hard["limits.cpu"] == nil && hard["limits.memory"] == nil)
    }

    @Test("names and labels that Kubernetes would refuse are refused up front, in plain words")
    func validation() {
        func refusal(_ student: StudentSpec) -> String? {
            do {
                _ = try StudentProvisioning.plan(student)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(refusal(StudentSpec(namespace: "Student_Ada", studentID: "ada", studentName: "", workshop: "w"))?.contains("not a DNS label") == true)
        #expect(refusal(StudentSpec(namespace: "s-1", studentID: "エイダ", studentName: "エイダ", workshop: "w"))?.contains("student id") == true)
        #expect(refusal(StudentSpec(namespace: "s-1", studentID: "a", studentName: "", workshop: "w", labels: ["istio-injection": "disabled"]))?
            .contains("MeshDojo's own") == true)
        #expect(refusal(StudentSpec(namespace: "s-1", studentID: "a", studentName: "エイダ・ラブレス", workshop: "w")) == nil)
    }

    @Test("the student's kubeconfig reads back as a context in their namespace with their token")
    func kubeconfigRoundTrip() throws {
        let pem = try #require(FileManager.default.contents(atPath: resource("tls/ca.crt")))
        let text = StudentProvisioning.kubeconfig(
            server: "https://127.0.0.1:6443", certificateAuthorityPEM: Array(pem), namespace: "student-ada", token: "eyJ.token")
        let config = try KubeConfig.parse(kubeconfig: text)
        #expect(config.server == "https://127.0.0.1:6443")
        #expect(config.namespace == "student-ada")
        #expect(config.credentials == .token("eyJ.token"))
        #expect(config.certificateAuthorityPEM == Array(pem))
    }
}
