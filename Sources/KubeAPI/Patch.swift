import MeshModel

/// The patch formats of the Kubernetes API: JSON merge patch (RFC 7386, every kind), strategic
/// merge patch (built-in kinds: lists merged by their keys) and JSON patch (RFC 6902).
public enum Patch {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: JSON merge patch

    /// RFC 7386: maps merge, `null` deletes, everything else (lists included) replaces.
    public static func merge(_ target: Value, _ patch: Value) -> Value {
        guard case .object(let patchMembers) = patch else { return patch }
        var result: Value = target.objectMembers != nil ? target : .object([])
        for (key, value) in patchMembers {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = merge(result[key] ?? .null, value)
            }
        }
        return result
    }

    // MARK: strategic merge patch

    /// Applies a strategic merge patch: maps merge, `null` deletes, lists with a merge key
    /// (``MergeKeys``) merge element by element, other lists replace; the directives `$patch`,
    /// `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…` behave as in
    /// apimachinery's strategicpatch.
    ///
    /// - Parameters:
    ///   - target: the live object.
    ///   - patch: the patch.
    ///   - kind: the object's kind (merge keys depend on it).
    /// - Throws: ``Failure`` for a malformed directive.
    public static func strategic(_ target: Value, _ patch: Value, kind: String) throws(Failure) -> Value {
        try strategicMap(target, patch, kind: kind, path: [])
    }

    static func strategicMap(_ target: Value, _ patch: Value, kind: String, path: [String]) throws(Failure) -> Value {
        guard case .object(let members) = patch else { return patch }
        if let directive = patch["$patch"]?.stringValue {
            switch directive {
            case "replace":
                var replaced = patch
                replaced["$patch"] = nil
                return replaced
            case "delete":
                return .null
            case "merge":
                break
            default:
                throw Failure("unknown patch directive $patch: \(directive)")
            }
        }
        var result: Value = target.objectMembers != nil ? target : .object([])
        if let retain = patch["$retainKeys"] {
            guard let keys = retain.arrayValue?.compactMap(\.stringValue) else { throw Failure("$retainKeys must be a list of strings") }
            for (key, _) in result.objectMembers ?? [] where !keys.contains(key) { result[key] = nil }
        }
        var orders: [String: [Value]] = [:]
        for (key, value) in members {
            if key == "$patch" || key == "$retainKeys" { continue }
            if key.hasPrefix("$setElementOrder/") {
                orders[String(key.dropFirst("$setElementOrder/".count))] = value.arrayValue ?? []
                continue
            }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = value.arrayValue ?? []
                if let items = result[field]?.arrayValue { result[field] = .array(items.filter { !remove.contains($0) }) }
                continue
            }
            let childPath = path + [key]
            if value == .null {
                result[key] = nil
                continue
            }
            switch value {
            case .object:
                let merged = try strategicMap(result[key] ?? .null, value, kind: kind, path: childPath)
                result[key] = merged == .null ? nil : merged
            case .array(let items):
                result[key] = .array(try strategicList(result[key]?.arrayValue ?? [], items, kind: kind, path: childPath))
            default:
                result[key] = value
            }
        }
        for (field, order) in orders {
            guard let items = result[field]?.arrayValue else { continue }
            result[field] = .array(reorder(items, by: order, key: MergeKeys.key(kind: kind, path: path + [field]) ?? nil))
        }
        return result
    }

    static func strategicList(_ target: [Value], _ patch: [Value], kind: String, path: [String]) throws(Failure) -> [Value] {
        guard let strategy = MergeKeys.key(kind: kind, path: path) else {
            // Atomic list: replaced, without directives.
            return patch.filter { $0["$patch"] == nil }
        }
        guard let key = strategy else {
            // A set of primitives (finalizers): union, keeping order.
            var out = target
            for item in patch where !out.contains(item) { out.append(item) }
            return out
        }
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return patch.filter { $0["$patch"] == nil }
        }
        var out = target
        for item in patch {
            guard let keyValue = item[key] else { throw Failure("\(path.joined(separator: ".")): every element must have the merge key \(key)") }
            let index = out.firstIndex { $0[key] == keyValue }
            if item["$patch"]?.stringValue == "delete" {
                if let index { out.remove(at: index) }
                continue
            }
            if let index {
                out[index] = try strategicMap(out[index], item, kind: kind, path: path)
            } else {
                var added = try strategicMap(.object([]), item, kind: kind, path: path)
                added["$patch"] = nil
                out.append(added)
            }
        }
        return out
    }

    static func reorder(_ items: [Value], by order: [Value], key: String?) -> [Value] {
        func identity(_ item: Value) -> Value { key.flatMap { item[$0] } ?? item }
        let wanted = order.map { entry in key.flatMap { entry[$0] } ?? entry }
        var ordered: [Value] = []
        for want in wanted {
            if let item = items.first(where: { identity($0) == want }) { ordered.append(item) }
        }
        for item in items where !wanted.contains(identity(item)) { ordered.append(item) }
        return ordered
    }

    // MARK: JSON patch

    /// RFC 6902 operations (`add`, `remove`, `replace`, `move`, `copy`, `test`).
    public static func json(_ target: Value, _ operations: Value) throws(Failure) -> Value {
        guard let list = operations.arrayValue else { throw Failure("a JSON patch must be a list of operations") }
        var document = target
        for (index, operation) in list.enumerated() {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw Failure("operation \(index): needs op and path")
            }
            let pointer = try Self.pointer(path)
            switch op {
            case "add":
                document = try set(document, pointer, operation["value"] ?? .null, insert: true)
            case "remove":
                guard get(document, pointer) != nil else { throw Failure("operation \(index): remove \(path): no such path") }
                document = try remove(document, pointer)
            case "replace":
                guard get(document, pointer) != nil else { throw Failure("operation \(index): replace \(path): no such path") }
                document = try set(document, pointer, operation["value"] ?? .null, insert: false)
            case "move", "copy":
                guard let from = operation["from"]?.stringValue, let value = get(document, try Self.pointer(from)) else {
                    throw Failure("operation \(index): \(op) needs an existing from path")
                }
                if op == "move" { document = try remove(document, try Self.pointer(from)) }
                document = try set(document, pointer, value, insert: true)
            case "test":
                guard get(document, pointer) == (operation["value"] ?? .null) else {
                    throw Failure("operation \(index): test \(path) failed")
                }
            default:
                throw Failure("operation \(index): unknown op \(op)")
            }
        }
        return document
    }

    static func pointer(_ path: String) throws(Failure) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw Failure("\(path) is not a JSON pointer") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ value: Value, _ pointer: [String]) -> Value? {
        var current = value
        for token in pointer {
            if let items = current.arrayValue {
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                current = items[index]
            } else {
                guard let next = current[token] else { return nil }
                current = next
            }
        }
        return current
    }

    static func set(_ value: Value, _ pointer: [String], _ new: Value, insert: Bool) throws(Failure) -> Value {
        guard let token = pointer.first else { return new }
        let rest = Array(pointer.dropFirst())
        if var items = value.arrayValue {
            if rest.isEmpty, insert {
                if token == "-" { items.append(new); return .array(items) }
                guard let index = Int(token), (0...items.count).contains(index) else { throw Failure("index \(token) is out of range") }
                items.insert(new, at: index)
                return .array(items)
            }
            guard let index = Int(token), items.indices.contains(index) else { throw Failure("index \(token) is out of range") }
            items[index] = try set(items[index], rest, new, insert: insert)
            return .array(items)
        }
        guard value.objectMembers != nil else { throw Failure("cannot set \(token) inside a \(value.typeName)") }
        var copy = value
        if rest.isEmpty {
            copy[token] = new
        } else {
            guard let child = value[token] else { throw Failure("no such path: \(token)") }
            copy[token] = try set(child, rest, new, insert: insert)
        }
        return copy
    }

    static func remove(_ value: Value, _ pointer: [String]) throws(Failure) -> Value {
        guard let token = pointer.first else { return .null }
        let rest = Array(pointer.dropFirst())
        if var items = value.arrayValue {
            guard let index = Int(token), items.indices.contains(index) else { throw Failure("index \(token) is out of range") }
            if rest.isEmpty { items.remove(at: index) } else { items[index] = try remove(items[index], rest) }
            return .array(items)
        }
        var copy = value
        if rest.isEmpty { copy[token] = nil } else if let child = value[token] { copy[token] = try remove(child, rest) }
        return copy
    }
}

/// Which lists of the built-in kinds merge by a key (Kubernetes' `patchMergeKey` tags), for
/// strategic merge patches and server-side apply alike. Paths are field names from the object's
/// root, list positions left out.
public enum MergeKeys {
    /// `nil`: an atomic list (replaced whole); `.some(nil)`: a set of primitives; `.some(key)`:
    /// elements merged by `key`.
    public static func key(kind: String, path: [String]) -> String?? {
        var path = path
        // A pod template's spec is a pod's spec.
        if ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"].contains(kind), path.starts(with: ["spec", "template"]) {
            path = Array(path.dropFirst(2))
            return podKey(path)
        }
        if path == ["metadata", "ownerReferences"] { return .some("uid") }
        if path == ["metadata", "finalizers"] { return .some(nil) }
        if path == ["status", "conditions"] { return .some("type") }
        switch kind {
        case "Pod": return podKey(path)
        case "Service": return path == ["spec", "ports"] ? .some("port") : nil
        case "ServiceAccount": return path == ["secrets"] || path == ["imagePullSecrets"] ? .some("name") : nil
        default: return nil
        }
    }

    static func podKey(_ path: [String]) -> String?? {
        guard path.first == "spec" else { return path == ["metadata", "finalizers"] ? .some(nil) : nil }
        let rest = Array(path.dropFirst())
        switch rest {
        case ["containers"], ["initContainers"], ["ephemeralContainers"], ["volumes"], ["imagePullSecrets"]: return .some("name")
        case ["hostAliases"]: return .some("ip")
        case ["topologySpreadConstraints"]: return .some("topologyKey")
        default: break
        }
        if rest.count == 2, ["containers", "initContainers", "ephemeralContainers"].contains(rest[0]) {
            switch rest[1] {
            case "env": return .some("name")
            case "ports": return .some("containerPort")
            case "volumeMounts": return .some("mountPath")
            case "volumeDevices": return .some("devicePath")
            default: return nil
            }
        }
        return nil
    }
}
