/// The Kubernetes-shaped resources the API serves: URL plural ↔ kind, and the API group/versions.
public enum ResourceKinds {
    public struct Kind: Sendable, Equatable {
        public var plural: String
        public var kind: String
        public var group: String
        public var versions: [String]
        public var shortNames: [String]
    }

    public static let all: [Kind] = [
        Kind(plural: "pods", kind: "Pod", group: "", versions: ["v1"], shortNames: ["po", "pod"]),
        Kind(plural: "services", kind: "Service", group: "", versions: ["v1"], shortNames: ["svc", "service"]),
        Kind(plural: "serviceaccounts", kind: "ServiceAccount", group: "", versions: ["v1"], shortNames: ["sa", "serviceaccount"]),
        Kind(plural: "configmaps", kind: "ConfigMap", group: "", versions: ["v1"], shortNames: ["cm", "configmap"]),
        Kind(plural: "secrets", kind: "Secret", group: "", versions: ["v1"], shortNames: ["secret"]),
        Kind(plural: "deployments", kind: "Deployment", group: "apps", versions: ["v1"], shortNames: ["deploy", "deployment"]),
        Kind(plural: "virtualservices", kind: "VirtualService", group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], shortNames: ["vs", "virtualservice"]),
        Kind(plural: "destinationrules", kind: "DestinationRule", group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], shortNames: ["dr", "destinationrule"]),
        Kind(plural: "gateways", kind: "Gateway", group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], shortNames: ["gw", "gateway"]),
        Kind(plural: "serviceentries", kind: "ServiceEntry", group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], shortNames: ["se", "serviceentry"]),
    ]

    /// A kind by plural, short name or kind name (case-insensitive), as kubectl accepts them.
    public static func find(_ name: String) -> Kind? {
        let lower = name.lowercased()
        return all.first { $0.plural == lower || $0.shortNames.contains(lower) || $0.kind.lowercased() == lower }
    }

    /// The collection path of a kind in a namespace.
    public static func path(_ kind: Kind, namespace: String, version: String? = nil) -> String {
        let prefix = kind.group.isEmpty ? "/api/\(version ?? kind.versions[0])" : "/apis/\(kind.group)/\(version ?? kind.versions[0])"
        return "\(prefix)/namespaces/\(namespace)/\(kind.plural)"
    }
}
