import ArgumentParser
import Foundation
import MeshModel
import Yams

/// The kinds labctl knows, with kubectl's names and the API paths.
struct ResourceKindsTable {
    var singular: String
    var plural: String
    var group: String
    var version: String
    var aliases: [String]

    func path(_ namespace: String) -> String {
        if plural == "namespaces" { return "/api/v1/namespaces" }
        return group.isEmpty ? "/api/v1/namespaces/\(namespace)/\(plural)" : "/apis/\(group)/\(version)/namespaces/\(namespace)/\(plural)"
    }

    static let all = [
        ResourceKindsTable(singular: "pod", plural: "pods", group: "", version: "v1", aliases: ["po"]),
        ResourceKindsTable(singular: "service", plural: "services", group: "", version: "v1", aliases: ["svc"]),
        ResourceKindsTable(singular: "deployment", plural: "deployments", group: "apps", version: "v1", aliases: ["deploy"]),
        ResourceKindsTable(singular: "serviceaccount", plural: "serviceaccounts", group: "", version: "v1", aliases: ["sa"]),
        ResourceKindsTable(singular: "namespace", plural: "namespaces", group: "", version: "v1", aliases: ["ns"]),
        ResourceKindsTable(singular: "virtualservice", plural: "virtualservices", group: "networking.istio.io", version: "v1", aliases: ["vs"]),
        ResourceKindsTable(singular: "destinationrule", plural: "destinationrules", group: "networking.istio.io", version: "v1", aliases: ["dr"]),
        ResourceKindsTable(singular: "gateway", plural: "gateways", group: "networking.istio.io", version: "v1", aliases: ["gw"]),
        ResourceKindsTable(singular: "serviceentry", plural: "serviceentries", group: "networking.istio.io", version: "v1", aliases: ["se"]),
    ]

    static func find(_ name: String) -> ResourceKindsTable? {
        let lower = name.lowercased()
        return all.first { $0.singular == lower || $0.plural == lower || $0.aliases.contains(lower) }
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List or show resources: pods, services, virtualservices, destinationrules, gateways, …")
    @Argument(help: "The kind (pods, svc, vs, dr, gw, deploy, ns, …).") var kind: String
    @Argument(help: "A name.") var name: String?
    @Option(name: .shortAndLong, help: "yaml or json; a table by default.") var output: String?
    @OptionGroup var common: Common

    func run() async throws {
        guard let table = ResourceKindsTable.find(kind) else {
            throw ValidationError("the server doesn't have a resource type \"\(kind)\"")
        }
        let path = table.path(common.namespace) + (name.map { "/\($0)" } ?? "")
        let reply = try await common.client.expectOK(.GET, path)
        switch output {
        case "json": print(reply.prettyJSON, terminator: "")
        case "yaml": print(try Yams.dump(object: Self.plain(reply)), terminator: "")
        case nil, "wide": print(Self.table(table, items: name == nil ? reply["items"]?.arrayValue ?? [] : [reply]))
        case let other?: throw ValidationError("unknown output format \(other): use yaml or json")
        }
    }

    static func plain(_ value: Value) -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let flag): return flag
        case .int(let number): return number
        case .double(let number): return number
        case .string(let text): return text
        case .array(let values): return values.map(plain)
        case .object(let members): return Dictionary(members.map { ($0.0, plain($0.1)) }, uniquingKeysWith: { $1 })
        }
    }

    static func age(_ item: Value) -> String {
        guard let text = item["metadata"]?["creationTimestamp"]?.stringValue, let date = ISO8601DateFormatter().date(from: text) else { return "<unknown>" }
        let seconds = Int(Date().timeIntervalSince(date))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7200 { return "\(seconds / 60)m" }
        return "\(seconds / 3600)h"
    }

    static func table(_ kind: ResourceKindsTable, items: [Value]) -> String {
        if items.isEmpty { return "No resources found." }
        var rows: [[String]]
        func name(_ item: Value) -> String { item["metadata"]?["name"]?.stringValue ?? "" }
        func strings(_ value: Value?) -> String { (value?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",") }
        switch kind.plural {
        case "pods":
            rows = [["NAME", "READY", "STATUS", "RESTARTS", "AGE"]]
            rows += items.map { pod in
                // From the containers, as kubectl computes READY and RESTARTS.
                let statuses = pod["status"]?["containerStatuses"]?.arrayValue ?? []
                let ready = statuses.filter { $0["ready"] == .bool(true) }.count
                let restarts = statuses.reduce(0) { sum, status in
                    if case .int(let count) = status["restartCount"] ?? .null { return sum + count }
                    return sum
                }
                return [name(pod), "\(ready)/\(statuses.count)", pod["status"]?["phase"]?.stringValue ?? "", String(restarts), age(pod)]
            }
        case "services":
            rows = [["NAME", "TYPE", "PORT(S)", "AGE"]]
            rows += items.map { item in
                let ports = (item["spec"]?["ports"]?.arrayValue ?? []).map { "\($0["port"]?.json ?? "")/\($0["protocol"]?.stringValue ?? "TCP")" }.joined(separator: ",")
                return [name(item), item["spec"]?["type"]?.stringValue ?? "ClusterIP", ports, age(item)]
            }
        case "virtualservices":
            rows = [["NAME", "GATEWAYS", "HOSTS", "AGE"]]
            rows += items.map { ["\(name($0))", "[\(strings($0["spec"]?["gateways"]))]", "[\(strings($0["spec"]?["hosts"]))]", age($0)] }
        case "destinationrules":
            rows = [["NAME", "HOST", "AGE"]]
            rows += items.map { [name($0), $0["spec"]?["host"]?.stringValue ?? "", age($0)] }
        case "namespaces":
            rows = [["NAME", "STATUS", "LABELS"]]
            rows += items.map { item in
                let labels = (item["metadata"]?["labels"]?.objectMembers ?? []).map { "\($0.0)=\($0.1.stringValue ?? "")" }.joined(separator: ",")
                return [name(item), "Active", labels.isEmpty ? "<none>" : labels]
            }
        case "deployments":
            rows = [["NAME", "REPLICAS", "AGE"]]
            rows += items.map { [name($0), $0["spec"]?["replicas"]?.json ?? "1", age($0)] }
        default:
            rows = [["NAME", "AGE"]]
            rows += items.map { [name($0), age($0)] }
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $0.offset == row.count - 1 ? $0.element : $0.element.padding(toLength: widths[$0.offset] + 3, withPad: " ", startingAt: 0) }.joined()
        }.joined(separator: "\n")
    }
}
