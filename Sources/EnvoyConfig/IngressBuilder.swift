import MeshModel

/// Builds the ingress gateway's route configuration from the Gateways that select it and the
/// VirtualServices bound to them.
struct IngressBuilder {
    let catalog: ServiceCatalog
    let ingressPort: Int

    /// The gateways of the namespace that select the ingress workload, with their plain-HTTP servers.
    private var gateways: [(gateway: Gateway, servers: [Gateway.Server])] {
        catalog.snapshot.gateways.compactMap { gateway in
            guard gateway.namespace == catalog.namespace,
                EnvoyValues.labels(catalog.topology.ingressLabels, contain: gateway.selector)
            else { return nil }
            let servers = gateway.servers.filter { ["HTTP", "HTTP2", "GRPC"].contains($0.proto.uppercased()) }
            return servers.isEmpty ? nil : (gateway, servers)
        }
    }

    /// Route configuration `ingress`: a virtual host per exposed host, or `blackhole:<port>` (404)
    /// when no VirtualService is bound.
    func buildRouteConfiguration() -> Value {
        let routes = RouteBuilder(catalog: catalog)
        var order: [String] = []
        var specific: [String: [Value]] = [:]
        var catchAll: [String: [Value]] = [:]
        for service in catalog.snapshot.virtualServices where service.namespace == catalog.namespace {
            var done = Set<String>()
            for (gateway, servers) in gateways {
                let names: Set<String> = [gateway.name, "\(gateway.namespace)/\(gateway.name)"]
                guard service.gateways.contains(where: names.contains) else { continue }
                for server in servers {
                    for host in exposedHosts(of: service, on: server, gateway: gateway) where !done.contains(host) {
                        done.insert(host)
                        if specific[host] == nil {
                            order.append(host)
                            specific[host] = []
                            catchAll[host] = []
                        }
                        for rule in routes.buildRules(service, proxy: .gateway(names: names), port: server.portNumber) {
                            if rule.isCatchAll { catchAll[host, default: []] += rule.routes } else { specific[host, default: []] += rule.routes }
                        }
                    }
                }
            }
        }
        var hosts: [Value] = order.map { host in
            buildHost(name: EnvoyNaming.virtualHost(host: host, port: ingressPort), host: host,
                      routes: (specific[host] ?? []) + (catchAll[host] ?? []))
        }
        if hosts.isEmpty {
            hosts = [["name": .string(EnvoyNaming.blackholeVirtualHost(port: ingressPort)), "domains": ["*"], "routes": []]]
        }
        return RouteConfigBuilder.buildRouteConfiguration(name: EnvoyNaming.ingressRouteConfig, hosts: hosts)
    }

    /// The hosts of a VirtualService a server exposes: for each pair that overlaps, the more specific one.
    private func exposedHosts(of service: VirtualService, on server: Gateway.Server, gateway: Gateway) -> [String] {
        let serverHosts: [String] = server.hosts.compactMap { written in
            guard let slash = written.firstIndex(of: "/") else { return written }
            let namespace = String(written[..<slash])
            let host = String(written[written.index(after: slash)...])
            return ["*", ".", catalog.namespace].contains(namespace) ? host : nil
        }
        var result: [String] = []
        for written in service.hosts {
            let host = HostName.fullyQualified(written, namespace: service.namespace)
            for pattern in serverHosts {
                let exposed: String? =
                    HostName.matches(pattern: pattern, host: host) ? host
                    : HostName.matches(pattern: host, host: pattern) ? pattern : nil
                if let exposed, !result.contains(exposed) { result.append(exposed) }
            }
        }
        return result
    }

    private func buildHost(name: String, host: String, routes: [Value]) -> Value {
        let domains: [Value] = host == "*" ? ["*"] : [.string(host), .string("\(host):\(ingressPort)")]
        return ["name": .string(name), "domains": .array(domains), "routes": .array(routes)]
    }
}
