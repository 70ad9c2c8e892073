import Foundation
import LocalCluster
import MeshModel
import Testing

/// A command's result.
struct CommandResult: CustomStringConvertible {
    var status: Int32
    var output: String
    var error: String

    var description: String { "exit \(status)\n\(output)\n\(error)" }
    var all: String { output + error }
}

/// Runs a program to completion (bounded), capturing its output.
enum Command {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil, timeout: Duration = .seconds(120)) async throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        if let input {
            let file = directory.appendingPathComponent("in")
            FileManager.default.createFile(atPath: file.path, contents: Data(input.utf8))
            process.standardInput = try FileHandle(forReadingFrom: file)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                Issue.record("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, output: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            error: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}

/// A real `lab-runner` process, as `labctl up` starts it, with its own state folder and ports.
final class RunnerProcess: @unchecked Sendable {
    let state: String
    let port: Int
    let process: Process
    let portRange: String

    /// Starts the runner and waits until its HTTP API and (on the embedded engine) its Kubernetes
    /// API answer.
    /// - Parameter arguments: more options (`--backend kubernetes --kubeconfig …`); with
    ///   `--backend kubernetes` the runner serves no Kubernetes API of its own.
    init(state: String? = nil, portRange: String = "21000-22499", arguments: [String] = []) async throws {
        self.state = state ?? NSTemporaryDirectory() + "meshdojo-runner-\(UUID().uuidString.prefix(8))"
        self.portRange = portRange
        port = try Self.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: MeshFixture.binDirectory + "/lab-runner")
        process.arguments = ["--port", String(port), "--kube-port", "0", "--state-dir", self.state, "--home", MeshFixture.repoRoot, "--port-range", portRange] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MESHDOJO_ENVOY"] = try EnvoyLocator.find()
        environment["MESHDOJO_EVENT_CODE"] = "kubectl42"
        process.environment = environment
        try FileManager.default.createDirectory(atPath: self.state, withIntermediateDirectories: true)
        let log = self.state + "/lab-runner.log"
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try? FileManager.default.removeItem(atPath: self.state + "/kube-port")
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        let servesKube = !arguments.contains("kubernetes")
        while !((!servesKube || FileManager.default.fileExists(atPath: self.state + "/kube-port")) && PortAllocator.isListening(port)) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw RunnerError("the lab-runner did not start: \(try String(contentsOfFile: log, encoding: .utf8).suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The instructor token the runner made in its state folder.
    var instructorToken: String {
        get throws { try String(contentsOfFile: state + "/instructor-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    struct RunnerError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    var base: String { "http://127.0.0.1:\(port)" }
    var pid: Int32 { process.processIdentifier }

    /// Stops the runner as SIGTERM does, and waits.
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// `kill -9`: no chance to clean up.
    func crash() async {
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// Processes whose working folder is inside the state folder (Envoys and pods).
    func children() -> [Int32] {
        let resolved = URL(fileURLWithPath: state).resolvingSymlinksInPath().path
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            guard let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd") else { return false }
            // A process that exited but is not reaped yet has no cwd and no command line.
            let status = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            return cwd.hasPrefix(resolved) && !status.contains(") Z ")
        }
    }

    /// A kubeconfig for the instructor (`labctl kubeconfig --instructor`), written to a file.
    func kubeconfig(instructor: Bool = true, token: String? = nil) async throws -> String {
        var arguments = ["kubeconfig", "--server", base]
        var environment: [String: String] = ["MESHDOJO_CONFIG": state + "/labctl-config.json"]
        if instructor { arguments += ["--instructor", "--state-dir", state] }
        if let token { environment["LAB_RUNNER_TOKEN"] = token }
        let result = try await Command.run(MeshFixture.binDirectory + "/labctl", arguments, environment: environment)
        guard result.status == 0 else { throw RunnerError("labctl kubeconfig failed: \(result)") }
        let path = state + "/kubeconfig-\(UUID().uuidString.prefix(6))"
        try result.output.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func freePort() throws -> Int {
        // The ports below the engine's ranges are the tests' own.
        for _ in 0..<200 {
            let port = Int.random(in: 17000...19999)
            if !PortAllocator.isListening(port), PortAllocator.canBind(port) { return port }
        }
        throw RunnerError("no free port")
    }
}

/// The real kubectl binaries on this machine.
enum Kubectl {
    /// Every `kubectl.1.NN` found beside the `kubectl` on PATH (or in the usual SDK folder), oldest
    /// first; the plain `kubectl` when there are none.
    static let versions: [String] = {
        var folders: [String] = ["/usr/lib/google-cloud-sdk/bin"]
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) {
            let candidate = folder + "/kubectl"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                folders.append(folder)
                folders.append(URL(fileURLWithPath: candidate).resolvingSymlinksInPath().deletingLastPathComponent().path)
            }
        }
        var found: [(Int, String)] = []
        for folder in Set(folders) {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix("kubectl.1.") {
                if let minor = Int(name.dropFirst("kubectl.1.".count)), !found.contains(where: { $0.0 == minor }) { found.append((minor, folder + "/" + name)) }
            }
        }
        if !found.isEmpty { return found.sorted { $0.0 < $1.0 }.map(\.1) }
        for folder in folders where FileManager.default.isExecutableFile(atPath: folder + "/kubectl") { return [folder + "/kubectl"] }
        return []
    }()

    /// The oldest and the newest (one when only one is found).
    static var oldestAndNewest: [String] {
        guard let first = versions.first, let last = versions.last else { return [] }
        return first == last ? [first] : [first, last]
    }
}
