import MeshModel

/// The namespace's services, pods and destination rules, indexed the way the translation asks for them.
struct ServiceCatalog {
    /// The subsets and top-level policy of every DestinationRule for one service.
    struct Rules {
        /// The first top-level policy of the matching rules.
        var policy: TrafficPolicy?
        /// The subsets of all matching rules, duplicate names dropped (first wins).
        var subsets: [Subset] = []
    }

    let snapshot: MeshSnapshot
    let topology: NamespaceTopology
    /// Services by name (the first of a duplicated name wins), sorted by name.
    let services: [ServiceSpec]

    var namespace: String { topology.namespace }
    var host: String { topology.host }

    init(snapshot: MeshSnapshot, topology: NamespaceTopology) {
        self.snapshot = snapshot
        self.topology = topology
        var seen = Set<String>()
        var unique: [ServiceSpec] = []
        for service in snapshot.services where seen.insert(service.name).inserted {
            unique.append(service)
        }
        services = unique.sorted { $0.name < $1.name }
    }

    func fqdn(_ service: ServiceSpec) -> String {
        EnvoyNaming.fqdn(service: service.name, namespace: namespace)
    }

    /// The service a fully qualified host names, if it is one of this namespace's.
    func service(fqdn: String) -> ServiceSpec? {
        services.first { self.fqdn($0) == fqdn }
    }

    /// Distinct ports of a service, in declaration order.
    func ports(of service: ServiceSpec) -> [Int] {
        var seen = Set<Int>()
        return service.ports.map(\.port).filter { seen.insert($0).inserted }
    }

    /// Ready pods whose labels contain `selector` and `extra`, sorted by name. An empty service
    /// selector selects nothing (as for a Kubernetes Service without selector).
    func readyPods(selector: [String: String], extra: [String: String] = [:]) -> [PodEndpoint] {
        guard !selector.isEmpty else { return [] }
        return topology.pods
            .filter { $0.ready && EnvoyValues.labels($0.labels, contain: selector) && EnvoyValues.labels($0.labels, contain: extra) }
            .sorted { $0.name < $1.name }
    }

    /// Pods that run a sidecar, sorted by name.
    var sidecarPods: [PodEndpoint] {
        topology.pods.filter { $0.sidecar != nil }.sorted { $0.name < $1.name }
    }

    /// The merged DestinationRules of a service (host expanded with each rule's namespace).
    func rules(fqdn: String) -> Rules {
        var rules = Rules()
        var names = Set<String>()
        for rule in snapshot.destinationRules {
            let host = HostName.fullyQualified(rule.host, namespace: rule.namespace)
            guard host == fqdn || (host.hasPrefix("*") && HostName.matches(pattern: host, host: fqdn)) else { continue }
            if rules.policy == nil { rules.policy = rule.trafficPolicy }
            for subset in rule.subsets where names.insert(subset.name).inserted {
                rules.subsets.append(subset)
            }
        }
        return rules
    }

    /// The port a destination is reached on: the one written, else the service's only port, else
    /// the port the request came in on.
    func destinationPort(fqdn: String, written: Int?, fallback: Int) -> Int {
        if let written { return written }
        if let service = service(fqdn: fqdn) {
            let ports = ports(of: service)
            if ports.count == 1, let only = ports.first { return only }
        }
        return fallback
    }

    /// The first VirtualService of the namespace that sidecars use for `fqdn`.
    func sidecarVirtualService(fqdn: String) -> VirtualService? {
        snapshot.virtualServices.first { service in
            service.namespace == namespace && Self.appliesToMesh(service.gateways)
                && service.hosts.contains { Self.host($0, namespace: service.namespace, covers: fqdn) }
        }
    }

    /// Whether a VirtualService host (expanded with its namespace) covers `fqdn`.
    static func host(_ written: String, namespace: String, covers fqdn: String) -> Bool {
        let host = HostName.fullyQualified(written, namespace: namespace)
        return host == fqdn || ((host == "*" || host.hasPrefix("*.")) && HostName.matches(pattern: host, host: fqdn))
    }

    static func appliesToMesh(_ gateways: [String]) -> Bool {
        gateways.isEmpty || gateways.contains("mesh")
    }
}
