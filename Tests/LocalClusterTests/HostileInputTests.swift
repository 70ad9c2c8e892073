import AsyncHTTPClient
import Foundation
import LabRunner
import LabStore
import LocalCluster
import MeshModel
import NIOCore
import NIOHTTP1
import Testing

/// One student must never break the class: what a curious or hostile student sends is refused
/// with a clear 4xx, never crashes the runner, and never touches another namespace.
@Suite("hostile input", .serialized)
struct HostileInputTests {
    static func virtualService(_ name: String, namespace: String? = nil, weights: (String, String) = ("100", "0"), timeout: String? = nil) -> String {
        """
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: \(name)\(namespace.map { "\n  namespace: \($0)" } ?? "")
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v1}
              weight: \(weights.0)
            - destination: {host: reviews, subset: v3}
              weight: \(weights.1)\(timeout.map { "\n    timeout: \($0)" } ?? "")
        """
    }

    static let reviewsRule = """
        apiVersion: networking.istio.io/v1alpha3
        kind: DestinationRule
        metadata: {name: reviews}
        spec:
          host: reviews
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v3, labels: {version: v3}}
        """

    static func post(_ url: String, token: String?, body: String) async throws -> (Int, Value, Double) {
        let start = ContinuousClock.now
        let (status, value) = try await RunnerTests.call(.POST, url, token: token, body: body)
        return (status, value, (ContinuousClock.now - start).seconds)
    }

    @Test("bodies that smuggle another namespace or a Namespace are refused, whatever their first bytes")
    func crossNamespaceBodies() async throws {
        let cluster = try await MeshFixture.cluster.value
        try await RunnerTests.withRunner(cluster: cluster, store: MemoryLabStore()) { base, _ in
            let mallory = try await RunnerTests.register(base, "mallory")
            let victim = try await RunnerTests.register(base, "victim")
            defer { Task { try? await MeshFixture.cleanUp(mallory.namespace); try? await MeshFixture.cleanUp(victim.namespace) } }
            let apply = "\(base)/apis/meshdojo.dev/v1/namespaces/\(mallory.namespace)/apply"
            let delete = "\(base)/apis/meshdojo.dev/v1/namespaces/\(mallory.namespace)/delete"
            let other = Self.virtualService("reviews", namespace: victim.namespace)
            let bodies = [
                "files: []\n---\n" + other,
                other,
                #"{"files": [{"name": "a.yaml", "text": "\#(other.replacingOccurrences(of: "\n", with: "\\n"))"}]}"#,
                "files: []\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: \(victim.namespace)}\n",
                "apiVersion: v1\nkind: Namespace\nmetadata: {name: brand-new}\n",
            ]
            for body in bodies {
                // Refused: 403 for an object of another namespace, 422 for a document that is no object.
                let applied = try await Self.post(apply, token: mallory.token, body: body).0
                #expect(applied == 403 || applied == 422, "apply: \(body.prefix(40))")
                let deleted = try await Self.post(delete, token: mallory.token, body: body).0
                #expect(deleted == 403 || deleted == 422, "delete: \(body.prefix(40))")
            }
            #expect(try await Self.post(apply, token: mallory.token, body: other).0 == 403)
            // A body that cannot be parsed is refused, not let through.
            #expect(try await Self.post(apply, token: mallory.token, body: "files: [\n  - {").0 == 422)
            #expect(await cluster.object(kind: "VirtualService", name: "reviews", namespace: victim.namespace) == nil)
            #expect(await cluster.namespace(victim.namespace) != nil)
            #expect(await cluster.namespace("brand-new") == nil)
            // The Kubernetes API: a body naming another namespace on the student's own path.
            let kubePath = "\(base)/apis/networking.istio.io/v1alpha3/namespaces/\(mallory.namespace)/virtualservices"
            let (status, reply) = try await RunnerTests.call(.POST, kubePath, token: mallory.token, body: other)
            #expect(status == 400 || status == 403, "\(reply)")
            #expect(await cluster.object(kind: "VirtualService", name: "reviews", namespace: victim.namespace) == nil)
        }
    }

    @Test("the manifests that crashed the runner are refused in well under a second, naming the field")
    func crashManifests() async throws {
        let cluster = try await MeshFixture.cluster.value
        try await RunnerTests.withRunner(cluster: cluster, store: MemoryLabStore()) { base, _ in
            let student = try await RunnerTests.register(base, "crasher")
            defer { Task { try? await MeshFixture.cleanUp(student.namespace) } }
            let apply = "\(base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/apply"
            #expect(try await Self.post(apply, token: student.token, body: Self.reviewsRule).0 == 200)
            let cases: [(String, String)] = [
                (Self.virtualService("big", weights: ("9223372036854775807", "1")), "weight"),
                (Self.virtualService("wide", weights: ("1099511627776", "1")), "weight"),
                (Self.virtualService("sum", weights: ("4294967295", "4294967295")), "route"),
                (Self.virtualService("huge", timeout: "400000000000s"), "timeout"),
            ]
            for (body, field) in cases {
                let (status, reply, seconds) = try await Self.post(apply, token: student.token, body: body)
                #expect(status == 422, "\(reply)")
                #expect(reply.json.contains(field), "\(reply)")
                #expect(seconds < 1, "refused in \(seconds) s")
            }
            // A timeout of 317 years is a valid protobuf duration, as in Istio: taken, not a crash.
            #expect(try await Self.post(apply, token: student.token, body: Self.virtualService("long", timeout: "10000000000s")).0 == 200)
            // replicas: -1 on an existing Deployment, 25 replicas, an env the engine must not pass on.
            let deployment = { (replicas: String, env: String) in
                """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: ratings-v1}
                spec:
                  replicas: \(replicas)
                  selector: {matchLabels: {app: ratings, version: v1}}
                  template:
                    metadata: {labels: {app: ratings, version: v1}}
                    spec:
                      containers:
                      - name: ratings
                        image: meshdojo/ratings:latest
                        env: [{name: \(env), value: x}]
                """
            }
            #expect(try await Self.post(apply, token: student.token, body: deployment("1", "SERVICE_VERSION")).0 == 200)
            for (replicas, env, text) in [("-1", "SERVICE_VERSION", "negative"), ("25", "SERVICE_VERSION", "at most"), ("1", "LD_PRELOAD", "LD_PRELOAD")] {
                let (status, reply, _) = try await Self.post(apply, token: student.token, body: deployment(replicas, env))
                #expect(status == 422 && reply.json.contains(text), "\(reply)")
            }
            // Names Kubernetes refuses, and one object twice in one apply.
            #expect(try await Self.post(apply, token: student.token, body: Self.virtualService("a..b")).0 == 422)
            let twice = Self.virtualService("same") + "\n---\n" + Self.virtualService("same")
            let (status, reply, _) = try await Self.post(apply, token: student.token, body: twice)
            #expect(status == 422 && reply.json.contains("twice in this file"), "\(reply)")
            #expect(try await RunnerTests.call(.GET, "\(base)/healthz", token: nil).0 == 200)
            #expect(await cluster.object(kind: "Deployment", name: "ratings-v1", namespace: student.namespace)?.spec["replicas"] == 1)
        }
    }

    @Test("an alias bomb is refused in under a second without costing 100 MiB, with or without a token")
    func aliasBomb() async throws {
        var text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...7 { text += "\(Character(UnicodeScalar(97 + level)!)): &\(Character(UnicodeScalar(97 + level)!)) [" + Array(repeating: "*\(Character(UnicodeScalar(96 + level)!))", count: 10).joined(separator: ", ") + "]\n" }
        let bomb = text
        let cluster = try await MeshFixture.cluster.value
        try await RunnerTests.withRunner(cluster: cluster, store: MemoryLabStore()) { base, _ in
            let student = try await RunnerTests.register(base, "bomber")
            defer { Task { try? await MeshFixture.cleanUp(student.namespace) } }
            let before = Self.residentMiB()
            let (registerStatus, _, registerSeconds) = try await Self.post("\(base)/apis/meshdojo.dev/v1/register", token: nil, body: bomb)
            #expect(registerStatus == 400 && registerSeconds < 1)
            let (status, reply, seconds) = try await Self.post("\(base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/apply", token: student.token, body: bomb)
            #expect(status == 422 && reply.json.contains("expands to more than"), "\(reply)")
            #expect(seconds < 1)
            #expect(Self.residentMiB() - before < 100)
        }
    }

    static func residentMiB() -> Double {
        let fields = ((try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "").split(separator: " ")
        return Double(fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * 4096 / 1_048_576
    }

    @Test("a removed student's token stops working at once; a rotated token replaces the old one; guesses do not lock anyone out")
    func tokens() async throws {
        let cluster = try await MeshFixture.cluster.value
        try await RunnerTests.withRunner(cluster: cluster, store: MemoryLabStore()) { base, _ in
            let leaving = try await RunnerTests.register(base, "leaving")
            let staying = try await RunnerTests.register(base, "staying")
            defer { Task { try? await MeshFixture.cleanUp(staying.namespace) } }
            let whoami = "\(base)/apis/meshdojo.dev/v1/whoami"
            #expect(try await RunnerTests.call(.GET, whoami, token: leaving.token).0 == 200)
            #expect(try await RunnerTests.call(.DELETE, "\(base)/apis/meshdojo.dev/v1/students/leaving", token: leaving.token).0 == 403)
            #expect(try await RunnerTests.call(.DELETE, "\(base)/apis/meshdojo.dev/v1/students/leaving", token: RunnerTests.instructorToken).0 == 200)
            #expect(try await RunnerTests.call(.GET, whoami, token: leaving.token).0 == 401)
            #expect(await cluster.namespace(leaving.namespace) == nil)
            let (rotated, reply) = try await RunnerTests.call(.POST, "\(base)/apis/meshdojo.dev/v1/students/staying/token", token: RunnerTests.instructorToken)
            #expect(rotated == 201)
            let fresh = try #require(reply["token"]?.stringValue)
            #expect(try await RunnerTests.call(.GET, whoami, token: staying.token).0 == 401)
            #expect(try await RunnerTests.call(.GET, whoami, token: fresh).0 == 200)
            // Wrong event codes and wrong tokens use buckets of their own.
            // The test runner's buckets hold 40 and refill one every 10 s: of 70 guesses each, at least
            // 20 are refused however slowly a loaded machine sends them (the loop takes well under 100 s).
            var codes: [Int] = []
            var tokens: [Int] = []
            for _ in 0..<70 {
                codes.append(try await RunnerTests.call(.POST, "\(base)/apis/meshdojo.dev/v1/register", token: nil, body: #"{"name":"guess","eventCode":"nope"}"#).0)
                tokens.append(try await RunnerTests.call(.GET, whoami, token: "guessed-token").0)
            }
            #expect(codes.first == 403 && codes.filter { $0 == 429 }.count >= 20 && Set(codes).isSubset(of: [403, 429]), "\(codes)")
            #expect(tokens.first == 401 && tokens.filter { $0 == 429 }.count >= 20 && Set(tokens).isSubset(of: [401, 429]), "\(tokens)")
            let late = try await RunnerTests.register(base, "latecomer")
            defer { Task { try? await MeshFixture.cleanUp(late.namespace) } }
            #expect(try await RunnerTests.call(.GET, whoami, token: late.token).0 == 200)
        }
    }

    @Test("twenty applies at once, ten invalid: the valid ten are acknowledged and present, the rest refused, other namespaces untouched")
    func concurrentApplies() async throws {
        let cluster = try await MeshFixture.cluster.value
        try await cluster.createNamespace("hostile-a")
        try await cluster.createNamespace("hostile-b")
        defer { Task { try? await MeshFixture.cleanUp("hostile-a"); try? await MeshFixture.cleanUp("hostile-b") } }
        _ = try await cluster.apply(try ManifestLoader.load(Self.reviewsRule, file: "rule.yaml"), namespace: "hostile-b")
        let untouched = await cluster.objects(kind: "DestinationRule", namespace: "hostile-b").map(\.body)
        let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<20 {
                group.addTask {
                    let valid = index % 2 == 0
                    let text = Self.virtualService("vs-\(index)", weights: valid ? ("50", "50") : ("-5", "105"))
                    do {
                        _ = try await cluster.apply(try ManifestLoader.load(text, file: "vs-\(index).yaml"), namespace: "hostile-a")
                        return (index, true)
                    } catch LocalClusterError.invalid {
                        return (index, false)
                    }
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for index in 0..<20 {
            let valid = index % 2 == 0
            #expect(results[index] == valid, "vs-\(index)")
            #expect((await cluster.object(kind: "VirtualService", name: "vs-\(index)", namespace: "hostile-a") != nil) == valid)
        }
        #expect(await cluster.objects(kind: "DestinationRule", namespace: "hostile-b").map(\.body) == untouched)
        // delete is all or nothing: one missing object and nothing is deleted.
        await #expect(throws: LocalClusterError.self) {
            try await cluster.delete([("VirtualService", "vs-0"), ("VirtualService", "missing")], namespace: "hostile-a")
        }
        #expect(await cluster.object(kind: "VirtualService", name: "vs-0", namespace: "hostile-a") != nil)
    }

    @Test("a write based on an old resourceVersion is a conflict and changes nothing; uid and creation time stay, generation counts spec changes")
    func optimisticConcurrency() async throws {
        let cluster = try await MeshFixture.cluster.value
        try await cluster.createNamespace("versions")
        defer { Task { try? await MeshFixture.cleanUp("versions") } }
        let first = try await cluster.apply(try ManifestLoader.load(Self.virtualService("reviews"), file: "a.yaml"), namespace: "versions").stored[0]
        let version = try #require(first.body["metadata"]?["resourceVersion"]?.stringValue)
        #expect(first.body["metadata"]?["generation"] == 1)
        let second = try await cluster.apply(
            try ManifestLoader.load(Self.virtualService("reviews", weights: ("50", "50")), file: "b.yaml"), namespace: "versions",
            expectedVersions: ["VirtualService/reviews": version]).stored[0]
        #expect(second.body["metadata"]?["uid"] == first.body["metadata"]?["uid"])
        #expect(second.body["metadata"]?["creationTimestamp"] == first.body["metadata"]?["creationTimestamp"])
        #expect(second.body["metadata"]?["generation"] == 2)
        #expect(second.body["metadata"]?["resourceVersion"]?.stringValue != version)
        await #expect(throws: LocalClusterError.conflict("VirtualService/reviews")) {
            try await cluster.apply(
                try ManifestLoader.load(Self.virtualService("reviews", weights: ("10", "90")), file: "c.yaml"), namespace: "versions",
                expectedVersions: ["VirtualService/reviews": version])
        }
        let stored = await cluster.object(kind: "VirtualService", name: "reviews", namespace: "versions")
        #expect(stored?.spec["http"]?.arrayValue?.first?["route"]?.arrayValue?.first?["weight"] == 50)
        // The same content again is "unchanged": no new version.
        let again = try await cluster.apply(try ManifestLoader.load(Self.virtualService("reviews", weights: ("50", "50")), file: "b.yaml"), namespace: "versions")
        #expect(again.lines == ["virtualservice.networking.istio.io/reviews unchanged"])
        #expect(again.stored[0].body["metadata"]?["resourceVersion"] == second.body["metadata"]?["resourceVersion"])
    }

    @Test("a failing apply in one namespace leaves concurrent applies to other namespaces intact")
    func failureStaysInItsNamespace() async throws {
        let cluster = try await MeshFixture.cluster.value
        let names = (0..<4).map { "isolated-\($0)" }
        for name in names { try await cluster.createNamespace(name) }
        defer { Task { for name in names { try? await MeshFixture.cleanUp(name) } } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, name) in names.enumerated() {
                group.addTask {
                    for round in 0..<3 {
                        // Namespace 0 keeps sending an apply that names a namespace that does not exist.
                        let text = index == 0
                            ? Self.virtualService("bad-\(round)") + "\n---\n" + Self.virtualService("ghost", namespace: "does-not-exist")
                            : Self.virtualService("good-\(round)")
                        do { _ = try await cluster.apply(try ManifestLoader.load(text, file: "x.yaml"), namespace: name) } catch LocalClusterError.invalid {
                            #expect(index == 0)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await cluster.objects(kind: "VirtualService", namespace: names[0]).isEmpty)
        for name in names.dropFirst() {
            #expect(await cluster.objects(kind: "VirtualService", namespace: name).map(\.metadata.name).sorted() == ["good-0", "good-1", "good-2"])
        }
    }

    @Test("killing a namespace's Envoy three times in a row: each time the page is back within 3 s")
    func envoyHeals() async throws {
        let cluster = try await MeshFixture.cluster.value
        let url = try await MeshFixture.bookinfo("envoy-kills")
        defer { Task { try? await MeshFixture.cleanUp("envoy-kills") } }
        #expect(try await Browser.get(url + "/productpage").status == 200)
        for round in 1...3 {
            let pid = try #require(await cluster.envoyPID("envoy-kills"))
            kill(pid, SIGKILL)
            let killed = ContinuousClock.now
            var back = false
            while ContinuousClock.now - killed < .seconds(3) {
                if let page = try? await Browser.get(url + "/productpage"), page.status == 200, await cluster.envoyPID("envoy-kills") != pid {
                    back = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(back, "round \(round): the page was not back within 3 s")
        }
        // A pod that becomes ready while Envoy is down still gets its endpoint.
        let pod = try #require(await cluster.pods("envoy-kills").first { $0.name.hasPrefix("details-") })
        if let pid = await cluster.envoyPID("envoy-kills") { kill(pid, SIGKILL) }
        try await cluster.deletePod(pod.name, namespace: "envoy-kills")
        try await cluster.waitForPods("envoy-kills")
        let deadline = ContinuousClock.now + .seconds(5)
        var details = ""
        while ContinuousClock.now < deadline {
            details = (try? await Browser.get(url + "/productpage").body) ?? ""
            if details.contains("Book Details") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(details.contains("Book Details"), "details are served by the replacement pod")
    }

    @Test("a runner killed with kill -9 leaves no process behind and comes back with the same ports, students and configuration")
    func runnerKill() async throws {
        // Port ranges of their own: runners in other suites run at the same time.
        let first = try await RunnerProcess(portRange: "22500-23499")
        let state = first.state
        let student = try await RunnerTests.register(first.base, "survivor", eventCode: "kubectl42")
        let apply = "\(first.base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/apply"
        let body = try String(contentsOfFile: MeshFixture.repoRoot + "/bookinfo/platform/kube/bookinfo.yaml", encoding: .utf8)
        #expect(try await Self.post(apply, token: student.token, body: body).0 == 200)
        #expect(try await Self.post(apply, token: student.token, body: Self.reviewsRule).0 == 200)
        #expect(try await Self.post(apply, token: student.token, body: Self.virtualService("reviews", weights: ("30", "70"))).0 == 200)
        let ingress = try await RunnerTests.call(.GET, "\(first.base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/ingress", token: student.token).1["url"]
        #expect(!first.children().isEmpty)
        await first.crash()
        let deadline = ContinuousClock.now + .seconds(5)
        while !first.children().isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(first.children().isEmpty, "processes left behind: \(first.children())")
        let second = try await RunnerProcess(state: state, portRange: "23500-24999")
        defer { Task { await second.stop() } }
        #expect(try await RunnerTests.call(.GET, "\(second.base)/apis/meshdojo.dev/v1/whoami", token: student.token).0 == 200)
        let again = try await RunnerTests.call(.GET, "\(second.base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/ingress", token: student.token).1["url"]
        #expect(again == ingress, "the ingress URL stays")
        let (status, vs) = try await RunnerTests.call(.GET, "\(second.base)/apis/networking.istio.io/v1/namespaces/\(student.namespace)/virtualservices/reviews", token: student.token)
        #expect(status == 200 && vs["spec"]?["http"]?.arrayValue?.first?["route"]?.arrayValue?.first?["weight"] == 30)
        await second.stop()
        #expect(second.children().isEmpty)
    }
}
