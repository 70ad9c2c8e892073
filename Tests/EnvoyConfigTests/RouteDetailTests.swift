import EnvoyConfig
import MeshModel
import Testing

/// Field-by-field translation of the less common VirtualService and DestinationRule settings.
@Suite("Route and cluster details")
struct RouteDetailTests {
    static let everything = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews}
        spec:
          hosts: [reviews]
          http:
          - name: moved
            match: [{name: old, uri: {prefix: /old}}]
            redirect: {uri: /new, redirectCode: 308}
          - name: teapot
            match: [{uri: {exact: /teapot}}]
            directResponse: {status: 418, body: {string: short and stout}}
          - name: api
            match:
            - uri: {prefix: /api}
              ignoreUriCase: true
              method: {exact: GET}
              headers: {x-b: {prefix: b}, x-a: {}}
              withoutHeaders: {x-debug: {exact: "1"}}
              queryParams: {v: {exact: "2"}}
            rewrite: {uri: /, authority: reviews.internal}
            timeout: 1.5s
            retries: {attempts: 3, perTryTimeout: 2s, retryOn: "gateway-error,503"}
            mirror: {host: reviews, subset: v3}
            mirrorPercentage: {value: 25}
            corsPolicy:
              allowOrigins: [{exact: "https://example.com"}]
              allowMethods: [GET, POST]
              maxAge: 24h
            headers:
              request: {set: {x-set: "1"}, add: {x-add: "2"}, remove: [x-drop]}
              response: {remove: [server]}
            route:
            - destination: {host: reviews, subset: v1}
              weight: 100
            - destination: {host: reviews, subset: v2}
              weight: 0
          - retries: {attempts: 0}
            route:
            - destination: {host: reviews, subset: v2}
              weight: 30
            - destination: {host: reviews, subset: v3}
              weight: 70
        """

    static let ratingsPolicy = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings-policy}
        spec:
          host: ratings
          trafficPolicy:
            loadBalancer: {simple: ROUND_ROBIN}
            connectionPool:
              tcp: {maxConnections: 1, connectTimeout: 250ms}
              http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}
            outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100}
          subsets:
          - name: v1
            labels: {version: v1}
            trafficPolicy: {loadBalancer: {simple: RANDOM}}
        """

    func reviewsRoutes() throws -> [Value] {
        let resources = try Fixtures.translate(extraYAML: Self.everything)
        let config = try #require(resources.routeConfiguration("outbound.productpage-v1-0"))
        let host = try #require(config["virtual_hosts"]?.arrayValue?.named("\(Fixtures.reviews):9080"))
        return host["routes"]?.arrayValue ?? []
    }

    @Test("redirects and direct responses replace the route action")
    func redirectAndDirect() throws {
        let routes = try reviewsRoutes()
        try #require(routes.count == 4)
        #expect(routes[0]["name"] == "moved.old")
        #expect(routes[0]["redirect"] == ["path_redirect": "/new", "response_code": "PERMANENT_REDIRECT"])
        #expect(routes[0]["route"] == nil)
        #expect(routes[1]["match"]?["path"] == "/teapot")
        #expect(routes[1]["direct_response"] == ["status": 418, "body": ["inline_string": "short and stout"]])
    }

    @Test("matches, rewrites, timeouts, retries, mirrors, CORS and headers are translated")
    func fullRoute() throws {
        let route = try reviewsRoutes()[2]
        let match = try #require(route["match"])
        #expect(match["prefix"] == "/api")
        #expect(match["case_sensitive"] == false)
        let names = (match["headers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(names == [":method", "x-a", "x-b", "x-debug"])
        #expect(match["headers"]?.arrayValue?[1] == ["name": "x-a", "present_match": true])
        #expect(match["headers"]?.arrayValue?[3] == [
            "name": "x-debug", "string_match": ["exact": "1"], "invert_match": true, "treat_missing_header_as_empty": true,
        ])
        #expect(match["query_parameters"] == [["name": "v", "string_match": ["exact": "2"]]])
        let action = try #require(route["route"])
        #expect(action["cluster"]?.stringValue == "outbound|9080|v1|\(Fixtures.reviews)")
        #expect(action["prefix_rewrite"] == "/")
        #expect(action["host_rewrite_literal"] == "reviews.internal")
        #expect(action["timeout"] == "1.5s")
        #expect(action["retry_policy"]?["num_retries"] == 3)
        #expect(action["retry_policy"]?["per_try_timeout"] == "2s")
        #expect(action["retry_policy"]?["retry_on"] == "gateway-error,retriable-status-codes")
        #expect(action["retry_policy"]?["retriable_status_codes"] == [503])
        #expect(action["request_mirror_policies"]?.arrayValue?.first?["cluster"]?.stringValue == "outbound|9080|v3|\(Fixtures.reviews)")
        #expect(action["request_mirror_policies"]?.arrayValue?.first?["runtime_fraction"]?["default_value"]?["numerator"] == 250_000)
        let cors = try #require(route["typed_per_filter_config"]?["envoy.filters.http.cors"])
        #expect(cors["allow_methods"] == "GET,POST")
        #expect(cors["max_age"] == "86400")
        #expect(cors["allow_origin_string_match"] == [["exact": "https://example.com"]])
        #expect(route["request_headers_to_add"]?.arrayValue?.count == 2)
        #expect(route["request_headers_to_add"]?.arrayValue?.first?["append_action"] == "OVERWRITE_IF_EXISTS_OR_ADD")
        #expect(route["request_headers_to_remove"] == ["x-drop"])
        #expect(route["response_headers_to_remove"] == ["server"])
    }

    @Test("attempts 0 turns retries off and weights stay relative")
    func noRetries() throws {
        let route = try reviewsRoutes()[3]
        #expect(route["route"]?["retry_policy"] == nil)
        #expect(route["route"]?["timeout"] == "0s")
        #expect(route["route"]?["weighted_clusters"]?["clusters"]?.arrayValue?.count == 2)
    }

    @Test("DestinationRule traffic policies shape the clusters, subset policy over the top level")
    func trafficPolicy() throws {
        let yaml = Self.ratingsPolicy
        // destination-rule-all comes first, so its (empty) top-level policy would win for ratings:
        // translate this rule alone on top of the workloads instead.
        var snapshot = try Fixtures.snapshot(extraYAML: yaml)
        snapshot.destinationRules.removeAll { $0.name == "ratings" }
        let resources = EnvoyTranslator.translate(snapshot, topology: Fixtures.topology(snapshot))
        let all = try #require(resources.clusters.named("outbound|9080||\(Fixtures.ratings)"))
        #expect(all["lb_policy"] == "ROUND_ROBIN")
        #expect(all["connect_timeout"] == "0.25s")
        #expect(all["circuit_breakers"]?["thresholds"]?.arrayValue?.first?["max_connections"] == 1)
        #expect(all["circuit_breakers"]?["thresholds"]?.arrayValue?.first?["max_requests"] == 4_294_967_295)
        #expect(all["outlier_detection"]?["consecutive_5xx"] == 1)
        #expect(all["outlier_detection"]?["base_ejection_time"] == "180s")
        let options = all["typed_extension_protocol_options"]?["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
        #expect(options?["common_http_protocol_options"]?["max_requests_per_connection"] == 1)
        let v1 = try #require(resources.clusters.named("outbound|9080|v1|\(Fixtures.ratings)"))
        #expect(v1["lb_policy"] == "RANDOM")
        #expect(v1["connect_timeout"] == "0.25s")
        #expect(!resources.clusterNames.contains("outbound|9080|v2|\(Fixtures.ratings)"))
        let kube = try #require(resources.clusters.named("kube|9080||\(Fixtures.ratings)"))
        #expect(kube["lb_policy"] == "RANDOM")
        #expect(kube["outlier_detection"] == nil)
    }

    @Test("a subset that selects no pod gives a cluster without endpoints (Envoy: 503 UH)")
    func emptySubset() throws {
        let resources = try Fixtures.translate()
        let cluster = try #require(resources.clusters.named("outbound|9080|v2|\(Fixtures.ratings)"))
        #expect(cluster["load_assignment"]?["endpoints"] == [])
    }
}
