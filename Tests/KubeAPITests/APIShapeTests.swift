import Foundation
import MeshModel
import Testing

@testable import KubeAPI

@Suite("the API's shape: request decoding, discovery, OpenAPI, tables, selectors")
struct APIShapeTests {
    @Test("paths decode into verb, resource, namespace, name and subresource")
    func requestInfo() throws {
        let log = try RequestInfo.decode(method: "GET", path: "/api/v1/namespaces/student-a/pods/reviews-x/log", watch: false).get()
        #expect(log.verb == .get && log.resource.kind == "Pod" && log.namespace == "student-a" && log.name == "reviews-x" && log.subresource == "log")
        let watch = try RequestInfo.decode(method: "GET", path: "/apis/networking.istio.io/v1alpha3/namespaces/a/virtualservices", watch: true).get()
        #expect(watch.verb == .watch && watch.resource.kind == "VirtualService" && watch.version == "v1alpha3")
        let namespace = try RequestInfo.decode(method: "PATCH", path: "/api/v1/namespaces/default", watch: false).get()
        #expect(namespace.verb == .patch && namespace.resource.plural == "namespaces" && namespace.name == "default" && namespace.namespace == nil)
        let all = try RequestInfo.decode(method: "GET", path: "/api/v1/pods", watch: false).get()
        #expect(all.verb == .list && all.namespace == nil)
        #expect(RequestInfo.decode(method: "GET", path: "/apis/networking.istio.io/v2/namespaces/a/virtualservices", watch: false)
            == .failure(.unknownResource(group: "networking.istio.io", version: "v2", plural: "virtualservices")))
        #expect(RequestInfo.decode(method: "GET", path: "/apis", watch: false) == .failure(.other(.apis)))
        #expect(RequestInfo.decode(method: "GET", path: "/openapi/v3/apis/apps/v1", watch: false) == .failure(.other(.openAPIv3("apis/apps/v1"))))
    }

    @Test("discovery lists every kind the workshop uses with its short names, verbs and the all category")
    func discovery() throws {
        let core = try #require(Discovery.resourceList(group: "", version: "v1"))
        let resources = try #require(core["resources"]?.arrayValue)
        let pods = try #require(resources.first { $0["name"] == "pods" })
        #expect(pods["shortNames"] == ["po"] && pods["categories"] == ["all"] && pods["namespaced"] == true)
        #expect(resources.contains { $0["name"] == "pods/log" })
        #expect(resources.first { $0["name"] == "namespaces" }?["namespaced"] == false)
        for version in ["v1", "v1beta1", "v1alpha3"] {
            let istio = try #require(Discovery.resourceList(group: "networking.istio.io", version: version))
            let names = istio["resources"]?.arrayValue?.compactMap { $0["shortNames"]?.arrayValue?.first?.stringValue } ?? []
            #expect(Set(names).isSuperset(of: ["vs", "dr", "gw", "se"]))
        }
        let groups = Discovery.groupList()["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(groups == ["apps", "extensions", "rbac.authorization.k8s.io", "networking.istio.io"])
        #expect(resources.contains { $0["name"] == "serviceaccounts/token" } && resources.contains { $0["name"] == "resourcequotas" })
        #expect(Discovery.resourceList(group: "batch", version: "v1") == nil)
    }

    @Test("OpenAPI v3 advertises fieldValidation on every PATCH, so kubectl leaves validation to the server")
    func openAPIFieldValidation() throws {
        let openAPI = OpenAPI(crds: .empty)
        let index = try #require(openAPI.index()["paths"]?.objectMembers?.map(\.0))
        #expect(index.contains("api/v1") && index.contains("apis/networking.istio.io/v1alpha3"))
        let text = try #require(openAPI.document("apis/networking.istio.io/v1"))
        let document = try value(text)
        let item = try #require(document["paths"]?["/apis/networking.istio.io/v1/namespaces/{namespace}/virtualservices/{name}"])
        let parameters = item["patch"]?["parameters"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(parameters.contains("fieldValidation"))
        #expect(item["patch"]?["x-kubernetes-group-version-kind"]?["kind"] == "VirtualService")
        let schema = try #require(document["components"]?["schemas"]?["io.istio.networking.v1.VirtualService"])
        #expect(schema["x-kubernetes-group-version-kind"]?.arrayValue?.first?["kind"] == "VirtualService")
    }

    @Test("with Istio's CRDs, the schemas and printer columns are Istio's own", .enabled(if: FileManager.default.fileExists(atPath: APIShapeTests.crdPath), "../shared/istio-crds is absent: Istio's CRD schemas cannot be checked"))
    func istioCRDs() throws {
        let catalog = try CRDCatalog.load(path: Self.crdPath)
        let virtualService = catalog.version(group: "networking.istio.io", version: "v1alpha3", kind: "VirtualService")
        #expect(virtualService.columns.map(\.name) == ["Gateways", "Hosts", "Age"])
        let fault = virtualService.schema["properties"]?["spec"]?["properties"]?["http"]?["items"]?["properties"]?["fault"]
        #expect(fault?["description"]?.stringValue?.contains("Fault injection") == true)
        let destinationRule = catalog.version(group: "networking.istio.io", version: "v1", kind: "DestinationRule")
        #expect(destinationRule.columns.map(\.name) == ["Host", "Age"])
    }

    static let crdPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/istio-crds/networking.yaml").path

    @Test("pods print as kubectl shows them: READY 2/2, STATUS, RESTARTS, AGE")
    func podTable() throws {
        let pod = try value("""
            metadata: {name: reviews-v1-abc-xyz, creationTimestamp: '2026-01-01T00:00:00Z'}
            spec: {containers: [{name: reviews}, {name: istio-proxy}]}
            status:
              phase: Running
              containerStatuses: [{name: reviews, ready: true, restartCount: 2}, {name: istio-proxy, ready: true, restartCount: 0}]
            """)
        let printer = TablePrinter(crds: .empty)
        let table = printer.table(APIResources.find("pods")!, version: "v1", objects: [pod], resourceVersion: "7", includeObject: nil, now: ISO8601DateFormatter().date(from: "2026-01-01T00:05:30Z")!)
        let columns = table["columnDefinitions"]?.arrayValue?.filter { $0["priority"] == 0 }.compactMap { $0["name"]?.stringValue }
        #expect(columns == ["Name", "Ready", "Status", "Restarts", "Age"])
        let cells = try #require(table["rows"]?.arrayValue?.first?["cells"]?.arrayValue)
        #expect(Array(cells.prefix(5)) == ["reviews-v1-abc-xyz", "2/2", "Running", 2, "5m30s"])
        #expect(table["rows"]?.arrayValue?.first?["object"]?["kind"] == "PartialObjectMetadata")
    }

    @Test("ages read as Kubernetes writes them")
    func ages() {
        #expect(TablePrinter.humanDuration(45) == "45s")
        #expect(TablePrinter.humanDuration(119) == "119s")
        #expect(TablePrinter.humanDuration(302) == "5m2s")
        #expect(TablePrinter.humanDuration(3 * 3600) == "3h")
        #expect(TablePrinter.humanDuration(3 * 3600 + 600) == "3h10m")
        #expect(TablePrinter.humanDuration(53 * 3600) == "2d5h")
    }

    @Test("label and field selectors match as kubectl -l and --field-selector expect")
    func selectors() throws {
        let labels = try Selector.labels("app=reviews,version in (v1, v2),!canary,tier")
        #expect(labels.matches(["app": "reviews", "version": "v2", "tier": "web"]))
        #expect(!labels.matches(["app": "reviews", "version": "v3", "tier": "web"]))
        #expect(!labels.matches(["app": "reviews", "version": "v1", "tier": "web", "canary": "yes"]))
        #expect(try Selector.labels("version notin (v1)").matches(["version": "v2"]))
        #expect(try Selector.labels("app!=ratings").matches(["app": "reviews"]))
        let object = try value("metadata: {name: a, namespace: n}\ninvolvedObject: {uid: u1}")
        #expect(try Selector.fields("metadata.name=a,involvedObject.uid=u1").matchesFields(of: object))
        #expect(!(try Selector.fields("metadata.name!=a").matchesFields(of: object)))
        #expect(throws: StatusError.self) { try Selector.fields("metadata.name") }
        #expect(throws: StatusError.self) { try Selector.labels("a=b,#") }
    }
}
