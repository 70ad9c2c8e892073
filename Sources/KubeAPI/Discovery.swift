import MeshModel

/// The discovery documents kubectl reads first: `/version`, `/api`, `/api/v1`, `/apis` and
/// `/apis/{group}/{version}` (the legacy, non-aggregated form every kubectl understands).
public enum Discovery {
    /// The Kubernetes version the API reports (kubectl's dispatcher picks its client by it).
    public static let kubernetesMinor = 30

    public static func version() -> Value {
        [
            "major": "1", "minor": .string(String(kubernetesMinor)), "gitVersion": .string("v1.\(kubernetesMinor).0"),
            "gitCommit": "meshdojo", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22.0",
            "compiler": "gc", "platform": "linux/amd64",
        ]
    }

    public static func apiVersions(serverAddress: String) -> Value {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    static func groupValue(_ name: String, _ versions: [String]) -> Value {
        [
            "name": .string(name),
            "versions": .array(versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }),
            "preferredVersion": ["groupVersion": .string("\(name)/\(versions[0])"), "version": .string(versions[0])],
        ]
    }

    public static func groupList() -> Value {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(APIResources.groups.map { groupValue($0.name, $0.versions) })]
    }

    public static func group(_ name: String) -> Value? {
        guard let group = APIResources.groups.first(where: { $0.name == name }) else { return nil }
        var value = groupValue(group.name, group.versions)
        value["kind"] = "APIGroup"
        value["apiVersion"] = "v1"
        return value
    }

    /// `APIResourceList` of one group version, or nil when it is not served.
    public static func resourceList(group: String, version: String) -> Value? {
        let resources = APIResources.all.filter { $0.group == group && $0.versions.contains(version) }
        guard !resources.isEmpty else { return nil }
        var items: [Value] = []
        for resource in resources {
            var item: Value = [
                "name": .string(resource.plural), "singularName": .string(resource.singular), "namespaced": .bool(resource.namespaced),
                "kind": .string(resource.kind), "verbs": .array(resource.verbs.map { .string($0) }),
            ]
            if !resource.shortNames.isEmpty { item["shortNames"] = .array(resource.shortNames.map { .string($0) }) }
            if !resource.categories.isEmpty { item["categories"] = .array(resource.categories.map { .string($0) }) }
            item["storageVersionHash"] = .string(String(resource.kind.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) } & 0xffff_ffff, radix: 36))
            items.append(item)
            for sub in resource.subresources {
                let verbs: [Value] = sub == "log" ? ["get"] : ["get", "patch", "update"]
                items.append([
                    "name": .string("\(resource.plural)/\(sub)"), "singularName": "", "namespaced": .bool(resource.namespaced),
                    "kind": .string(sub == "log" ? "Pod" : resource.kind), "verbs": .array(verbs),
                ])
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(items)]
    }
}
