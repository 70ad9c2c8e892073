import AsyncHTTPClient
import Foundation
import MeshModel
import NIOCore
import NIOHTTP1

/// The lab-runner API as labctl uses it.
struct RunnerClient {
    let base: String
    let token: String?

    /// - Parameters:
    ///   - server: `--server`, else `LAB_RUNNER_URL`, else the saved login's server, else http://127.0.0.1:8080.
    ///   - token: `--token`, else `LAB_RUNNER_TOKEN`, else the saved login's token.
    init(server: String?, token: String? = nil) {
        let saved = LabctlConfig.load()
        // A variable set to nothing counts as unset.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.value.isEmpty }
        base = (server ?? environment["LAB_RUNNER_URL"] ?? saved?.server ?? "http://127.0.0.1:8080")
            .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.token = token ?? environment["LAB_RUNNER_TOKEN"] ?? saved?.token
    }

    struct Reply {
        var status: Int
        var body: Value
        var text: String
    }

    /// A refused connection fails at once (the runner is not up), instead of being retried until the deadline.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    func send(
        _ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(120)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(contentsOf: headers)
        if let token { request.headers.replaceOrAdd(name: "authorization", value: "Bearer \(token)") }
        if let body {
            request.body = .bytes(ByteBuffer(string: body))
            request.headers.replaceOrAdd(name: "content-type", value: "application/json")
        }
        let response: HTTPClientResponse
        do {
            response = try await Self.http.execute(request, timeout: timeout)
        } catch {
            throw LabctlError("cannot reach the lab-runner at \(base) (\(error)); start it with: labctl up")
        }
        let text = String(buffer: try await response.body.collect(upTo: 64 << 20))
        let value = (try? ManifestLoader.documents(text, file: "reply").first) ?? .null
        return Reply(status: Int(response.status.code), body: value ?? .null, text: text)
    }

    /// Sends and fails with the API's message unless the status is 2xx.
    func expectOK(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> Value {
        let reply = try await send(method, path, body: body)
        guard (200..<300).contains(reply.status) else { throw LabctlError(Self.message(reply)) }
        return reply.body
    }

    static func message(_ reply: Reply) -> String {
        if let causes = reply.body["details"]?["causes"]?.arrayValue, !causes.isEmpty {
            return "error: " + causes.compactMap { $0["message"]?.stringValue }.joined(separator: "\nerror: ")
        }
        return "error: " + (reply.body["message"]?.stringValue ?? "HTTP \(reply.status): \(reply.text)")
    }

    func isHealthy() async -> Bool {
        (try? await send(.GET, "/healthz", timeout: .seconds(2)).status) == 200
    }
}

struct LabctlError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The saved login: `~/.meshdojo/config.json` (`MESHDOJO_CONFIG` overrides the path), mode 0600.
struct LabctlConfig: Codable {
    var server: String
    var token: String
    var lab: String?

    static var path: String {
        // `$HOME` as the user's shell has it (NSHomeDirectory() reads the password database on Linux).
        ProcessInfo.processInfo.environment["MESHDOJO_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.meshdojo/config.json")
    }

    static func load() -> LabctlConfig? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(LabctlConfig.self, from: data)
    }

    func save() throws {
        let url = URL(fileURLWithPath: Self.path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: url.path, contents: try JSONEncoder().encode(self), attributes: [.posixPermissions: 0o600])
    }
}
