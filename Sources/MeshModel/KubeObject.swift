/// Kubernetes object metadata: the parts MeshDojo reads and keeps.
public struct ObjectMeta: Sendable, Equatable {
    public var name: String
    public var namespace: String?
    public var labels: [String: String]
    public var annotations: [String: String]

    public init(name: String, namespace: String? = nil, labels: [String: String] = [:], annotations: [String: String] = [:]) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
    }
}

/// Where an object was read from, for messages.
public struct SourceLocation: Sendable, Equatable {
    public var file: String
    /// 1-based document index within the file.
    public var document: Int

    public init(file: String, document: Int) {
        self.file = file
        self.document = document
    }
}

/// One Kubernetes-shaped object: `apiVersion`, `kind`, `metadata` and the whole document.
public struct KubeObject: Sendable, Equatable {
    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    /// The document as written (including `spec`), with metadata as read.
    public var body: Value
    public var source: SourceLocation

    /// The API group (`networking.istio.io`), empty for the core group.
    public var group: String {
        apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
    }

    /// The version part of `apiVersion` (`v1alpha3`).
    public var version: String {
        String(apiVersion.split(separator: "/").last ?? "")
    }

    /// `Kind/name`, as messages name an object.
    public var reference: String { "\(kind)/\(metadata.name)" }

    /// The object's `spec`, or an empty map.
    public var spec: Value { body["spec"] ?? .object([]) }

    /// Reads an object from a parsed document.
    /// - Throws: ``ManifestError`` when `apiVersion`, `kind` or `metadata.name` is missing or not text.
    public init(value: Value, file: String, document: Int) throws(ManifestError) {
        func fail(_ field: String, _ message: String, object: String? = nil) -> ManifestError {
            ManifestError(file: file, document: document, object: object, field: field, message: message)
        }
        guard let apiVersion = value["apiVersion"]?.stringValue, !apiVersion.isEmpty else {
            throw fail("apiVersion", "missing: every object needs apiVersion (for example networking.istio.io/v1alpha3)")
        }
        guard let kind = value["kind"]?.stringValue, !kind.isEmpty else {
            throw fail("kind", "missing: every object needs a kind (for example VirtualService)")
        }
        guard let metadata = value["metadata"], case .object = metadata else {
            throw fail("metadata", "missing: every object needs metadata with a name", object: kind)
        }
        guard let name = metadata["name"]?.stringValue, !name.isEmpty else {
            throw fail("metadata.name", "missing: every object needs a name", object: kind)
        }
        guard Self.isDNSLabelish(name) else {
            throw fail(
                "metadata.name",
                "'\(name)' is not a valid name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
                object: "\(kind)/\(name)")
        }
        var labels: [String: String] = [:]
        var annotations: [String: String] = [:]
        for (key, target) in [("labels", 0), ("annotations", 1)] {
            guard let map = metadata[key], map != .null else { continue }
            guard let members = map.objectMembers else {
                throw fail("metadata.\(key)", "must be a map of strings", object: "\(kind)/\(name)")
            }
            for (label, labelValue) in members {
                let text: String
                switch labelValue {
                case .string(let string): text = string
                case .int(let number): text = String(number)
                case .bool(let flag): text = String(flag)
                default: throw fail("metadata.\(key).\(label)", "must be a string", object: "\(kind)/\(name)")
                }
                if target == 0 { labels[label] = text } else { annotations[label] = text }
            }
        }
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = ObjectMeta(
            name: name, namespace: metadata["namespace"]?.stringValue, labels: labels, annotations: annotations)
        self.body = value
        self.source = SourceLocation(file: file, document: document)
    }

    /// A new object built in code (the engine's own objects, API bodies).
    public init(apiVersion: String, kind: String, metadata: ObjectMeta, body: Value, source: SourceLocation) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.body = body
        self.source = source
    }

    /// A DNS-1123 subdomain, as Kubernetes requires of most names: at most 253 characters,
    /// dot-separated labels of lower-case letters, digits and '-', each starting and ending with
    /// a letter or digit (so `a..b` and `-a` are refused).
    public static func isDNSLabelish(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last, label.count <= 63 else { return false }
            let allowed = label.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            return allowed && first != "-" && last != "-"
        }
    }

    /// The document with `metadata.namespace` set, as the API stores and returns it.
    public func withNamespace(_ namespace: String) -> KubeObject {
        var copy = self
        copy.metadata.namespace = namespace
        var metadata = copy.body["metadata"] ?? .object([])
        metadata["namespace"] = .string(namespace)
        copy.body["metadata"] = metadata
        return copy
    }
}
