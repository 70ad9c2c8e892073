import AsyncHTTPClient
import Foundation
import LocalCluster
import MeshModel
import NIOCore
import Testing

/// The Kubernetes backend end to end. No Kubernetes API server can run on these machines, so a
/// running lab-runner's own Kubernetes API (the embedded engine behind real kubectl) stands in
/// for the cluster: a second runner, started with `--backend kubernetes --kubeconfig <the first
/// runner's instructor kubeconfig>`, provisions students into it, runs and grades labs through
/// its ingress, survives a restart and removes students.
///
/// What this proves: every request the backend makes (server-side apply, dry runs, merge patches,
/// lists, deletes, TokenRequest, quota and readiness waits) against a server that speaks the
/// Kubernetes API to real kubectl, and grading through the address the backend reads from
/// `Service/istio-ingressgateway`. What only a real cluster shows: RBAC and quota enforcement,
/// Istio's gateway injection and istiod's gateway scoping (the stand-in runs the student's
/// gateway with its own ingress Envoy).
@Suite("the Kubernetes backend against a running lab-runner's API", .serialized)
struct KubernetesBackendEndToEndTests {
    static func kubectl(_ kubeconfig: String, _ arguments: [String], cache: String) async throws -> CommandResult {
        let binary = try #require(Kubectl.versions.last, "kubectl is needed (scripts/test installs it)")
        return try await Command.run(binary, ["--kubeconfig", kubeconfig, "--cache-dir", cache] + arguments)
    }

    static func post(_ url: String, token: String, body: String? = nil) async throws -> (Int, Value) {
        try await RunnerTests.call(.POST, url, token: token, body: body)
    }

    @Test("a second runner provisions students into the first runner's API, grades them, survives its restart and removes them")
    func endToEnd() async throws {
        let cluster = try await RunnerProcess(portRange: "20000-20499")
        defer { kill(cluster.pid, SIGTERM) }
        let admin = try await cluster.kubeconfig()
        let cache = cluster.state + "/kube-cache"
        let state = NSTemporaryDirectory() + "meshdojo-k8s-runner-\(UUID().uuidString.prefix(8))"
        let arguments = ["--backend", "kubernetes", "--kubeconfig", admin, "--node-address", "127.0.0.1", "--workshop", "e2e"]
        var runner = try await RunnerProcess(state: state, arguments: arguments)
        defer { kill(runner.pid, SIGTERM) }
        let instructor = try runner.instructorToken

        // Registration provisions the namespace in the first runner, all by server-side apply.
        let (status, registration) = try await RunnerTests.call(
            .POST, "\(runner.base)/apis/meshdojo.dev/v1/register", token: nil, body: #"{"name":"dana","eventCode":"kubectl42"}"#)
        #expect(status == 201, "\(registration)")
        let token = try #require(registration["token"]?.stringValue)
        let namespace = try #require(registration["namespace"]?.stringValue)

        let labels = try await Self.kubectl(admin, ["get", "namespace", namespace, "-o", "jsonpath={.metadata.labels}"], cache: cache)
        #expect(labels.status == 0, "\(labels)")
        #expect(labels.output.contains(#""istio-injection":"enabled""#) && labels.output.contains(#""meshdojo.dev/workshop":"e2e""#), "\(labels)")
        let provisioned = try await Self.kubectl(
            admin, ["get", "serviceaccount,role,rolebinding,resourcequota,limitrange,deployment,service", "-n", namespace, "-o", "name"], cache: cache)
        #expect(provisioned.status == 0, "\(provisioned)")
        for object in [
            "serviceaccount/meshdojo-student", "role.rbac.authorization.k8s.io/meshdojo-student", "rolebinding.rbac.authorization.k8s.io/meshdojo-student",
            "resourcequota/meshdojo-student", "limitrange/meshdojo-student", "deployment.apps/istio-ingressgateway", "service/istio-ingressgateway",
            "deployment.apps/productpage-v1", "deployment.apps/reviews-v3", "service/ratings",
        ] {
            #expect(provisioned.output.contains(object), "\(object) is missing: \(provisioned)")
        }
        let quota = try await Self.kubectl(admin, ["get", "resourcequota", "meshdojo-student", "-n", namespace, "-o", "jsonpath={.status.hard.pods}"], cache: cache)
        #expect(quota.status == 0 && !quota.output.isEmpty, "the quota's status is filled in: \(quota)")

        // A lab, started, solved and graded by the second runner through the first one's ingress.
        let labs = "\(runner.base)/apis/meshdojo.dev/v1/namespaces/\(namespace)/labs/01-request-routing"
        let started = try await Self.post("\(labs)/start", token: token)
        #expect(started.0 == 200, "\(started.1)")
        let failing = try await Self.post("\(labs)/check", token: token)
        #expect(failing.0 == 200 && failing.1["passed"] == .bool(false), "\(failing.1)")
        let solved = try await Self.post("\(labs)/solve", token: token)
        #expect(solved.0 == 200, "\(solved.1)")
        let passing = try await Self.post("\(labs)/check", token: token)
        #expect(passing.0 == 200 && passing.1["passed"] == .bool(true), "\(passing.1)")

        // A refused manifest changes nothing, and says which field.
        let virtualServices = try await Self.kubectl(admin, ["get", "virtualservices", "-n", namespace, "-o", "yaml"], cache: cache)
        let bad = #"{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"reviews"},"spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"subset":"v1"}}]}]}}"#
        let refused = try await Self.post("\(runner.base)/apis/meshdojo.dev/v1/namespaces/\(namespace)/apply", token: token, body: bad)
        #expect(refused.0 == 422, "\(refused.1)")
        #expect(refused.1["message"]?.stringValue?.contains("host") == true, "\(refused.1)")
        let after = try await Self.kubectl(admin, ["get", "virtualservices", "-n", namespace, "-o", "yaml"], cache: cache)
        #expect(after.output == virtualServices.output)
        // An API the backend does not write to a cluster is refused before the cluster is asked.
        let old = #"{"apiVersion":"extensions/v1beta1","kind":"Deployment","metadata":{"name":"old"},"spec":{"template":{"spec":{"containers":[{"name":"a","image":"meshdojo/details:0.1.0"}]}}}}"#
        let unknown = try await Self.post("\(runner.base)/apis/meshdojo.dev/v1/namespaces/\(namespace)/apply", token: token, body: old)
        #expect(unknown.0 == 422 && unknown.1["message"]?.stringValue?.contains("extensions/v1beta1") == true, "\(unknown.1)")

        // The student's own kubeconfig (a TokenRequest token) works in their namespace only.
        let (infoStatus, info) = try await RunnerTests.call(.GET, "\(runner.base)/apis/meshdojo.dev/v1/cluster-info", token: token)
        #expect(infoStatus == 200, "\(info)")
        let studentConfig = state + "/student-kubeconfig"
        try #require(info["kubeconfig"]?.stringValue).write(toFile: studentConfig, atomically: true, encoding: .utf8)
        let own = try await Self.kubectl(studentConfig, ["get", "pods", "-o", "name"], cache: cache)
        #expect(own.status == 0 && own.output.contains("pod/productpage-v1-"), "\(own)")
        let other = try await Self.kubectl(studentConfig, ["get", "pods", "-n", "default"], cache: cache)
        #expect(other.status != 0 && other.all.contains("Forbidden"), "\(other)")

        // A restarted runner finds its student and grades the step they passed again.
        await runner.stop()
        runner = try await RunnerProcess(state: state, arguments: arguments)
        let again = try await Self.post("\(runner.base)/apis/meshdojo.dev/v1/namespaces/\(namespace)/labs/01-request-routing/check?check=all-v1", token: token)
        #expect(again.0 == 200 && again.1["passed"] == .bool(true), "\(again.1)")

        // Removing the student deletes their namespace (and waits for it); so does ending the workshop.
        let (removed, reply) = try await RunnerTests.call(.DELETE, "\(runner.base)/apis/meshdojo.dev/v1/students/dana", token: instructor)
        #expect(removed == 200, "\(reply)")
        let gone = try await Self.kubectl(admin, ["get", "namespace", namespace], cache: cache)
        #expect(gone.status != 0 && gone.all.contains("NotFound"), "\(gone)")
        for name in ["emi", "fumi"] {
            let (added, _) = try await RunnerTests.call(
                .POST, "\(runner.base)/apis/meshdojo.dev/v1/register", token: nil, body: #"{"name":"\#(name)","eventCode":"kubectl42"}"#)
            #expect(added == 201)
        }
        let (ended, endReply) = try await RunnerTests.call(.DELETE, "\(runner.base)/apis/meshdojo.dev/v1/students", token: instructor)
        #expect(ended == 200 && endReply["removed"]?.arrayValue?.count == 2, "\(endReply)")
        let left = try await Self.kubectl(admin, ["get", "namespaces", "-l", "meshdojo.dev/workshop=e2e", "-o", "name"], cache: cache)
        #expect(left.status == 0 && left.output.isEmpty, "\(left)")
        await runner.stop()
        await cluster.stop()
    }
}
