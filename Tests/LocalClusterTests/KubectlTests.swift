import Foundation
import LocalCluster
import MeshModel
import Testing

/// Istio's tutorial, typed as a learner types it, with real kubectl (the oldest and the newest
/// on the machine) against a running lab-runner, and Istio's own samples (1.0.6 and current).
@Suite("real kubectl against the lab-runner", .serialized)
struct KubectlTests {
    static let samples = MeshFixture.shared + "/istio-samples"

    struct Session {
        let kubectl: String
        let config: String
        let cache: String
        let namespace: String

        func run(_ arguments: String..., input: String? = nil) async throws -> CommandResult {
            try await Command.run(kubectl, ["--kubeconfig", config, "--cache-dir", cache, "-n", namespace] + arguments, input: input)
        }

        /// Runs and requires exit 0.
        @discardableResult
        func ok(_ arguments: String..., sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws -> String {
            let result = try await Command.run(kubectl, ["--kubeconfig", config, "--cache-dir", cache, "-n", namespace] + arguments)
            #expect(result.status == 0, "kubectl \(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
            return result.output
        }
    }

    static var cases: [(String, String)] {
        let kubectls = Kubectl.oldestAndNewest
        guard let oldest = kubectls.first, let newest = kubectls.last else { return [] }
        // The oldest kubectl with the 1.0.6 samples, the newest with the current ones.
        return [(oldest, "1.0.6"), (newest, "current")]
    }

    /// The page's reviews version, as the grader classifies it.
    static func page(_ url: String) async throws -> String {
        try await Browser.get(url + "/productpage").outcome
    }

    @Test("kubectl apply prints the server's warnings as Warning: lines, at once: a VirtualService before its DestinationRule", arguments: Kubectl.oldestAndNewest)
    func applyWarnings(kubectl: String) async throws {
        let runner = try await RunnerProcess()
        defer { Task { await runner.stop() } }
        let k = Session(kubectl: kubectl, config: try await runner.kubeconfig(), cache: runner.state + "/kube-cache", namespace: "warned")
        try await k.ok("create", "namespace", "warned")
        try await k.ok("apply", "-f", MeshFixture.repoRoot + "/bookinfo/platform/kube/bookinfo.yaml")
        let early = try await k.run("apply", "-f", MeshFixture.repoRoot + "/bookinfo/networking/virtual-service-all-v1.yaml")
        #expect(early.status == 0, "a warning does not refuse the apply: \(early)")
        let warnings = early.error.split(separator: "\n").filter { $0.hasPrefix("Warning: ") }
        #expect(warnings.contains { $0.contains("subset 'v1'") && $0.contains("reviews") }, "\(early)")
        #expect(Set(warnings).count == warnings.count, "each warning once: \(early)")
        #expect(try await k.ok("get", "vs", "reviews", "-o", "jsonpath={.metadata.name}") == "reviews")
        // With the subsets defined, the same apply is quiet.
        try await k.ok("apply", "-f", MeshFixture.repoRoot + "/bookinfo/networking/destination-rule-all.yaml")
        let again = try await k.run("apply", "-f", MeshFixture.repoRoot + "/bookinfo/networking/virtual-service-all-v1.yaml")
        #expect(again.status == 0 && !again.error.contains("subset 'v1'"), "\(again)")
    }

    @Test(
        "the tutorial's kubectl commands work, unchanged, against the workshop",
        .enabled(if: FileManager.default.fileExists(atPath: KubectlTests.samples), "../shared/istio-samples is absent: Istio's own samples cannot be applied"),
        arguments: KubectlTests.cases)
    func tutorial(kubectl: String, era: String) async throws {
        let runner = try await RunnerProcess()
        defer { Task { await runner.stop() } }
        let dir = Self.samples + "/" + era
        let k = Session(kubectl: kubectl, config: try await runner.kubeconfig(), cache: runner.state + "/kube-cache", namespace: "tutorial")
        let version = try await k.ok("version")
        #expect(version.contains("Server Version") && version.contains("\(30)"), "\(version)")

        // kubectl create namespace; kubectl label namespace … istio-injection=enabled
        try await k.ok("create", "namespace", "tutorial")
        #expect(try await k.ok("label", "namespace", "tutorial", "istio-injection=enabled").contains("namespace/tutorial labeled"))
        #expect(try await k.ok("get", "namespace", "tutorial", "--show-labels").contains("istio-injection=enabled"))

        // kubectl apply -f samples/bookinfo/platform/kube/bookinfo.yaml
        let applied = try await k.ok("apply", "-f", dir + "/bookinfo.yaml")
        #expect(applied.contains("reviews-v3 created") && applied.contains("service/productpage created"), "\(applied)")
        for deployment in ["details-v1", "ratings-v1", "reviews-v1", "reviews-v2", "reviews-v3", "productpage-v1"] {
            try await k.ok("rollout", "status", "deployment/\(deployment)", "--timeout=90s")
        }
        let pods = try await k.ok("get", "pods")
        let rows = pods.split(separator: "\n").dropFirst()
        #expect(rows.count == 6, "\(pods)")
        #expect(rows.allSatisfy { $0.contains(" 2/2 ") && $0.contains("Running") }, "\(pods)")
        let all = try await k.ok("get", "all")
        for kind in ["pod/productpage-v1-", "service/reviews", "deployment.apps/reviews-v2", "replicaset.apps/ratings-v1-", "service/istio-ingressgateway"] {
            #expect(all.contains(kind), "get all lists \(kind)")
        }

        // The gateway, and the address of the namespace's ingress.
        try await k.ok("apply", "-f", dir + "/bookinfo-gateway.yaml")
        #expect(try await k.ok("get", "gateway").contains("bookinfo-gateway"))
        let ip = try await k.ok("get", "svc", "istio-ingressgateway", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")
        let port = try await k.ok("get", "svc", "istio-ingressgateway", "-o", "jsonpath={.spec.ports[0].port}")
        #expect(ip == "127.0.0.1")
        let ingress = "http://\(ip):\(port)"
        let yaml = try await k.ok("get", "virtualservice", "-o", "yaml")
        #expect(yaml.contains("kind: List") && yaml.contains("name: bookinfo"))

        // Routing through the ingress: all v1, then v3 (red stars).
        try await k.ok("apply", "-f", dir + "/destination-rule-all.yaml")
        try await k.ok("apply", "-f", dir + "/virtual-service-all-v1.yaml")
        #expect(try await k.ok("get", "destinationrules", "-o", "yaml").contains("subsets"))
        for _ in 0..<6 { #expect(try await Self.page(ingress) == "v1") }
        try await k.ok("apply", "-f", dir + "/virtual-service-reviews-v3.yaml")
        for _ in 0..<4 { #expect(try await Self.page(ingress) == "v3") }

        // Server-side apply: a conflict with the client-side applier, then forced.
        let conflict = try await k.run("apply", "--server-side", "-f", dir + "/virtual-service-reviews-50-v3.yaml")
        #expect(conflict.status != 0 && conflict.all.contains("conflict"), "\(conflict)")
        try await k.ok("apply", "--server-side", "--force-conflicts", "-f", dir + "/virtual-service-reviews-50-v3.yaml")
        #expect(try await k.ok("get", "vs", "reviews", "-o", "jsonpath={.spec.http[0].route[*].weight}") == "50 50")

        // A manifest Istio refuses: non-zero exit, the field named, nothing changed.
        let bad = runner.state + "/bad-weights.yaml"
        try """
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews, subset: v1}
                  weight: 150
                - destination: {host: reviews, subset: v3}
                  weight: -50
            """.write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await k.run("apply", "-f", bad)
        #expect(refused.status != 0, "\(refused)")
        #expect(refused.all.contains("validation.istio.io") && refused.all.contains("spec.http[0].route[1].weight"), "\(refused)")
        #expect(try await k.ok("get", "vs", "reviews", "-o", "jsonpath={.spec.http[0].route[*].weight}") == "50 50")
        let typo = try await k.run("apply", "-f", "-", input: "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: typo}\nspec: {host: reviews, subset: [{name: v1}]}\n")
        #expect(typo.status != 0 && typo.all.contains("unknown field \"spec.subset\""), "\(typo)")

        // describe, logs, delete pod (replaced under a new name).
        let pod = try await k.ok("get", "pods", "-l", "app=ratings", "-o", "jsonpath={.items[0].metadata.name}")
        let described = try await k.ok("describe", "pod", pod)
        for text in ["Controlled By:  ReplicaSet/ratings-v1-", "istio-proxy:", "Ready:          True", "Events:", "Started container ratings"] {
            #expect(described.contains(text), "describe pod shows \(text)")
        }
        #expect(try await k.ok("logs", pod, "-c", "ratings").contains("listening"))
        // Envoy writes its access log every half second.
        var proxy = ""
        let logDeadline = ContinuousClock.now + .seconds(5)
        repeat {
            _ = try await Self.page(ingress)
            proxy = try await k.ok("logs", pod, "-c", "istio-proxy")
        } while !proxy.contains("[\(pod) inbound]") && ContinuousClock.now < logDeadline
        #expect(proxy.contains("[\(pod) inbound]") && proxy.contains("GET"), "the sidecar's access log: \(proxy.suffix(300))")
        #expect(try await k.ok("delete", "pod", pod).contains("pod \"\(pod)\" deleted"))
        try await k.ok("rollout", "status", "deployment/ratings-v1", "--timeout=60s")
        let replacement = try await k.ok("get", "pods", "-l", "app=ratings", "-o", "jsonpath={.items[*].metadata.name}")
        #expect(!replacement.isEmpty && replacement != pod && replacement.hasPrefix("ratings-v1-"))

        // explain reads Istio's own field documentation.
        let explained = try await k.ok("explain", "virtualservice.spec.http.fault")
        #expect(explained.contains("KIND:") && explained.contains("VirtualService"))
        if FileManager.default.fileExists(atPath: MeshFixture.shared + "/istio-crds/networking.yaml") {
            #expect(explained.contains("Fault injection"), "\(explained)")
        }

        // delete -f removes what the file holds.
        #expect(try await k.ok("delete", "-f", dir + "/destination-rule-all.yaml").contains("deleted"))
        #expect(try await k.run("get", "dr", "reviews").all.contains("NotFound"))

        // Another learner's namespace is Forbidden; their own works.
        let (token, namespace) = try await RunnerTests.register(runner.base, "kim-\(era.replacingOccurrences(of: ".", with: ""))", eventCode: "kubectl42")
        let learner = Session(kubectl: kubectl, config: try await runner.kubeconfig(instructor: false, token: token), cache: runner.state + "/kube-cache-learner", namespace: namespace)
        let foreign = try await Command.run(kubectl, ["--kubeconfig", learner.config, "--cache-dir", learner.cache, "get", "pods", "-n", "tutorial"])
        #expect(foreign.status != 0 && foreign.all.contains("Forbidden"), "\(foreign)")
        let own = try await Command.run(kubectl, ["--kubeconfig", learner.config, "--cache-dir", learner.cache, "get", "pods"])
        #expect(own.status == 0, "\(own)")
        let smuggle = try await Command.run(kubectl, ["--kubeconfig", learner.config, "--cache-dir", learner.cache, "apply", "-n", "tutorial", "-f", dir + "/virtual-service-all-v1.yaml"])
        #expect(smuggle.status != 0 && smuggle.all.contains("Forbidden"), "\(smuggle)")
        await runner.stop()
    }
}
