import MeshModel

/// Builds listeners: one HTTP connection manager each, routes from RDS (`xds/rds.<route config>.json`),
/// access log to stdout.
enum ListenerBuilder {
    /// Which HTTP filters an HCM runs.
    enum Filters {
        /// fault, cors, router: Istio rules apply (sidecar outbound, ingress).
        case istio
        /// router only (inbound, kube-proxy).
        case plain
    }

    static func buildListener(
        name: String, host: String, port: Int, statPrefix: String, routeConfig: String, filters: Filters,
        absoluteURLs: Bool, logTag: String
    ) -> Value {
        var manager: Value = [
            "@type": .string(EnvoyNaming.httpConnectionManagerType),
            "stat_prefix": .string(statPrefix),
            "rds": [
                "route_config_name": .string(routeConfig),
                "config_source": EnvoyBootstrap.configSource(path: EnvoyNaming.rdsPath(routeConfig: routeConfig)),
            ],
            "http_filters": .array(buildHTTPFilters(filters)),
        ]
        if absoluteURLs { manager["http_protocol_options"] = ["allow_absolute_url": true] }
        manager["access_log"] = [buildAccessLog(tag: logTag)]
        return [
            "@type": .string(EnvoyNaming.listenerType),
            "name": .string(name),
            "address": EnvoyValues.socketAddress(host: host, port: port),
            "filter_chains": [
                ["filters": [["name": .string(EnvoyNaming.httpConnectionManager), "typed_config": manager]]]
            ],
        ]
    }

    /// The fault filter must come before the router, or per-route faults are silently ignored.
    static func buildHTTPFilters(_ filters: Filters) -> [Value] {
        let router: Value = ["name": .string(EnvoyNaming.routerFilter), "typed_config": ["@type": .string(EnvoyNaming.routerType)]]
        switch filters {
        case .plain:
            return [router]
        case .istio:
            return [
                ["name": .string(EnvoyNaming.faultFilter), "typed_config": ["@type": .string(EnvoyNaming.faultType)]],
                ["name": .string(EnvoyNaming.corsFilter), "typed_config": ["@type": .string(EnvoyNaming.corsType)]],
                router,
            ]
        }
    }

    /// One line per request on stdout, tagged with the proxy (pod and direction).
    static func buildAccessLog(tag: String) -> Value {
        let format =
            "[\(tag)] \"%REQ(:METHOD)% %REQ(:AUTHORITY)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%\" %RESPONSE_CODE% "
            + "%RESPONSE_FLAGS% route=%ROUTE_NAME% upstream=%UPSTREAM_CLUSTER% %DURATION%ms\n"
        return [
            "name": .string(EnvoyNaming.stdoutLogger),
            "typed_config": [
                "@type": .string(EnvoyNaming.stdoutLoggerType),
                "log_format": ["text_format_source": ["inline_string": .string(format)]],
            ],
        ]
    }
}
