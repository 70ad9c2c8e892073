import ArgumentParser
import Foundation
import MeshModel

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register for the workshop with the event code, or save a token you were given.")
    @Option(help: "Your name (a namespace is made for you).") var name: String?
    @Option(help: "The event code from your instructor.") var eventCode: String?
    @Option(help: "A token you already have.") var token: String?
    @Option(help: "The lab-runner URL.") var server: String?

    func run() async throws {
        let client = RunnerClient(server: server, token: token)
        if let token {
            let whoami = try await client.expectOK(.GET, "/apis/meshdojo.dev/v1/whoami")
            try LabctlConfig(server: client.base, token: token).save()
            print("logged in as \(whoami["name"]?.stringValue ?? whoami["role"]?.stringValue ?? "?")")
            return
        }
        guard let name, let eventCode else { throw ValidationError("give --name and --event-code, or --token") }
        let body = Value.object([("name", .string(name)), ("eventCode", .string(eventCode))])
        let reply = try await client.expectOK(.POST, "/apis/meshdojo.dev/v1/register", body: body.json)
        let issued = reply["token"]?.stringValue ?? ""
        try LabctlConfig(server: client.base, token: issued).save()
        print("registered as \(name); your namespace is \(reply["namespace"]?.stringValue ?? "?")")
        print("token (also saved in \(LabctlConfig.path)): \(issued)")
        print("dashboard: \(client.base)/dashboard/#token=\(issued)")
    }
}

/// The namespace the caller works in: their own for a student, `-n` (default `default`) for the instructor.
func myNamespace(_ client: RunnerClient, explicit: String?) async throws -> String {
    if let explicit { return explicit }
    let whoami = try await client.expectOK(.GET, "/apis/meshdojo.dev/v1/whoami")
    return whoami["namespace"]?.stringValue ?? "default"
}

struct LabGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lab", abstract: "List and start labs.", subcommands: [LabList.self, LabStart.self])
}

struct LabList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the labs.")
    @Option(help: "en or ja.") var lang = "en"
    @Option(help: "The lab-runner URL.") var server: String?

    func run() async throws {
        let reply = try await RunnerClient(server: server).expectOK(.GET, "/apis/meshdojo.dev/v1/labs")
        for lab in reply["items"]?.arrayValue ?? [] {
            let id = lab["id"]?.stringValue ?? ""
            print("\(id.padding(toLength: 22, withPad: " ", startingAt: 0)) \(lab["title"]?[lang]?.stringValue ?? "")  (\(lab["checks"]?.arrayValue?.count ?? 0) checks)")
        }
    }
}

struct LabStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a lab: reset your namespace to its starting state.")
    @Argument var id: String
    @Option(name: .shortAndLong, help: "The namespace (instructor only).") var namespace: String?
    @Option(help: "en or ja.") var lang = "en"
    @Option(help: "The lab-runner URL.") var server: String?

    func run() async throws {
        let client = RunnerClient(server: server)
        let target = try await myNamespace(client, explicit: namespace)
        let reply = try await client.expectOK(.POST, "/apis/meshdojo.dev/v1/namespaces/\(target)/labs/\(id)/start")
        for line in reply["lines"]?.arrayValue ?? [] { print(line.stringValue ?? "") }
        if var config = LabctlConfig.load() {
            config.lab = id
            try? config.save()
        }
        let lab = try await client.expectOK(.GET, "/apis/meshdojo.dev/v1/labs/\(id)")
        print("\n\(lab["title"]?[lang]?.stringValue ?? id)\n")
        for step in lab["steps"]?.arrayValue ?? [] {
            print(step["page"]?[lang]?.stringValue ?? "")
        }
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Grade a lab from real traffic; exits 0 only when every check passed.")
    @Argument var id: String
    @Option(help: "Only this check.") var check: String?
    @Option(help: "The checks of this step (1 is the first) instead of the step you are on.") var step: Int?
    @Flag(help: "Print the verdicts as JSON.") var json = false
    @Option(name: .shortAndLong, help: "The namespace (instructor only).") var namespace: String?
    @Option(help: "en or ja.") var lang = "en"
    @Option(help: "The lab-runner URL.") var server: String?

    func validate() throws {
        if check != nil, step != nil { throw ValidationError("give --check or --step, not both") }
        if let step, step < 1 { throw ValidationError("--step counts from 1, not \(step)") }
    }

    func run() async throws {
        let client = RunnerClient(server: server)
        let target = try await myNamespace(client, explicit: namespace)
        let query = check.map { "?check=\($0)" } ?? step.map { "?step=\($0)" } ?? ""
        let progress = Task {
            let start = ContinuousClock.now
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(500))
                if !json { FileHandle.standardError.write(Data("\rsending traffic and judging… \((ContinuousClock.now - start).components.seconds) s".utf8)) }
            }
        }
        let reply: Value
        do {
            reply = try await client.expectOK(.POST, "/apis/meshdojo.dev/v1/namespaces/\(target)/labs/\(id)/check\(query)")
        } catch {
            progress.cancel()
            throw error
        }
        progress.cancel()
        if !json { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if json {
            print(reply.prettyJSON, terminator: "")
        } else {
            for verdict in reply["verdicts"]?.arrayValue ?? [] {
                let passed = verdict["passed"] == .bool(true)
                print("\(passed ? "✔ PASS" : "✘ FAIL")  \(verdict["check"]?.stringValue ?? "")")
                print("   \(verdict["summary"]?[lang]?.stringValue ?? "")")
                for cause in verdict["causes"]?.arrayValue ?? [] { print("   → \(cause[lang]?.stringValue ?? cause.stringValue ?? "")") }
                for line in verdict["evidence"]?.arrayValue ?? [] { print("     \(line.stringValue ?? "")") }
            }
        }
        if reply["passed"] != .bool(true) { throw ExitCode(1) }
    }
}

struct Solve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply a lab's reference solution.")
    @Argument var id: String
    @Option(name: .shortAndLong, help: "The namespace (instructor only).") var namespace: String?
    @Option(help: "The lab-runner URL.") var server: String?

    func run() async throws {
        let client = RunnerClient(server: server)
        let target = try await myNamespace(client, explicit: namespace)
        let reply = try await client.expectOK(.POST, "/apis/meshdojo.dev/v1/namespaces/\(target)/labs/\(id)/solve")
        for line in reply["lines"]?.arrayValue ?? [] { print(line.stringValue ?? "") }
    }
}

struct Reset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reset your namespace to the start of a lab (the last one started by default); checks begin again at its first step.")
    @Argument var id: String?
    @Option(name: .shortAndLong, help: "The namespace (instructor only).") var namespace: String?
    @Option(help: "The lab-runner URL.") var server: String?

    func run() async throws {
        guard let lab = id ?? LabctlConfig.load()?.lab else { throw ValidationError("which lab? labctl reset LAB-ID") }
        let client = RunnerClient(server: server)
        let target = try await myNamespace(client, explicit: namespace)
        let reply = try await client.expectOK(.POST, "/apis/meshdojo.dev/v1/namespaces/\(target)/labs/\(lab)/reset")
        for line in reply["lines"]?.arrayValue ?? [] { print(line.stringValue ?? "") }
    }
}
