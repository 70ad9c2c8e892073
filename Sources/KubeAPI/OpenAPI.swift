import Crypto
import Foundation
import MeshModel

/// OpenAPI v3 documents of every served group version: the schemas `kubectl explain` reads (the
/// Istio kinds from Istio's CRDs) and, per resource, the operations whose `fieldValidation`
/// parameter tells kubectl that the server validates fields itself (so `--validate=strict` works).
public struct OpenAPI: Sendable {
    public let crds: CRDCatalog
    let documents: [String: String]

    public init(crds: CRDCatalog) {
        self.crds = crds
        var documents: [String: String] = [:]
        for (key, group, version) in Self.groupVersions() {
            documents[key] = Self.document(group: group, version: version, crds: crds).json
        }
        self.documents = documents
    }

    /// `api/v1`, `apis/apps/v1`, … with their group and version.
    static func groupVersions() -> [(String, String, String)] {
        var out: [(String, String, String)] = [("api/v1", "", "v1")]
        for group in APIResources.groups {
            for version in group.versions { out.append(("apis/\(group.name)/\(version)", group.name, version)) }
        }
        return out
    }

    /// The `/openapi/v3` index: each group version's document with a content hash.
    public func index() -> Value {
        .object([("paths", .object(documents.keys.sorted().map { key in
            (key, ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(Self.hash(documents[key]!))")])
        }))])
    }

    /// One group version's document as JSON text (`api/v1`, `apis/networking.istio.io/v1`).
    public func document(_ key: String) -> String? {
        documents[key]
    }

    static func hash(_ text: String) -> String {
        SHA512.hash(data: Data(text.utf8)).prefix(32).map { String(format: "%02X", $0) }.joined()
    }

    /// The name of a kind's schema, as Kubernetes names them.
    public static func schemaName(group: String, version: String, kind: String) -> String {
        switch group {
        case "": "io.k8s.api.core.v1.\(kind)"
        case "apps": "io.k8s.api.apps.v1.\(kind)"
        case "extensions": "io.k8s.api.extensions.v1beta1.\(kind)"
        default: group.split(separator: ".").reversed().joined(separator: ".") + ".\(version).\(kind)"
        }
    }

    static let objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

    static func document(group: String, version: String, crds: CRDCatalog) -> Value {
        var schemas: [(String, Value)] = [(objectMeta, BuiltinSchemas.objectMeta)]
        var paths: [(String, Value)] = []
        for resource in APIResources.all where resource.group == group && resource.versions.contains(version) {
            let gvk: Value = ["group": .string(group), "version": .string(version), "kind": .string(resource.kind)]
            var schema: Value
            if group.isEmpty || group == "apps" || group == "extensions" {
                schema = BuiltinSchemas.schema(resource.kind)
            } else {
                schema = crds.version(group: group, version: version, kind: resource.kind).schema
                schema["description"] = schema["description"] ?? .string("\(resource.kind) of Istio's \(group) API.")
            }
            var properties = schema["properties"] ?? [:]
            properties["apiVersion"] = ["type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."]
            properties["kind"] = ["type": "string", "description": "Kind is a string value representing the REST resource this object represents."]
            properties["metadata"] = [
                "description": "Standard object's metadata.", "allOf": [["$ref": .string("#/components/schemas/\(objectMeta)")]], "default": [:],
            ]
            schema["properties"] = properties
            schema["type"] = "object"
            schema["x-kubernetes-group-version-kind"] = [gvk]
            let name = schemaName(group: group, version: version, kind: resource.kind)
            schemas.append((name, schema))
            let listGVK: Value = ["group": .string(group), "version": .string(version), "kind": .string(resource.kind + "List")]
            schemas.append((name + "List", [
                "type": "object", "description": .string("\(resource.kind)List is a list of \(resource.kind)."),
                "properties": [
                    "apiVersion": ["type": "string"], "kind": ["type": "string"],
                    "items": ["type": "array", "items": ["allOf": [["$ref": .string("#/components/schemas/\(name)")]], "default": [:]]],
                ],
                "x-kubernetes-group-version-kind": [listGVK],
            ]))
            paths += operations(resource, version: version, gvk: gvk, schema: name)
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": .string("v1.\(Discovery.kubernetesMinor).0")],
            "paths": .object(paths), "components": ["schemas": .object(schemas)],
        ]
    }

    static func parameter(_ name: String, _ description: String, in place: String = "query") -> Value {
        ["name": .string(name), "in": .string(place), "description": .string(description), "schema": ["type": "string", "uniqueItems": true]]
    }

    static func operations(_ resource: APIResource, version: String, gvk: Value, schema: String) -> [(String, Value)] {
        let collection = resource.path(namespace: resource.namespaced ? "{namespace}" : nil, version: version)
        let item = collection + "/{name}"
        let reference: Value = ["$ref": .string("#/components/schemas/\(schema)")]
        let body: Value = ["content": ["*/*": ["schema": reference]]]
        let ok: Value = ["200": ["description": "OK", "content": ["application/json": ["schema": reference]]]]
        let writeParameters: [Value] = [
            parameter("dryRun", "When present, indicates that modifications should not be persisted."),
            parameter("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
            parameter("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields: Ignore, Warn or Strict."),
        ]
        func op(_ verb: String, _ action: String, parameters: [Value] = [], requestBody: Value? = nil) -> Value {
            var value: Value = [
                "operationId": .string("\(verb)\(resource.kind)"), "x-kubernetes-action": .string(action),
                "x-kubernetes-group-version-kind": gvk, "responses": ok, "parameters": .array(parameters),
            ]
            if let requestBody { value["requestBody"] = requestBody }
            return value
        }
        var namespaceParameters: [Value] = [parameter("name", "name of the \(resource.kind)", in: "path")]
        if resource.namespaced { namespaceParameters.append(parameter("namespace", "object name and auth scope, such as for teams and projects", in: "path")) }
        var collectionItem: Value = ["get": op("list", "list")]
        if resource.verbs.contains("create") { collectionItem["post"] = op("create", "post", parameters: writeParameters, requestBody: body) }
        if resource.namespaced { collectionItem["parameters"] = [parameter("namespace", "object name and auth scope", in: "path")] }
        var itemValue: Value = ["get": op("read", "get"), "parameters": .array(namespaceParameters)]
        if resource.verbs.contains("update") { itemValue["put"] = op("replace", "put", parameters: writeParameters, requestBody: body) }
        if resource.verbs.contains("patch") {
            // No strategic-merge content type here: kubectl then computes strategic patches for the
            // built-in kinds from its own compiled-in merge keys, the same keys the server merges by.
            let patchBody: Value = [
                "content": [
                    "application/json-patch+json": ["schema": ["type": "object"]],
                    "application/merge-patch+json": ["schema": ["type": "object"]],
                    "application/apply-patch+yaml": ["schema": ["type": "object"]],
                ],
            ]
            itemValue["patch"] = op("patch", "patch", parameters: writeParameters + [parameter("force", "Force is going to \"force\" Apply requests.")], requestBody: patchBody)
        }
        if resource.verbs.contains("delete") { itemValue["delete"] = op("delete", "delete") }
        return [(collection, collectionItem), (item, itemValue)]
    }
}
