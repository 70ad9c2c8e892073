import MeshModel

/// Builds the STATIC clusters: outbound (per service port and DestinationRule subset), inbound
/// (per sidecar pod) and kube-proxy (per service port).
struct ClusterBuilder {
    let catalog: ServiceCatalog

    func buildClusters() -> [Value] {
        var clusters: [Value] = []
        for service in catalog.services {
            let fqdn = catalog.fqdn(service)
            let rules = catalog.rules(fqdn: fqdn)
            for port in catalog.ports(of: service) {
                let pods = catalog.readyPods(selector: service.selector)
                clusters.append(
                    buildCluster(
                        name: EnvoyNaming.outboundCluster(port: port, subset: nil, fqdn: fqdn), pods: pods,
                        policy: rules.policy))
                for subset in rules.subsets {
                    let policy = rules.policy.map { $0.overlaid(by: subset.trafficPolicy) } ?? subset.trafficPolicy
                    clusters.append(
                        buildCluster(
                            name: EnvoyNaming.outboundCluster(port: port, subset: subset.name, fqdn: fqdn),
                            pods: catalog.readyPods(selector: service.selector, extra: subset.labels), policy: policy))
                }
                clusters.append(
                    buildCluster(
                        name: EnvoyNaming.kubeCluster(port: port, fqdn: fqdn), pods: pods, policy: nil,
                        lbPolicy: "RANDOM"))
            }
        }
        for pod in catalog.sidecarPods {
            clusters.append(
                buildCluster(
                    name: EnvoyNaming.inboundCluster(appPort: pod.appPort, pod: pod.name),
                    addresses: [(catalog.host, pod.appPort)], policy: nil))
        }
        return clusters
    }

    private func buildCluster(name: String, pods: [PodEndpoint], policy: TrafficPolicy?, lbPolicy: String? = nil) -> Value {
        buildCluster(name: name, addresses: pods.map { (catalog.host, $0.servingPort) }, policy: policy, lbPolicy: lbPolicy)
    }

    private func buildCluster(name: String, addresses: [(String, Int)], policy: TrafficPolicy?, lbPolicy: String? = nil) -> Value {
        var cluster: Value = [
            "@type": .string(EnvoyNaming.clusterType),
            "name": .string(name),
            "type": "STATIC",
            "connect_timeout": EnvoyValues.duration(policy?.connectTimeout ?? 10),
            "lb_policy": .string(lbPolicy ?? Self.translateLoadBalancer(policy?.loadBalancer)),
            "circuit_breakers": ["thresholds": [buildThresholds(policy)]],
        ]
        cluster["outlier_detection"] = policy?.outlierDetection.map(buildOutlierDetection)
        if let outlier = policy?.outlierDetection {
            cluster["common_lb_config"] = ["healthy_panic_threshold": ["value": .int(outlier.minHealthPercent ?? 0)]]
        }
        cluster["typed_extension_protocol_options"] = policy.flatMap(buildProtocolOptions)
        let endpoints: [Value] = addresses.map { address in
            ["endpoint": ["address": EnvoyValues.socketAddress(host: address.0, port: address.1)]]
        }
        cluster["load_assignment"] = [
            "cluster_name": .string(name),
            "endpoints": endpoints.isEmpty ? [] : [["lb_endpoints": .array(endpoints)]],
        ]
        return cluster
    }

    /// Istio `loadBalancer.simple` → Envoy `lb_policy` (unset, PASSTHROUGH and unknown → LEAST_REQUEST).
    static func translateLoadBalancer(_ simple: String?) -> String {
        switch simple?.uppercased() {
        case "ROUND_ROBIN": "ROUND_ROBIN"
        case "RANDOM": "RANDOM"
        default: "LEAST_REQUEST"
        }
    }

    private func buildThresholds(_ policy: TrafficPolicy?) -> Value {
        [
            "max_connections": .int(policy?.maxConnections ?? EnvoyValues.unlimited),
            "max_pending_requests": .int(policy?.http1MaxPendingRequests ?? EnvoyValues.unlimited),
            "max_requests": .int(policy?.http2MaxRequests ?? EnvoyValues.unlimited),
            "max_retries": .int(policy?.maxRetries ?? EnvoyValues.unlimited),
        ]
    }

    /// istiod's outlier detection: 5xx detection enforced (default 5 errors, 0 disables), gateway
    /// errors only when given, success-rate ejection off.
    private func buildOutlierDetection(_ outlier: TrafficPolicy.OutlierDetection) -> Value {
        var value: Value = [:]
        let consecutive5xx = outlier.consecutive5xxErrors ?? 5
        if consecutive5xx > 0 {
            value["consecutive_5xx"] = .int(consecutive5xx)
            value["enforcing_consecutive_5xx"] = 100
        } else {
            value["enforcing_consecutive_5xx"] = 0
        }
        if let gateway = outlier.consecutiveGatewayErrors, gateway > 0 {
            value["consecutive_gateway_failure"] = .int(gateway)
            value["enforcing_consecutive_gateway_failure"] = 100
        } else {
            value["enforcing_consecutive_gateway_failure"] = 0
        }
        value["interval"] = EnvoyValues.duration(outlier.interval ?? 10)
        value["base_ejection_time"] = EnvoyValues.duration(outlier.baseEjectionTime ?? 30)
        value["max_ejection_percent"] = .int(outlier.maxEjectionPercent ?? 10)
        value["enforcing_success_rate"] = 0
        return value
    }

    private func buildProtocolOptions(_ policy: TrafficPolicy) -> Value? {
        guard policy.maxRequestsPerConnection != nil || policy.idleTimeout != nil else { return nil }
        var common: Value = [:]
        common["idle_timeout"] = policy.idleTimeout.map(EnvoyValues.duration)
        common["max_requests_per_connection"] = policy.maxRequestsPerConnection.map { .int($0) }
        return [
            EnvoyNaming.httpProtocolOptions: [
                "@type": .string(EnvoyNaming.httpProtocolOptionsType),
                "common_http_protocol_options": common,
                "explicit_http_config": ["http_protocol_options": [:]],
            ]
        ]
    }
}
