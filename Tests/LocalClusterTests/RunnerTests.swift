import AsyncHTTPClient
import BookinfoKit
import Foundation
import KubeAPI
import LabRunner
import Labs
import LabStore
import LocalCluster
import Logging
import MeshModel
import NIOCore
import NIOHTTP1
import Testing

/// The lab-runner over real HTTP: authentication and scoping, limits, restart, and the dashboard
/// in a real (headless) browser.
@Suite("lab-runner", .serialized)
struct RunnerTests {
    static let instructorToken = Tokens.generate()

    /// Runs the workshop API on 127.0.0.1:0 over `cluster` and `store`.
    static func withRunner<T: Sendable>(
        cluster: LocalCluster, store: any LabStore, stuckAfter: TimeInterval = 15 * 60,
        _ body: @Sendable (_ base: String, _ workshop: Workshop) async throws -> T
    ) async throws -> T {
        let labs = try LabCatalog.load(directory: MeshFixture.repoRoot + "/labs")
        let workshop = Workshop(
            backend: cluster, store: store, labs: labs, eventCode: "class42", instructorToken: instructorToken, stuckAfter: stuckAfter,
            logger: Logger(label: "test"))
        // A tight limit (bursts of 40, then one every 10 s) so the rate test does not depend on timing.
        let kube = KubeServer(cluster: cluster, workshop: workshop, crds: .empty, address: BoundAddress(), limiter: RateLimiter(rate: 0.1, burst: 40))
        let api = WorkshopAPI(workshop: workshop, resources: ResourceAPI(backend: cluster), kube: kube, limiter: RateLimiter(rate: 0.1, burst: 40))
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = BookinfoServer.application(
            name: "test-runner", handler: api, metrics: MetricsRegistry(), host: "127.0.0.1", port: 0, logLevel: .critical,
            onEventLoops: false,  // as lab-runner serves it
            onServerRunning: { continuation.yield($0) })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            defer { group.cancelAll() }
            return try await body("http://127.0.0.1:\(port)", workshop)
        }
    }

    static func call(_ method: HTTPMethod, _ url: String, token: String?, body: String? = nil) async throws -> (Int, Value) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await Browser.client.execute(request, timeout: .seconds(60))
        let text = String(buffer: try await response.body.collect(upTo: 8 << 20))
        return (Int(response.status.code), (try? ManifestLoader.documents(text, file: "reply").first) ?? .null)
    }

    static func register(_ base: String, _ name: String, eventCode: String = "class42") async throws -> (token: String, namespace: String) {
        let (status, reply) = try await call(.POST, "\(base)/apis/meshdojo.dev/v1/register", token: nil, body: #"{"name":"\#(name)","eventCode":"\#(eventCode)"}"#)
        #expect(status == 201, "\(reply)")
        return (try #require(reply["token"]?.stringValue), try #require(reply["namespace"]?.stringValue))
    }

    @Test("service-account tokens: signed, scoped to their namespace, refused when tampered with, expired or from another runner")
    func serviceAccountTokens() throws {
        let tokens = ServiceAccountTokens(instructorTokenHash: Tokens.hash("one"))
        let token = tokens.issue(namespace: "student-aiko", serviceAccount: "meshdojo-student", expires: Date().addingTimeInterval(600))
        let claims = try #require(tokens.verify(token))
        #expect(claims.namespace == "student-aiko" && claims.serviceAccount == "meshdojo-student")
        #expect(tokens.verify(token, now: Date().addingTimeInterval(601)) == nil, "expired")
        #expect(ServiceAccountTokens(instructorTokenHash: Tokens.hash("two")).verify(token) == nil, "another runner's key")
        let parts = token.dropFirst("mdsa.".count).split(separator: ".")
        let forged = ServiceAccountTokens.base64URL(Data("student-ben\nmeshdojo-student\n\(claims.expires)".utf8))
        #expect(tokens.verify("mdsa.\(forged).\(parts[1])") == nil, "another namespace under the same signature")
        #expect(tokens.verify(String(token.dropLast())) == nil && tokens.verify("mdsa.x") == nil)
    }

    @Test("students reach only their own namespace; tokens, event code, body size and rate are enforced")
    func isolationAndLimits() async throws {
        let cluster = try await MeshFixture.cluster.value
        try await Self.withRunner(cluster: cluster, store: MemoryLabStore()) { base, _ in
            let aiko = try await Self.register(base, "aiko")
            let ben = try await Self.register(base, "ben")
            #expect(aiko.namespace == "student-aiko")
            #expect(try await Self.call(.GET, "\(base)/api/v1/namespaces/\(aiko.namespace)/pods", token: aiko.token).0 == 200)
            #expect(try await Self.call(.GET, "\(base)/api/v1/namespaces/\(ben.namespace)/pods", token: aiko.token).0 == 403)
            let vs = #"{"apiVersion":"networking.istio.io/v1alpha3","kind":"VirtualService","metadata":{"name":"reviews"},"spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"reviews"}}]}]}}"#
            #expect(try await Self.call(.POST, "\(base)/apis/networking.istio.io/v1alpha3/namespaces/\(ben.namespace)/virtualservices", token: aiko.token, body: vs).0 == 403)
            #expect(try await Self.call(.POST, "\(base)/apis/networking.istio.io/v1alpha3/namespaces/\(aiko.namespace)/virtualservices", token: aiko.token, body: vs).0 == 201)
            #expect(try await Self.call(.POST, "\(base)/api/v1/namespaces", token: aiko.token, body: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}}"#).0 == 403)
            // A body naming another namespace, or a Namespace, is refused even on the student's own path.
            let smuggled = vs.replacingOccurrences(of: #""name":"reviews"}"#, with: #""name":"reviews","namespace":"\#(ben.namespace)"}"#)
            #expect(try await Self.call(.POST, "\(base)/apis/meshdojo.dev/v1/namespaces/\(aiko.namespace)/apply", token: aiko.token, body: smuggled).0 == 403)
            let dropBen = #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(ben.namespace)"}}"#
            #expect(try await Self.call(.POST, "\(base)/apis/meshdojo.dev/v1/namespaces/\(aiko.namespace)/delete", token: aiko.token, body: dropBen).0 == 403)
            #expect(await cluster.namespace(ben.namespace) != nil)
            #expect(await cluster.object(kind: "VirtualService", name: "reviews", namespace: ben.namespace) == nil)
            #expect(try await Self.call(.GET, "\(base)/apis/meshdojo.dev/v1/grid", token: aiko.token).0 == 403)
            #expect(try await Self.call(.POST, "\(base)/apis/meshdojo.dev/v1/shutdown", token: aiko.token).0 == 403)
            #expect(try await Self.call(.GET, "\(base)/api/v1/namespaces/\(aiko.namespace)/pods", token: "not-a-token").0 == 401)
            #expect(try await Self.call(.GET, "\(base)/api/v1/namespaces/\(aiko.namespace)/pods", token: nil).0 == 401)
            #expect(try await Self.call(.POST, "\(base)/apis/meshdojo.dev/v1/register", token: nil, body: #"{"name":"eve","eventCode":"wrong"}"#).0 == 403)
            #expect(try await Self.call(.POST, "\(base)/apis/meshdojo.dev/v1/register", token: nil, body: #"{"name":"aiko","eventCode":"class42"}"#).0 == 409)
            #expect(try await Self.call(.POST, "\(base)/apis/meshdojo.dev/v1/namespaces/\(aiko.namespace)/labs/99-nope/check", token: aiko.token).0 == 404)
            let huge = String(repeating: "#", count: 2 << 20)
            #expect(try await Self.call(.POST, "\(base)/apis/meshdojo.dev/v1/namespaces/\(aiko.namespace)/apply", token: aiko.token, body: huge).0 == 413)
            // Traffic control from the dashboard writes a DestinationRule and a weighted VirtualService.
            let weights = "\(base)/apis/meshdojo.dev/v1/namespaces/\(aiko.namespace)/traffic/reviews"
            #expect(try await Self.call(.PUT, weights, token: aiko.token, body: #"{"v1":30,"v2":0,"v3":60}"#).0 == 400)
            #expect(try await Self.call(.PUT, weights, token: aiko.token, body: #"{"v1":30,"v2":0,"v3":70}"#).0 == 200)
            let routed = await cluster.object(kind: "VirtualService", name: "reviews", namespace: aiko.namespace)
            let destinations = routed?.spec["http"]?.arrayValue?.first?["route"]?.arrayValue ?? []
            #expect(destinations.map { $0["destination"]?["subset"]?.stringValue ?? "" } == ["v1", "v3"])
            #expect(destinations.map { $0["weight"] } == [.int(30), .int(70)])
            #expect(await cluster.object(kind: "DestinationRule", name: "reviews", namespace: aiko.namespace) != nil)
            #expect(try await Self.call(.PUT, weights.replacingOccurrences(of: aiko.namespace, with: ben.namespace), token: aiko.token, body: #"{"v1":100}"#).0 == 403)
            let (gridStatus, grid) = try await Self.call(.GET, "\(base)/apis/meshdojo.dev/v1/grid", token: Self.instructorToken)
            #expect(gridStatus == 200)
            #expect(grid["students"]?.arrayValue?.count == 2)
            var statuses: [Int] = []
            for _ in 0..<50 { statuses.append(try await Self.call(.GET, "\(base)/apis/meshdojo.dev/v1/whoami", token: ben.token).0) }
            #expect(statuses.contains(429) && statuses.first == 200)
            for student in [aiko, ben] { try await cluster.deleteNamespace(student.namespace) }
        }
    }

    @Test("a reset begins the lab again at its first step, and a chosen step can be graded")
    func resetAndStep() async throws {
        let cluster = try await MeshFixture.cluster.value
        try await Self.withRunner(cluster: cluster, store: MemoryLabStore()) { base, _ in
            let student = try await Self.register(base, "eiko")
            let lab = "\(base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/labs/01-request-routing"
            func graded(_ path: String) async throws -> [String] {
                let (status, reply) = try await Self.call(.POST, "\(lab)/\(path)", token: student.token)
                #expect(status == 200, "\(reply)")
                return reply["verdicts"]?.arrayValue?.compactMap { $0["check"]?.stringValue } ?? []
            }
            #expect(try await Self.call(.POST, "\(lab)/start", token: student.token).0 == 200)
            #expect(try await Self.call(.POST, "\(lab)/solve", token: student.token).0 == 200)
            #expect(try await graded("check") == ["all-v1"])
            // Step 1 passed: the step the student is on is the second.
            #expect(try await graded("check") == ["jason-v2"])
            #expect(try await graded("check?step=1") == ["all-v1"])
            #expect(try await Self.call(.POST, "\(lab)/check?step=9", token: student.token).0 == 400)
            #expect(try await Self.call(.POST, "\(lab)/check?step=two", token: student.token).0 == 400)
            // A reset starts the lab over: the first step is graded again (and fails: nothing routes to v1).
            #expect(try await Self.call(.POST, "\(lab)/reset", token: student.token).0 == 200)
            let (status, reply) = try await Self.call(.POST, "\(lab)/check", token: student.token)
            #expect(status == 200 && reply["passed"] == .bool(false))
            #expect(reply["verdicts"]?.arrayValue?.compactMap { $0["check"]?.stringValue } == ["all-v1"])
            try await cluster.deleteNamespace(student.namespace)
        }
    }

    @Test("an apply warns at once about what the applied objects cause, in the body and as Warning headers")
    func applyWarnings() async throws {
        let cluster = try await MeshFixture.cluster.value
        try await Self.withRunner(cluster: cluster, store: MemoryLabStore()) { base, _ in
            let student = try await Self.register(base, "gen")
            #expect(try await Self.call(.POST, "\(base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/labs/01-request-routing/start", token: student.token).0 == 200)
            func apply(_ file: String) async throws -> (headers: [String], warnings: [Value]) {
                var request = HTTPClientRequest(url: "\(base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/apply")
                request.method = .POST
                request.headers.add(name: "authorization", value: "Bearer \(student.token)")
                request.body = .bytes(ByteBuffer(string: try String(contentsOfFile: MeshFixture.repoRoot + "/bookinfo/networking/" + file, encoding: .utf8)))
                let response = try await Browser.client.execute(request, timeout: .seconds(60))
                let body = try ManifestLoader.documents(String(buffer: try await response.body.collect(upTo: 1 << 20)), file: "reply").first
                #expect(response.status == .ok, "\(String(describing: body))")
                return (response.headers["Warning"], body?["warnings"]?.arrayValue ?? [])
            }
            // VirtualServices naming subsets before any DestinationRule defines them: said at once.
            let early = try await apply("virtual-service-all-v1.yaml")
            #expect(!early.warnings.isEmpty && early.warnings.count == early.headers.count, "\(early)")
            #expect(early.warnings.allSatisfy { $0["object"]?.stringValue?.hasPrefix("VirtualService/") == true }, "\(early.warnings)")
            #expect(early.headers.allSatisfy { $0.hasPrefix("299 - \"VirtualService/") }, "\(early.headers)")
            // The DestinationRules fix it; Istio's unused sample subsets are not warned about.
            let fixed = try await apply("destination-rule-all.yaml")
            #expect(fixed.warnings.isEmpty && fixed.headers.isEmpty, "\(fixed)")
            try await cluster.deleteNamespace(student.namespace)
        }
    }

    @Test("a restarted runner keeps every student, namespace and verdict")
    func restartKeepsProgress() async throws {
        let state = NSTemporaryDirectory() + "meshdojo-restart-\(UUID().uuidString)"
        let configuration = LocalCluster.Configuration(
            stateDirectory: state, binDirectory: MeshFixture.binDirectory, envoyBinary: try EnvoyLocator.find(),
            ports: PortAllocator(range: 22000...23499))
        let first = try LocalCluster(configuration: configuration).supervised()
        let store = try await LabStores.open(url: nil, sqlitePath: state + "/store.sqlite", logger: Logger(label: "test"))
        let student = try await Self.withRunner(cluster: first, store: store) { base, _ in
            let student = try await Self.register(base, "carla")
            let (status, _) = try await Self.call(.POST, "\(base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/labs/01-request-routing/start", token: student.token)
            #expect(status == 200)
            let (checked, reply) = try await Self.call(.POST, "\(base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/labs/01-request-routing/check", token: student.token)
            #expect(checked == 200 && reply["verdicts"]?.arrayValue?.isEmpty == false)
            return student
        }
        await first.shutdown()
        await store.close()

        let second = try LocalCluster(configuration: .init(
            stateDirectory: state, binDirectory: MeshFixture.binDirectory, envoyBinary: try EnvoyLocator.find(), ports: PortAllocator(range: 23500...24999))).supervised()
        try await second.restore()
        let reopened = try await LabStores.open(url: nil, sqlitePath: state + "/store.sqlite", logger: Logger(label: "test"))
        try await Self.withRunner(cluster: second, store: reopened) { base, workshop in
            try await workshop.adoptStudents()
            let (status, verdicts) = try await Self.call(.GET, "\(base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/verdicts", token: student.token)
            #expect(status == 200)
            #expect(verdicts["items"]?.arrayValue?.isEmpty == false)
            try await second.waitForPods(student.namespace)
            #expect(await second.pods(student.namespace).count == 6)
            let page = try await Browser.get("\(try #require(await second.ingressURL(student.namespace)))/productpage")
            #expect(page.status == 200)
        }
        await second.shutdown()
        await reopened.close()
    }

    @Test("the dashboard renders the class grid for the instructor and the lab for a learner in a real browser")
    func dashboardInChromium() async throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let browser = try #require(chromium, "chromium is needed (scripts/test installs it)")
        let cluster = try await MeshFixture.cluster.value
        // Every student on a step counts as stuck at once, so the highlight shows.
        try await Self.withRunner(cluster: cluster, store: MemoryLabStore(), stuckAfter: 0) { base, _ in
            let dana = try await Self.register(base, "dana")
            let lab = "\(base)/apis/meshdojo.dev/v1/namespaces/\(dana.namespace)/labs/00-getting-started"
            #expect(try await Self.call(.POST, "\(lab)/start", token: dana.token).0 == 200)
            let (checked, verdicts) = try await Self.call(.POST, "\(lab)/check", token: dana.token)
            #expect(checked == 200 && verdicts["passed"] == .bool(false), "the lab's first step is not done yet")
            func dom(_ token: String, hash: String = "") throws -> String {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: browser)
                process.arguments = [
                    "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=8000", "--dump-dom",
                    "\(base)/dashboard/#token=\(token)\(hash)",
                ]
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = FileHandle.nullDevice
                try process.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return String(decoding: data, as: UTF8.self)
            }
            let instructor = try dom(Self.instructorToken)
            #expect(instructor.contains("<tr class=\"stuck\"><td>⚠ dana</td>"), "the grid lists the student, stuck: \(instructor)")
            #expect(instructor.contains("<td>00-getting-started</td><td>1/"), "the student's lab and step")
            #expect(instructor.contains("<td class=\"why\">") && !instructor.contains("<td class=\"why\"></td>"), "why the last check failed")
            #expect(instructor.contains("ingress-round-robin"), "the grid has a column per check")
            let learner = try dom(dana.token)
            #expect(learner.contains("dana (student-dana)"))
            #expect(learner.contains("Getting started"), "the lab list and steps are shown")
            #expect(learner.contains("<div class=\"step current\"><p class=\"here\">▶ You are here</p>"), "the learner's own step is marked")
            #expect(learner.contains("<blockquote><b>Why restart?</b>") && !learner.contains("&gt; <b>Why"), "block quotes render as block quotes")
            #expect(learner.contains("<canvas id=\"chart\""))
            let japanese = try dom(dana.token, hash: "&lang=ja")
            #expect(japanese.contains("▶ いまのステップ") && japanese.contains("ラボを開始"), "the page in Japanese")
            let grid = try dom(Self.instructorToken, hash: "&lang=ja")
            #expect(grid.contains("直近の不合格の理由") && grid.contains("クラスの進捗"))
            #expect(grid.range(of: "<td class=\"why\">[^<]*[\u{3040}-\u{30FF}]", options: .regularExpression) != nil, "why the last check failed, in Japanese: \(grid)")
            try await cluster.deleteNamespace(dana.namespace)
        }
    }
}
