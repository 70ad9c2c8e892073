/// Where a kind lives in the Kubernetes API: the table the client builds URLs from.
public struct KubeResource: Sendable, Hashable, CustomStringConvertible {
    public var kind: String
    /// The API group; empty for the core group (`/api/v1`).
    public var group: String
    public var version: String
    /// The lower-case plural in URLs (`virtualservices`).
    public var plural: String
    public var namespaced: Bool

    public init(kind: String, group: String, version: String, plural: String, namespaced: Bool) {
        self.kind = kind
        self.group = group
        self.version = version
        self.plural = plural
        self.namespaced = namespaced
    }

    /// `group/version`, or `v1` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The collection's path: `/api/v1/namespaces/{ns}/pods`, `/apis/apps/v1/deployments`, …
    /// - Parameter namespace: ignored for cluster-scoped kinds; nil lists across all namespaces.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace { path += "/namespaces/\(Self.escape(namespace))" }
        path += "/\(plural)"
        if let name { path += "/\(Self.escape(name))" }
        if let subresource { path += "/\(subresource)" }
        return path
    }

    /// Percent-encodes a path segment (names are DNS labels, but a wrong one must not change the path).
    static func escape(_ segment: String) -> String {
        var out = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    // MARK: The kinds MeshDojo touches

    public static let namespaces = KubeResource(kind: "Namespace", group: "", version: "v1", plural: "namespaces", namespaced: false)
    public static let serviceAccounts = KubeResource(kind: "ServiceAccount", group: "", version: "v1", plural: "serviceaccounts", namespaced: true)
    public static let roles = KubeResource(kind: "Role", group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", namespaced: true)
    public static let roleBindings = KubeResource(kind: "RoleBinding", group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", namespaced: true)
    public static let resourceQuotas = KubeResource(kind: "ResourceQuota", group: "", version: "v1", plural: "resourcequotas", namespaced: true)
    public static let limitRanges = KubeResource(kind: "LimitRange", group: "", version: "v1", plural: "limitranges", namespaced: true)
    public static let services = KubeResource(kind: "Service", group: "", version: "v1", plural: "services", namespaced: true)
    public static let deployments = KubeResource(kind: "Deployment", group: "apps", version: "v1", plural: "deployments", namespaced: true)
    public static let replicaSets = KubeResource(kind: "ReplicaSet", group: "apps", version: "v1", plural: "replicasets", namespaced: true)
    public static let pods = KubeResource(kind: "Pod", group: "", version: "v1", plural: "pods", namespaced: true)
    public static let events = KubeResource(kind: "Event", group: "", version: "v1", plural: "events", namespaced: true)
    public static let configMaps = KubeResource(kind: "ConfigMap", group: "", version: "v1", plural: "configmaps", namespaced: true)
    public static let secrets = KubeResource(kind: "Secret", group: "", version: "v1", plural: "secrets", namespaced: true)
    public static let gateways = KubeResource(kind: "Gateway", group: "networking.istio.io", version: "v1", plural: "gateways", namespaced: true)
    public static let virtualServices = KubeResource(kind: "VirtualService", group: "networking.istio.io", version: "v1", plural: "virtualservices", namespaced: true)
    public static let destinationRules = KubeResource(kind: "DestinationRule", group: "networking.istio.io", version: "v1", plural: "destinationrules", namespaced: true)
    public static let serviceEntries = KubeResource(kind: "ServiceEntry", group: "networking.istio.io", version: "v1", plural: "serviceentries", namespaced: true)
    public static let sidecars = KubeResource(kind: "Sidecar", group: "networking.istio.io", version: "v1", plural: "sidecars", namespaced: true)

    /// Every kind in the table.
    public static let all: [KubeResource] = [
        namespaces, serviceAccounts, roles, roleBindings, resourceQuotas, limitRanges, services, deployments,
        replicaSets, pods, events, configMaps, secrets, gateways, virtualServices, destinationRules, serviceEntries, sidecars,
    ]

    /// The Istio networking kinds the labs write.
    public static let istioNetworking: [KubeResource] = [gateways, virtualServices, destinationRules, serviceEntries, sidecars]

    /// The entry for an object's `apiVersion` and `kind`. Istio kinds are served at every version
    /// the CRDs serve (v1, v1beta1, v1alpha3): the version written in the manifest is kept.
    public static func forObject(apiVersion: String, kind: String) -> KubeResource? {
        let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
        let version = String(apiVersion.split(separator: "/").last ?? "")
        guard var entry = all.first(where: { $0.kind == kind && $0.group == group }) else { return nil }
        if group == "networking.istio.io", ["v1", "v1beta1", "v1alpha3"].contains(version) { entry.version = version }
        guard entry.version == version else { return nil }
        return entry
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
