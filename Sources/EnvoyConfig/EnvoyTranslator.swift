import MeshModel

/// Translates one namespace's Istio configuration into the resources of its Envoy.
///
/// Pure: the same input always gives the same output (resources sorted by name), no I/O.
public enum EnvoyTranslator {
    /// Listeners, clusters and route configurations for `topology`'s Envoy: per sidecar pod an
    /// outbound and an inbound listener, the kube-proxy listener and, when the namespace has an
    /// ingress port, the ingress listener.
    public static func translate(_ snapshot: MeshSnapshot, topology: NamespaceTopology) -> EnvoyResources {
        let catalog = ServiceCatalog(snapshot: snapshot, topology: topology)
        let routeConfigs = RouteConfigBuilder(catalog: catalog)
        var listeners: [Value] = []
        var routes: [Value] = []
        for pod in catalog.sidecarPods {
            guard let ports = pod.sidecar else { continue }
            listeners.append(
                ListenerBuilder.buildListener(
                    name: EnvoyNaming.outboundListener(pod: pod.name), host: topology.host, port: ports.outboundPort,
                    statPrefix: EnvoyNaming.outboundStatPrefix(pod: pod.name),
                    routeConfig: EnvoyNaming.outboundRouteConfig(pod: pod.name), filters: .istio, absoluteURLs: true,
                    logTag: "\(pod.name) outbound"))
            listeners.append(
                ListenerBuilder.buildListener(
                    name: EnvoyNaming.inboundListener(pod: pod.name), host: topology.host, port: ports.inboundPort,
                    statPrefix: EnvoyNaming.inboundStatPrefix(pod: pod.name),
                    routeConfig: EnvoyNaming.inboundRouteConfig(pod: pod.name), filters: .plain, absoluteURLs: false,
                    logTag: "\(pod.name) inbound"))
            routes.append(routeConfigs.buildOutbound(pod: pod))
            routes.append(routeConfigs.buildInbound(pod: pod))
        }
        listeners.append(
            ListenerBuilder.buildListener(
                name: EnvoyNaming.kubeProxyListener, host: topology.host, port: topology.kubeProxyPort,
                statPrefix: EnvoyNaming.kubeProxyStatPrefix, routeConfig: EnvoyNaming.kubeProxyRouteConfig, filters: .plain,
                absoluteURLs: true, logTag: "kube-proxy"))
        routes.append(routeConfigs.buildKubeProxy())
        if let ingressPort = topology.ingressPort {
            listeners.append(
                ListenerBuilder.buildListener(
                    name: EnvoyNaming.ingressListener, host: topology.host, port: ingressPort,
                    statPrefix: EnvoyNaming.ingressStatPrefix, routeConfig: EnvoyNaming.ingressRouteConfig, filters: .istio,
                    absoluteURLs: false, logTag: "ingress"))
            routes.append(IngressBuilder(catalog: catalog, ingressPort: ingressPort).buildRouteConfiguration())
        }
        return EnvoyResources(
            listeners: sortedByName(listeners), clusters: sortedByName(ClusterBuilder(catalog: catalog).buildClusters()),
            routeConfigurations: sortedByName(routes))
    }

    /// Sorted by `name`; of several resources with one name the first is kept.
    static func sortedByName(_ resources: [Value]) -> [Value] {
        var seen = Set<String>()
        return resources
            .filter { seen.insert($0["name"]?.stringValue ?? "").inserted }
            .sorted { ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "") }
    }
}
