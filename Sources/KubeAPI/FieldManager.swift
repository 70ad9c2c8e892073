import Foundation
import MeshModel

/// Field ownership as server-side apply models it (after structured-merge-diff): every manager
/// owns a set of field paths, kept in `metadata.managedFields`; an apply that changes a field
/// another manager owns is a conflict unless forced; fields an applier stops naming are removed.
public enum FieldManager {
    /// One step of a field path: a map key, or a list element by its merge key (or, for sets
    /// of primitives, by value).
    public enum Element: Hashable, Sendable, Comparable {
        case field(String)
        case key(String)

        public static func < (a: Element, b: Element) -> Bool { a.text < b.text }

        var text: String {
            switch self {
            case .field(let name): "f:\(name)"
            case .key(let json): "k:\(json)"
            }
        }
    }

    public typealias Path = [Element]

    /// A conflicting field, for the 409 and its causes.
    public struct Conflict: Sendable, Equatable {
        public var manager: String
        public var apiVersion: String
        public var field: String
    }

    struct Entry {
        var manager: String
        var operation: String
        var apiVersion: String
        var time: String
        var fields: Set<Path>
    }

    // MARK: field sets

    /// The leaf paths a value sets (metadata's server-set fields left out).
    public static func fields(of value: Value, kind: String) -> Set<Path> {
        var out: Set<Path> = []
        collect(value, kind: kind, names: [], path: [], into: &out)
        return out.filter { path in
            guard path.first == .field("metadata") else { return !(path.first == .field("apiVersion") || path.first == .field("kind") || path.first == .field("status")) }
            return path.count > 1 && [.field("labels"), .field("annotations")].contains(path[1])
        }
    }

    static func collect(_ value: Value, kind: String, names: [String], path: Path, into out: inout Set<Path>) {
        switch value {
        case .object(let members) where !members.isEmpty:
            for (key, child) in members { collect(child, kind: kind, names: names + [key], path: path + [.field(key)], into: &out) }
        case .array(let items):
            guard let strategy = MergeKeys.key(kind: kind, path: names), let key = strategy else {
                out.insert(path)
                return
            }
            for item in items {
                guard let keyValue = item[key] else { continue }
                let element = path + [.key(Value.object([(key, keyValue)]).json)]
                out.insert(element)
                collect(item, kind: kind, names: names, path: element, into: &out)
            }
        default:
            out.insert(path)
        }
    }

    /// The value at a path, if present.
    static func value(_ root: Value, at path: Path) -> Value? {
        var current = root
        for element in path {
            switch element {
            case .field(let name):
                guard let next = current[name] else { return nil }
                current = next
            case .key(let json):
                guard let items = current.arrayValue, let wanted = keyValue(json) else { return nil }
                guard let item = items.first(where: { $0[wanted.0] == wanted.1 }) else { return nil }
                current = item
            }
        }
        return current
    }

    static func keyValue(_ json: String) -> (String, Value)? {
        guard let parsed = try? ManifestLoader.documents(json, file: "key").first, let member = parsed.objectMembers?.first else { return nil }
        return member
    }

    /// Removes a path from a value (a list element by its key).
    static func removing(_ root: Value, _ path: Path) -> Value {
        guard let first = path.first else { return root }
        let rest = Array(path.dropFirst())
        switch first {
        case .field(let name):
            guard root[name] != nil else { return root }
            var copy = root
            copy[name] = rest.isEmpty ? nil : removing(root[name]!, rest)
            return copy
        case .key(let json):
            guard let items = root.arrayValue, let wanted = keyValue(json) else { return root }
            if rest.isEmpty { return .array(items.filter { $0[wanted.0] != wanted.1 }) }
            return .array(items.map { $0[wanted.0] == wanted.1 ? removing($0, rest) : $0 })
        }
    }

    // MARK: managedFields

    static func entries(_ object: Value) -> [Entry] {
        (object["metadata"]?["managedFields"]?.arrayValue ?? []).compactMap { item in
            guard let manager = item["manager"]?.stringValue else { return nil }
            var fields: Set<Path> = []
            decode(item["fieldsV1"] ?? [:], prefix: [], into: &fields)
            return Entry(
                manager: manager, operation: item["operation"]?.stringValue ?? "Update", apiVersion: item["apiVersion"]?.stringValue ?? "",
                time: item["time"]?.stringValue ?? "", fields: fields)
        }
    }

    static func decode(_ value: Value, prefix: Path, into out: inout Set<Path>) {
        for (key, child) in value.objectMembers ?? [] {
            if key == "." { out.insert(prefix); continue }
            let element: Element
            if key.hasPrefix("f:") { element = .field(String(key.dropFirst(2))) } else if key.hasPrefix("k:") { element = .key(String(key.dropFirst(2))) } else { continue }
            if child.objectMembers?.isEmpty ?? true {
                out.insert(prefix + [element])
            } else {
                decode(child, prefix: prefix + [element], into: &out)
            }
        }
    }

    /// FieldsV1: nested maps of `f:name` / `k:{"key":"value"}`, `.` for an element that is owned itself.
    static func encode(_ fields: Set<Path>) -> Value {
        final class Node {
            var children: [(Element, Node)] = []
            var owned = false
            func child(_ element: Element) -> Node {
                if let found = children.first(where: { $0.0 == element }) { return found.1 }
                let node = Node()
                children.append((element, node))
                return node
            }
            var value: Value {
                var members: [(String, Value)] = []
                if owned, !children.isEmpty { members.append((".", [:])) }
                for (element, node) in children.sorted(by: { $0.0 < $1.0 }) { members.append((element.text, node.value)) }
                return .object(members)
            }
        }
        let root = Node()
        for path in fields {
            var node = root
            for element in path { node = node.child(element) }
            node.owned = true
        }
        return root.value
    }

    static func write(_ entries: [Entry], into object: inout Value) {
        var metadata = object["metadata"] ?? [:]
        let kept = entries.filter { !$0.fields.isEmpty }
        metadata["managedFields"] = kept.isEmpty ? nil : .array(kept.map { entry in
            [
                "manager": .string(entry.manager), "operation": .string(entry.operation), "apiVersion": .string(entry.apiVersion),
                "time": .string(entry.time), "fieldsType": "FieldsV1", "fieldsV1": encode(entry.fields),
            ]
        })
        object["metadata"] = metadata
    }

    static func now() -> String {
        ISO8601DateFormatter().string(from: Date())
    }

    // MARK: operations

    /// Server-side apply of `applied` by `manager` onto `live` (nil: the object is new).
    ///
    /// - Returns: the merged object with updated `managedFields`.
    /// - Throws: the conflicts, when another manager owns a field the apply changes and `force` is false.
    public static func apply(_ applied: Value, onto live: Value?, manager: String, force: Bool, kind: String) throws(ConflictError) -> Value {
        let appliedFields = fields(of: applied, kind: kind)
        let apiVersion = applied["apiVersion"]?.stringValue ?? ""
        guard let live else {
            var created = applied
            write([Entry(manager: manager, operation: "Apply", apiVersion: apiVersion, time: now(), fields: appliedFields)], into: &created)
            return created
        }
        var entries = entries(live)
        var conflicts: [Conflict] = []
        for index in entries.indices where !(entries[index].manager == manager && entries[index].operation == "Apply") {
            for path in entries[index].fields.intersection(appliedFields) where value(live, at: path) != value(applied, at: path) {
                if force {
                    entries[index].fields.remove(path)
                } else {
                    conflicts.append(Conflict(manager: entries[index].manager, apiVersion: entries[index].apiVersion, field: render(path)))
                }
            }
        }
        guard conflicts.isEmpty else { throw ConflictError(conflicts: conflicts.sorted { $0.field < $1.field }) }
        let previous = entries.first { $0.manager == manager && $0.operation == "Apply" }?.fields ?? []
        let ownedByOthers = entries.filter { !($0.manager == manager && $0.operation == "Apply") }.reduce(into: Set<Path>()) { $0.formUnion($1.fields) }
        var merged = live
        for path in previous.subtracting(appliedFields).sorted(by: { $0.count > $1.count }) where !ownedByOthers.contains(path) {
            // Only leaves the applier alone owned, and whose parents it no longer sets either.
            if !appliedFields.contains(where: { $0.starts(with: path) }) { merged = removing(merged, path) }
        }
        merged = mergeApplied(merged, applied, kind: kind, names: [])
        entries.removeAll { $0.manager == manager && $0.operation == "Apply" }
        entries.append(Entry(manager: manager, operation: "Apply", apiVersion: apiVersion, time: now(), fields: appliedFields))
        write(entries, into: &merged)
        return merged
    }

    /// Maps merge, keyed lists merge by key, everything else replaces.
    static func mergeApplied(_ live: Value, _ applied: Value, kind: String, names: [String]) -> Value {
        switch applied {
        case .object(let members):
            guard live.objectMembers != nil else { return applied }
            var out = live
            for (key, value) in members { out[key] = mergeApplied(live[key] ?? .null, value, kind: kind, names: names + [key]) }
            return out
        case .array(let items):
            guard let strategy = MergeKeys.key(kind: kind, path: names), let key = strategy, var out = live.arrayValue else { return applied }
            for item in items {
                if let index = out.firstIndex(where: { $0[key] == item[key] }) {
                    out[index] = mergeApplied(out[index], item, kind: kind, names: names)
                } else {
                    out.append(item)
                }
            }
            return .array(out)
        default:
            return applied
        }
    }

    /// Records an update (create, replace, patch) by `manager`: it now owns every field the
    /// update set or changed; fields that are gone are owned by nobody.
    public static func update(_ new: Value, from old: Value?, manager: String, kind: String) -> Value {
        let newFields = fields(of: new, kind: kind)
        // A request that sets managedFields itself (kubectl's client-side to server-side apply
        // migration) is taken as it is.
        if let old, let requested = new["metadata"]?["managedFields"], requested != (old["metadata"]?["managedFields"] ?? .null) {
            var out = new
            var entries = entries(out)
            for index in entries.indices { entries[index].fields.formIntersection(newFields) }
            write(entries, into: &out)
            return out
        }
        var entries = old.map(entries) ?? []
        let changed = newFields.filter { path in old.map { value($0, at: path) != value(new, at: path) } ?? true }
        for index in entries.indices {
            entries[index].fields.formIntersection(newFields)
            if entries[index].manager != manager || entries[index].operation != "Update" { entries[index].fields.subtract(changed) }
        }
        if let index = entries.firstIndex(where: { $0.manager == manager && $0.operation == "Update" }) {
            entries[index].fields.formUnion(changed)
            entries[index].time = now()
            entries[index].apiVersion = new["apiVersion"]?.stringValue ?? ""
        } else if !changed.isEmpty {
            entries.append(Entry(manager: manager, operation: "Update", apiVersion: new["apiVersion"]?.stringValue ?? "", time: now(), fields: changed))
        }
        var out = new
        write(entries, into: &out)
        return out
    }

    /// `.spec.http`, `.spec.template.spec.containers[name="details"].image`, as Kubernetes prints them.
    public static func render(_ path: Path) -> String {
        path.map { element -> String in
            switch element {
            case .field(let name): return ".\(name)"
            case .key(let json):
                guard let (key, value) = keyValue(json) else { return "[\(json)]" }
                return "[\(key)=\(value.stringValue.map { "\"\($0)\"" } ?? value.json)]"
            }
        }.joined()
    }
}

/// An apply that would change fields other managers own.
public struct ConflictError: Error, Sendable {
    public var conflicts: [FieldManager.Conflict]

    /// The 409 kubectl prints, with one cause per field.
    public func status(_ resource: APIResource, _ name: String) -> StatusError {
        let lines = conflicts.map { "conflict with \"\($0.manager)\" using \($0.apiVersion): \($0.field)" }
        let count = conflicts.count
        return StatusError(
            code: 409, reason: "Conflict",
            message: "Apply failed with \(count) conflict\(count == 1 ? "" : "s"): " + lines.joined(separator: "\n"),
            causes: conflicts.map { .init(reason: "FieldManagerConflict", message: "conflict with \"\($0.manager)\" using \($0.apiVersion)", field: $0.field) },
            details: (name, resource.group.isEmpty ? nil : resource.group, resource.plural))
    }
}
