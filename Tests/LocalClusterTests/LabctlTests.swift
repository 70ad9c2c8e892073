import Foundation
import LocalCluster
import MeshModel
import Testing

/// `labctl up` and `labctl down` as a learner alone on a laptop uses them: whatever the saved
/// login holds, `up` leaves a working one, and `down` says what happened.
@Suite("labctl up and down", .serialized)
struct LabctlTests {
    struct Workspace {
        let home: String
        let state: String
        let port: Int
        var server: String { "http://127.0.0.1:\(port)" }
        var config: String { home + "/.meshdojo/config.json" }

        /// The environment of a user whose `$HOME` is `home` (the saved login goes there).
        var environment: [String: String] {
            [
                "HOME": home, "MESHDOJO_CONFIG": "", "MESHDOJO_HOME": MeshFixture.repoRoot, "MESHDOJO_PORT_RANGE": "20500-20999",
                "LAB_RUNNER_KUBE_PORT": "0", "LAB_RUNNER_URL": "", "LAB_RUNNER_TOKEN": "", "MESHDOJO_ENVOY": (try? EnvoyLocator.find()) ?? "",
            ]
        }

        func labctl(_ arguments: [String]) async throws -> CommandResult {
            try await Command.run(MeshFixture.binDirectory + "/labctl", arguments, environment: environment, timeout: .seconds(180))
        }

        /// The saved login's token, and whether the runner takes it as the demo student's.
        func savedLogin() async throws -> (token: String, works: Bool) {
            let saved = try ManifestLoader.documents(String(contentsOfFile: config, encoding: .utf8), file: config).first
            let token = try #require(saved?["token"]?.stringValue)
            let (status, whoami) = try await RunnerTests.call(.GET, "\(server)/apis/meshdojo.dev/v1/whoami", token: token)
            return (token, status == 200 && whoami["namespace"] == "default")
        }
    }

    @Test("up leaves a working learner login whatever the saved one holds; down refused says so and fails")
    func upAndDown() async throws {
        let root = NSTemporaryDirectory() + "meshdojo-labctl-\(UUID().uuidString.prefix(8))"
        let workspace = Workspace(home: root + "/home", state: root + "/state", port: try RunnerProcess.freePort())
        try FileManager.default.createDirectory(atPath: workspace.home, withIntermediateDirectories: true)
        do {
            try await Self.scenario(workspace, root: root)
        } catch {
            // Whatever failed, the runner this test started is stopped.
            _ = try? await workspace.labctl(["down", "--server", workspace.server, "--state-dir", workspace.state])
            throw error
        }
    }

    static func scenario(_ workspace: Workspace, root: String) async throws {
        let up = ["up", "--server", workspace.server, "--state-dir", workspace.state]

        let first = try await workspace.labctl(up)
        #expect(first.status == 0, "\(first)")
        let login = try await workspace.savedLogin()
        #expect(login.works, "the saved login is under $HOME and is the demo student's")
        #expect(first.output.contains("#token=\(login.token)"))

        // The saved login gone, the runner's state kept: the demo student gets a new token.
        try FileManager.default.removeItem(atPath: workspace.config)
        let second = try await workspace.labctl(up)
        #expect(second.status == 0, "\(second)")
        let renewed = try await workspace.savedLogin()
        #expect(renewed.works && renewed.token != login.token)
        #expect(!second.output.contains("#token=\n"))

        // A saved login for another runner is not used: up says so and logs in here.
        try #"{"server":"http://127.0.0.1:1","token":"elsewhere"}"#.write(toFile: workspace.config, atomically: true, encoding: .utf8)
        let third = try await workspace.labctl(up)
        #expect(third.status == 0 && third.output.contains("the saved login was for http://127.0.0.1:1"), "\(third)")
        #expect(try await workspace.savedLogin().works)

        // In Japanese, end to end: an apply's warnings and labctl analyze (the demo student's namespace
        // has no DestinationRules yet, so routing to subset v1 is warned about).
        let routes = MeshFixture.repoRoot + "/bookinfo/networking/virtual-service-all-v1.yaml"
        let applied = try await workspace.labctl(["apply", "-f", routes, "--lang", "ja", "--server", workspace.server])
        #expect(applied.status == 0 && applied.error.contains("Warning: ") && applied.error.contains("のサブセット 'v1' はどの DestinationRule にも定義されていません"), "\(applied)")
        let analyzed = try await workspace.labctl(["analyze", "--lang", "ja", "--server", workspace.server])
        #expect(analyzed.output.contains("どの DestinationRule にも定義されていません"), "\(analyzed)")
        let english = try await workspace.labctl(["analyze", "--server", workspace.server])
        #expect(english.output.contains("subset 'v1' of host 'reviews' is not defined by any DestinationRule") && !english.output.contains("どの DestinationRule"), "\(english)")

        // down with the wrong instructor token: the runner refuses, labctl says so and fails.
        let wrong = root + "/elsewhere"
        try FileManager.default.createDirectory(atPath: wrong, withIntermediateDirectories: true)
        try "not-the-token".write(toFile: wrong + "/instructor-token", atomically: true, encoding: .utf8)
        let refused = try await workspace.labctl(["down", "--server", workspace.server, "--state-dir", wrong])
        #expect(refused.status != 0 && refused.all.contains("keeps running") && !refused.all.contains("lab-runner stopped"), "\(refused)")
        #expect(try await workspace.savedLogin().works, "the runner still answers")

        let stopped = try await workspace.labctl(["down", "--server", workspace.server, "--state-dir", workspace.state])
        #expect(stopped.status == 0 && stopped.output.contains("lab-runner stopped"), "\(stopped)")
    }
}
