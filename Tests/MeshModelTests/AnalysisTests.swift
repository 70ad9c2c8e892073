import Testing

@testable import MeshModel

@Suite("Analysis of a namespace")
struct AnalysisTests {
    let bookinfo = Fixtures.bookinfo
    func sample(_ name: String) -> String { Fixtures.sample(name) }

    func findings(_ paths: [String], injected: Bool = true, code: String? = nil) throws -> [Diagnostic] {
        let all = Analysis.analyze(try Fixtures.snapshot(paths, injected: injected))
        return code.map { code in all.filter { $0.code == code } } ?? all
    }

    @Test("routes to subsets without a DestinationRule warn about 503 (no cluster)")
    func undefinedSubsets() throws {
        let found = try findings([bookinfo, sample("virtual-service-all-v1.yaml")], code: Analysis.Code.referencedResourceNotFound)
        #expect(found.count == 4)
        #expect(Set(found.compactMap(\.object)) == ["VirtualService/productpage", "VirtualService/reviews", "VirtualService/ratings", "VirtualService/details"])
        let reviews = try #require(found.first { $0.object == "VirtualService/reviews" })
        #expect(reviews.severity == .warning)
        #expect(reviews.field == "spec.http[0].route[0].destination.subset")
        #expect(reviews.message.contains("503 (no cluster)"))
        #expect(reviews.message.contains("destination-rule-all.yaml"))
    }

    @Test("with destination-rule-all applied, no subset is undefined")
    func definedSubsets() throws {
        let found = try findings(
            [bookinfo, sample("destination-rule-all.yaml"), sample("virtual-service-all-v1.yaml")],
            code: Analysis.Code.referencedResourceNotFound)
        #expect(found.isEmpty, "\(found)")
    }

    @Test("a missing subset names the DestinationRule that exists and its subsets")
    func namesExistingRule() throws {
        let rule = """
            apiVersion: networking.istio.io/v1alpha3
            kind: DestinationRule
            metadata: {name: reviews}
            spec:
              host: reviews
              subsets:
              - {name: v1, labels: {version: v1}}
              - {name: v2, labels: {version: v2}}
            """
        let objects = try ManifestLoader.load(path: bookinfo) + ManifestLoader.load(rule, file: "dr.yaml")
            + ManifestLoader.load(path: sample("virtual-service-reviews-v3.yaml"))
        let (snapshot, _) = MeshSnapshot.build(namespace: "default", namespaceLabels: ["istio-injection": "enabled"], objects: objects)
        let found = Analysis.analyze(snapshot).filter { $0.code == Analysis.Code.referencedResourceNotFound }
        let finding = try #require(found.first)
        #expect(found.count == 1)
        #expect(finding.message.contains("DestinationRule/reviews defines v1, v2"))
        #expect(finding.message.contains("subset 'v3'"))
    }

    @Test("subsets that select no pod warn about 503 (no healthy upstream)")
    func subsetsSelectingNothing() throws {
        let found = try findings([bookinfo, sample("destination-rule-all.yaml")], code: Analysis.Code.subsetSelectsNothing)
        let fields = found.map { "\($0.object ?? "") \($0.field ?? "")" }
        #expect(fields.contains("DestinationRule/ratings spec.subsets[2].labels"))  // v2-mysql
        #expect(!found.contains { $0.object == "DestinationRule/reviews" })
        let mysql = try #require(found.first { $0.field == "spec.subsets[2].labels" && $0.object == "DestinationRule/ratings" })
        #expect(mysql.message.contains("'v2-mysql'"))
        #expect(mysql.message.contains("503 (no healthy upstream)"))
        #expect(mysql.message.contains("version v1"))
    }

    @Test("a namespace without istio-injection=enabled warns that the rules have no effect")
    func notInjected() throws {
        let found = try findings(
            [bookinfo, sample("destination-rule-all.yaml"), sample("virtual-service-all-v1.yaml")], injected: false,
            code: Analysis.Code.namespaceNotInjected)
        let finding = try #require(found.first)
        #expect(found.count == 1)
        #expect(finding.severity == .warning)
        #expect(finding.object == "Namespace/default")
        #expect(finding.message.contains("no effect between services"))
        #expect(finding.message.contains("istio-injection=enabled"))
        #expect(try self.findings([bookinfo], injected: false).isEmpty)
    }

    @Test("a service's VirtualService bound only to the gateway is reported as ingress-only (not the ingress's own '*'), and a missing Gateway is found")
    func gatewayBinding() throws {
        #expect(try findings([bookinfo, sample("bookinfo-gateway.yaml")]).isEmpty, "the ingress's hosts: ['*'] VirtualService is meant for the gateway alone")
        let reviews = try ManifestLoader.load(
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews}
            spec:
              hosts: [reviews]
              gateways: [bookinfo-gateway]
              http:
              - route:
                - destination: {host: reviews}
            """, file: "reviews-at-the-gateway.yaml")
        let (withReviews, _) = MeshSnapshot.build(
            namespace: "default", namespaceLabels: ["istio-injection": "enabled"],
            objects: try ManifestLoader.load(path: bookinfo) + ManifestLoader.load(path: sample("bookinfo-gateway.yaml")) + reviews)
        let bound = Analysis.analyze(withReviews).filter { $0.code == Analysis.Code.gatewayOnly }
        #expect(bound.map(\.object) == ["VirtualService/reviews"])
        #expect(bound.first?.message.contains("apply only at the ingress, not between services") == true)
        #expect(bound.first?.severity == .info)

        let objects = try ManifestLoader.load(path: sample("bookinfo-gateway.yaml")).filter { $0.kind == "VirtualService" }
        let (snapshot, _) = MeshSnapshot.build(
            namespace: "default", namespaceLabels: ["istio-injection": "enabled"],
            objects: try ManifestLoader.load(path: bookinfo) + objects)
        let missing = Analysis.analyze(snapshot).filter { $0.code == Analysis.Code.referencedResourceNotFound }
        #expect(missing.count == 1)
        #expect(missing.first?.field == "spec.gateways[0]")
        #expect(missing.first?.message.contains("'bookinfo-gateway' does not exist") == true)
    }

    @Test("a VirtualService host the Gateway does not serve is reported")
    func hostNotInGateway() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: gw}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: [bookinfo.example.com]
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: web}
            spec:
              hosts: [shop.example.com]
              gateways: [gw, mesh]
              http:
              - route:
                - destination: {host: productpage}
            """
        let objects = try ManifestLoader.load(path: bookinfo) + ManifestLoader.load(yaml, file: "gw.yaml")
        let (snapshot, _) = MeshSnapshot.build(namespace: "default", namespaceLabels: ["istio-injection": "enabled"], objects: objects)
        #expect(Analysis.analyze(snapshot).map(\.code) == [Analysis.Code.hostNotInGateway])
    }

    @Test("two VirtualServices for one host name both, and the first wins")
    func duplicateVirtualServices() throws {
        var objects = try ManifestLoader.load(path: bookinfo) + ManifestLoader.load(path: sample("destination-rule-all.yaml"))
        objects += try ManifestLoader.load(path: sample("virtual-service-reviews-v3.yaml"))
        var second = try ManifestLoader.load(path: sample("virtual-service-reviews-jason-v2-v3.yaml"))[0]
        second.metadata.name = "reviews-jason"
        objects.append(second)
        let (snapshot, _) = MeshSnapshot.build(namespace: "default", namespaceLabels: ["istio-injection": "enabled"], objects: objects)
        let found = Analysis.analyze(snapshot).filter { $0.code == Analysis.Code.conflictingVirtualServiceHosts }
        let finding = try #require(found.first)
        #expect(found.count == 1)
        #expect(finding.object == "VirtualService/reviews-jason")
        #expect(finding.message.contains("VirtualService/reviews and VirtualService/reviews-jason"))
        #expect(finding.message.contains("only the first one (VirtualService/reviews)"))
    }

    @Test("hosts that match no Service are reported, with a hint for names like reviews.default")
    func unknownHosts() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews}
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews.default}
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: review}
            spec:
              host: review
            """
        let objects = try ManifestLoader.load(path: bookinfo) + ManifestLoader.load(yaml, file: "typo.yaml")
        let (snapshot, _) = MeshSnapshot.build(namespace: "default", namespaceLabels: ["istio-injection": "enabled"], objects: objects)
        let found = Analysis.analyze(snapshot)
        let route = try #require(found.first { $0.object == "VirtualService/reviews" })
        #expect(route.code == Analysis.Code.referencedResourceNotFound)
        #expect(route.field == "spec.http[0].route[0].destination.host")
        #expect(route.message.contains("does not expand"))
        #expect(route.message.contains("reviews.default.svc.cluster.local"))
        let rule = try #require(found.first { $0.object == "DestinationRule/review" })
        #expect(rule.code == Analysis.Code.destinationRuleHostNotFound)
        #expect(rule.severity == .warning)
    }

    @Test("end-user matches with capitals, uneven weights and external hosts give infos")
    func infos() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata: {name: reviews}
            spec:
              hosts: [reviews]
              http:
              - match:
                - headers:
                    end-user: {exact: Jason}
                route:
                - destination: {host: reviews, subset: v2}
              - route:
                - destination: {host: reviews, subset: v1}
                  weight: 1
                - destination: {host: reviews, subset: v3}
                  weight: 3
            """
        let objects = try ManifestLoader.load(path: bookinfo) + ManifestLoader.load(path: sample("destination-rule-reviews.yaml"))
            + ManifestLoader.load(yaml, file: "vs.yaml") + ManifestLoader.load(path: sample("egress-rule-google-apis.yaml"))
        let (snapshot, _) = MeshSnapshot.build(namespace: "default", namespaceLabels: ["istio-injection": "enabled"], objects: objects)
        let found = Analysis.analyze(snapshot)
        let codes = found.map(\.code)
        #expect(codes.contains(Analysis.Code.endUserCase))
        #expect(codes.contains(Analysis.Code.weightsNormalised))
        #expect(codes.contains(Analysis.Code.externalHost))
        let weights = try #require(found.first { $0.code == Analysis.Code.weightsNormalised })
        #expect(weights.message.contains("reviews v1 25 %, reviews v3 75 %"))
        let user = try #require(found.first { $0.code == Analysis.Code.endUserCase })
        #expect(user.field == "spec.http[0].match[0].headers.end-user")
        #expect(found.allSatisfy { $0.severity == .info || $0.code == Analysis.Code.subsetSelectsNothing || $0.code == Analysis.Code.referencedResourceNotFound }, "\(found)")
    }

    @Test("a catch-all rule before other rules is reported")
    func unreachableRules() throws {
        let found = try findings(
            [bookinfo, sample("destination-rule-all.yaml"), sample("fault-injection-details-v1.yaml")],
            code: Analysis.Code.unreachableRule)
        #expect(found.map(\.field) == ["spec.http[0]"])
    }

    @Test("output is sorted by severity, then object")
    func sortedOutput() throws {
        let found = try findings(
            [bookinfo, sample("virtual-service-all-v1.yaml"), sample("bookinfo-gateway.yaml")], injected: false)
        #expect(found == Analysis.sorted(found))
        #expect(found.first?.severity == .warning)
        let objects = found.filter { $0.severity == .warning }.compactMap(\.object)
        #expect(objects == objects.sorted())
    }

    @Test("a healthy namespace has no findings")
    func healthy() throws {
        let found = try findings(
            [bookinfo, sample("destination-rule-reviews.yaml"), sample("virtual-service-reviews-jason-v2-v3.yaml")])
        #expect(found.isEmpty, "\(found)")
    }
}

@Suite("Analysis edge cases")
struct AnalysisEdgeTests {
    @Test("the same VirtualService applied twice is not a conflict")
    func reapplied() throws {
        let snapshot = try Fixtures.snapshot(
            [Fixtures.bookinfo, Fixtures.sample("destination-rule-all.yaml"), Fixtures.sample("virtual-service-reviews-v3.yaml"),
             Fixtures.sample("virtual-service-reviews-80-20.yaml", version: "1.0.6")])
        #expect(!Analysis.analyze(snapshot).contains { $0.code == Analysis.Code.conflictingVirtualServiceHosts })
    }
}
