import Foundation
import Testing

@testable import MeshModel

/// RouteSimulation follows a request as the sidecars route it, on the project's own bookinfo
/// files: the VirtualService in effect, the rule taken, the shares and what breaks a target.
@Suite("Route simulation")
struct RouteSimulationTests {
    static func networking(_ name: String) -> String {
        Fixtures.repoRoot.appendingPathComponent("bookinfo/networking/\(name)").path
    }

    static func route(_ host: String, user: String? = nil, _ files: [String]) throws -> RouteSimulation.Route {
        let snapshot = try Fixtures.snapshot([Fixtures.bookinfo] + files.map(networking))
        return RouteSimulation.route(RouteSimulation.Request(host: host, headers: user.map { ["End-User": $0] } ?? [:]), in: snapshot)
    }

    @Test("without a VirtualService, reviews is balanced over every version")
    func defaultRouting() throws {
        let route = try Self.route("reviews", ["destination-rule-all.yaml"])
        #expect(route.virtualService == nil)
        #expect(route.targets.flatMap(\.versions) == ["v1", "v2", "v3"])
        #expect(route.versionShares.keys.sorted() == ["v1", "v2", "v3"])
    }

    @Test("jason takes the header rule, everyone else the catch-all")
    func headerRule() throws {
        let files = ["destination-rule-all.yaml", "virtual-service-reviews-test-v2.yaml"]
        let jason = try Self.route("reviews", user: "jason", files)
        #expect(jason.ruleIndex == 0)
        #expect(jason.versionShares == ["v2": 1])
        let anonymous = try Self.route("reviews", files)
        #expect(anonymous.ruleIndex == 1)
        #expect(anonymous.versionShares == ["v1": 1])
        // Header values match case-sensitively, as Envoy matches them.
        #expect(try Self.route("reviews", user: "Jason", files).ruleIndex == 1)
    }

    @Test("weights become shares of the versions their subsets select")
    func weights() throws {
        let route = try Self.route("reviews", ["destination-rule-all.yaml", "virtual-service-reviews-80-20.yaml"])
        #expect(route.targets.map(\.share) == [0.8, 0.2])
        #expect(route.versionShares == ["v1": 0.8, "v2": 0.2])
        #expect(route.targets.allSatisfy { $0.problem == nil && $0.destinationRule == "reviews" })
    }

    @Test("a subset no DestinationRule defines is a 503 target")
    func undefinedSubset() throws {
        let route = try Self.route("reviews", ["virtual-service-all-v1.yaml"])
        #expect(route.virtualService?.name == "reviews")
        #expect(route.targets.map(\.problem) == [.subsetUndefined])
        #expect(route.versionShares.isEmpty)
    }

    @Test("the rule's fault goes with the route it takes")
    func fault() throws {
        let files = ["destination-rule-all.yaml", "virtual-service-ratings-test-abort.yaml"]
        let jason = try Self.route("ratings", user: "jason", files)
        #expect(jason.fault?.abort?.httpStatus == 500)
        #expect(try Self.route("ratings", files).fault == nil)
    }

    @Test("a VirtualService bound only to the gateway is passed over for the sidecars, by name")
    func gatewayOnly() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              gateways: [bookinfo-gateway]
              http:
              - route:
                - destination: {host: reviews, subset: v3}
            """
        let objects = try ManifestLoader.load(path: Fixtures.bookinfo)
            + [Self.networking("bookinfo-gateway.yaml"), Self.networking("destination-rule-all.yaml")].flatMap { try ManifestLoader.load(path: $0) }
            + ManifestLoader.load(yaml, file: "reviews.yaml")
        let (snapshot, _) = MeshSnapshot.build(namespace: "default", namespaceLabels: ["istio-injection": "enabled"], objects: objects)
        let route = RouteSimulation.route(RouteSimulation.Request(host: "reviews"), in: snapshot)
        #expect(route.virtualService == nil)
        // The ingress's own `*` VirtualService (bookinfo) is not one meant for reviews.
        #expect(route.passedOver.map(\.name) == ["reviews"])
        #expect(route.passedOver.first?.why == .gatewayOnly)
    }
}
