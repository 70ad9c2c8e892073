import MeshModel

/// Builds the route configurations of sidecars (outbound and inbound) and of the kube-proxy.
struct RouteConfigBuilder {
    let catalog: ServiceCatalog

    /// `outbound.<pod>`: a virtual host per service port with the VirtualService routes this pod
    /// gets (or the `default` route), then `block_all`.
    func buildOutbound(pod: PodEndpoint) -> Value {
        let routes = RouteBuilder(catalog: catalog)
        var hosts: [Value] = []
        for service in catalog.services {
            let fqdn = catalog.fqdn(service)
            for port in catalog.ports(of: service) {
                var rules: [Value] = []
                if let virtualService = catalog.sidecarVirtualService(fqdn: fqdn) {
                    rules = routes.buildRules(virtualService, proxy: .sidecar(labels: pod.labels), port: port).flatMap(\.routes)
                }
                if rules.isEmpty {
                    rules = [
                        Self.buildDefaultRoute(
                            cluster: EnvoyNaming.outboundCluster(port: port, subset: nil, fqdn: fqdn),
                            retryPolicy: RoutePolicyBuilder.buildRetryPolicy(nil))
                    ]
                }
                hosts.append(buildServiceHost(service, port: port, routes: rules))
            }
        }
        return Self.buildRouteConfiguration(name: EnvoyNaming.outboundRouteConfig(pod: pod.name), hosts: hosts + [buildBlockAll()])
    }

    /// `kube-proxy`: every service port spread over all its ready pods, no Istio rules.
    func buildKubeProxy() -> Value {
        var hosts: [Value] = []
        for service in catalog.services {
            for port in catalog.ports(of: service) {
                let cluster = EnvoyNaming.kubeCluster(port: port, fqdn: catalog.fqdn(service))
                hosts.append(buildServiceHost(service, port: port, routes: [Self.buildDefaultRoute(cluster: cluster, retryPolicy: nil)]))
            }
        }
        return Self.buildRouteConfiguration(name: EnvoyNaming.kubeProxyRouteConfig, hosts: hosts + [buildBlockAll()])
    }

    /// `inbound.<pod>`: everything to the pod's app.
    func buildInbound(pod: PodEndpoint) -> Value {
        let cluster = EnvoyNaming.inboundCluster(appPort: pod.appPort, pod: pod.name)
        let host: Value = [
            "name": .string(EnvoyNaming.inboundVirtualHost(appPort: pod.appPort)),
            "domains": ["*"],
            "routes": [Self.buildDefaultRoute(cluster: cluster, retryPolicy: nil)],
        ]
        return Self.buildRouteConfiguration(name: EnvoyNaming.inboundRouteConfig(pod: pod.name), hosts: [host])
    }

    /// Virtual hosts sorted by name (a trailing `block_all` stays last).
    static func buildRouteConfiguration(name: String, hosts: [Value]) -> Value {
        let blockAll = hosts.filter { $0["name"]?.stringValue == EnvoyNaming.blockAllVirtualHost }
        let sorted = hosts.filter { $0["name"]?.stringValue != EnvoyNaming.blockAllVirtualHost }
            .sorted { ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "") }
        return [
            "@type": .string(EnvoyNaming.routeConfigurationType),
            "name": .string(name),
            "virtual_hosts": .array(sorted + blockAll),
            "validate_clusters": false,
        ]
    }

    /// Route `default`: prefix `/` to `cluster`, no timeout.
    static func buildDefaultRoute(cluster: String, retryPolicy: Value?) -> Value {
        var action: Value = ["cluster": .string(cluster), "timeout": "0s"]
        action["retry_policy"] = retryPolicy
        return ["name": .string(EnvoyNaming.defaultRoute), "match": ["prefix": "/", "case_sensitive": true], "route": action]
    }

    /// `<fqdn>:<port>` with the names a pod of this namespace may use, each with the port (and
    /// without it on port 80).
    private func buildServiceHost(_ service: ServiceSpec, port: Int, routes: [Value]) -> Value {
        let fqdn = catalog.fqdn(service)
        let names = [service.name, "\(service.name).\(catalog.namespace)", "\(service.name).\(catalog.namespace).svc", fqdn]
        var domains = names.map { "\($0):\(port)" }
        if port == 80 { domains += names }
        return [
            "name": .string(EnvoyNaming.virtualHost(host: fqdn, port: port)),
            "domains": .array(domains.map { .string($0) }),
            "routes": .array(routes),
        ]
    }

    /// The last virtual host: any other Host is not a service here → 502.
    private func buildBlockAll() -> Value {
        let body = "meshdojo: the requested host is not a service of namespace \(catalog.namespace)\n"
        return [
            "name": .string(EnvoyNaming.blockAllVirtualHost),
            "domains": ["*"],
            "routes": [
                [
                    "name": .string(EnvoyNaming.blockAllVirtualHost),
                    "match": ["prefix": "/"],
                    "direct_response": ["status": 502, "body": ["inline_string": .string(body)]],
                ]
            ],
        ]
    }
}
