import BookinfoKit
import Foundation
import Hummingbird
import HTTPTypes
import KubernetesBackend
import LocalCluster
import MeshModel

/// The workshop's own endpoints under `/apis/meshdojo.dev/v1/…`: atomic multi-document apply
/// and delete (labctl's `{"files": [...]}` bodies), analysis, the ingress URL and shutdown. The
/// Kubernetes API itself is ``KubeServer``.
public struct ResourceAPI: Sendable {
    let backend: any ClusterBackend
    let onShutdown: @Sendable () -> Void
    /// Largest request body accepted.
    public static let maxBodyBytes = 1 << 20

    public init(backend: any ClusterBackend, onShutdown: @escaping @Sendable () -> Void = {}) {
        self.backend = backend
        self.onShutdown = onShutdown
    }

    /// Answers `/apis/meshdojo.dev/v1/<rest>`.
    public func respond(_ rest: [String], request: Request, caller: Caller) async throws -> Routed {
        do {
            return try await meshdojo(rest, request: request, caller: caller)
        } catch let error as ManifestError {
            return Routed("error", Self.status(422, "Invalid", error.description, details: [error.description]))
        } catch {
            if let response = Self.backendError(error) { return Routed("error", response) }
            throw error
        }
    }

    static func labels(_ labels: [String: String]) -> Value {
        .object(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    // MARK: meshdojo.dev

    func meshdojo(_ rest: [String], request: Request, caller: Caller) async throws -> Routed {
        if rest == ["shutdown"], request.method == .post {
            guard caller == .instructor else { return Routed("/shutdown", Self.status(403, "Forbidden", "only the instructor stops the lab-runner")) }
            onShutdown()
            return Routed("/shutdown", Self.status(200, "Success", "lab-runner is stopping"))
        }
        guard rest.count == 3, rest[0] == "namespaces" else {
            return Routed("/meshdojo", Self.status(404, "NotFound", "the server could not find the requested resource"))
        }
        let namespace = rest[1]
        guard caller.mayUse(namespace: namespace) else {
            return Routed("forbidden", Self.status(403, "Forbidden", "you may only use your own namespace"))
        }
        switch (rest[2], request.method) {
        case ("apply", .post):
            let objects = try await bodyObjects(request)
            if let problem = Admission.problem(objects: objects, namespace: namespace, caller: caller) {
                return Routed("forbidden", Self.status(403, "Forbidden", problem))
            }
            let result = try await backend.applyObjects(objects, namespace: namespace)
            let warnings = Self.warnings(result.warnings, about: objects)
            var response = Self.json(["lines": .array(result.lines.map { .string($0) }), "warnings": Self.diagnostics(warnings)])
            KubeServer.addWarnings(warnings.map { ($0.object.map { "\($0): " } ?? "") + $0.message }, to: &response)
            return Routed("/apply", response)
        case ("delete", .post):
            let objects = try await bodyObjects(request)
            if let problem = Admission.problem(objects: objects, namespace: namespace, caller: caller) {
                return Routed("forbidden", Self.status(403, "Forbidden", problem))
            }
            // All or nothing: every object must exist, or nothing is deleted.
            let inNamespace = objects.filter { $0.kind != "Namespace" }
            try await backend.deleteObjects(inNamespace.map { ($0.kind, $0.metadata.name) }, namespace: namespace)
            for object in objects where object.kind == "Namespace" { try await backend.removeNamespace(object.metadata.name) }
            let lines: [Value] = objects.map { .string("\($0.kind.lowercased()) \"\($0.metadata.name)\" deleted") }
            return Routed("/delete", Self.json(["lines": .array(lines)]))
        case ("analyze", .get):
            guard try await backend.namespaceLabels(namespace) != nil else { throw LocalClusterError.notFound("namespaces \"\(namespace)\"") }
            return Routed("/analyze", Self.json(["diagnostics": Self.diagnostics(try await backend.diagnostics(namespace))]))
        case ("ingress", .get):
            guard let url = try await backend.ingressURL(of: namespace) else { throw LocalClusterError.notFound("namespaces \"\(namespace)\"") }
            return Routed("/ingress", Self.json(["url": .string(url)]))
        default:
            return Routed("/meshdojo", Self.status(404, "NotFound", "the server could not find the requested resource"))
        }
    }

    /// What an apply warns about, as kubectl's server-side warnings do: the findings about the
    /// objects just applied (a VirtualService whose subsets no DestinationRule defines yet, …),
    /// once each; not the namespace's other findings, informational notes, or subsets that
    /// select nothing (Istio's own sample defines several).
    static func warnings(_ findings: [Diagnostic], about objects: [KubeObject]) -> [Diagnostic] {
        let applied = Set(objects.map(\.reference))
        var seen: Set<String> = []
        return findings.filter { finding in
            guard let object = finding.object, applied.contains(object) || applied.contains(where: { object.hasPrefix($0 + ".") }) else { return false }
            guard finding.severity != .info, finding.code != Analysis.Code.subsetSelectsNothing else { return false }
            return seen.insert("\(finding.code) \(object) \(finding.message)").inserted
        }
    }

    static func diagnostics(_ diagnostics: [Diagnostic]) -> Value {
        .array(diagnostics.map { diagnostic in
            var value: Value = ["severity": .string(diagnostic.severity.rawValue), "code": .string(diagnostic.code), "message": .string(diagnostic.message), "text": .string(diagnostic.description),
                "messageJa": .string(diagnostic.messageJa ?? diagnostic.message), "textJa": .string(diagnostic.descriptionJa),
            ]
            if let file = diagnostic.file { value["file"] = .string(file) }
            if let object = diagnostic.object { value["object"] = .string(object) }
            if let field = diagnostic.field { value["field"] = .string(field) }
            return value
        })
    }

    // MARK: bodies and replies

    /// The request body as objects: YAML or JSON, or `{"files": [{"name", "text"}]}` from labctl.
    func bodyObjects(_ request: Request) async throws -> [KubeObject] {
        var request = request
        let buffer = try await request.collectBody(upTo: Self.maxBodyBytes)
        let text = String(buffer: buffer)
        let name = request.headers[HTTPField.Name("x-meshdojo-file")!] ?? "request body"
        // labctl sends `{"files": [{"name", "text"}]}`; anything else is YAML or JSON manifests.
        // The body is parsed once, and whatever it holds, every resulting object is authorized.
        let documents = try ManifestLoader.documents(text, file: name)
        if documents.count == 1, let files = documents[0]["files"], documents[0]["kind"] == nil {
            guard let list = files.arrayValue else {
                throw ManifestError(file: name, document: 1, object: nil, field: "files", message: "must be a list of {name, text}")
            }
            var objects: [KubeObject] = []
            for file in list {
                guard let fileText = file["text"]?.stringValue else {
                    throw ManifestError(file: name, document: 1, object: nil, field: "files[].text", message: "missing: each file needs its text")
                }
                objects += try ManifestLoader.load(fileText, file: file["name"]?.stringValue ?? name)
            }
            return objects
        }
        return try ManifestLoader.load(text, file: name)
    }

    /// The request body's first document as a plain value (JSON or YAML), `{}` when empty.
    static func bodyValue(_ request: Request) async throws -> Value {
        var request = request
        let text = String(buffer: try await request.collectBody(upTo: Self.maxBodyBytes))
        let documents = try ManifestLoader.documents(text, file: "request body")
        return documents.first ?? .object([])
    }

    static func list(_ apiVersion: String, _ kind: String, _ items: [Value]) -> Value {
        ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": [:], "items": .array(items)]
    }

    static func json(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        .text(value.json, status: status, contentType: "application/json")
    }

    static func status(_ code: Int, _ reason: String, _ message: String, details: [String] = []) -> Response {
        var value: Value = [
            "apiVersion": "v1", "kind": "Status", "status": .string(code < 300 ? "Success" : "Failure"), "message": .string(message),
            "reason": .string(reason), "code": .int(code),
        ]
        if !details.isEmpty { value["details"] = ["causes": .array(details.map { ["message": .string($0)] })] }
        return json(value, status: HTTPResponse.Status(code: code))
    }

    /// The Status answer for an error of either backend; nil for errors that are not theirs.
    static func backendError(_ error: any Error) -> Response? {
        switch error {
        case let error as LocalClusterError:
            return clusterError(error)
        case let error as BackendError:
            switch error {
            case .invalid(let problems): return status(422, "Invalid", error.description, details: problems)
            case .unsupported: return status(501, "NotImplemented", error.description)
            }
        case let error as KubeStatusError:
            // The cluster's own answer (Forbidden, Invalid, Conflict, quota), passed on as it came.
            let details = error.causes.compactMap { cause in cause.message.map { (cause.field.map { "\($0): " } ?? "") + $0 } }
            return status(error.code, error.reason, "the cluster refused: \(error.message)", details: details)
        case let error as KubernetesBackendError:
            return status(503, "ServiceUnavailable", error.description)
        case let error as KubeClientError:
            return status(502, "BadGateway", "the cluster could not be asked: \(error.description)")
        default:
            return nil
        }
    }

    static func clusterError(_ error: LocalClusterError) -> Response {
        switch error {
        case .notFound: status(404, "NotFound", error.description)
        case .invalid(let problems): status(422, "Invalid", problems.joined(separator: "\n"), details: problems)
        case .conflict: status(409, "Conflict", error.description)
        case .envoyRejected: status(422, "Invalid", error.description, details: [error.description])
        default: status(500, "InternalError", error.description)
        }
    }
}
