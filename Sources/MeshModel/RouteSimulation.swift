/// Where one request goes, as a proxy of the namespace routes it: the VirtualService in effect
/// for its host, the rule that takes it, that rule's destinations (with their shares, the pod
/// versions they reach and what breaks them) and its fault. The grader reads it to name the
/// object that sent a failed request where it went; the translator, not this, builds Envoy's
/// configuration, and both follow the same rules (first VirtualService for a host wins, first
/// matching rule wins, weights are rescaled to 100).
public enum RouteSimulation {
    /// One call: to the short service name `host`, with these headers (names in lower case),
    /// from a sidecar (`gateway == nil`) or from the ingress gateway named `gateway`.
    public struct Request: Sendable, Equatable {
        public var host: String
        public var headers: [String: String]
        public var path: String
        public var gateway: String?

        public init(host: String, headers: [String: String] = [:], path: String = "/", gateway: String? = nil) {
            self.host = host
            self.headers = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
            self.path = path
            self.gateway = gateway
        }
    }

    /// Why a VirtualService that looks meant for the request's host is not the one in effect.
    public enum PassedOver: Sendable, Equatable {
        /// Bound to gateways only: the sidecars never get it.
        case gatewayOnly
        /// Its hosts name the service with a dot (`reviews.default`), which Istio takes as written.
        case hostNotExpanded(String)
        /// Named after the service but written for other hosts.
        case otherHosts([String])
        /// An earlier VirtualService defines the same host and wins.
        case shadowed(by: String)
    }

    /// One destination of the rule that takes the request.
    public struct Target: Sendable, Equatable {
        public enum Problem: Sendable, Equatable {
            /// No Service (nor ServiceEntry) for the host: 503.
            case unknownHost
            /// No DestinationRule of the host defines the subset: 503 (no cluster).
            case subsetUndefined
            /// The subset's labels select none of the service's pods: 503 (no healthy upstream).
            case selectsNothing(labels: [String: String])
        }

        public var destination: Destination
        /// Share of the rule's traffic, 0…1, after Istio's rescaling.
        public var share: Double
        /// The `version` labels of the pods it reaches.
        public var versions: [String]
        public var problem: Problem?
        /// The DestinationRule that defines its subset, if any.
        public var destinationRule: String?
    }

    public struct Route: Sendable, Equatable {
        /// The VirtualService in effect for the host; nil means default routing (every pod of the service).
        public var virtualService: VirtualService?
        /// The rule that takes the request; nil with a VirtualService means none matched (404).
        public var ruleIndex: Int?
        /// Where it goes: one target per destination of the rule, or the service's pods by default.
        public var targets: [Target]
        public var fault: HTTPFault?
        /// VirtualServices that look meant for this host but that this proxy does not use.
        public var passedOver: [(name: String, why: PassedOver)]

        public static func == (lhs: Route, rhs: Route) -> Bool {
            lhs.virtualService == rhs.virtualService && lhs.ruleIndex == rhs.ruleIndex && lhs.targets == rhs.targets
                && lhs.fault == rhs.fault && lhs.passedOver.elementsEqual(rhs.passedOver, by: ==)
        }

        /// Share per pod version (e.g. v1 0.5, v3 0.5); a broken target counts under no version.
        public var versionShares: [String: Double] {
            var shares: [String: Double] = [:]
            for target in targets where target.problem == nil && !target.versions.isEmpty {
                for version in target.versions { shares[version, default: 0] += target.share / Double(target.versions.count) }
            }
            return shares
        }
    }

    /// Routes `request` through `snapshot`.
    public static func route(_ request: Request, in snapshot: MeshSnapshot) -> Route {
        let fqdn = HostName.fullyQualified(request.host, namespace: snapshot.namespace)
        func covers(_ service: VirtualService) -> Bool {
            service.hosts.contains { HostName.matches(pattern: HostName.fullyQualified($0, namespace: service.namespace), host: fqdn) }
        }
        func bound(_ service: VirtualService) -> Bool {
            guard let gateway = request.gateway else { return Analysis.appliesToMesh(service) }
            return service.gateways.contains { ($0.split(separator: "/").last.map(String.init) ?? $0) == gateway }
        }
        var passedOver: [(name: String, why: PassedOver)] = []
        var inEffect: VirtualService?
        for service in snapshot.virtualServices {
            if covers(service) {
                if !bound(service) {
                    // Only one written for this host: the ingress's own `*` VirtualService is not meant for the sidecars.
                    let named = service.hosts.contains { !$0.contains("*") && HostName.fullyQualified($0, namespace: service.namespace) == fqdn }
                    if request.gateway == nil && named { passedOver.append((service.name, .gatewayOnly)) }
                } else if let first = inEffect {
                    if first.name != service.name { passedOver.append((service.name, .shadowed(by: first.name))) }
                } else {
                    inEffect = service
                }
            } else if let dotted = service.hosts.first(where: { $0.contains(".") && $0.split(separator: ".").first.map(String.init) == request.host && !$0.hasSuffix(HostName.clusterDomain) }) {
                passedOver.append((service.name, .hostNotExpanded(dotted)))
            } else if service.name == request.host, bound(service) {
                passedOver.append((service.name, .otherHosts(service.hosts)))
            }
        }
        guard let service = inEffect else {
            return Route(virtualService: nil, ruleIndex: nil, targets: defaultTargets(request.host, snapshot), fault: nil, passedOver: passedOver)
        }
        guard let index = service.http.firstIndex(where: { matches($0, request) }) else {
            return Route(virtualService: service, ruleIndex: nil, targets: [], fault: nil, passedOver: passedOver)
        }
        let rule = service.http[index]
        let weights = rule.route.effectiveWeights
        let total = weights.reduce(0, +)
        let targets = zip(rule.route, weights).map { item, weight in
            target(item.destination, share: total > 0 ? Double(weight) / Double(total) : 0, namespace: service.namespace, snapshot)
        }
        return Route(virtualService: service, ruleIndex: index, targets: targets, fault: rule.fault, passedOver: passedOver)
    }

    /// Whether any match block of `rule` takes `request` (a rule without `match` takes all).
    public static func matches(_ rule: HTTPRoute, _ request: Request) -> Bool {
        rule.match.isEmpty || rule.match.contains { matches($0, request) }
    }

    static func matches(_ match: HTTPMatch, _ request: Request) -> Bool {
        if let uri = match.uri, !matches(uri, request.path, ignoringCase: match.ignoreUriCase) { return false }
        for (name, matcher) in match.headers {
            guard let value = request.headers[name.lowercased()] else { return false }
            if !matches(matcher, value, ignoringCase: false) { return false }
        }
        for (name, matcher) in match.withoutHeaders {
            if let value = request.headers[name.lowercased()], matches(matcher, value, ignoringCase: false) { return false }
        }
        if !match.gateways.isEmpty {
            let here = request.gateway ?? "mesh"
            if !match.gateways.contains(where: { ($0.split(separator: "/").last.map(String.init) ?? $0) == here }) { return false }
        }
        return true
    }

    static func matches(_ matcher: StringMatch, _ value: String, ignoringCase: Bool) -> Bool {
        let value = ignoringCase ? value.lowercased() : value
        func fold(_ text: String) -> String { ignoringCase ? text.lowercased() : text }
        switch matcher {
        case .exact(let text): return value == fold(text)
        case .prefix(let text): return value.hasPrefix(fold(text))
        case .present: return true
        case .regex(let pattern):
            guard let regex = try? Regex(pattern) else { return false }  // Validation refuses patterns that do not compile
            return value.wholeMatch(of: regex) != nil
        }
    }

    /// Without a VirtualService: every pod of the service, evenly by deployment.
    static func defaultTargets(_ host: String, _ snapshot: MeshSnapshot) -> [Target] {
        guard let service = snapshot.services.first(where: { $0.name == host }) else {
            return [Target(destination: Destination(host: host), share: 1, versions: [], problem: .unknownHost)]
        }
        let versions = pods(of: service, snapshot).compactMap { $0.podLabels["version"] }
        return [Target(destination: Destination(host: host), share: 1, versions: Array(Set(versions)).sorted())]
    }

    static func pods(of service: ServiceSpec, _ snapshot: MeshSnapshot) -> [DeploymentSpec] {
        snapshot.deployments.filter { deployment in
            deployment.replicas > 0 && !service.selector.isEmpty && service.selector.allSatisfy { deployment.podLabels[$0.key] == $0.value }
        }
    }

    static func target(_ destination: Destination, share: Double, namespace: String, _ snapshot: MeshSnapshot) -> Target {
        let fqdn = HostName.fullyQualified(destination.host, namespace: namespace)
        guard let service = snapshot.services.first(where: { HostName.fullyQualified($0.name, namespace: $0.namespace) == fqdn }) else {
            let external = snapshot.serviceEntries.contains { entry in entry.hosts.contains { HostName.matches(pattern: $0, host: destination.host) } }
            return Target(destination: destination, share: share, versions: [], problem: external ? nil : .unknownHost)
        }
        let pods = pods(of: service, snapshot)
        guard let subset = destination.subset else {
            return Target(destination: destination, share: share, versions: Array(Set(pods.compactMap { $0.podLabels["version"] })).sorted())
        }
        let rules = snapshot.destinationRules.filter { HostName.fullyQualified($0.host, namespace: $0.namespace) == fqdn }
        guard let rule = rules.first(where: { $0.subsets.contains { $0.name == subset } }),
            let definition = rule.subsets.first(where: { $0.name == subset })
        else {
            return Target(destination: destination, share: share, versions: [], problem: .subsetUndefined)
        }
        let selected = pods.filter { pod in definition.labels.allSatisfy { pod.podLabels[$0.key] == $0.value } }
        if selected.isEmpty {
            return Target(destination: destination, share: share, versions: [], problem: .selectsNothing(labels: definition.labels), destinationRule: rule.name)
        }
        return Target(
            destination: destination, share: share, versions: Array(Set(selected.compactMap { $0.podLabels["version"] })).sorted(),
            destinationRule: rule.name)
    }
}
