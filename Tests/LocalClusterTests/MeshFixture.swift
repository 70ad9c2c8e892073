import AsyncHTTPClient
import Foundation
import LocalCluster
import Logging
import MeshModel
import NIOCore
import Testing

/// One engine for the whole test run (every test works in a namespace of its own), started from
/// the built executables and the real Envoy.
enum MeshFixture {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let shared = repoRoot + "/../shared"

    static var binDirectory: String {
        ProcessInfo.processInfo.environment["MESHDOJO_BIN_DIR"] ?? repoRoot + "/.build/debug"
    }

    static let cluster: Task<LocalCluster, any Error> = Task {
        let bin = binDirectory
        let state = NSTemporaryDirectory() + "meshdojo-test-\(getpid())"
        var logger = Logger(label: "test.cluster")
        logger.logLevel = .warning
        // Below the kernel's ephemeral ports (32768+), which outgoing test connections take at random.
        return try LocalCluster(
            configuration: .init(stateDirectory: state, binDirectory: bin, envoyBinary: try EnvoyLocator.find(), ports: PortAllocator(range: 25000...31999)),
            logger: logger
        ).supervised()
    }

    static func load(_ relativePath: String) throws -> [KubeObject] {
        try ManifestLoader.load(path: relativePath.hasPrefix("/") ? relativePath : repoRoot + "/" + relativePath)
    }

    /// A namespace with bookinfo and the gateway, pods ready; returns the ingress URL.
    static func bookinfo(_ namespace: String, injected: Bool = true) async throws -> String {
        let cluster = try await cluster.value
        try await cluster.createNamespace(namespace, labels: injected ? ["istio-injection": "enabled"] : [:])
        _ = try await cluster.apply(try load("bookinfo/platform/kube/bookinfo.yaml") + load("bookinfo/networking/bookinfo-gateway.yaml"), namespace: namespace)
        try await cluster.waitForPods(namespace)
        return try #require(await cluster.ingressURL(namespace))
    }

    /// Deletes the namespace and stops its processes.
    static func cleanUp(_ namespace: String) async throws {
        try await cluster.value.deleteNamespace(namespace)
    }

    static func apply(_ files: [String], _ namespace: String) async throws {
        let cluster = try await cluster.value
        _ = try await cluster.apply(try files.flatMap { try load($0) }, namespace: namespace)
    }
}

/// A page fetched through the ingress, classified as the grader will.
struct Page {
    var status: Int
    var body: String
    var seconds: Double

    /// `v1`, `v2`, `v3`, `ratings-unavailable`, `reviews-unavailable`, or `http-<status>`.
    var outcome: String {
        if status != 200 { return "http-\(status)" }
        if body.contains("Error fetching product reviews") { return "reviews-unavailable" }
        if body.contains("Ratings service is currently unavailable") { return "ratings-unavailable" }
        if body.contains("<font color=\"black\">") { return "v2" }
        if body.contains("<font color=\"red\">") { return "v3" }
        if body.contains("Book Reviews") { return "v1" }
        return "other"
    }
}

enum Browser {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    static func get(_ url: String, cookie: String? = nil) async throws -> Page {
        var request = HTTPClientRequest(url: url)
        if let cookie { request.headers.add(name: "cookie", value: cookie) }
        let start = ContinuousClock.now
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let elapsed = ContinuousClock.now - start
        return Page(status: Int(response.status.code), body: body, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Signs in through the ingress's /login, returns the cookie.
    static func signIn(_ user: String, ingress: String) async throws -> String {
        var request = HTTPClientRequest(url: "\(ingress)/login")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "username=\(user)&passwd=x"))
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        let cookie = try #require(response.headers.first(name: "set-cookie"))
        return String(cookie.split(separator: ";")[0])
    }

    /// Outcomes of `count` page views.
    static func outcomes(_ ingress: String, count: Int, cookie: String? = nil) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for _ in 0..<count {
            counts[try await get("\(ingress)/productpage", cookie: cookie).outcome, default: 0] += 1
        }
        return counts
    }
}

extension LocalCluster {
    /// The engine with its background jobs running, as the lab-runner runs them (for the rest of
    /// the test run, or until its shutdown).
    nonisolated func supervised() -> LocalCluster {
        Task { await supervisor.run() }
        return self
    }
}
