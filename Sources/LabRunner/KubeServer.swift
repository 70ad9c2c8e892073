import BookinfoKit
import Foundation
import Hummingbird
import HTTPTypes
import KubeAPI
import LocalCluster
import MeshModel
import NIOCore

/// The Kubernetes API the lab-runner serves over TLS, so real kubectl works against the
/// workshop: discovery, OpenAPI v3, server-side printing, get/list/watch, create, replace,
/// merge/strategic/JSON patches, server-side apply, delete, pod logs, and Status errors.
///
/// Each request is decoded once (``RequestInfo``), authenticated (bearer tokens: the
/// instructor's or a student's), authorized (``Admission``), then handled by one method per verb.
public struct KubeServer: BookinfoHandler {
    let cluster: LocalCluster
    let workshop: Workshop
    let openAPI: OpenAPI
    let printer: TablePrinter
    let limiter: RateLimiter
    /// `host:port` as clients reach the API.
    let address: BoundAddress
    var serverAddress: String { address.hostPort ?? "127.0.0.1:8443" }

    public static let maxBodyBytes = 1 << 20

    public init(cluster: LocalCluster, workshop: Workshop, crds: CRDCatalog, address: BoundAddress, limiter: RateLimiter = RateLimiter()) {
        self.cluster = cluster
        self.workshop = workshop
        self.openAPI = OpenAPI(crds: crds)
        self.printer = TablePrinter(crds: crds)
        self.limiter = limiter
        self.address = address
    }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Routed {
        let path = request.uri.path
        if ["/healthz", "/livez", "/readyz"].contains(path) { return Routed(path, .text("ok", contentType: "text/plain")) }
        do {
            guard let token = WorkshopAPI.bearer(request), let caller = try await workshop.caller(token: token) else {
                throw StatusError.unauthorized()
            }
            guard caller == .instructor || limiter.allow(token) else {
                throw StatusError.tooManyRequests("too many requests; slow down")
            }
            let query = request.uri.queryParameters
            let watch = query["watch"].map { $0 == "true" || $0 == "1" } ?? false
            switch RequestInfo.decode(method: request.method.rawValue, path: path, watch: watch) {
            case .failure(.other(let other)):
                return try nonResource(other)
            case .failure(.unknownResource(let group, let version, let plural)):
                throw StatusError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(plural)\(group.isEmpty ? "" : ".\(group)") \(version))")
            case .failure(.methodNotAllowed):
                throw StatusError.methodNotAllowed()
            case .success(let info):
                try Admission.authorize(info, caller: caller)
                return try await resource(info, request: request, caller: caller)
            }
        } catch let error as StatusError {
            return Routed("error", Self.reply(error))
        } catch let error as LocalClusterError {
            return Routed("error", Self.reply(Self.status(error)))
        } catch let error as WorkshopError {
            return Routed("error", Self.reply(StatusError(code: 400, reason: "BadRequest", message: error.description)))
        } catch is NIOTooManyBytesError {
            return Routed("error", Self.reply(StatusError.requestTooLarge(Self.maxBodyBytes)))
        }
    }

    // MARK: non-resource paths

    func nonResource(_ other: RequestInfo.Other) throws -> Routed {
        switch other {
        case .version: return Routed("/version", Self.json(Discovery.version()))
        case .api: return Routed("/api", Self.json(Discovery.apiVersions(serverAddress: serverAddress)))
        case .apiVersion(let version):
            guard let list = Discovery.resourceList(group: "", version: version) else { throw Self.notFound }
            return Routed("/api/v1", Self.json(list))
        case .apis: return Routed("/apis", Self.json(Discovery.groupList()))
        case .apiGroup(let group):
            guard let value = Discovery.group(group) else { throw Self.notFound }
            return Routed("/apis/:group", Self.json(value))
        case .groupVersion(let group, let version):
            guard let list = Discovery.resourceList(group: group, version: version) else { throw Self.notFound }
            return Routed("/apis/:group/:version", Self.json(list))
        case .openAPIv2:
            // An empty (valid) protobuf document: kubectl then leaves schema checks to the server,
            // which validates every field (fieldValidation, advertised in OpenAPI v3).
            return Routed("/openapi/v2", Response(status: .ok, headers: [.contentType: "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"], body: .init()))
        case .openAPIv3Index:
            return Routed("/openapi/v3", Self.json(openAPI.index()))
        case .openAPIv3(let key):
            guard let document = openAPI.document(key) else { throw Self.notFound }
            return Routed("/openapi/v3/:gv", .text(document, contentType: "application/json"))
        case .notFound:
            throw Self.notFound
        }
    }

    static let notFound = StatusError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")

    // MARK: resources

    func resource(_ info: RequestInfo, request: Request, caller: Caller) async throws -> Routed {
        let route = "/\(info.resource.plural)\(info.subresource.map { "/\($0)" } ?? "")"
        if let namespace = info.namespace, info.resource.plural != "namespaces", await cluster.namespace(namespace) == nil {
            // Kubernetes answers reads in a missing namespace with empty lists, and writes with NotFound.
            if info.verb == .list || info.verb == .watch {
                if info.verb == .list { return Routed(route, try list(info, request: request, objects: [])) }
            } else {
                throw StatusError.notFound(APIResources.find("namespaces")!, namespace)
            }
        }
        switch info.verb {
        case .get:
            return Routed(route, try await get(info, request: request))
        case .list:
            return Routed(route, try list(info, request: request, objects: try await objects(info, caller: caller)))
        case .watch:
            return Routed(route, try await watch(info, request: request, caller: caller))
        case .create:
            return Routed(route, try await create(info, request: request, caller: caller))
        case .update:
            return Routed(route, try await replace(info, request: request, caller: caller))
        case .patch:
            return Routed(route, try await patch(info, request: request, caller: caller))
        case .delete:
            return Routed(route, try await delete(info, request: request))
        case .deletecollection:
            throw StatusError.methodNotAllowed("delete the objects one by one (kubectl delete -f FILE, or kubectl delete KIND NAME)")
        }
    }

    /// The objects a list or watch covers (for `-A`, every namespace the caller may see).
    func objects(_ info: RequestInfo, caller: Caller) async throws -> [Value] {
        let resource = info.resource
        if resource.plural == "namespaces" {
            let all = await cluster.namespaceObjects()
            guard case .student(_, let own) = caller else { return all }
            return all.filter { $0["metadata"]?["name"]?.stringValue == own }
        }
        if let namespace = info.namespace { return await cluster.list(kind: resource.kind, namespace: namespace) }
        guard caller == .instructor else { throw StatusError.forbidden("listing across namespaces is the instructor's") }
        var out: [Value] = []
        for namespace in await cluster.namespaces() { out += await cluster.list(kind: resource.kind, namespace: namespace.name) }
        return out
    }

    func current(_ info: RequestInfo, name: String) async -> Value? {
        if info.resource.plural == "namespaces" { return await cluster.namespaceObject(name) }
        guard let namespace = info.namespace else { return nil }
        return await cluster.get(kind: info.resource.kind, name: name, namespace: namespace)
    }

    /// The object a write changes: the stored one, never what the engine only shows (the
    /// namespace's own `Service/istio-ingressgateway`, until one is written). Engine-made kinds
    /// (pods, ReplicaSets, events) are as shown; writing them is refused later.
    func currentForWrite(_ info: RequestInfo, name: String) async -> Value? {
        guard info.resource.plural != "namespaces", !Self.engineKinds.contains(info.resource.kind), let namespace = info.namespace else {
            return await current(info, name: name)
        }
        guard let stored = await cluster.object(kind: info.resource.kind, name: name, namespace: namespace) else { return nil }
        return await cluster.viewObject(stored, asWritten: true)
    }

    func get(_ info: RequestInfo, request: Request) async throws -> Response {
        guard let name = info.name else { throw Self.notFound }
        if info.subresource == "log", info.resource.kind == "Pod", let namespace = info.namespace {
            let query = request.uri.queryParameters
            let text = try await cluster.podLog(
                namespace: namespace, pod: name, container: query["container"].map(String.init), tailLines: query["tailLines"].flatMap { Int(String($0)) })
            return .text(text, contentType: "text/plain")
        }
        guard let object = await current(info, name: name) else { throw StatusError.notFound(info.resource, name) }
        let shown = Self.versioned(object, info)
        if Self.wantsTable(request) {
            return Self.json(printer.table(info.resource, version: info.version, objects: [shown], resourceVersion: Self.text(shown["metadata"]?["resourceVersion"]), includeObject: request.uri.queryParameters["includeObject"].map(String.init)))
        }
        return Self.json(shown)
    }

    func list(_ info: RequestInfo, request: Request, objects: [Value]) throws -> Response {
        let query = request.uri.queryParameters
        let labels = try Selector.labels(query["labelSelector"].map(String.init))
        let fields = try Selector.fields(query["fieldSelector"].map(String.init))
        let items = objects.filter { labels.matchesLabels(of: $0) && fields.matchesFields(of: $0) }.map { Self.versioned($0, info) }
        let version = String(cluster.hub.currentVersion)
        if Self.wantsTable(request) {
            return Self.json(printer.table(info.resource, version: info.version, objects: items, resourceVersion: version, includeObject: query["includeObject"].map(String.init)))
        }
        return Self.json([
            "apiVersion": .string(info.resource.groupVersion(info.version)), "kind": .string(info.resource.kind + "List"),
            "metadata": ["resourceVersion": .string(version)], "items": .array(items),
        ])
    }

    // MARK: helpers

    /// The object as the requested version shows it (the Istio kinds are served in v1, v1beta1
    /// and v1alpha3 alike).
    static func versioned(_ object: Value, _ info: RequestInfo) -> Value {
        guard !info.resource.group.isEmpty else { return object }
        var copy = object
        copy["apiVersion"] = .string(info.resource.groupVersion(info.version))
        return copy
    }

    static func wantsTable(_ request: Request) -> Bool {
        (request.headers[.accept] ?? "").split(separator: ",").first.map { $0.contains("as=Table") } ?? false
    }

    static func text(_ value: Value?) -> String {
        value?.stringValue ?? ""
    }

    static func json(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        .text(value.json, status: status, contentType: "application/json")
    }

    static func reply(_ error: StatusError) -> Response {
        var response = json(error.status, status: HTTPResponse.Status(code: error.code))
        if let retry = error.retryAfter { response.headers[.retryAfter] = String(retry) }
        return response
    }

    static func status(_ error: LocalClusterError) -> StatusError {
        switch error {
        case .notFound(let what): StatusError(code: 404, reason: "NotFound", message: "\(what) not found")
        case .invalid(let problems): StatusError(code: 422, reason: "Invalid", message: problems.joined(separator: "\n"), causes: problems.map { .init(message: $0) })
        case .conflict(let what): StatusError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(what): the object has been modified; please apply your changes to the latest version and try again")
        case .envoyRejected(let detail): StatusError(code: 422, reason: "Invalid", message: "the mesh refused the configuration (the previous configuration keeps serving): \(detail)")
        default: StatusError.internalError(error.description)
        }
    }
}
