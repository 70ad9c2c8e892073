import ArgumentParser
import Foundation
import MeshModel

@main
struct Labctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labctl",
        abstract: "Run and inspect the MeshDojo local mesh, kubectl-style.",
        discussion: "Talks to the lab-runner at LAB_RUNNER_URL (default http://127.0.0.1:8080).",
        subcommands: [
            Up.self, Down.self, Login.self, LabGroup.self, Check.self, Solve.self, Reset.self, Apply.self, Delete.self, Get.self,
            Label.self, Analyze.self, Create.self, Kubeconfig.self,
        ])
}

struct Common: ParsableArguments {
    @Option(name: [.short, .long], help: "The namespace.") var namespace = "default"
    @Option(help: "The lab-runner URL (default: LAB_RUNNER_URL or http://127.0.0.1:8080).") var server: String?
    @Option(help: "The language of warnings and findings: en or ja.") var lang = "en"

    /// The key of a finding's message in the chosen language.
    var messageKey: String { lang == "ja" ? "messageJa" : "message" }

    var client: RunnerClient { RunnerClient(server: server) }
}

/// Reads files and folders into the apply body: every file's name and text.
func filesBody(_ paths: [String]) throws -> String {
    var files: [Value] = []
    for path in paths {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LabctlError("error: the path \"\(path)\" does not exist")
        }
        var names = [path]
        if isDirectory.boolValue {
            names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }.sorted()
                .map { (path as NSString).appendingPathComponent($0) }
        }
        for name in names {
            guard let text = try? String(contentsOfFile: name, encoding: .utf8) else {
                throw LabctlError("error: cannot read \(name) as text")
            }
            files.append(["name": .string(name), "text": .string(text)])
        }
    }
    return Value.object([("files", .array(files))]).json
}

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply manifests (all or nothing).")
    @Option(name: .shortAndLong, help: "A file or folder of YAML/JSON manifests.") var filename: [String]
    @OptionGroup var common: Common

    func run() async throws {
        let reply = try await common.client.expectOK(.POST, "/apis/meshdojo.dev/v1/namespaces/\(common.namespace)/apply", body: try filesBody(filename))
        for line in reply["lines"]?.arrayValue ?? [] { print(line.stringValue ?? "") }
        // As kubectl prints the server's warnings.
        for warning in reply["warnings"]?.arrayValue ?? [] {
            let object = warning["object"]?.stringValue.map { "\($0): " } ?? ""
            FileHandle.standardError.write(Data("Warning: \(object)\((warning[common.messageKey] ?? warning["message"])?.stringValue ?? "")\n".utf8))
        }
    }
}

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete the objects of manifests, or a resource by name (labctl delete pod NAME).")
    @Option(name: .shortAndLong, help: "A file or folder of manifests.") var filename: [String] = []
    @Argument(help: "KIND NAME, e.g. pod reviews-v1-abc12-xyz34") var target: [String] = []
    @OptionGroup var common: Common

    func run() async throws {
        if !filename.isEmpty {
            let reply = try await common.client.expectOK(.POST, "/apis/meshdojo.dev/v1/namespaces/\(common.namespace)/delete", body: try filesBody(filename))
            for line in reply["lines"]?.arrayValue ?? [] { print(line.stringValue ?? "") }
            return
        }
        guard target.count == 2, let kind = ResourceKindsTable.find(target[0]) else {
            throw ValidationError("give -f FILE, or a kind and a name (labctl delete pod NAME)")
        }
        _ = try await common.client.expectOK(.DELETE, "\(kind.path(common.namespace))/\(target[1])")
        print("\(kind.singular) \"\(target[1])\" deleted")
    }
}

struct Label: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Label a namespace: labctl label namespace NS key=value [key-].")
    @Argument(help: "namespace NAME key=value... (key- removes a label)") var arguments: [String]
    @Option(help: "The lab-runner URL.") var server: String?

    func run() async throws {
        guard arguments.count >= 3, ["namespace", "namespaces", "ns"].contains(arguments[0]) else {
            throw ValidationError("usage: labctl label namespace NAME key=value [key-]")
        }
        var labels: [(String, Value)] = []
        for pair in arguments.dropFirst(2) {
            if pair.hasSuffix("-") { labels.append((String(pair.dropLast()), .null)); continue }
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("'\(pair)' is not key=value") }
            labels.append((parts[0], .string(parts[1])))
        }
        let patch = Value.object([("metadata", .object([("labels", .object(labels))]))])
        _ = try await RunnerClient(server: server).expectOK(.PATCH, "/api/v1/namespaces/\(arguments[1])", body: patch.json)
        print("namespace/\(arguments[1]) labeled")
    }
}

struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a namespace: labctl create namespace NAME.")
    @Argument var arguments: [String]
    @Option(help: "The lab-runner URL.") var server: String?

    func run() async throws {
        guard arguments.count == 2, ["namespace", "ns"].contains(arguments[0]) else { throw ValidationError("usage: labctl create namespace NAME") }
        let body = Value.object([("apiVersion", "v1"), ("kind", "Namespace"), ("metadata", .object([("name", .string(arguments[1]))]))])
        _ = try await RunnerClient(server: server).expectOK(.POST, "/api/v1/namespaces", body: body.json)
        print("namespace/\(arguments[1]) created")
    }
}

struct Analyze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Analyze a namespace's configuration, like istioctl analyze.")
    @OptionGroup var common: Common

    func run() async throws {
        let reply = try await common.client.expectOK(.GET, "/apis/meshdojo.dev/v1/namespaces/\(common.namespace)/analyze")
        let diagnostics = reply["diagnostics"]?.arrayValue ?? []
        if diagnostics.isEmpty {
            print("✔ No validation issues found when analyzing namespace: \(common.namespace).")
            return
        }
        for diagnostic in diagnostics { print((diagnostic[common.lang == "ja" ? "textJa" : "text"] ?? diagnostic["text"])?.stringValue ?? "") }
        if diagnostics.contains(where: { $0["severity"]?.stringValue == "Error" }) { throw ExitCode(79) }
    }
}
