import AsyncHTTPClient
import Foundation
import Logging
import MeshModel
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// A list's items and the resourceVersion to watch from.
public struct KubeList: Sendable, Equatable {
    public var items: [Value]
    public var resourceVersion: String

    public init(items: [Value], resourceVersion: String) {
        self.items = items
        self.resourceVersion = resourceVersion
    }
}

/// What happens to an object's dependents when it is deleted.
public enum PropagationPolicy: String, Sendable {
    case foreground = "Foreground"
    case background = "Background"
    case orphan = "Orphan"
}

/// A token minted by the TokenRequest API.
public struct ServiceAccountToken: Sendable, Equatable {
    public var token: String
    /// `status.expirationTimestamp` (RFC 3339), as the server set it.
    public var expirationTimestamp: String?
}

/// A small client of the Kubernetes API on AsyncHTTPClient: get, list, watch, server-side apply,
/// delete and create (TokenRequest). Objects are plain ``MeshModel/Value``s.
///
/// Every request is checked against ``LeastPrivilege`` before it is sent.
public struct KubeClient: Sendable {
    public let config: KubeConfig
    /// The field manager of every server-side apply.
    public static let fieldManager = "meshdojo"
    let http: HTTPClient
    let tls: TLSConfiguration?
    let logger: Logger
    /// How long a request (other than a watch's stream) may take to get its answer.
    public var timeout: TimeAmount = .seconds(30)

    /// The HTTP client every ``KubeClient`` shares unless given another: no redirects (a bearer
    /// token must not follow one to another host), no decompression, and a read timeout longer than
    /// a watch's `timeoutSeconds`, so a quiet watch is ended by the server, not cut by the client.
    /// It lives as long as the process, as `HTTPClient.shared` does.
    public static let sharedHTTPClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(420)),
            decompression: .disabled))

    /// - Parameter httpClient: ``sharedHTTPClient`` unless given; TLS settings travel with each request.
    /// - Throws: ``KubeClientError/configuration(_:)`` when the CA or client certificate cannot be used.
    public init(config: KubeConfig, httpClient: HTTPClient = KubeClient.sharedHTTPClient, logger: Logger = Logger(label: "meshdojo.kubernetes")) throws(KubeClientError) {
        self.config = config
        self.http = httpClient
        self.tls = try config.tlsConfiguration()
        self.logger = logger
    }

    // MARK: Verbs

    /// `GET` one object.
    public func get(_ resource: KubeResource, namespace: String?, name: String) async throws -> Value {
        try LeastPrivilege.require([.get], resource)
        let path = try self.path(resource, namespace: namespace, name: name)
        return try await send(.GET, path)
    }

    /// `GET` one object, or nil when it does not exist.
    public func getIfPresent(_ resource: KubeResource, namespace: String?, name: String) async throws -> Value? {
        do {
            return try await get(resource, namespace: namespace, name: name)
        } catch let error as KubeStatusError where error.isNotFound {
            return nil
        }
    }

    /// Lists a kind in a namespace (or across all when `namespace` is nil), with selectors
    /// (`meshdojo.dev/workshop=w1`, `status.phase=Running`).
    public func list(
        _ resource: KubeResource, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil
    ) async throws -> KubeList {
        try LeastPrivilege.require([.list], resource)
        var query: [(String, String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        let path = try self.path(resource, namespace: namespace)
        let body = try await send(.GET, path, query: query)
        guard let items = body["items"]?.arrayValue ?? (body["items"] == .null ? [] : nil) else {
            throw KubeClientError.unexpectedResponse(method: "GET", path: path, message: "a list without items")
        }
        return KubeList(items: items, resourceVersion: body["metadata"]?["resourceVersion"]?.stringValue ?? "")
    }

    /// Server-side apply: `PATCH` with `application/apply-patch+yaml`, `fieldManager=meshdojo`,
    /// `force=true`. Creates the object when it is missing; returns the object as stored.
    /// - Parameters:
    ///   - namespace: where a namespaced object goes when its metadata names none.
    ///   - dryRun: have the server validate and admit the change without storing it (`dryRun=All`).
    public func apply(_ object: Value, namespace: String? = nil, dryRun: Bool = false) async throws -> Value {
        let (resource, name, objectNamespace) = try Self.identify(object, namespace: namespace)
        try LeastPrivilege.require([.patch, .create], resource)
        var body = object
        if resource.namespaced, object["metadata"]?["namespace"] == nil, let objectNamespace {
            body["metadata"]?["namespace"] = .string(objectNamespace)
        }
        // Fields the server owns: an apply that carries them is refused (managedFields) or turns
        // into a compare-and-swap on a stale version (resourceVersion).
        for field in ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation"] {
            body["metadata"]?[field] = nil
        }
        let path = try self.path(resource, namespace: objectNamespace, name: name)
        var query = [("fieldManager", Self.fieldManager), ("force", "true")]
        if dryRun { query.append(("dryRun", "All")) }
        return try await send(.PATCH, path, query: query, body: Array(body.json.utf8), contentType: "application/apply-patch+yaml")
    }

    /// A JSON merge patch (RFC 7386) of one object: changes only the fields it names (a null
    /// removes one), where a server-side apply would also drop the fields it no longer names.
    public func mergePatch(_ resource: KubeResource, namespace: String?, name: String, patch: Value) async throws -> Value {
        try LeastPrivilege.require([.patch], resource)
        let path = try self.path(resource, namespace: namespace, name: name)
        return try await send(
            .PATCH, path, query: [("fieldManager", Self.fieldManager)], body: Array(patch.json.utf8), contentType: "application/merge-patch+json")
    }

    /// `DELETE` one object. Returns what the server answers (the object while finalizers run, or a Status).
    public func delete(
        _ resource: KubeResource, namespace: String?, name: String, propagationPolicy: PropagationPolicy = .background
    ) async throws -> Value {
        try LeastPrivilege.require([.delete], resource)
        let path = try self.path(resource, namespace: namespace, name: name)
        return try await send(.DELETE, path, query: [("propagationPolicy", propagationPolicy.rawValue)])
    }

    /// `POST` an object to a collection, or to a subresource of a named object (`serviceaccounts/{name}/token`).
    public func create(
        _ resource: KubeResource, namespace: String?, name: String? = nil, subresource: String? = nil, body: Value
    ) async throws -> Value {
        try LeastPrivilege.require([.create], resource, subresource: subresource)
        let path = try self.path(resource, namespace: namespace, name: name, subresource: subresource)
        return try await send(.POST, path, body: Array(body.json.utf8), contentType: "application/json")
    }

    /// A token for a service account from the TokenRequest API.
    public func requestToken(
        serviceAccount: String, namespace: String, expirationSeconds: Int = 86_400, audiences: [String] = []
    ) async throws -> ServiceAccountToken {
        var spec: Value = ["expirationSeconds": .int(expirationSeconds)]
        if !audiences.isEmpty { spec["audiences"] = .array(audiences.map { .string($0) }) }
        let request: Value = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec]
        let answer = try await create(.serviceAccounts, namespace: namespace, name: serviceAccount, subresource: "token", body: request)
        guard let token = answer["status"]?["token"]?.stringValue, !token.isEmpty else {
            throw KubeClientError.unexpectedResponse(
                method: "POST", path: KubeResource.serviceAccounts.path(namespace: namespace, name: serviceAccount, subresource: "token"),
                message: "a TokenRequest answer without status.token")
        }
        return ServiceAccountToken(token: token, expirationTimestamp: answer["status"]?["expirationTimestamp"]?.stringValue)
    }

    /// One watch from `resourceVersion`: the events of one connection, until the server ends it
    /// (after `timeoutSeconds`). Use ``listWatch(_:namespace:labelSelector:fieldSelector:timeoutSeconds:)``
    /// for a list kept up to date across reconnections and expired resource versions.
    /// - Throws: ``KubeStatusError`` (a 410 `Gone` when `resourceVersion` is too old) when the watch is refused.
    public func watch(
        _ resource: KubeResource, namespace: String?, resourceVersion: String, labelSelector: String? = nil,
        fieldSelector: String? = nil, timeoutSeconds: Int = 300
    ) async throws -> WatchStream {
        try LeastPrivilege.require([.watch], resource)
        var query: [(String, String)] = [
            ("watch", "true"), ("resourceVersion", resourceVersion), ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", String(timeoutSeconds)),
        ]
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        let path = try self.path(resource, namespace: namespace)
        let response = try await open(.GET, path, query: query, body: nil, contentType: nil)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw try await statusError(response, method: "GET", path: path)
        }
        return WatchStream(body: response.body, method: "GET", path: path, url: config.server + path)
    }

    /// List, then watch from the list's resourceVersion, as client-go's reflector does: watches
    /// again when the server ends one, and lists again on a 410 Gone (answer or ERROR event).
    public func listWatch(
        _ resource: KubeResource, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil,
        timeoutSeconds: Int = 300
    ) -> ListWatch {
        ListWatch(
            client: self, resource: resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
            timeoutSeconds: timeoutSeconds)
    }

    // MARK: Requests

    func path(_ resource: KubeResource, namespace: String?, name: String? = nil, subresource: String? = nil) throws(KubeClientError) -> String {
        if resource.namespaced, name != nil || subresource != nil, namespace == nil {
            throw .badObject("\(resource.kind) \(name ?? "") is namespaced: a namespace is needed")
        }
        return resource.path(namespace: namespace, name: name, subresource: subresource)
    }

    /// The table entry, name and namespace of an object to send.
    static func identify(_ object: Value, namespace: String?) throws(KubeClientError) -> (KubeResource, String, String?) {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue else {
            throw .badObject("an object needs apiVersion and kind")
        }
        guard let name = object["metadata"]?["name"]?.stringValue, !name.isEmpty else {
            throw .badObject("\(kind) without metadata.name")
        }
        guard let resource = KubeResource.forObject(apiVersion: apiVersion, kind: kind) else {
            throw .badObject("\(apiVersion) \(kind) is not a kind MeshDojo's client knows (KubeResource.all)")
        }
        guard resource.namespaced else { return (resource, name, nil) }
        let own = object["metadata"]?["namespace"]?.stringValue
        if let own, let namespace, own != namespace {
            throw .badObject("\(kind)/\(name) is in namespace \(own), not \(namespace)")
        }
        guard let target = own ?? namespace else { throw .badObject("\(kind)/\(name) is namespaced: a namespace is needed") }
        return (resource, name, target)
    }

    /// Sends a request and reads its JSON answer; an error status becomes a ``KubeStatusError``.
    func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = nil
    ) async throws -> Value {
        let response = try await open(method, path, query: query, body: body, contentType: contentType)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw try await statusError(response, method: method.rawValue, path: path)
        }
        let bytes = try await collect(response, method: method.rawValue, path: path)
        if bytes.readableBytes == 0 { return .null }
        do {
            return try JSON.parse(bytes.readableBytesView)
        } catch {
            throw KubeClientError.unexpectedResponse(method: method.rawValue, path: path, message: "\(error)")
        }
    }

    func collect(_ response: HTTPClientResponse, method: String, path: String) async throws -> ByteBuffer {
        do {
            return try await response.body.collect(upTo: 64 << 20)
        } catch let error as NIOTooManyBytesError {
            throw KubeClientError.unexpectedResponse(method: method, path: path, message: "an answer larger than 64 MiB (\(error))")
        }
    }

    func statusError(_ response: HTTPClientResponse, method: String, path: String) async throws -> KubeStatusError {
        let bytes = try await collect(response, method: method, path: path)
        let text = String(buffer: bytes)
        // A body that is not JSON (a proxy's error page) is kept as text: the code still tells.
        let status = try? JSON.parse(bytes.readableBytesView)
        return KubeStatusError(status: Int(response.status.code), body: status, method: method, path: path, rawBody: text)
    }

    /// Starts a request; the caller reads the body.
    func open(
        _ method: HTTPMethod, _ path: String, query: [(String, String)], body: [UInt8]?, contentType: String?
    ) async throws -> HTTPClientResponse {
        let base = config.server.hasSuffix("/") ? String(config.server.dropLast()) : config.server
        var url = base + path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.escapeQuery($0.0))=\(Self.escapeQuery($0.1))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.tlsConfiguration = tls
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "meshdojo-lab-runner")
        if let authorization = try authorization() { request.headers.add(name: "Authorization", value: authorization) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        logger.debug("kubernetes request", metadata: ["method": "\(method.rawValue)", "url": "\(url)"])
        do {
            return try await http.execute(request, timeout: timeout, logger: logger)
        } catch let error as CancellationError {
            throw error
        } catch let error as NIOSSLError {
            let text = "\(error)"
            let hint = text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("hostname")
                ? " (the server's certificate is not signed by the certificate authority the configuration names, or is for another host)"
                : ""
            throw KubeClientError.transport(method: method.rawValue, url: url, message: "TLS: \(text)\(hint)")
        } catch {
            // Connection refused or reset, name resolution, TLS handshake, timeouts: all mean
            // the API server could not be talked to.
            throw KubeClientError.transport(method: method.rawValue, url: url, message: "\(error)")
        }
    }

    /// The `Authorization` header, reading a token file afresh (it rotates).
    func authorization() throws(KubeClientError) -> String? {
        switch config.credentials {
        case .none:
            return nil
        case .token(let token):
            return "Bearer \(token)"
        case .tokenFile(let path):
            let token = String(decoding: try KubeConfig.readFile(path, what: "the service-account token"), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw .configuration("the token file \(path) is empty") }
            return "Bearer \(token)"
        case .basic(let username, let password):
            return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        }
    }

    /// Percent-encodes a query name or value (selectors hold `=`, `,` and `!`).
    static func escapeQuery(_ text: String) -> String {
        KubeResource.escape(text)
    }
}
