import Foundation
import MeshModel

/// Istio's CustomResourceDefinitions, read from the published CRD file at start: each served
/// version's OpenAPI v3 schema and printer columns. Without the file the Istio kinds are still
/// served, with schemas that accept any fields and the columns Istio prints.
public struct CRDCatalog: Sendable {
    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: String
        public var jsonPath: String
        public var description: String
        public var priority: Int
    }

    public struct Version: Sendable {
        public var group: String
        public var version: String
        public var kind: String
        public var schema: Value
        public var columns: [Column]
    }

    /// Keyed by `group/version/Kind`.
    public var versions: [String: Version]
    /// Where the definitions came from (nil: built-in fallback).
    public var source: String?

    public static let empty = CRDCatalog(versions: [:], source: nil)

    /// Reads every CustomResourceDefinition of a multi-document YAML file.
    /// - Throws: ``ManifestError`` when the file cannot be read or parsed.
    public static func load(path: String) throws -> CRDCatalog {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var limits = ManifestLoader.Limits.standard
        limits.maxValues = 5_000_000
        limits.maxDepth = 200
        var versions: [String: Version] = [:]
        for document in try ManifestLoader.documents(text, file: path, limits: limits) where document["kind"]?.stringValue == "CustomResourceDefinition" {
            guard let spec = document["spec"], let group = spec["group"]?.stringValue, let kind = spec["names"]?["kind"]?.stringValue else { continue }
            for entry in spec["versions"]?.arrayValue ?? [] where entry["served"] != .bool(false) {
                guard let version = entry["name"]?.stringValue else { continue }
                let columns = (entry["additionalPrinterColumns"]?.arrayValue ?? []).compactMap { column -> Column? in
                    guard let name = column["name"]?.stringValue, let path = column["jsonPath"]?.stringValue else { return nil }
                    var priority = 0
                    if case .int(let value) = column["priority"] ?? .null { priority = value }
                    return Column(
                        name: name, type: column["type"]?.stringValue ?? "string", jsonPath: path,
                        description: column["description"]?.stringValue ?? "", priority: priority)
                }
                let schema = entry["schema"]?["openAPIV3Schema"] ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
                versions["\(group)/\(version)/\(kind)"] = Version(group: group, version: version, kind: kind, schema: schema, columns: columns)
            }
        }
        return CRDCatalog(versions: versions, source: path)
    }

    /// The definition of a kind, or the fallback: any fields, and Istio's usual columns.
    public func version(group: String, version: String, kind: String) -> Version {
        if let found = versions["\(group)/\(version)/\(kind)"] { return found }
        return Version(group: group, version: version, kind: kind, schema: Self.fallbackSchema(kind), columns: Self.fallbackColumns(kind))
    }

    static func fallbackSchema(_ kind: String) -> Value {
        [
            "type": "object",
            "properties": [
                "spec": [
                    "type": "object", "x-kubernetes-preserve-unknown-fields": true,
                    "description": .string("The \(kind) specification: see https://istio.io/latest/docs/reference/config/networking/"),
                ],
                "status": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
            ],
        ]
    }

    static let age = Column(name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "", priority: 0)

    static func fallbackColumns(_ kind: String) -> [Column] {
        switch kind {
        case "VirtualService":
            [
                Column(name: "Gateways", type: "string", jsonPath: ".spec.gateways", description: "", priority: 0),
                Column(name: "Hosts", type: "string", jsonPath: ".spec.hosts", description: "", priority: 0), age,
            ]
        case "DestinationRule":
            [Column(name: "Host", type: "string", jsonPath: ".spec.host", description: "", priority: 0), age]
        case "ServiceEntry":
            [
                Column(name: "Hosts", type: "string", jsonPath: ".spec.hosts", description: "", priority: 0),
                Column(name: "Location", type: "string", jsonPath: ".spec.location", description: "", priority: 0),
                Column(name: "Resolution", type: "string", jsonPath: ".spec.resolution", description: "", priority: 0), age,
            ]
        default:
            [age]
        }
    }
}
