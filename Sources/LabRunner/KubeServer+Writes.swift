import BookinfoKit
import Foundation
import Hummingbird
import HTTPTypes
import KubeAPI
import LocalCluster
import MeshModel

/// Create, replace, patch (merge, strategic, JSON, server-side apply) and delete.
extension KubeServer {
    /// Kinds the engine makes itself; they cannot be written.
    static let engineKinds: Set<String> = ["Pod", "ReplicaSet", "Event"]

    struct WriteOptions {
        var manager: String
        var dryRun: Bool
        var validation: String
    }

    static func options(_ request: Request, default manager: String) throws(StatusError) -> WriteOptions {
        let query = request.uri.queryParameters
        let validation = query["fieldValidation"].map(String.init) ?? "Strict"
        guard ["Strict", "Warn", "Ignore"].contains(validation) else {
            throw StatusError.badRequest("fieldValidation must be one of Strict, Warn or Ignore, not \(validation)")
        }
        if let dryRun = query["dryRun"].map(String.init), dryRun != "All" {
            throw StatusError.badRequest("dryRun must be All, not \(dryRun)")
        }
        return WriteOptions(manager: query["fieldManager"].map(String.init) ?? manager, dryRun: query["dryRun"] == "All", validation: validation)
    }

    /// The request body as one object (JSON or YAML), within the size and YAML limits.
    static func body(_ request: Request) async throws -> Value {
        var request = request
        let buffer = try await request.collectBody(upTo: maxBodyBytes)
        if contentType(request) == "application/vnd.kubernetes.protobuf" {
            do { return try ProtobufEnvelope.decode(Array(buffer: buffer)) } catch {
                throw StatusError.unsupportedMediaType("application/vnd.kubernetes.protobuf (\(error.description))")
            }
        }
        let text = String(buffer: buffer)
        let documents: [Value]
        do { documents = try ManifestLoader.documents(text, file: "request body") } catch {
            throw StatusError.badRequest("the request body is not valid JSON or YAML: \(error.message)")
        }
        guard documents.count == 1, let document = documents.first, document.objectMembers != nil else {
            throw StatusError.badRequest("the request body must be one object")
        }
        return document
    }

    static func contentType(_ request: Request) -> String {
        (request.headers[.contentType] ?? "application/json").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }

    // MARK: verbs

    func create(_ info: RequestInfo, request: Request, caller: Caller) async throws -> Response {
        let options = try Self.options(request, default: "kubectl-create")
        let contentType = Self.contentType(request)
        guard ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "*/*"].contains(contentType) else {
            throw StatusError.unsupportedMediaType(contentType)
        }
        var object = try await Self.body(request)
        if info.resource.kind == "Pod", info.subresource == nil {
            throw StatusError.methodNotAllowed("the embedded engine runs pods from Deployments: apply a Deployment (kubectl create deployment …) instead of a bare Pod")
        }
        if info.resource.kind == "ServiceAccount", info.subresource == "token" {
            return try await tokenRequest(info, body: object)
        }
        guard let name = object["metadata"]?["name"]?.stringValue, !name.isEmpty else {
            throw StatusError.invalid(info.resource, "", [.init(reason: "FieldValueRequired", message: "name or generateName is required", field: "metadata.name")])
        }
        if await currentForWrite(info, name: name) != nil { throw StatusError.alreadyExists(info.resource, name) }
        var metadata = object["metadata"] ?? [:]
        metadata["resourceVersion"] = nil
        object["metadata"] = metadata
        object = FieldManager.update(object, from: nil, manager: options.manager, kind: info.resource.kind)
        return try await write(info, object: object, name: name, expectedVersion: nil, options: options, caller: caller, status: .created)
    }

    /// The TokenRequest API: a token for a ServiceAccount of the namespace, acting in that
    /// namespace only (as the student's Role allows), for `spec.expirationSeconds` (10 minutes to
    /// 48 hours; one hour by default).
    func tokenRequest(_ info: RequestInfo, body: Value) async throws -> Response {
        guard let namespace = info.namespace, let name = info.name else { throw StatusError.methodNotAllowed() }
        guard await cluster.object(kind: "ServiceAccount", name: name, namespace: namespace) != nil else {
            throw StatusError.notFound(info.resource, name)
        }
        var requested = 3600
        if case .int(let seconds)? = body["spec"]?["expirationSeconds"] { requested = seconds }
        guard (600...48 * 3600).contains(requested) else {
            throw StatusError.invalid(
                info.resource, name,
                [.init(reason: "FieldValueInvalid", message: "may be between 600 seconds (10 minutes) and 172800 (48 hours), not \(requested)", field: "spec.expirationSeconds")])
        }
        let expires = Date().addingTimeInterval(TimeInterval(requested))
        let token = workshop.serviceAccountTokens.issue(namespace: namespace, serviceAccount: name, expires: expires)
        let answer: Value = [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(ISO8601DateFormatter().string(from: Date()))],
            "spec": ["audiences": body["spec"]?["audiences"] ?? [], "expirationSeconds": .int(requested)],
            "status": ["token": .string(token), "expirationTimestamp": .string(ISO8601DateFormatter().string(from: expires))],
        ]
        return Self.json(answer, status: .created)
    }

    func replace(_ info: RequestInfo, request: Request, caller: Caller) async throws -> Response {
        guard let name = info.name else { throw StatusError.methodNotAllowed() }
        let options = try Self.options(request, default: "kubectl-replace")
        var object = try await Self.body(request)
        guard let old = await currentForWrite(info, name: name) else { throw StatusError.notFound(info.resource, name) }
        guard object["metadata"]?["name"]?.stringValue == name else {
            throw StatusError.badRequest("the name of the object (\(Self.text(object["metadata"]?["name"]))) does not match the name on the URL (\(name))")
        }
        let expected = object["metadata"]?["resourceVersion"]?.stringValue
        if let expected, !expected.isEmpty, expected != Self.text(old["metadata"]?["resourceVersion"]) {
            throw StatusError.conflict(info.resource, name)
        }
        object = FieldManager.update(object, from: old, manager: options.manager, kind: info.resource.kind)
        return try await write(info, object: object, name: name, expectedVersion: Self.text(old["metadata"]?["resourceVersion"]), options: options, caller: caller, status: .ok)
    }

    func patch(_ info: RequestInfo, request: Request, caller: Caller) async throws -> Response {
        guard let name = info.name else { throw StatusError.methodNotAllowed() }
        let contentType = Self.contentType(request)
        let patch: Value
        if contentType == "application/json-patch+json" {
            var request = request
            let text = String(buffer: try await request.collectBody(upTo: Self.maxBodyBytes))
            guard let parsed = try? ManifestLoader.documents(text, file: "patch").first else { throw StatusError.badRequest("the JSON patch is not valid JSON") }
            patch = parsed
        } else {
            patch = try await Self.body(request)
        }
        let isApply = contentType == "application/apply-patch+yaml"
        let options = try Self.options(request, default: isApply ? "" : "kubectl-patch")
        if isApply, options.manager.isEmpty {
            throw StatusError.badRequest("PATCH requests with apply content type (application/apply-patch+yaml) require fieldManager")
        }
        // Optimistic concurrency: a patch is computed on the current object and written only if
        // that object is still current; a lost race is retried, as the API server does.
        for _ in 0..<5 {
            let old = await currentForWrite(info, name: name)
            guard old != nil || isApply else { throw StatusError.notFound(info.resource, name) }
            var object: Value
            switch contentType {
            case "application/merge-patch+json":
                object = Patch.merge(old!, patch)
            case "application/strategic-merge-patch+json":
                guard ["", "apps", "extensions"].contains(info.resource.group) else {
                    throw StatusError.unsupportedMediaType("\(contentType) (strategic merge patch is for built-in kinds; use --type merge for \(info.resource.kind))")
                }
                do { object = try Patch.strategic(old!, patch, kind: info.resource.kind) } catch { throw StatusError.badRequest(error.description) }
            case "application/json-patch+json":
                do { object = try Patch.json(old!, patch) } catch { throw StatusError(code: 422, reason: "Invalid", message: "the JSON patch cannot be applied: \(error.description)") }
            case "application/apply-patch+yaml":
                var applied = patch
                if applied["metadata"]?["name"]?.stringValue != name {
                    throw StatusError.badRequest("the name of the object (\(Self.text(applied["metadata"]?["name"]))) does not match the name on the URL (\(name))")
                }
                var metadata = applied["metadata"] ?? [:]
                metadata["managedFields"] = nil
                metadata["resourceVersion"] = nil
                applied["metadata"] = metadata
                let force = request.uri.queryParameters["force"] == "true"
                do {
                    object = try FieldManager.apply(applied, onto: old, manager: options.manager, force: force, kind: info.resource.kind)
                } catch {
                    throw error.status(info.resource, name)
                }
            default:
                throw StatusError.unsupportedMediaType(contentType)
            }
            if !isApply { object = FieldManager.update(object, from: old, manager: options.manager, kind: info.resource.kind) }
            // The name and namespace cannot be patched away.
            var metadata = object["metadata"] ?? [:]
            metadata["name"] = .string(name)
            object["metadata"] = metadata
            do {
                return try await write(
                    info, object: object, name: name, expectedVersion: old.map { Self.text($0["metadata"]?["resourceVersion"]) }, options: options,
                    caller: caller, status: old == nil ? .created : .ok)
            } catch LocalClusterError.conflict {
                continue
            }
        }
        throw StatusError.conflict(info.resource, name)
    }

    /// Validates, admits and stores one object.
    func write(
        _ info: RequestInfo, object: Value, name: String, expectedVersion: String?, options: WriteOptions, caller: Caller, status: HTTPResponse.Status
    ) async throws -> Response {
        let resource = info.resource
        if Self.engineKinds.contains(resource.kind) {
            throw StatusError.methodNotAllowed("\(resource.plural) are made by the workshop's engine from your Deployments; change the Deployment instead")
        }
        var object = object
        guard Self.text(object["kind"]) == resource.kind else {
            throw StatusError.badRequest("the object's kind (\(Self.text(object["kind"]))) does not match the resource (\(resource.kind))")
        }
        let (group, _) = APIResources.split(apiVersion: Self.text(object["apiVersion"]))
        guard group == resource.group else {
            throw StatusError.badRequest("the API version in the data (\(Self.text(object["apiVersion"]))) does not match the expected API version (\(resource.groupVersion(info.version)))")
        }
        if resource.plural == "namespaces" {
            return try await writeNamespace(object, name: name, expectedVersion: expectedVersion, options: options, status: status, caller: caller)
        }
        guard let namespace = info.namespace else { throw StatusError.badRequest("a namespace is needed") }
        if let own = object["metadata"]?["namespace"]?.stringValue, !own.isEmpty, own != namespace {
            throw StatusError.badRequest("the namespace of the provided object (\(own)) does not match the namespace sent on the request (\(namespace))")
        }
        var metadata = object["metadata"] ?? [:]
        metadata["namespace"] = .string(namespace)
        object["metadata"] = metadata
        var warnings: [String] = []
        object = try validateFields(object, resource: resource, name: name, mode: options.validation, warnings: &warnings)
        let parsed: KubeObject
        do { parsed = try KubeObject(value: object, file: "request", document: 1) } catch {
            throw StatusError.invalid(resource, name, [.init(message: error.message, field: error.field)])
        }
        if let problem = Admission.problem(objects: [parsed], namespace: namespace, caller: caller) { throw StatusError.forbidden(problem) }
        let diagnostics = Validation.validate(parsed.withNamespace(namespace))
        let errors = diagnostics.filter { $0.severity == .error }
        if !errors.isEmpty {
            let problems = errors.map { ($0.field.map { "\($0): " } ?? "") + $0.message }
            if resource.group == APIResources.istioGroup { throw StatusError.admissionDenied(problems) }
            throw StatusError.invalid(resource, name, errors.map { .init(message: $0.message, field: $0.field) })
        }
        warnings += diagnostics.filter { $0.severity == .warning }.map { ($0.field.map { "\($0): " } ?? "") + $0.message }
        let result: LocalCluster.ApplyResult
        do {
            result = try await cluster.apply(
                [parsed], namespace: namespace, expectedVersions: expectedVersion.map { [parsed.reference: $0] } ?? [:], dryRun: options.dryRun)
        } catch LocalClusterError.invalid(let problems) {
            throw StatusError.invalid(resource, name, problems.map { .init(message: $0) })
        }
        warnings += ResourceAPI.warnings(result.warnings, about: [parsed]).map(\.message)
        var stored = object
        if let first = result.stored.first { stored = await cluster.viewObject(first) }
        var response = Self.json(Self.versioned(stored, info), status: status)
        Self.addWarnings(warnings, to: &response)
        return response
    }

    static func addWarnings(_ warnings: [String], to response: inout Response) {
        var seen: Set<String> = []
        for warning in warnings where seen.insert(warning).inserted {
            let text = warning.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\n", with: " ")
            response.headers.append(HTTPField(name: HTTPField.Name("Warning")!, value: "299 - \"\(text)\""))
        }
    }

    /// Unknown fields: refused (Strict, the default), warned and dropped (Warn), or dropped (Ignore).
    func validateFields(_ object: Value, resource: APIResource, name: String, mode: String, warnings: inout [String]) throws -> Value {
        guard let parsed = try? KubeObject(value: object, file: "request", document: 1) else { return object }
        let unknown = Validation.validate(parsed).filter { $0.severity == .error && $0.message.hasPrefix("unknown field") }.compactMap(\.field)
        guard !unknown.isEmpty else { return object }
        switch mode {
        case "Strict":
            let list = unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", ")
            throw StatusError.badRequest("\(resource.kind) in version \"\(APIResources.split(apiVersion: Self.text(object["apiVersion"])).version)\" cannot be handled as a \(resource.kind): strict decoding error: \(list)")
        case "Warn":
            warnings += unknown.map { "unknown field \"\($0)\"" }
            fallthrough
        default:
            return unknown.reduce(object) { Self.prune($0, path: $1) }
        }
    }

    /// Removes `spec.http[0].rout` from an object.
    static func prune(_ value: Value, path: String) -> Value {
        var steps: [Any] = []
        for part in path.split(separator: ".") {
            var name = Substring(part)
            var indexes: [Int] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]"), let index = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]) {
                indexes.insert(index, at: 0)
                name = name[..<open]
            }
            steps.append(String(name))
            steps += indexes.map { $0 as Any }
        }
        func remove(_ value: Value, _ steps: ArraySlice<Any>) -> Value {
            guard let step = steps.first else { return value }
            let rest = steps.dropFirst()
            if let index = step as? Int, var items = value.arrayValue, items.indices.contains(index) {
                items[index] = remove(items[index], rest)
                return .array(items)
            }
            guard let key = step as? String, let child = value[key] else { return value }
            var copy = value
            copy[key] = rest.isEmpty ? nil : remove(child, rest)
            return copy
        }
        return remove(value, steps[...])
    }

    func writeNamespace(
        _ object: Value, name: String, expectedVersion: String?, options: WriteOptions, status: HTTPResponse.Status, caller: Caller
    ) async throws -> Response {
        func strings(_ value: Value?) -> [String: String] {
            var out: [String: String] = [:]
            for (key, item) in value?.objectMembers ?? [] { out[key] = item.stringValue ?? item.json }
            return out
        }
        var labels = strings(object["metadata"]?["labels"])
        labels["kubernetes.io/metadata.name"] = nil
        let annotations = strings(object["metadata"]?["annotations"])
        if caller != .instructor {
            let old = await cluster.namespaceObject(name)
            var oldLabels = strings(old?["metadata"]?["labels"])
            oldLabels["kubernetes.io/metadata.name"] = nil
            if let problem = Admission.namespaceChange(old: oldLabels, new: labels, caller: caller) { throw StatusError.forbidden(problem) }
            if annotations != strings(old?["metadata"]?["annotations"]) {
                throw StatusError.forbidden("namespaces is forbidden: a student may only set the istio-injection label of their own namespace, not its annotations")
            }
        }
        if options.dryRun { return Self.json(object, status: status) }
        if status == .created {
            try await cluster.createNamespace(name, labels: labels)
            if !annotations.isEmpty { try await cluster.updateNamespace(name, labels: labels, annotations: annotations, expectedVersion: nil) }
        } else {
            try await cluster.updateNamespace(name, labels: labels, annotations: annotations, expectedVersion: expectedVersion)
        }
        guard let stored = await cluster.namespaceObject(name) else { throw StatusError.notFound(APIResources.find("namespaces")!, name) }
        return Self.json(stored, status: status)
    }

    func delete(_ info: RequestInfo, request: Request) async throws -> Response {
        guard let name = info.name else { throw StatusError.methodNotAllowed() }
        guard let old = await current(info, name: name) else { throw StatusError.notFound(info.resource, name) }
        let dryRun = request.uri.queryParameters["dryRun"] == "All"
        if !dryRun {
            switch info.resource.kind {
            case "Namespace": try await cluster.deleteNamespace(name)
            case "Pod": try await cluster.deletePod(name, namespace: info.namespace!)
            case let kind where Self.engineKinds.contains(kind):
                throw StatusError.methodNotAllowed("\(info.resource.plural) are made by the workshop's engine; delete their Deployment instead")
            default: try await cluster.delete(kind: info.resource.kind, name: name, namespace: info.namespace!)
            }
        }
        var shown = Self.versioned(old, info)
        var metadata = shown["metadata"] ?? [:]
        metadata["deletionTimestamp"] = .string(ISO8601DateFormatter().string(from: Date()))
        shown["metadata"] = metadata
        return Self.json(shown)
    }
}
