import Foundation
import Yams

/// Reads Kubernetes-shaped objects from multi-document YAML (or JSON, which is YAML too).
public enum ManifestLoader {
    /// Parses every document of `text`; empty and comment-only documents are skipped.
    ///
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: the name messages use for it.
    /// - Throws: ``ManifestError`` naming the file, the document and what is wrong (YAML syntax
    ///   with line and column, a document that is not a map, missing `apiVersion`/`kind`/`metadata.name`).
    public static func load(_ text: String, file: String, limits: Limits = .standard) throws(ManifestError) -> [KubeObject] {
        var objects: [KubeObject] = []
        for (offset, value) in try compose(text, file: file, limits: limits).enumerated() {
            guard let value else { continue }
            let index = offset + 1
            guard case .object = value else {
                throw ManifestError(
                    file: file, document: index, object: nil, field: nil,
                    message: "a document must be a map with apiVersion, kind and metadata, not a \(value.typeName)")
            }
            objects.append(try KubeObject(value: value, file: file, document: index))
        }
        return objects
    }

    /// Reads a file, or every `.yaml`, `.yml` and `.json` file of a folder (sorted by name).
    public static func load(path: String) throws(ManifestError) -> [KubeObject] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ManifestError(file: path, document: nil, object: nil, field: nil, message: "no such file or folder")
        }
        var files = [path]
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }.sorted()
                .map { (path as NSString).appendingPathComponent($0) }
        }
        var objects: [KubeObject] = []
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ManifestError(file: file, document: nil, object: nil, field: nil, message: "cannot read the file as UTF-8 text")
            }
            objects += try load(text, file: file)
        }
        return objects
    }

    static func yamlMessage(_ error: any Error) -> String {
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
                let where_ = "line \(mark.line), column \(mark.column)"
                let about = context.map { " \($0.text)" } ?? ""
                return "YAML syntax error at \(where_): \(problem)\(about) (check the indentation: nested fields need more spaces than their parent, list items start with '- ')"
            case .composer(let context, let problem, let mark, _):
                return "YAML error at line \(mark.line), column \(mark.column): \(problem)\(context.map { " \($0.text)" } ?? "")"
            default:
                return "YAML error: \(yaml)"
            }
        }
        return "YAML error: \(error)"
    }

    /// Limits on what one text may expand to, so that untrusted YAML (aliases nested ten deep, a
    /// million documents) is refused before it costs memory.
    public struct Limits: Sendable {
        public var maxValues = 200_000
        public var maxDepth = 64
        public var maxDocuments = 500
        public static let standard = Limits()

        public init(maxValues: Int = 200_000, maxDepth: Int = 64, maxDocuments: Int = 500) {
            self.maxValues = maxValues
            self.maxDepth = maxDepth
            self.maxDocuments = maxDocuments
        }
    }

    struct Budget {
        var values = 0
        let limits: Limits
    }

    struct TooLarge: Error {
        let message: String
    }

    /// A Yams node as a ``Value``, with YAML 1.1 scalar typing (quoted scalars stay strings).
    static func convert(_ node: Node, _ budget: inout Budget, depth: Int = 0) throws(TooLarge) -> Value {
        budget.values += 1
        guard budget.values <= budget.limits.maxValues else {
            throw TooLarge(message: "the text expands to more than \(budget.limits.maxValues) values (YAML aliases or anchors used too often); write the objects out plainly")
        }
        guard depth <= budget.limits.maxDepth else {
            throw TooLarge(message: "values are nested more than \(budget.limits.maxDepth) levels deep")
        }
        switch node {
        case .scalar(let scalar):
            if scalar.style == .doubleQuoted || scalar.style == .singleQuoted || scalar.style == .literal
                || scalar.style == .folded
            {
                return .string(scalar.string)
            }
            if node.null != nil { return .null }
            if let flag = node.bool { return .bool(flag) }
            if let number = node.int { return .int(number) }
            if let number = node.float { return .double(number) }
            return .string(scalar.string)
        case .mapping(let mapping):
            var members: [(String, Value)] = []
            for (key, value) in mapping { members.append((key.string ?? "\(key)", try convert(value, &budget, depth: depth + 1))) }
            return .object(members)
        case .sequence(let sequence):
            var items: [Value] = []
            for value in sequence { items.append(try convert(value, &budget, depth: depth + 1)) }
            return .array(items)
        case .alias:
            return .null
        }
    }

    /// Adds the values under `node` to `total`; false once `limit` is passed.
    static func count(_ node: Node, _ total: inout Int, limit: Int) -> Bool {
        total += 1
        guard total <= limit else { return false }
        switch node {
        case .mapping(let mapping):
            for (_, value) in mapping where !count(value, &total, limit: limit) { return false }
        case .sequence(let sequence):
            for value in sequence where !count(value, &total, limit: limit) { return false }
        default:
            break
        }
        return true
    }

    /// Composes every document of `text`, within `limits`.
    static func compose(_ text: String, file: String, limits: Limits) throws(ManifestError) -> [Value?] {
        var nodes: [Node] = []
        do {
            // YamlSequence stops at a syntax error and keeps it in `error` instead of throwing.
            var sequence = try Yams.compose_all(yaml: text)
            while let node = sequence.next() {
                nodes.append(node)
                guard nodes.count <= limits.maxDocuments else {
                    throw TooLarge(message: "more than \(limits.maxDocuments) documents in one text")
                }
            }
            if let error = sequence.error { throw error }
        } catch let error as TooLarge {
            throw ManifestError(file: file, document: nil, object: nil, field: nil, message: error.message)
        } catch {
            throw ManifestError(file: file, document: nil, object: nil, field: nil, message: yamlMessage(error))
        }
        // Count first, cheaply (no scalar typing, which runs regular expressions): aliases make a
        // short text expand to millions of values.
        var total = 0
        for (index, node) in nodes.enumerated() where !count(node, &total, limit: limits.maxValues) {
            throw ManifestError(
                file: file, document: index + 1, object: nil, field: nil,
                message: "the text expands to more than \(limits.maxValues) values (YAML aliases or anchors used too often); write the objects out plainly")
        }
        var budget = Budget(limits: limits)
        var values: [Value?] = []
        for (index, node) in nodes.enumerated() {
            if node.null != nil {
                values.append(nil)
                continue
            }
            do { values.append(try convert(node, &budget)) } catch {
                throw ManifestError(file: file, document: index + 1, object: nil, field: nil, message: error.message)
            }
        }
        return values
    }
}

/// A manifest that cannot be used, with where it is: file, document, object and field.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based index of the document in the file.
    public var document: Int?
    /// `Kind/name`.
    public var object: String?
    /// A field path such as `spec.http[0].route[1].weight`.
    public var field: String?
    public var message: String

    public init(file: String, document: Int?, object: String?, field: String?, message: String) {
        self.file = file
        self.document = document
        self.object = object
        self.field = field
        self.message = message
    }

    public var description: String {
        var out = file
        if let document { out += " (document \(document))" }
        if let object { out += ": \(object)" }
        if let field { out += ": \(field)" }
        return out + ": " + message
    }
}

extension ManifestLoader {
    /// The documents of a YAML or JSON text as plain values (no object checks).
    public static func documents(_ text: String, file: String, limits: Limits = .standard) throws(ManifestError) -> [Value] {
        try compose(text, file: file, limits: limits).compactMap { $0 }
    }
}
