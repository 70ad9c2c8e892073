import EnvoyConfig
import MeshModel
import Testing

/// The workshop's traffic-management rules, checked by simulating Envoy's route selection on the
/// generated sidecar route configurations.
@Suite("Sidecar routing of the bookinfo workshop rules")
struct SidecarRoutingTests {
    static let jason = ["end-user": "jason"]

    func simulator(_ resources: EnvoyResources, pod: String) throws -> RouteSimulator {
        RouteSimulator(configuration: try #require(resources.routeConfiguration("outbound.\(pod)")))
    }

    @Test("without a VirtualService reviews is spread over all its pods")
    func noVirtualService() throws {
        let resources = try Fixtures.translate()
        let outcome = try #require(try simulator(resources, pod: "productpage-v1-0").route(host: "reviews:9080", path: "/reviews/0"))
        #expect(outcome.routeName == "default")
        #expect(outcome.cluster == "outbound|9080||\(Fixtures.reviews)")
        let cluster = try #require(resources.clusters.named(outcome.cluster ?? ""))
        let endpoints = cluster["load_assignment"]?["endpoints"]?.arrayValue?.first?["lb_endpoints"]?.arrayValue ?? []
        #expect(endpoints.count == 3)
        #expect(outcome.route["route"]?["retry_policy"]?["num_retries"] == 2)
    }

    @Test("virtual-service-all-v1 sends reviews to v1", arguments: Fixtures.eras)
    func allV1(era: String) throws {
        let resources = try Fixtures.translate(era: era, samples: ["virtual-service-all-v1.yaml"])
        let sim = try simulator(resources, pod: "productpage-v1-0")
        #expect(sim.route(host: "reviews:9080", path: "/reviews/0", headers: Self.jason)?.cluster == "outbound|9080|v1|\(Fixtures.reviews)")
        #expect(sim.route(host: "reviews:9080", path: "/reviews/0")?.cluster == "outbound|9080|v1|\(Fixtures.reviews)")
        #expect(resources.clusterNames.contains("outbound|9080|v1|\(Fixtures.reviews)"))
    }

    @Test("reviews-test-v2 sends jason to v2 and everybody else to v1", arguments: Fixtures.eras)
    func testV2(era: String) throws {
        let resources = try Fixtures.translate(era: era, samples: ["virtual-service-reviews-test-v2.yaml"])
        let sim = try simulator(resources, pod: "productpage-v1-0")
        #expect(sim.route(host: "reviews:9080", path: "/reviews/0", headers: Self.jason)?.cluster == "outbound|9080|v2|\(Fixtures.reviews)")
        #expect(sim.route(host: "reviews:9080", path: "/reviews/0", headers: ["end-user": "anna"])?.cluster == "outbound|9080|v1|\(Fixtures.reviews)")
        #expect(sim.route(host: "reviews:9080", path: "/reviews/0")?.cluster == "outbound|9080|v1|\(Fixtures.reviews)")
    }

    @Test("ratings-test-delay delays jason by 7 s for every request and nobody else", arguments: Fixtures.eras)
    func delay(era: String) throws {
        let resources = try Fixtures.translate(era: era, samples: ["virtual-service-ratings-test-delay.yaml"])
        let sim = try simulator(resources, pod: "reviews-v2-0")
        let jason = try #require(sim.route(host: "ratings:9080", path: "/ratings/0", headers: Self.jason))
        #expect(jason.fault?["delay"]?["fixed_delay"] == "7s")
        #expect(jason.fault?["delay"]?["percentage"] == ["numerator": 1_000_000, "denominator": "MILLION"])
        #expect(jason.cluster == "outbound|9080|v1|\(Fixtures.ratings)")
        let other = try #require(sim.route(host: "ratings:9080", path: "/ratings/0"))
        #expect(other.fault == nil)
        #expect(other.cluster == "outbound|9080|v1|\(Fixtures.ratings)")
    }

    @Test("ratings-test-abort aborts jason's requests with 500 at 100 %, 1.0.6 `percent` included", arguments: Fixtures.eras)
    func abort(era: String) throws {
        let resources = try Fixtures.translate(era: era, samples: ["virtual-service-ratings-test-abort.yaml"])
        let sim = try simulator(resources, pod: "reviews-v3-0")
        let jason = try #require(sim.route(host: "ratings:9080", path: "/ratings/0", headers: Self.jason))
        #expect(jason.fault?["abort"]?["http_status"] == 500)
        #expect(jason.fault?["abort"]?["percentage"] == ["numerator": 1_000_000, "denominator": "MILLION"])
        #expect(sim.route(host: "ratings:9080", path: "/ratings/0")?.fault == nil)
    }

    @Test("reviews-50-v3 splits 50/50 between v1 and v3", arguments: Fixtures.eras)
    func fiftyFifty(era: String) throws {
        let resources = try Fixtures.translate(era: era, samples: ["virtual-service-reviews-50-v3.yaml"])
        let outcome = try #require(try simulator(resources, pod: "productpage-v1-0").route(host: "reviews:9080", path: "/reviews/0"))
        #expect(outcome.weights == ["outbound|9080|v1|\(Fixtures.reviews)": 50, "outbound|9080|v3|\(Fixtures.reviews)": 50])
    }

    @Test("reviews-80-20 splits 80/20 between v1 and v2", arguments: Fixtures.eras)
    func eightyTwenty(era: String) throws {
        let resources = try Fixtures.translate(era: era, samples: ["virtual-service-reviews-80-20.yaml"])
        let outcome = try #require(try simulator(resources, pod: "productpage-v1-0").route(host: "reviews:9080", path: "/reviews/0"))
        #expect(outcome.weights == ["outbound|9080|v1|\(Fixtures.reviews)": 80, "outbound|9080|v2|\(Fixtures.reviews)": 20])
    }

    @Test("sourceLabels put a rule only into the sidecars of matching pods")
    func sourceLabels() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: ratings}
            spec:
              hosts: [ratings]
              http:
              - name: from-productpage
                match:
                - sourceLabels: {app: productpage}
                route:
                - destination: {host: ratings, subset: v2}
            """
        let resources = try Fixtures.translate(extraYAML: yaml)
        let fromProductpage = try simulator(resources, pod: "productpage-v1-0").route(host: "ratings:9080", path: "/ratings/0")
        #expect(fromProductpage?.routeName == "from-productpage")
        #expect(fromProductpage?.cluster == "outbound|9080|v2|\(Fixtures.ratings)")
        let fromReviews = try simulator(resources, pod: "reviews-v2-0").route(host: "ratings:9080", path: "/ratings/0")
        #expect(fromReviews?.routeName == "default")
        #expect(fromReviews?.cluster == "outbound|9080||\(Fixtures.ratings)")
    }

    @Test("a route to an undefined subset names a cluster that does not exist (Envoy: 503 NC)")
    func undefinedSubset() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews, subset: v9}
            """
        let resources = try Fixtures.translate(extraYAML: yaml)
        let outcome = try #require(try simulator(resources, pod: "productpage-v1-0").route(host: "reviews:9080", path: "/"))
        let cluster = try #require(outcome.cluster)
        #expect(cluster == "outbound|9080|v9|\(Fixtures.reviews)")
        #expect(!resources.clusterNames.contains(cluster))
        #expect(resources.routeConfiguration("outbound.productpage-v1-0")?["validate_clusters"] == false)
    }

    @Test("a VirtualService whose rules match nothing gets no fallback route (Envoy: 404 NR)")
    func noFallback() throws {
        let resources = try Fixtures.translate(samples: ["virtual-service-reviews-jason-v2-v3.yaml"])
        let sim = try simulator(resources, pod: "productpage-v1-0")
        #expect(sim.route(host: "reviews:9080", path: "/reviews/0", headers: Self.jason)?.cluster == "outbound|9080|v2|\(Fixtures.reviews)")
        #expect(sim.route(host: "reviews:9080", path: "/reviews/0")?.cluster == "outbound|9080|v3|\(Fixtures.reviews)")
        let strict = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews}
            spec:
              hosts: [reviews]
              http:
              - match: [{headers: {end-user: {exact: jason}}}]
                route: [{destination: {host: reviews, subset: v2}}]
            """
        let strictSim = try simulator(try Fixtures.translate(extraYAML: strict), pod: "productpage-v1-0")
        #expect(strictSim.route(host: "reviews:9080", path: "/reviews/0") == nil)
    }

    @Test("an unknown host falls into block_all with a 502")
    func unknownHost() throws {
        let sim = try simulator(try Fixtures.translate(), pod: "productpage-v1-0")
        let outcome = try #require(sim.route(host: "example.com", path: "/"))
        #expect(outcome.virtualHost == "block_all")
        #expect(outcome.directStatus == 502)
    }

    @Test("the details fault sample aborts every details request with 555")
    func detailsAbort() throws {
        let resources = try Fixtures.translate(samples: ["fault-injection-details-v1.yaml"])
        let outcome = try #require(try simulator(resources, pod: "productpage-v1-0").route(host: "details:9080", path: "/details/0"))
        #expect(outcome.fault?["abort"]?["http_status"] == 555)
        #expect(outcome.cluster == "outbound|9080|v1|details.default.svc.cluster.local")
    }
}
