import Foundation
import LocalCluster
import MeshModel
import Testing

/// End to end: the real engine, real bookinfo processes and a real Envoy, traffic through the ingress.
@Suite("local mesh", .serialized)
struct LocalMeshTests {
    @Test("without rules every reviews version answers; all-v1 leaves only v1")
    func routingBasics() async throws {
        let ingress = try await MeshFixture.bookinfo("basics")
        let spread = try await Browser.outcomes(ingress, count: 60)
        #expect(spread["v1", default: 0] > 0 && spread["v2", default: 0] > 0 && spread["v3", default: 0] > 0, "\(spread)")
        try await MeshFixture.apply(["bookinfo/networking/destination-rule-all.yaml", "bookinfo/networking/virtual-service-all-v1.yaml"], "basics")
        let pinned = try await Browser.outcomes(ingress, count: 30)
        #expect(pinned == ["v1": 30], "\(pinned)")
        let pods = await (try MeshFixture.cluster.value).pods("basics")
        #expect(pods.count == 6 && pods.allSatisfy { $0.ready == "2/2" }, "\(pods.map(\.ready))")
        try await MeshFixture.cleanUp("basics")
    }

    @Test("jason gets v2 and others v1; the 7 s ratings delay shows the reviews error after about 6 s; the abort shows the ratings error")
    func timingUserRoutingAndFaults() async throws {
        let namespace = "faults"
        let ingress = try await MeshFixture.bookinfo(namespace)
        try await MeshFixture.apply(["bookinfo/networking/destination-rule-all.yaml", "bookinfo/networking/virtual-service-all-v1.yaml", "bookinfo/networking/virtual-service-reviews-test-v2.yaml"], namespace)
        let jason = try await Browser.signIn("jason", ingress: ingress)
        #expect(try await Browser.outcomes(ingress, count: 10, cookie: jason) == ["v2": 10])
        #expect(try await Browser.outcomes(ingress, count: 10) == ["v1": 10])

        try await MeshFixture.apply(["bookinfo/networking/virtual-service-ratings-test-delay.yaml"], namespace)
        // What a page costs on this machine right now (a loaded machine adds to every page).
        // (Anonymous visitors are not delayed.)
        let baseline = try await Browser.get("\(ingress)/productpage")
        let slow = try await Browser.get("\(ingress)/productpage", cookie: jason)
        // productpage's two 3 s attempts at reviews end the page: reviews unavailable, after 6 s
        // of those attempts plus what a page costs now; ratings' 7 s delay is never waited out.
        #expect(slow.outcome == "reviews-unavailable")
        #expect(slow.seconds > 5.5 && slow.seconds < 6.5 + baseline.seconds, "took \(slow.seconds) s; a page costs \(baseline.seconds) s now")
        let other = try await Browser.get("\(ingress)/productpage")
        #expect(other.outcome == "v1" && other.seconds < 1)

        try await MeshFixture.apply(["bookinfo/networking/virtual-service-ratings-test-abort.yaml"], namespace)
        let aborted = try await Browser.get("\(ingress)/productpage", cookie: jason)
        #expect(aborted.outcome == "ratings-unavailable")
        #expect(count("Ratings service is currently unavailable", in: aborted.body) == 2)
        try await MeshFixture.cleanUp(namespace)
    }

    @Test("a 50/50 split lands within a binomial bound")
    func weightedSplit() async throws {
        let namespace = "split"
        let ingress = try await MeshFixture.bookinfo(namespace)
        try await MeshFixture.apply(["bookinfo/networking/destination-rule-all.yaml", "bookinfo/networking/virtual-service-reviews-50-v3.yaml"], namespace)
        // n = 200, p = 0.5: sd = 7.07; [68, 132] is ±4.5 sd, so a correct split fails with
        // probability < 1e-5, while a 80/20 split (mean 160) passes with probability < 1e-9.
        let counts = try await Browser.outcomes(ingress, count: 200)
        #expect(counts["v1", default: 0] + counts["v3", default: 0] == 200, "\(counts)")
        #expect((68...132).contains(counts["v1", default: 0]), "\(counts)")
        try await MeshFixture.cleanUp(namespace)
    }

    @Test("a route to an undefined subset fails with 503 and analysis names the cause")
    func undefinedSubset() async throws {
        let namespace = "nosubset"
        let ingress = try await MeshFixture.bookinfo(namespace)
        try await MeshFixture.apply(["bookinfo/networking/virtual-service-reviews-v3.yaml"], namespace)
        let page = try await Browser.get("\(ingress)/productpage")
        #expect(page.outcome == "reviews-unavailable")
        let diagnostics = await (try MeshFixture.cluster.value).analyze(namespace)
        #expect(diagnostics.contains { $0.object?.contains("VirtualService/reviews") == true && $0.message.contains("v3") }, "\(diagnostics)")
        try await MeshFixture.cleanUp(namespace)
    }

    @Test("rules have no effect in a namespace that is not injected, until it is labelled and pods restart")
    func notInjected() async throws {
        let namespace = "plain"
        let cluster = try await MeshFixture.cluster.value
        let ingress = try await MeshFixture.bookinfo(namespace, injected: false)
        try await MeshFixture.apply(["bookinfo/networking/destination-rule-all.yaml", "bookinfo/networking/virtual-service-all-v1.yaml"], namespace)
        let spread = try await Browser.outcomes(ingress, count: 60)
        #expect(spread.keys.count > 1, "\(spread)")
        #expect(await cluster.pods(namespace).allSatisfy { $0.ready == "1/1" })
        #expect(await cluster.analyze(namespace).contains { $0.code == "IST0102" })

        try await cluster.label(namespace, set: ["istio-injection": "enabled"])
        for pod in await cluster.pods(namespace) { try await cluster.deletePod(pod.name, namespace: namespace) }
        try await cluster.waitForPods(namespace)
        #expect(await cluster.pods(namespace).allSatisfy { $0.ready == "2/2" })
        #expect(try await Browser.outcomes(ingress, count: 20) == ["v1": 20])
        try await MeshFixture.cleanUp(namespace)
    }

    @Test("a bad manifest is refused with file, object and field, and the running routes stay")
    func badManifestKeepsConfig() async throws {
        let namespace = "badinput"
        let cluster = try await MeshFixture.cluster.value
        let ingress = try await MeshFixture.bookinfo(namespace)
        try await MeshFixture.apply(["bookinfo/networking/destination-rule-all.yaml", "bookinfo/networking/virtual-service-all-v1.yaml"], namespace)
        let zeroWeights = """
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata:
              name: reviews
            spec:
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews, subset: v2}
                  weight: 0
                - destination: {host: reviews, subset: v3}
                  weight: 0
            """
        do {
            _ = try await cluster.apply(try ManifestLoader.load(zeroWeights, file: "zero.yaml"), namespace: namespace)
            Issue.record("weights summing to 0 must be refused")
        } catch let error as LocalClusterError {
            #expect(error.description.contains("zero.yaml"))
            #expect(error.description.contains("VirtualService/reviews"))
            #expect(error.description.contains("weight"))
        }
        #expect(try await Browser.outcomes(ingress, count: 10) == ["v1": 10])
        let stored = await cluster.object(kind: "VirtualService", name: "reviews", namespace: namespace)
        #expect(stored?.body["spec"]?["http"]?.arrayValue?.first?["route"]?.arrayValue?.first?["destination"]?["subset"] == "v1")
        try await MeshFixture.cleanUp(namespace)
    }

    @Test("every Istio bookinfo sample is accepted, or refused with a reason")
    func istioSamples() async throws {
        let cluster = try await MeshFixture.cluster.value
        for era in ["current", "1.0.6"] {
            let namespace = "samples-\(era.replacingOccurrences(of: ".", with: ""))"
            try await cluster.createNamespace(namespace, labels: ["istio-injection": "enabled"])
            let folder = MeshFixture.shared + "/istio-samples/\(era)"
            for file in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where file != "bookinfo.yaml" {
                let objects = try ManifestLoader.load(path: folder + "/" + file).filter { $0.metadata.namespace == nil }
                do {
                    _ = try await cluster.apply(objects, namespace: namespace)
                } catch {
                    Issue.record("\(era)/\(file) was refused: \(error)")
                }
            }
            try await MeshFixture.cleanUp(namespace)
        }
    }
}

func count(_ needle: String, in haystack: String) -> Int {
    haystack.components(separatedBy: needle).count - 1
}
