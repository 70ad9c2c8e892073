import MeshModel

/// Translates a VirtualService's `http[]` rules into Envoy routes for one virtual host.
struct RouteBuilder {
    /// Which proxy the routes are for: decides which match blocks exist at all.
    enum Proxy {
        /// A sidecar with its pod's labels.
        case sidecar(labels: [String: String])
        /// The ingress gateway, for the gateway names (`name` and `namespace/name`) that bound the VS.
        case gateway(names: Set<String>)
    }

    /// One translated rule: its routes, and whether it catches every request.
    struct Rule {
        var routes: [Value]
        var isCatchAll: Bool
    }

    let catalog: ServiceCatalog

    /// The routes of a VirtualService for one proxy and port, in order, up to the first catch-all rule.
    /// Rules whose match blocks all belong to other proxies or ports are left out.
    func buildRules(_ service: VirtualService, proxy: Proxy, port: Int) -> [Rule] {
        var rules: [Rule] = []
        for http in service.http {
            guard let rule = buildRule(http, of: service, proxy: proxy, port: port) else { continue }
            rules.append(rule)
            if rule.isCatchAll { break }
        }
        return rules
    }

    private func buildRule(_ http: HTTPRoute, of service: VirtualService, proxy: Proxy, port: Int) -> Rule? {
        let blocks: [HTTPMatch?] = http.match.isEmpty ? [nil] : http.match.filter { applies($0, proxy: proxy, port: port) }
        guard !blocks.isEmpty, let action = buildAction(http, of: service, port: port) else { return nil }
        let routes = blocks.map { block in buildRoute(http, block: block, action: action) }
        let catchAll = http.match.isEmpty || blocks.contains { $0.map(RouteMatchBuilder.isCatchAll) ?? true }
        return Rule(routes: routes, isCatchAll: catchAll)
    }

    /// Whether a match block is generated for this proxy and port (`sourceLabels`, `sourceNamespace`,
    /// `gateways` and `port` select proxies; they are not runtime conditions).
    private func applies(_ match: HTTPMatch, proxy: Proxy, port: Int) -> Bool {
        if let wanted = match.port, wanted != port { return false }
        switch proxy {
        case .sidecar(let labels):
            if !match.gateways.isEmpty, !match.gateways.contains("mesh") { return false }
            if let source = match.sourceNamespace, source != catalog.namespace { return false }
            return EnvoyValues.labels(labels, contain: match.sourceLabels)
        case .gateway(let names):
            return match.gateways.isEmpty || match.gateways.contains { names.contains($0) }
        }
    }

    /// A rule's action: the `Route` field it sets, and the header operations of a lone destination
    /// (which move up to the route, as there is no weighted cluster to carry them).
    private struct Action {
        var key: String
        var value: Value
        var destinationHeaders: HeaderOperations?
    }

    private func buildRoute(_ http: HTTPRoute, block: HTTPMatch?, action: Action) -> Value {
        var route: Value = [:]
        route["name"] = Self.routeName(http: http.name, match: block?.name).map { .string($0) }
        route["match"] = RouteMatchBuilder.buildMatch(block)
        route[action.key] = action.value
        RoutePolicyBuilder.applyHeaders(Self.merged(http.headers, action.destinationHeaders), to: &route)
        route["typed_per_filter_config"] = RoutePolicyBuilder.buildFilterConfig(fault: http.fault, cors: http.corsPolicy)
        return route
    }

    /// `http[].name`, plus `.` and `match.name` when both are set.
    static func routeName(http: String?, match: String?) -> String? {
        switch (http, match) {
        case (let rule?, let block?): "\(rule).\(block)"
        case (let rule?, nil): rule
        case (nil, let block?): block
        case (nil, nil): nil
        }
    }

    private static func merged(_ lhs: HeaderOperations?, _ rhs: HeaderOperations?) -> HeaderOperations? {
        guard var result = lhs else { return rhs }
        guard let rhs else { return result }
        result.request.set += rhs.request.set
        result.request.add += rhs.request.add
        result.request.remove += rhs.request.remove
        result.response.set += rhs.response.set
        result.response.add += rhs.response.add
        result.response.remove += rhs.response.remove
        return result
    }

    /// The rule's action: `redirect`, `direct_response` or `route`; nil when it has no usable
    /// destination (every weight 0, which Istio rejects).
    private func buildAction(_ http: HTTPRoute, of service: VirtualService, port: Int) -> Action? {
        if let redirect = http.redirect { return Action(key: "redirect", value: Self.buildRedirect(redirect)) }
        if let direct = http.directResponse {
            var value: Value = ["status": .int(direct.status)]
            value["body"] = direct.body.map { ["inline_string": .string($0)] }
            return Action(key: "direct_response", value: value)
        }
        guard let (destinations, loneHeaders) = buildDestinations(http.route, of: service, port: port) else { return nil }
        var action = destinations
        if let uri = http.rewrite?.uri, http.match.allSatisfy({ block in if case .regex = block.uri { false } else { true } }) {
            action["prefix_rewrite"] = .string(uri)
        }
        let authority = http.rewrite?.authority ?? RoutePolicyBuilder.hostRewrite(http.headers)
        action["host_rewrite_literal"] = authority.map { .string($0) }
        action["timeout"] = EnvoyValues.duration(http.timeout ?? 0)
        action["retry_policy"] = RoutePolicyBuilder.buildRetryPolicy(http.retries)
        if let mirror = http.mirror {
            let fqdn = HostName.fullyQualified(mirror.host, namespace: service.namespace)
            let cluster = EnvoyNaming.outboundCluster(
                port: catalog.destinationPort(fqdn: fqdn, written: mirror.port, fallback: port), subset: mirror.subset, fqdn: fqdn)
            action["request_mirror_policies"] = [
                [
                    "cluster": .string(cluster),
                    "runtime_fraction": ["default_value": EnvoyValues.fractionalPercent(http.mirrorPercentage ?? 100)],
                    "trace_sampled": false,
                ]
            ]
        }
        return Action(key: "route", value: action, destinationHeaders: loneHeaders)
    }

    /// `cluster` or `weighted_clusters`: weight-0 destinations are dropped, a single remaining one
    /// becomes a plain cluster; a missing weight is 100 for a lone destination and 0 otherwise.
    private func buildDestinations(
        _ destinations: [RouteDestination], of service: VirtualService, port: Int
    ) -> (Value, HeaderOperations?)? {
        let weighted: [(cluster: String, weight: Int, headers: HeaderOperations?)] = zip(destinations, destinations.effectiveWeights).compactMap { entry, weight in
            guard weight > 0 else { return nil }
            let fqdn = HostName.fullyQualified(entry.destination.host, namespace: service.namespace)
            let clusterPort = catalog.destinationPort(fqdn: fqdn, written: entry.destination.port, fallback: port)
            return (EnvoyNaming.outboundCluster(port: clusterPort, subset: entry.destination.subset, fqdn: fqdn), weight, entry.headers)
        }
        guard let first = weighted.first else { return nil }
        if weighted.count == 1 { return (["cluster": .string(first.cluster)], first.headers) }
        let clusters: [Value] = weighted.map { entry in
            var value: Value = ["name": .string(entry.cluster), "weight": .int(entry.weight)]
            RoutePolicyBuilder.applyHeaders(entry.headers, to: &value)
            return value
        }
        return (["weighted_clusters": ["clusters": .array(clusters)]], nil)
    }

    /// Istio `redirect` → Envoy `RedirectAction` (code 301 unless given).
    static func buildRedirect(_ redirect: HTTPRedirect) -> Value {
        var value: Value = [:]
        value["path_redirect"] = redirect.uri.map { .string($0) }
        value["host_redirect"] = redirect.authority.map { .string($0) }
        let code: String =
            switch redirect.redirectCode ?? 301 {
            case 302: "FOUND"
            case 303: "SEE_OTHER"
            case 307: "TEMPORARY_REDIRECT"
            case 308: "PERMANENT_REDIRECT"
            default: "MOVED_PERMANENTLY"
            }
        value["response_code"] = .string(code)
        value["scheme_redirect"] = redirect.scheme.map { .string($0) }
        value["port_redirect"] = redirect.port.map { .int($0) }
        return value
    }
}
