/// Every name the translator gives to Envoy resources, filters and type URLs, in one place so that
/// `LocalCluster` (which reads `/stats` by these names) and the tests agree with the translation.
public enum EnvoyNaming {
    // MARK: Services and clusters

    /// `reviews` in `default` → `reviews.default.svc.cluster.local`.
    public static func fqdn(service: String, namespace: String) -> String {
        "\(service).\(namespace).\(clusterDomain)"
    }

    public static let clusterDomain = "svc.cluster.local"

    /// istiod's outbound cluster name: `outbound|9080|v1|reviews.default.svc.cluster.local`
    /// (an empty subset for the whole service).
    public static func outboundCluster(port: Int, subset: String?, fqdn: String) -> String {
        "outbound|\(port)|\(subset ?? "")|\(fqdn)"
    }

    /// The cluster in front of one pod's app: `inbound|9080||reviews-v1-0`.
    public static func inboundCluster(appPort: Int, pod: String) -> String {
        "inbound|\(appPort)||\(pod)"
    }

    /// The kube-proxy's cluster for a service port: `kube|9080||reviews.default.svc.cluster.local`.
    public static func kubeCluster(port: Int, fqdn: String) -> String {
        "kube|\(port)||\(fqdn)"
    }

    // MARK: Listeners and route configurations

    public static func outboundListener(pod: String) -> String { "\(pod).outbound" }
    public static func inboundListener(pod: String) -> String { "\(pod).inbound" }
    public static let kubeProxyListener = "kube-proxy"
    public static let ingressListener = "ingress"

    public static func outboundRouteConfig(pod: String) -> String { "outbound.\(pod)" }
    public static func inboundRouteConfig(pod: String) -> String { "inbound.\(pod)" }
    public static let kubeProxyRouteConfig = "kube-proxy"
    public static let ingressRouteConfig = "ingress"

    /// An HCM `stat_prefix`: characters other than letters, digits, `_` and `-` become `_`.
    public static func statPrefix(_ text: String) -> String {
        String(
            text.map { character -> Character in
                character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "-")
                    ? character : "_"
            })
    }

    public static func outboundStatPrefix(pod: String) -> String { statPrefix("outbound_\(pod)") }
    public static func inboundStatPrefix(pod: String) -> String { statPrefix("inbound_\(pod)") }
    public static let kubeProxyStatPrefix = "kube_proxy"
    public static let ingressStatPrefix = "ingress"

    /// A sidecar virtual host: `reviews.default.svc.cluster.local:9080`.
    public static func virtualHost(host: String, port: Int) -> String { "\(host):\(port)" }
    public static func inboundVirtualHost(appPort: Int) -> String { "inbound|http|\(appPort)" }
    public static let blockAllVirtualHost = "block_all"
    public static func blackholeVirtualHost(port: Int) -> String { "blackhole:\(port)" }
    /// The route of a service without a VirtualService.
    public static let defaultRoute = "default"

    // MARK: xDS files

    public static let ldsFile = "lds.json"
    public static let cdsFile = "cds.json"
    /// The RDS file of one route configuration: `rds.outbound.productpage-v1-0.json`.
    ///
    /// One file per route configuration, because Envoy's file-based RDS subscription takes exactly
    /// one resource per file (a file with several is rejected: "Unexpected RDS resource length").
    public static func rdsFile(routeConfig: String) -> String {
        let safe = routeConfig.map { character -> Character in
            character.isASCII && (character.isLetter || character.isNumber || "._-".contains(character)) ? character : "_"
        }
        return "rds.\(String(safe)).json"
    }

    /// Paths relative to Envoy's working directory.
    public static let ldsPath = "xds/lds.json"
    public static let cdsPath = "xds/cds.json"
    public static func rdsPath(routeConfig: String) -> String { "xds/" + rdsFile(routeConfig: routeConfig) }

    // MARK: Envoy extension names and type URLs

    static let typePrefix = "type.googleapis.com/"
    static let listenerType = typePrefix + "envoy.config.listener.v3.Listener"
    static let clusterType = typePrefix + "envoy.config.cluster.v3.Cluster"
    static let routeConfigurationType = typePrefix + "envoy.config.route.v3.RouteConfiguration"
    static let httpConnectionManager = "envoy.filters.network.http_connection_manager"
    static let httpConnectionManagerType =
        typePrefix + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    static let faultFilter = "envoy.filters.http.fault"
    static let faultType = typePrefix + "envoy.extensions.filters.http.fault.v3.HTTPFault"
    static let corsFilter = "envoy.filters.http.cors"
    static let corsType = typePrefix + "envoy.extensions.filters.http.cors.v3.Cors"
    static let corsPolicyType = typePrefix + "envoy.extensions.filters.http.cors.v3.CorsPolicy"
    static let routerFilter = "envoy.filters.http.router"
    static let routerType = typePrefix + "envoy.extensions.filters.http.router.v3.Router"
    static let stdoutLogger = "envoy.access_loggers.stdout"
    static let stdoutLoggerType = typePrefix + "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"
    static let previousHostsPredicate = "envoy.retry_host_predicates.previous_hosts"
    static let previousHostsPredicateType =
        typePrefix + "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
    static let httpProtocolOptions = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    static let httpProtocolOptionsType = typePrefix + httpProtocolOptions
}

