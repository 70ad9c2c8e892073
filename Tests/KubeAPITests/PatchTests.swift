import Foundation
import MeshModel
import Testing

@testable import KubeAPI

func value(_ yaml: String) throws -> Value {
    try #require(try ManifestLoader.documents(yaml, file: "test").first)
}

@Suite("patches: JSON merge, strategic merge, JSON patch")
struct PatchTests {
    @Test("a JSON merge patch merges maps, deletes with null and replaces lists whole")
    func mergePatch() throws {
        let live = try value("spec: {hosts: [a, b], http: [{route: 1}], gateways: [g]}\nmetadata: {labels: {x: '1', y: '2'}}")
        let patch = try value("spec: {hosts: [c], gateways: null}\nmetadata: {labels: {y: null, z: '3'}}")
        let merged = Patch.merge(live, patch)
        #expect(merged["spec"]?["hosts"] == ["c"])
        #expect(merged["spec"]?["gateways"] == nil)
        #expect(merged["spec"]?["http"] == [["route": 1]])
        #expect(merged["metadata"]?["labels"] == ["x": "1", "z": "3"])
    }

    @Test("a strategic merge patch merges containers by name and env by name, keeping the others")
    func strategicMergeByKeys() throws {
        let live = try value("""
            spec:
              template:
                spec:
                  containers:
                  - name: app
                    image: a:1
                    env: [{name: A, value: '1'}, {name: B, value: '2'}]
                  - name: side
                    image: s:1
            """)
        let patch = try value("""
            spec:
              template:
                spec:
                  containers:
                  - name: app
                    image: a:2
                    env: [{name: B, value: '3'}, {name: C, value: '4'}]
            """)
        let merged = try Patch.strategic(live, patch, kind: "Deployment")
        let containers = try #require(merged["spec"]?["template"]?["spec"]?["containers"]?.arrayValue)
        #expect(containers.count == 2)
        #expect(containers[0]["image"] == "a:2")
        #expect(containers[0]["env"] == [["name": "A", "value": "1"], ["name": "B", "value": "3"], ["name": "C", "value": "4"]])
        #expect(containers[1]["name"] == "side")
    }

    @Test("strategic directives: $patch delete removes an element, $setElementOrder orders, $retainKeys drops the rest")
    func strategicDirectives() throws {
        let live = try value("spec: {ports: [{port: 80, name: http}, {port: 443, name: https}], selector: {app: a, tier: web}}")
        let patch = try value("""
            spec:
              $setElementOrder/ports: [{port: 9080}, {port: 80}]
              ports: [{port: 443, $patch: delete}, {port: 9080, name: alt}]
              selector: {$retainKeys: [app], app: b}
            """)
        let merged = try Patch.strategic(live, patch, kind: "Service")
        #expect(merged["spec"]?["ports"] == [["port": 9080, "name": "alt"], ["port": 80, "name": "http"]])
        #expect(merged["spec"]?["selector"] == ["app": "b"])
    }

    @Test("lists without a merge key (a VirtualService's routes) are replaced, and $patch: replace replaces a map")
    func strategicAtomicLists() throws {
        let live = try value("spec: {tolerations: [{key: a}, {key: b}], template: {metadata: {labels: {a: '1'}}}}")
        let patch = try value("spec: {tolerations: [{key: c}], template: {metadata: {labels: {$patch: replace, b: '2'}}}}")
        let merged = try Patch.strategic(live, patch, kind: "Deployment")
        #expect(merged["spec"]?["tolerations"] == [["key": "c"]])
        #expect(merged["spec"]?["template"]?["metadata"]?["labels"] == ["b": "2"])
        #expect(throws: Patch.Failure.self) { try Patch.strategic(live, try value("spec: {$patch: explode}"), kind: "Deployment") }
    }

    @Test("a JSON patch adds, replaces, removes and tests; a failed test changes nothing")
    func jsonPatch() throws {
        let live = try value("metadata: {labels: {a: '1'}}\nspec: {hosts: [x]}")
        let patched = try Patch.json(live, try value("""
            - {op: add, path: /metadata/labels/b, value: '2'}
            - {op: replace, path: /spec/hosts/0, value: y}
            - {op: add, path: /spec/hosts/-, value: z}
            - {op: remove, path: /metadata/labels/a}
            - {op: test, path: /spec/hosts/1, value: z}
            """))
        #expect(patched["metadata"]?["labels"] == ["b": "2"])
        #expect(patched["spec"]?["hosts"] == ["y", "z"])
        #expect(throws: Patch.Failure.self) { try Patch.json(live, try value("- {op: test, path: /spec/hosts/0, value: nope}")) }
        #expect(throws: Patch.Failure.self) { try Patch.json(live, try value("- {op: remove, path: /spec/missing}")) }
    }
}

@Suite("server-side apply: field ownership and conflicts")
struct FieldManagerTests {
    let first = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, labels: {team: a}}
        spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}]}]}
        """

    @Test("an apply creates the object and records the applier as owner of every field it set")
    func applyCreates() throws {
        let created = try FieldManager.apply(try value(first), onto: nil, manager: "kubectl", force: false, kind: "VirtualService")
        let entries = try #require(created["metadata"]?["managedFields"]?.arrayValue)
        #expect(entries.count == 1)
        #expect(entries[0]["manager"] == "kubectl" && entries[0]["operation"] == "Apply")
        #expect(entries[0]["fieldsV1"]?["f:spec"]?["f:hosts"] == [:])
        #expect(entries[0]["fieldsV1"]?["f:metadata"]?["f:labels"]?["f:team"] == [:])
    }

    @Test("changing a field another manager owns is a 409 conflict naming it, unless forced")
    func conflicts() throws {
        let live = try FieldManager.apply(try value(first), onto: nil, manager: "alice", force: false, kind: "VirtualService")
        let changed = try value(first.replacingOccurrences(of: "subset: v1", with: "subset: v3"))
        #expect {
            try FieldManager.apply(changed, onto: live, manager: "bob", force: false, kind: "VirtualService")
        } throws: { error in
            guard let conflict = error as? ConflictError else { return false }
            let status = conflict.status(APIResources.find("vs")!, "reviews")
            return status.code == 409 && status.message.contains("conflict with \"alice\"") && conflict.conflicts.map(\.field) == [".spec.http"]
        }
        let forced = try FieldManager.apply(changed, onto: live, manager: "bob", force: true, kind: "VirtualService")
        #expect(forced["spec"]?["http"]?.arrayValue?.first?["route"]?.arrayValue?.first?["destination"]?["subset"] == "v3")
        let owners = (forced["metadata"]?["managedFields"]?.arrayValue ?? []).compactMap { entry -> String? in
            entry["fieldsV1"]?["f:spec"]?["f:http"] != nil ? entry["manager"]?.stringValue : nil
        }
        #expect(owners == ["bob"])
        // The same value is no conflict: both share the field.
        #expect(throws: Never.self) { try FieldManager.apply(try value(first), onto: live, manager: "carol", force: false, kind: "VirtualService") }
    }

    @Test("a field the applier stops naming is removed; one another manager also owns stays")
    func removal() throws {
        let live = try FieldManager.apply(try value(first), onto: nil, manager: "alice", force: false, kind: "VirtualService")
        let withoutLabels = try value(first.replacingOccurrences(of: ", labels: {team: a}", with: ""))
        let applied = try FieldManager.apply(withoutLabels, onto: live, manager: "alice", force: false, kind: "VirtualService")
        #expect(applied["metadata"]?["labels"]?["team"] == nil)
        let shared = FieldManager.update(live, from: live, manager: "kubectl-label", kind: "VirtualService")
        var labelled = shared
        labelled["metadata"]?["labels"] = ["team": "b"]
        let owned = FieldManager.update(labelled, from: shared, manager: "kubectl-label", kind: "VirtualService")
        let kept = try FieldManager.apply(withoutLabels, onto: owned, manager: "alice", force: false, kind: "VirtualService")
        #expect(kept["metadata"]?["labels"]?["team"] == "b", "the label now belongs to kubectl-label")
    }

    @Test("keyed lists of built-in kinds are owned element by element, so two managers can own different containers")
    func keyedLists() throws {
        let deployment = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec: {template: {spec: {containers: [{name: app, image: a:1}]}}}
            """
        let live = try FieldManager.apply(try value(deployment), onto: nil, manager: "alice", force: false, kind: "Deployment")
        let sidecar = try value(deployment.replacingOccurrences(of: "{name: app, image: a:1}", with: "{name: side, image: s:1}"))
        let both = try FieldManager.apply(sidecar, onto: live, manager: "bob", force: false, kind: "Deployment")
        let names = both["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["app", "side"])
        #expect(FieldManager.render([.field("spec"), .key(#"{"name":"app"}"#), .field("image")]) == #".spec[name="app"].image"#)
    }
}
