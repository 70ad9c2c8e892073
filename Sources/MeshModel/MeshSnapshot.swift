/// One namespace's configuration, typed: what the translator and the analyzer read.
///
/// Build it with ``MeshSnapshot/init(namespace:objects:)``, which also returns the diagnostics of
/// objects that could not be read (those objects are left out).
public struct MeshSnapshot: Sendable, Equatable {
    public var namespace: String
    /// Labels of the Namespace object (`istio-injection=enabled` turns sidecars on).
    public var namespaceLabels: [String: String]
    public var services: [ServiceSpec] = []
    public var deployments: [DeploymentSpec] = []
    public var virtualServices: [VirtualService] = []
    public var destinationRules: [DestinationRule] = []
    public var gateways: [Gateway] = []
    public var serviceEntries: [ServiceEntry] = []

    /// The kinds this project understands, by kind name.
    public static let knownKinds: Set<String> = [
        "Namespace", "Service", "Deployment", "ServiceAccount", "VirtualService", "DestinationRule", "Gateway",
        "ServiceEntry", "ConfigMap", "Secret", "ResourceQuota", "LimitRange", "Role", "RoleBinding",
    ]

    /// Whether pods started now get a sidecar.
    public var injectionEnabled: Bool { namespaceLabels["istio-injection"] == "enabled" }

    public init(namespace: String, namespaceLabels: [String: String] = [:]) {
        self.namespace = namespace
        self.namespaceLabels = namespaceLabels
    }

    /// Types every object of a namespace (objects of other namespaces are ignored).
    /// - Returns: the snapshot and the problems of objects that were left out.
    public static func build(namespace: String, namespaceLabels: [String: String], objects: [KubeObject]) -> (MeshSnapshot, [Diagnostic]) {
        var snapshot = MeshSnapshot(namespace: namespace, namespaceLabels: namespaceLabels)
        var diagnostics: [Diagnostic] = []
        for object in objects where (object.metadata.namespace ?? namespace) == namespace {
            switch object.kind {
            case "Service":
                let (value, problems) = WorkloadParser.service(object, namespace: namespace)
                if let value { snapshot.services.append(value) }
                diagnostics += problems
            case "Deployment":
                let (value, problems) = WorkloadParser.deployment(object, namespace: namespace)
                if let value { snapshot.deployments.append(value) }
                diagnostics += problems
            case "VirtualService":
                let (value, problems) = NetworkingParser.virtualService(object, namespace: namespace)
                if let value { snapshot.virtualServices.append(value) }
                diagnostics += problems
            case "DestinationRule":
                let (value, problems) = NetworkingParser.destinationRule(object, namespace: namespace)
                if let value { snapshot.destinationRules.append(value) }
                diagnostics += problems
            case "Gateway":
                let (value, problems) = NetworkingParser.gateway(object, namespace: namespace)
                if let value { snapshot.gateways.append(value) }
                diagnostics += problems
            case "ServiceEntry":
                let (value, problems) = NetworkingParser.serviceEntry(object, namespace: namespace)
                if let value { snapshot.serviceEntries.append(value) }
                diagnostics += problems
            default:
                break
            }
        }
        return (snapshot, diagnostics)
    }
}

/// Istio host names: short names are completed with the object's own namespace.
public enum HostName {
    public static let clusterDomain = "svc.cluster.local"

    /// `reviews` in `default` → `reviews.default.svc.cluster.local`. A name with a dot, `*` or an
    /// IP is taken as written (so `reviews.default` is *not* expanded, as in Istio).
    public static func fullyQualified(_ host: String, namespace: String) -> String {
        if host == "*" || host.contains(".") || host.contains(":") { return host }
        return "\(host).\(namespace).\(clusterDomain)"
    }

    /// Whether a host pattern (`*`, `*.suffix`, or a name) covers `host`.
    public static func matches(pattern: String, host: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasPrefix("*.") { return host.hasSuffix(String(pattern.dropFirst(1))) }
        return pattern == host
    }
}
