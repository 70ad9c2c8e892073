import EnvoyConfig
import MeshModel
import Testing

/// Which listeners, route configurations and clusters the namespace's Envoy gets: ingress,
/// kube-proxy, sidecars, and the HCM details that make faults and proxy-style URLs work.
@Suite("Listeners, ingress and kube-proxy")
struct ProxyLayoutTests {
    @Test("bookinfo-gateway routes the five bookinfo paths from the ingress to productpage", arguments: Fixtures.eras)
    func gateway(era: String) throws {
        let resources = try Fixtures.translate(era: era, samples: ["bookinfo-gateway.yaml"])
        let sim = RouteSimulator(configuration: try #require(resources.routeConfiguration("ingress")))
        var paths = ["/productpage", "/login", "/logout", "/api/v1/products", "/api/v1/products/0/reviews"]
        if era == "current" { paths.append("/static/bootstrap.css") }
        for path in paths {
            let outcome = sim.route(host: "localhost:20020", path: path)
            #expect(outcome?.cluster == "outbound|9080||\(Fixtures.productpage)", "\(path)")
            #expect(outcome?.route["route"]?["retry_policy"]?["num_retries"] == 2, "\(path)")
        }
        #expect(sim.route(host: "localhost", path: "/nothing-here") == nil)
    }

    @Test("without a bound VirtualService the ingress has only the blackhole virtual host")
    func blackhole() throws {
        let resources = try Fixtures.translate()
        let ingress = try #require(resources.routeConfiguration("ingress"))
        let hosts = ingress["virtual_hosts"]?.arrayValue ?? []
        #expect(hosts.count == 1)
        #expect(hosts.first?["name"]?.stringValue?.hasPrefix("blackhole:") == true)
        #expect(hosts.first?["routes"] == [])
    }

    @Test("the kube-proxy route configuration never carries fault configuration", arguments: GoldenFileTests.cases)
    func kubeProxyHasNoFaults(sample: String) throws {
        let parts = sample.split(separator: "/", maxSplits: 1).map(String.init)
        let resources = try Fixtures.translate(era: parts[0], samples: [parts[1]])
        let kube = try #require(resources.routeConfiguration("kube-proxy"))
        #expect(!kube.json.contains("typed_per_filter_config"))
        #expect(!kube.json.contains("retry_policy"))
        let sim = RouteSimulator(configuration: kube)
        #expect(sim.route(host: "reviews:9080", path: "/reviews/0")?.cluster == "kube|9080||\(Fixtures.reviews)")
    }

    @Test("a pod without a sidecar has no listeners or route configurations of its own")
    func podWithoutSidecar() throws {
        let snapshot = try Fixtures.snapshot()
        let resources = EnvoyTranslator.translate(snapshot, topology: Fixtures.topology(snapshot, withoutSidecar: ["ratings-v1"]))
        #expect(!resources.listenerNames.contains { $0.hasPrefix("ratings-v1-0") })
        #expect(resources.routeConfiguration("outbound.ratings-v1-0") == nil)
        #expect(resources.listenerNames.contains("reviews-v1-0.outbound"))
        #expect(!resources.clusterNames.contains { $0.hasPrefix("inbound|") && $0.hasSuffix("ratings-v1-0") })
        let topology = Fixtures.topology(snapshot, withoutSidecar: ["ratings-v1"])
        let ratingsPod = try #require(topology.pods.first { $0.name == "ratings-v1-0" })
        let cluster = try #require(resources.clusters.named("outbound|9080||\(Fixtures.ratings)"))
        #expect(cluster.json.contains("\"port_value\":\(ratingsPod.appPort)"))
    }

    @Test("sidecar outbound listeners run fault, cors and router and accept absolute URLs")
    func outboundListener() throws {
        let resources = try Fixtures.translate()
        let listener = try #require(resources.resource(named: "productpage-v1-0.outbound"))
        let manager = try #require(listener["filter_chains"]?.arrayValue?.first?["filters"]?.arrayValue?.first?["typed_config"])
        let filters = (manager["http_filters"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(filters == ["envoy.filters.http.fault", "envoy.filters.http.cors", "envoy.filters.http.router"])
        #expect(manager["http_protocol_options"]?["allow_absolute_url"] == true)
        #expect(manager["rds"]?["route_config_name"] == "outbound.productpage-v1-0")
        #expect(manager["rds"]?["config_source"]?["path_config_source"]?["path"] == "xds/rds.outbound.productpage-v1-0.json")
        let format = manager["access_log"]?.arrayValue?.first?["typed_config"]?["log_format"]?["text_format_source"]?["inline_string"]?.stringValue ?? ""
        for field in ["%REQ(:AUTHORITY)%", "%RESPONSE_CODE%", "%RESPONSE_FLAGS%", "%ROUTE_NAME%", "%UPSTREAM_CLUSTER%", "%DURATION%", "productpage-v1-0"] {
            #expect(format.contains(field), "access log format lacks \(field)")
        }
        let kube = try #require(resources.resource(named: "kube-proxy"))
        #expect(!kube.json.contains("envoy.filters.http.fault"))
    }

    @Test("resources are sorted by name and the xDS files wrap them with the version")
    func filesAndOrder() throws {
        let resources = try Fixtures.translate(samples: ["bookinfo-gateway.yaml"])
        for list in [resources.listeners, resources.clusters, resources.routeConfigurations] {
            let names = list.compactMap { $0["name"]?.stringValue }
            #expect(names == names.sorted())
            #expect(names.count == list.count)
        }
        let files = resources.files(version: 7)
        #expect(files.count == 2 + resources.routeConfigurations.count)
        #expect(files["rds.outbound.productpage-v1-0.json"]?.contains("\"name\": \"outbound.productpage-v1-0\"") == true)
        #expect(files["cds.json"]?.contains("\"version_info\": \"7\"") == true)
        let order = resources.orderedFiles(version: 7).map(\.name)
        #expect(order.first == "cds.json")
        #expect(order.last == "lds.json")
        #expect(EnvoyBootstrap.render(nodeID: "default", adminPort: 9901).contains("xds/lds.json"))
    }

    @Test("sidecar virtual hosts list the service's names with the port, and without it only on port 80")
    func domains() throws {
        let resources = try Fixtures.translate()
        let config = try #require(resources.routeConfiguration("outbound.productpage-v1-0"))
        let reviews = try #require(config["virtual_hosts"]?.arrayValue?.named("\(Fixtures.reviews):9080"))
        #expect(reviews["domains"] == ["reviews:9080", "reviews.default:9080", "reviews.default.svc:9080", .string("\(Fixtures.reviews):9080")])
        #expect(config["virtual_hosts"]?.arrayValue?.last?["name"] == "block_all")
        #expect(config["ignore_port_in_host_matching"] == nil)
    }
}
