import Foundation
import MeshModel

/// Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): the columns
/// kubectl shows on a real cluster, computed from the objects.
public struct TablePrinter: Sendable {
    public let crds: CRDCatalog

    public init(crds: CRDCatalog) {
        self.crds = crds
    }

    struct Column: Sendable {
        var name: String
        var type = "string"
        var format = ""
        var priority = 0
        var description = ""
        var cell: @Sendable (Value, Date) -> Value
    }

    /// The table of `objects` (full objects), with each row's object as `PartialObjectMetadata`
    /// or, with `includeObject=Object`, the whole object.
    public func table(_ resource: APIResource, version: String, objects: [Value], resourceVersion: String, includeObject: String?, now: Date = Date()) -> Value {
        let columns = self.columns(resource, version: version)
        let rows: [Value] = objects.map { object in
            var row: Value = ["cells": .array(columns.map { $0.cell(object, now) })]
            switch includeObject {
            case "None": break
            case "Object": row["object"] = object
            default:
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]
            }
            return row
        }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": ["resourceVersion": .string(resourceVersion)],
            "columnDefinitions": .array(columns.map { column in
                ["name": .string(column.name), "type": .string(column.type), "format": .string(column.format), "description": .string(column.description), "priority": .int(column.priority)]
            }),
            "rows": .array(rows),
        ]
    }

    static let name = Column(name: "Name", format: "name", description: "Name must be unique within a namespace.") { object, _ in
        object["metadata"]?["name"] ?? ""
    }

    static let age = Column(name: "Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created.") { object, now in
        .string(age(object["metadata"]?["creationTimestamp"]?.stringValue, now: now))
    }

    public static func text(_ value: Value?) -> String {
        switch value {
        case .string(let text)?: text
        case .int(let number)?: String(number)
        case .bool(let flag)?: String(flag)
        case .double(let number)?: String(number)
        case .array(let items)?: items.map { text($0) }.joined(separator: ",")
        case nil, .null?: ""
        case let other?: other.json
        }
    }

    func columns(_ resource: APIResource, version: String) -> [Column] {
        switch resource.kind {
        case "Pod": return Self.podColumns
        case "Service": return Self.serviceColumns
        case "Deployment": return Self.deploymentColumns
        case "ReplicaSet": return Self.replicaSetColumns
        case "Namespace":
            return [Self.name, Column(name: "Status", description: "The phase of the namespace.") { o, _ in .string(Self.text(o["status"]?["phase"])) }, Self.age]
        case "ServiceAccount":
            return [Self.name, Column(name: "Secrets", type: "string", description: "Secrets") { o, _ in .int(o["secrets"]?.arrayValue?.count ?? 0) }, Self.age]
        case "ConfigMap":
            return [Self.name, Column(name: "Data", type: "string", description: "Data") { o, _ in .int((o["data"]?.objectMembers?.count ?? 0) + (o["binaryData"]?.objectMembers?.count ?? 0)) }, Self.age]
        case "Secret":
            return [
                Self.name, Column(name: "Type") { o, _ in .string(Self.text(o["type"]).isEmpty ? "Opaque" : Self.text(o["type"])) },
                Column(name: "Data") { o, _ in .int(o["data"]?.objectMembers?.count ?? 0) }, Self.age,
            ]
        case "Event":
            return Self.eventColumns
        default:
            let definition = crds.version(group: resource.group, version: version, kind: resource.kind)
            // A custom resource without printer columns shows its name and age, as Kubernetes does.
            let columns = definition.columns.isEmpty ? [CRDCatalog.age] : definition.columns
            return [Self.name] + columns.map { column in
                let path = column.jsonPath
                let isDate = column.type == "date"
                return Column(name: column.name, type: isDate ? "string" : column.type, format: "", priority: column.priority, description: column.description) { object, now in
                    let found = JSONPath.evaluate(path, in: object)
                    if isDate { return .string(Self.age(found?.stringValue, now: now)) }
                    return found.map { .string(Self.text($0)) } ?? .null
                }
            }
        }
    }

    // MARK: pods and workloads

    static let podColumns: [Column] = [
        name,
        Column(name: "Ready", description: "The aggregate readiness state of this pod for accepting traffic.") { pod, _ in
            let statuses = pod["status"]?["containerStatuses"]?.arrayValue ?? []
            let total = pod["spec"]?["containers"]?.arrayValue?.count ?? statuses.count
            let ready = statuses.filter { $0["ready"] == .bool(true) }.count
            return .string("\(ready)/\(total)")
        },
        Column(name: "Status", description: "The aggregate status of the containers in this pod.") { pod, _ in
            if pod["metadata"]?["deletionTimestamp"] != nil { return "Terminating" }
            for status in pod["status"]?["containerStatuses"]?.arrayValue ?? [] {
                if let reason = status["state"]?["waiting"]?["reason"]?.stringValue { return .string(reason) }
            }
            return .string(text(pod["status"]?["phase"]))
        },
        Column(name: "Restarts", type: "integer", description: "The number of times the containers in this pod have been restarted.") { pod, _ in
            let statuses = pod["status"]?["containerStatuses"]?.arrayValue ?? []
            let count = statuses.reduce(0) { sum, status in
                if case .int(let value) = status["restartCount"] ?? .null { return sum + value }
                return sum
            }
            return .int(count)
        },
        age,
        Column(name: "IP", priority: 1, description: "IP address allocated to the pod.") { pod, _ in pod["status"]?["podIP"] ?? "<none>" },
        Column(name: "Node", priority: 1, description: "Name of the Node this pod runs on.") { pod, _ in pod["spec"]?["nodeName"] ?? "<none>" },
        Column(name: "Nominated Node", priority: 1, description: "Name of the Node nominated for this pod.") { _, _ in "<none>" },
        Column(name: "Readiness Gates", priority: 1, description: "Pod readiness gates.") { _, _ in "<none>" },
    ]

    static func ports(_ service: Value) -> String {
        let ports = service["spec"]?["ports"]?.arrayValue ?? []
        guard !ports.isEmpty else { return "<none>" }
        return ports.map { port in
            var out = text(port["port"])
            if let node = port["nodePort"], node != .null { out += ":\(text(node))" }
            return out + "/" + (port["protocol"]?.stringValue ?? "TCP")
        }.joined(separator: ",")
    }

    static func selector(_ map: Value?) -> String {
        guard let members = map?.objectMembers, !members.isEmpty else { return "<none>" }
        return members.map { "\($0.0)=\(text($0.1))" }.sorted().joined(separator: ",")
    }

    static let serviceColumns: [Column] = [
        name,
        Column(name: "Type", description: "The type of service.") { o, _ in .string(text(o["spec"]?["type"]).isEmpty ? "ClusterIP" : text(o["spec"]?["type"])) },
        Column(name: "Cluster-IP", description: "IP address of the service.") { o, _ in .string(text(o["spec"]?["clusterIP"]).isEmpty ? "<none>" : text(o["spec"]?["clusterIP"])) },
        Column(name: "External-IP", description: "External IP addresses of the service.") { service, _ in
            let ingress = service["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []
            let addresses = ingress.compactMap { $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue }
            if !addresses.isEmpty { return .string(addresses.joined(separator: ",")) }
            return service["spec"]?["type"]?.stringValue == "LoadBalancer" ? "<pending>" : "<none>"
        },
        Column(name: "Port(s)", description: "The ports of the service.") { o, _ in .string(ports(o)) },
        age,
        Column(name: "Selector", priority: 1, description: "Route service traffic to pods with label keys and values matching this selector.") { o, _ in .string(selector(o["spec"]?["selector"])) },
    ]

    static func int(_ value: Value?) -> Int {
        if case .int(let number) = value ?? .null { return number }
        return 0
    }

    static func containers(_ object: Value) -> [Value] {
        object["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? []
    }

    static let deploymentColumns: [Column] = [
        name,
        Column(name: "Ready", description: "Number of the pod with ready state.") { o, _ in .string("\(int(o["status"]?["readyReplicas"]))/\(int(o["spec"]?["replicas"]))") },
        Column(name: "Up-to-date", type: "integer", description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec.") { o, _ in .int(int(o["status"]?["updatedReplicas"])) },
        Column(name: "Available", type: "integer", description: "Total number of available pods.") { o, _ in .int(int(o["status"]?["availableReplicas"])) },
        age,
        Column(name: "Containers", priority: 1, description: "Names of each container in the template.") { o, _ in .string(containers(o).map { text($0["name"]) }.joined(separator: ",")) },
        Column(name: "Images", priority: 1, description: "Images referenced by each container in the template.") { o, _ in .string(containers(o).map { text($0["image"]) }.joined(separator: ",")) },
        Column(name: "Selector", priority: 1, description: "Label selector for pods.") { o, _ in .string(selector(o["spec"]?["selector"]?["matchLabels"])) },
    ]

    static let replicaSetColumns: [Column] = [
        name,
        Column(name: "Desired", type: "integer", description: "Number of desired pods.") { o, _ in .int(int(o["spec"]?["replicas"])) },
        Column(name: "Current", type: "integer", description: "Number of actual replicas.") { o, _ in .int(int(o["status"]?["replicas"])) },
        Column(name: "Ready", type: "integer", description: "The number of ready replicas.") { o, _ in .int(int(o["status"]?["readyReplicas"])) },
        age,
        Column(name: "Containers", priority: 1, description: "Names of each container in the template.") { o, _ in .string(containers(o).map { text($0["name"]) }.joined(separator: ",")) },
        Column(name: "Images", priority: 1, description: "Images referenced by each container in the template.") { o, _ in .string(containers(o).map { text($0["image"]) }.joined(separator: ",")) },
        Column(name: "Selector", priority: 1, description: "Label selector for pods.") { o, _ in .string(selector(o["spec"]?["selector"]?["matchLabels"])) },
    ]

    static let eventColumns: [Column] = [
        Column(name: "Last Seen", description: "Time when this event was last observed.") { event, now in .string(age(event["lastTimestamp"]?.stringValue, now: now)) },
        Column(name: "Type", description: "Type of this event.") { o, _ in o["type"] ?? "" },
        Column(name: "Reason", description: "Short, machine understandable string that describes the reason for the transition.") { o, _ in o["reason"] ?? "" },
        Column(name: "Object", description: "The object this event is about.") { event, _ in
            .string("\(text(event["involvedObject"]?["kind"]).lowercased())/\(text(event["involvedObject"]?["name"]))")
        },
        Column(name: "Message", description: "A human-readable description of the status of this operation.") { o, _ in o["message"] ?? "" },
    ]

    // MARK: age

    /// Kubernetes' human-readable durations: `45s`, `5m2s`, `3h`, `2d5h`.
    public static func age(_ timestamp: String?, now: Date) -> String {
        guard let timestamp, let date = ISO8601DateFormatter().date(from: timestamp) else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(date))
    }

    public static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = Int(interval)
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        return "\(hours / 24 / 365)y"
    }
}

/// The small JSONPath subset printer columns use: `.spec.hosts`, `.spec.http[0].route`.
public enum JSONPath {
    public static func evaluate(_ path: String, in value: Value) -> Value? {
        var current: Value? = value
        var text = Substring(path.hasPrefix("$") ? String(path.dropFirst()) : path)
        while !text.isEmpty, let node = current {
            if text.hasPrefix(".") {
                text = text.dropFirst()
                let name = text.prefix { $0 != "." && $0 != "[" }
                text = text.dropFirst(name.count)
                current = node[String(name)]
            } else if text.hasPrefix("[") {
                let inner = text.dropFirst().prefix { $0 != "]" }
                text = text.dropFirst(inner.count + 2)
                guard let index = Int(inner), let items = node.arrayValue, items.indices.contains(index) else { return nil }
                current = items[index]
            } else {
                return nil
            }
        }
        return current
    }
}
