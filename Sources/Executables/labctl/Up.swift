import ArgumentParser
import Foundation
import MeshModel

/// Where the project's files are: `MESHDOJO_HOME`, else the first folder holding
/// `bookinfo/platform/kube/bookinfo.yaml` above the current folder or above labctl itself.
func projectHome() throws -> String {
    if let home = ProcessInfo.processInfo.environment["MESHDOJO_HOME"] { return home }
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    for start in [URL(fileURLWithPath: FileManager.default.currentDirectoryPath), executable.deletingLastPathComponent()] {
        var folder = start
        for _ in 0..<8 {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("bookinfo/platform/kube/bookinfo.yaml").path) { return folder.path }
            folder = folder.deletingLastPathComponent()
        }
    }
    throw LabctlError("error: cannot find the MeshDojo folder (bookinfo/platform/kube/bookinfo.yaml); set MESHDOJO_HOME")
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the lab-runner with namespace default holding bookinfo behind the ingress; print the URL.")
    @Option(help: "The lab-runner URL.") var server: String?
    @Option(help: "Where the runner keeps its state (default: <project>/.state).") var stateDir: String?

    func run() async throws {
        let started = ContinuousClock.now
        let home = try projectHome()
        var client = RunnerClient(server: server)
        if await !client.isHealthy() {
            try startRunner(client: client, home: home)
            let deadline = ContinuousClock.now + .seconds(60)
            while await !client.isHealthy() {
                guard ContinuousClock.now < deadline else {
                    throw LabctlError("error: the lab-runner did not start within 60 s; see \(stateDirectory(home))/lab-runner.log")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        // The local user is the instructor of their own workshop: use the instructor token.
        let instructorToken = try String(contentsOfFile: stateDirectory(home) + "/instructor-token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        client = RunnerClient(server: client.base, token: instructorToken)
        let namespace = Value.object([("apiVersion", "v1"), ("kind", "Namespace"), ("metadata", .object([("name", "default"), ("labels", .object([("istio-injection", "enabled")]))]))])
        _ = try await client.send(.POST, "/api/v1/namespaces", body: namespace.json)
        let files = ["\(home)/bookinfo/platform/kube/bookinfo.yaml", "\(home)/bookinfo/networking/bookinfo-gateway.yaml"]
        let applied = try await client.expectOK(.POST, "/apis/meshdojo.dev/v1/namespaces/default/apply", body: try filesBody(files))
        for line in applied["lines"]?.arrayValue ?? [] { print(line.stringValue ?? "") }
        let ingress = try await client.expectOK(.GET, "/apis/meshdojo.dev/v1/namespaces/default/ingress")["url"]?.stringValue ?? ""
        let url = "\(ingress)/productpage"
        let deadline = ContinuousClock.now + .seconds(90)
        while true {
            if let status = try? await RunnerClient(server: ingress).send(.GET, "/productpage").status, status == 200 { break }
            guard ContinuousClock.now < deadline else { throw LabctlError("error: productpage did not answer through the ingress within 90 s; try: labctl get pods") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let seconds = (ContinuousClock.now - started).components
        print("bookinfo is up in \(seconds.seconds).\(String(format: "%02d", Int(seconds.attoseconds / 10_000_000_000_000_000))) s")
        // One demo student who owns namespace default; labctl acts as them from now on.
        let demoToken = try await demoLogin(client)
        try LabctlConfig(server: client.base, token: demoToken).save()
        let eventCode = (try? String(contentsOfFile: stateDirectory(home) + "/event-code", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        print("productpage:          \(url)")
        print("learner dashboard:    \(client.base)/dashboard/#token=\(demoToken ?? "")")
        print("instructor dashboard: \(client.base)/dashboard/#token=\(instructorToken)")
        print("event code for students (labctl login --name NAME --event-code CODE): \(eventCode)")
        print("labctl now acts as the demo student (namespace default): labctl lab list, labctl lab start 00-getting-started, labctl check 00-getting-started")
    }

    /// The demo student's token: the saved login when it is the demo student's on this runner;
    /// else a new demo student, or — the runner knows them already — a new token for them.
    func demoLogin(_ instructor: RunnerClient) async throws -> String {
        if let saved = LabctlConfig.load() {
            if saved.server != instructor.base {
                print("note: the saved login was for \(saved.server); labctl now logs in to \(instructor.base) as the demo student")
            } else if let whoami = try? await RunnerClient(server: instructor.base, token: saved.token).send(.GET, "/apis/meshdojo.dev/v1/whoami"),
                whoami.status == 200, whoami.body["namespace"] == "default"
            {
                return saved.token
            }
        }
        let body = Value.object([("names", .array(["demo"])), ("namespace", "default")])
        let added = try await instructor.send(.POST, "/apis/meshdojo.dev/v1/students", body: body.json)
        if added.status == 201, let token = added.body["items"]?.arrayValue?.first?["token"]?.stringValue { return token }
        guard added.status == 409 else { throw LabctlError(RunnerClient.message(added)) }
        let rotated = try await instructor.expectOK(.POST, "/apis/meshdojo.dev/v1/students/demo/token")
        guard let token = rotated["token"]?.stringValue else { throw LabctlError("error: the lab-runner issued no token for the demo student") }
        return token
    }

    func stateDirectory(_ home: String) -> String {
        stateDir ?? "\(home)/.state"
    }

    func startRunner(client: RunnerClient, home: String) throws {
        let state = stateDirectory(home)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("lab-runner").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LabctlError("error: lab-runner is not next to labctl (\(binary)); build it with: swift build -c release")
        }
        let port = URL(string: client.base)?.port ?? 8080
        let log = "\(state)/lab-runner.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = [binary, "--port", String(port), "--state-dir", state]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = process.standardOutput
        process.standardInput = FileHandle.nullDevice
        process.currentDirectoryURL = URL(fileURLWithPath: home)
        try process.run()
    }
}

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop the lab-runner and every process it started (needs the instructor token).")
    @Option(help: "The lab-runner URL.") var server: String?
    @Option(help: "Where the runner keeps its state (default: <project>/.state).") var stateDir: String?

    func run() async throws {
        let state = try stateDir ?? (projectHome() + "/.state")
        let token = (try? String(contentsOfFile: state + "/instructor-token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let client = RunnerClient(server: server, token: token)
        guard await client.isHealthy() else {
            print("the lab-runner is not running")
            return
        }
        let reply = try await client.send(.POST, "/apis/meshdojo.dev/v1/shutdown")
        guard (200..<300).contains(reply.status) else {
            throw LabctlError(
                RunnerClient.message(reply) + (token == nil ? " (no instructor token in \(state); give --state-dir)" : "") + "; the lab-runner keeps running")
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while await client.isHealthy() {
            guard ContinuousClock.now < deadline else { throw LabctlError("error: the lab-runner was asked to stop but still answers after 30 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
        print("lab-runner stopped")
    }
}
