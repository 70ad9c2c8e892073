/// One resource the API serves, as discovery describes it: its group, versions, plural, kind,
/// scope, short names, categories and verbs.
public struct APIResource: Sendable, Equatable {
    public var group: String
    /// Served versions, preferred first.
    public var versions: [String]
    public var plural: String
    public var singular: String
    public var kind: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    public var verbs: [String]
    /// Subresources (`log` for pods, `status` for deployments).
    public var subresources: [String]

    public init(
        group: String, versions: [String], plural: String, kind: String, namespaced: Bool = true, shortNames: [String] = [],
        categories: [String] = [], verbs: [String] = APIResource.allVerbs, subresources: [String] = []
    ) {
        self.group = group
        self.versions = versions
        self.plural = plural
        self.singular = kind.lowercased()
        self.kind = kind
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.verbs = verbs
        self.subresources = subresources
    }

    public static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    public static let readVerbs = ["get", "list", "watch"]

    /// `apps/v1`, or `v1` for the core group.
    public func groupVersion(_ version: String? = nil) -> String {
        group.isEmpty ? (version ?? versions[0]) : "\(group)/\(version ?? versions[0])"
    }

    /// `virtualservices.networking.istio.io`, or `pods` for the core group.
    public var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The collection path in a namespace (or the cluster-scoped collection).
    public func path(namespace: String?, version: String? = nil) -> String {
        let prefix = group.isEmpty ? "/api/\(version ?? versions[0])" : "/apis/\(group)/\(version ?? versions[0])"
        if namespaced, let namespace { return "\(prefix)/namespaces/\(namespace)/\(plural)" }
        return "\(prefix)/\(plural)"
    }
}

/// Every resource the lab-runner serves.
public enum APIResources {
    public static let istioVersions = ["v1", "v1beta1", "v1alpha3"]
    public static let istioGroup = "networking.istio.io"

    public static let all: [APIResource] = [
        APIResource(group: "", versions: ["v1"], plural: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"],
                    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]),
        APIResource(group: "", versions: ["v1"], plural: "pods", kind: "Pod", shortNames: ["po"], categories: ["all"],
                    verbs: ["delete", "deletecollection", "get", "list", "watch"], subresources: ["log"]),
        APIResource(group: "", versions: ["v1"], plural: "services", kind: "Service", shortNames: ["svc"], categories: ["all"]),
        APIResource(group: "", versions: ["v1"], plural: "serviceaccounts", kind: "ServiceAccount", shortNames: ["sa"], subresources: ["token"]),
        // A student's quota, limits and RBAC, as the Kubernetes backend provisions them (stored
        // and shown; the embedded engine enforces neither, and only the instructor writes them).
        APIResource(group: "", versions: ["v1"], plural: "resourcequotas", kind: "ResourceQuota", shortNames: ["quota"]),
        APIResource(group: "", versions: ["v1"], plural: "limitranges", kind: "LimitRange", shortNames: ["limits"]),
        APIResource(group: "", versions: ["v1"], plural: "configmaps", kind: "ConfigMap", shortNames: ["cm"]),
        APIResource(group: "", versions: ["v1"], plural: "secrets", kind: "Secret"),
        APIResource(group: "", versions: ["v1"], plural: "events", kind: "Event", shortNames: ["ev"], verbs: APIResource.readVerbs),
        APIResource(group: "apps", versions: ["v1"], plural: "deployments", kind: "Deployment", shortNames: ["deploy"], categories: ["all"],
                    subresources: ["status"]),
        APIResource(group: "apps", versions: ["v1"], plural: "replicasets", kind: "ReplicaSet", shortNames: ["rs"], categories: ["all"],
                    verbs: APIResource.readVerbs),
        // Istio 1.0.6's bookinfo.yaml still writes Deployments as extensions/v1beta1, which
        // Kubernetes stopped serving in 1.16; served here so the 1.0.6 tutorial applies unchanged.
        APIResource(group: "extensions", versions: ["v1beta1"], plural: "deployments", kind: "Deployment", subresources: ["status"]),
        APIResource(group: "rbac.authorization.k8s.io", versions: ["v1"], plural: "roles", kind: "Role"),
        APIResource(group: "rbac.authorization.k8s.io", versions: ["v1"], plural: "rolebindings", kind: "RoleBinding"),
        APIResource(group: istioGroup, versions: istioVersions, plural: "gateways", kind: "Gateway", shortNames: ["gw"], categories: ["istio-io", "networking-istio-io"]),
        APIResource(group: istioGroup, versions: istioVersions, plural: "virtualservices", kind: "VirtualService", shortNames: ["vs"], categories: ["istio-io", "networking-istio-io"]),
        APIResource(group: istioGroup, versions: istioVersions, plural: "destinationrules", kind: "DestinationRule", shortNames: ["dr"], categories: ["istio-io", "networking-istio-io"]),
        APIResource(group: istioGroup, versions: istioVersions, plural: "serviceentries", kind: "ServiceEntry", shortNames: ["se"], categories: ["istio-io", "networking-istio-io"]),
        APIResource(group: istioGroup, versions: istioVersions, plural: "sidecars", kind: "Sidecar", categories: ["istio-io", "networking-istio-io"]),
    ]

    /// The API groups other than core, in discovery order.
    public static var groups: [(name: String, versions: [String])] {
        var out: [(String, [String])] = []
        for resource in all where !resource.group.isEmpty && !out.contains(where: { $0.0 == resource.group }) {
            out.append((resource.group, resource.versions))
        }
        return out
    }

    public static func resource(group: String, version: String, plural: String) -> APIResource? {
        all.first { $0.group == group && $0.plural == plural && $0.versions.contains(version) }
    }

    public static func resource(kind: String, group: String) -> APIResource? {
        all.first { $0.kind == kind && $0.group == group }
    }

    /// A kind by plural, singular, short name or kind (case-insensitive), as kubectl accepts them.
    public static func find(_ name: String) -> APIResource? {
        let lower = name.lowercased()
        return all.first { $0.plural == lower || $0.singular == lower || $0.shortNames.contains(lower) }
    }

    /// The group of an `apiVersion` (`networking.istio.io/v1` → `networking.istio.io`; `v1` → core).
    public static func split(apiVersion: String) -> (group: String, version: String) {
        let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : ("", parts.first ?? "")
    }
}
