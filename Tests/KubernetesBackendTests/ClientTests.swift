import Foundation
import Glibc
@testable import KubernetesBackend
import MeshModel
import Synchronization
import Testing

@Suite("Kubernetes client against a stand-in API server on loopback")
struct ClientTests {
    @Test("a Status body becomes an error carrying code, reason, message and causes, in plain words")
    func statusErrors() async throws {
        let invalid = """
            {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",\
            "message":"Namespace \\"Bad_Name\\" is invalid: metadata.name: Invalid value: \\"Bad_Name\\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters",\
            "reason":"Invalid","details":{"name":"Bad_Name","kind":"Namespace","causes":[{"reason":"FieldValueInvalid",\
            "message":"Invalid value: \\"Bad_Name\\": a lowercase RFC 1123 label","field":"metadata.name"}]},"code":422}
            """
        try await withAPIServer({ request in
            switch request.path {
            case "/api/v1/namespaces/Bad_Name": .json(invalid, status: 422)
            case "/api/v1/namespaces/missing":
                .json(#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces \"missing\" not found","reason":"NotFound","details":{"name":"missing","kind":"namespaces"},"code":404}"#, status: 404)
            case "/api/v1/namespaces/forbidden":
                .json(#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces \"forbidden\" is forbidden: User \"system:serviceaccount:meshdojo:lab-runner\" cannot get resource \"namespaces\"","reason":"Forbidden","code":403}"#, status: 403)
            default: Answer(status: 503, contentType: "text/html", chunks: ["<html>upstream connect error</html>"])
            }
        }) { port, _ in
            let client = try testClient(port)
            let namespace: Value = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "Bad_Name"]]
            let error = try await #require(throws: KubeStatusError.self) { try await client.apply(namespace) }
            #expect(error.code == 422)
            #expect(error.reason == "Invalid")
            #expect(error.name == "Bad_Name" && error.kind == "Namespace")
            #expect(error.causes == [.init(reason: "FieldValueInvalid", message: "Invalid value: \"Bad_Name\": a lowercase RFC 1123 label", field: "metadata.name")])
            #expect(error.method == "PATCH" && error.path == "/api/v1/namespaces/Bad_Name")
            #expect(error.description.contains("refused the object as invalid"))
            #expect(error.description.contains("Causes: metadata.name: Invalid value"))
            #expect(error.description.contains("(FieldValueInvalid)"))

            let notFound = try await #require(throws: KubeStatusError.self) {
                try await client.get(.namespaces, namespace: nil, name: "missing")
            }
            #expect(notFound.isNotFound && notFound.reason == "NotFound")
            #expect(notFound.description.contains("it does not exist"))
            #expect(try await client.getIfPresent(.namespaces, namespace: nil, name: "missing") == nil)

            let forbidden = try await #require(throws: KubeStatusError.self) {
                try await client.get(.namespaces, namespace: nil, name: "forbidden")
            }
            #expect(forbidden.isForbidden)
            #expect(forbidden.description.contains("not allowed to do this (RBAC)"))

            let proxy = try await #require(throws: KubeStatusError.self) {
                try await client.get(.namespaces, namespace: nil, name: "other")
            }
            #expect(proxy.code == 503 && proxy.reason == "ServiceUnavailable")
            #expect(proxy.message.contains("upstream connect error"))
        }
    }

    @Test("apply is a PATCH with application/apply-patch+yaml, fieldManager=meshdojo and force=true, and the bearer token")
    func applyRequest() async throws {
        try await withAPIServer({ request in .json(request.body) }) { port, log in
            let client = try testClient(port, token: "s3cret")
            let service: Value = [
                "apiVersion": "v1", "kind": "Service",
                "metadata": ["name": "istio-ingressgateway", "resourceVersion": "7", "managedFields": [["manager": "kubectl"]]],
                "spec": ["type": "LoadBalancer"],
            ]
            let stored = try await client.apply(service, namespace: "student-ada")
            #expect(stored["metadata"]?["namespace"] == "student-ada")
            let seen = try #require(log.all.first)
            #expect(seen.method == "PATCH")
            #expect(seen.path == "/api/v1/namespaces/student-ada/services/istio-ingressgateway")
            #expect(seen.query == ["fieldManager": "meshdojo", "force": "true"])
            #expect(seen.headers["content-type"] == "application/apply-patch+yaml")
            #expect(seen.headers["authorization"] == "Bearer s3cret")
            let sent = try JSON.parse(seen.body)
            #expect(sent["spec"]?["type"] == "LoadBalancer")
            #expect(sent["metadata"]?["resourceVersion"] == nil && sent["metadata"]?["managedFields"] == nil)

            let gateway: Value = [
                "apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
                "metadata": ["name": "bookinfo-gateway", "namespace": "student-ada"],
            ]
            _ = try await client.apply(gateway)
            #expect(log.all.last?.path == "/apis/networking.istio.io/v1beta1/namespaces/student-ada/gateways/bookinfo-gateway")

            let elsewhere = try #require(throws: KubeClientError.self) {
                _ = try KubeClient.identify(gateway, namespace: "student-bob")
            }
            #expect(elsewhere.description.contains("is in namespace student-ada, not student-bob"))
        }
    }

    @Test("list sends selectors; delete sends the propagation policy; TokenRequest posts to the token subresource")
    func listDeleteToken() async throws {
        try await withAPIServer({ request in
            switch (request.method, request.path) {
            case ("GET", _):
                .json(#"{"kind":"NamespaceList","apiVersion":"v1","metadata":{"resourceVersion":"42"},"items":[{"metadata":{"name":"student-ada"}}]}"#)
            case ("POST", _):
                .json(#"{"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1","status":{"token":"eyJ.minted","expirationTimestamp":"2026-12-03T00:00:00Z"}}"#, status: 201)
            default:
                .json(#"{"kind":"Status","apiVersion":"v1","status":"Success","code":200}"#)
            }
        }) { port, log in
            let client = try testClient(port)
            let list = try await client.list(
                .namespaces, namespace: nil, labelSelector: "meshdojo.dev/workshop=istio-101,app.kubernetes.io/managed-by=meshdojo",
                fieldSelector: "status.phase=Active")
            #expect(list.resourceVersion == "42" && list.items.count == 1)
            #expect(log.all[0].path == "/api/v1/namespaces")
            #expect(log.all[0].query["labelSelector"] == "meshdojo.dev/workshop=istio-101,app.kubernetes.io/managed-by=meshdojo")
            #expect(log.all[0].query["fieldSelector"] == "status.phase=Active")

            _ = try await client.delete(.namespaces, namespace: nil, name: "student-ada", propagationPolicy: .foreground)
            #expect(log.all[1].method == "DELETE" && log.all[1].path == "/api/v1/namespaces/student-ada")
            #expect(log.all[1].query["propagationPolicy"] == "Foreground")

            let token = try await client.requestToken(serviceAccount: "meshdojo-student", namespace: "student-ada", expirationSeconds: 3600)
            #expect(token == ServiceAccountToken(token: "eyJ.minted", expirationTimestamp: "2026-12-03T00:00:00Z"))
            #expect(log.all[2].path == "/api/v1/namespaces/student-ada/serviceaccounts/meshdojo-student/token")
            let request = try JSON.parse(log.all[2].body)
            #expect(request["kind"] == "TokenRequest" && request["spec"]?["expirationSeconds"] == 3600)
        }
    }

    @Test("a request outside the least-privilege table is refused before it is sent")
    func permissionTable() async throws {
        try await withAPIServer({ _ in .json("{}") }) { port, log in
            let client = try testClient(port)
            let error = try await #require(throws: KubeClientError.self) {
                _ = try await client.list(.secrets, namespace: "student-ada")
            }
            #expect(error == .notInPermissionTable(Permission(apiGroup: "", resource: "secrets", verb: "list")))
            #expect(error.description.contains("not in the least-privilege table"))
            _ = try await #require(throws: KubeClientError.self) {
                _ = try await client.delete(.roles, namespace: "student-ada", name: "meshdojo-student")
            }
            #expect(log.all.isEmpty)
        }
    }

    @Test("a watch's events are read however the chunks cut them")
    func watchAcrossChunks() async throws {
        let events = [
            #"{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"reviews-v1","resourceVersion":"11"}}}"#,
            #"{"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"reviews-v1","resourceVersion":"12"},"status":{"phase":"Running"}}}"#,
            #"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"15"}}}"#,
            #"{"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"reviews-v1","resourceVersion":"16"}}}"#,
        ]
        let text = events.joined(separator: "\n") + "\n"
        // Cut mid-name, mid-escape-free string, right after a newline and inside a number.
        let bytes = Array(text.utf8)
        let cuts = [7, 60, bytes.firstIndex(of: UInt8(ascii: "\n"))! + 1, 190, 250, bytes.count - 3]
        var chunks: [String] = []
        var start = 0
        for cut in cuts + [bytes.count] {
            chunks.append(String(decoding: bytes[start..<cut], as: UTF8.self))
            start = cut
        }
        let pieces = chunks
        try await withAPIServer({ _ in Answer(chunks: pieces) }) { port, log in
            let client = try testClient(port)
            var seen: [KubeWatchEvent] = []
            for try await event in try await client.watch(.pods, namespace: "student-ada", resourceVersion: "10") {
                seen.append(event)
            }
            #expect(seen.count == 4)
            #expect(seen[0] == .added(try JSON.parse(events[0])["object"]!))
            #expect(seen[1].resourceVersion == "12")
            #expect(seen[2] == .bookmark(resourceVersion: "15"))
            #expect(seen[3] == .deleted(try JSON.parse(events[3])["object"]!))
            let request = try #require(log.all.first)
            #expect(request.path == "/api/v1/namespaces/student-ada/pods")
            #expect(request.query["watch"] == "true" && request.query["resourceVersion"] == "10")
            #expect(request.query["allowWatchBookmarks"] == "true")
        }

        // The decoder alone, fed one byte at a time.
        var decoder = WatchEventDecoder()
        var decoded: [KubeWatchEvent] = []
        for byte in text.utf8 { decoded += try decoder.feed([byte]) }
        #expect(decoded.count == 4)
        #expect(try decoder.finish().isEmpty)
    }

    @Test("list+watch lists again on a 410 Gone answer and on an ERROR event with code 410, and watches on from bookmarks")
    func relistOnGone() async throws {
        let counter = Counter()
        try await withAPIServer({ request in
            if request.query["watch"] == nil {
                let version = counter.next("list") == 0 ? "100" : (counter.value("list") == 2 ? "200" : "300")
                return .json(#"{"kind":"PodList","metadata":{"resourceVersion":"\#(version)"},"items":[{"metadata":{"name":"p-\#(version)"}}]}"#)
            }
            switch request.query["resourceVersion"] {
            case "100":
                // Too old already: the answer itself is 410.
                return .json(#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 100 (150)","reason":"Expired","code":410}"#, status: 410)
            case "200":
                return Answer(chunks: [
                    #"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"201"}}}"# + "\n",
                    #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 201 (250)","reason":"Expired","code":410}}"# + "\n",
                ])
            case "300":
                return Answer(chunks: [
                    #"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"305"}}}"# + "\n"
                ])
            case "305":
                return Answer(chunks: [#"{"type":"MODIFIED","object":{"metadata":{"name":"b","resourceVersion":"306"}}}"# + "\n"])
            default:
                return .json(#"{"kind":"Status","code":500,"reason":"InternalError","message":"unexpected"}"#, status: 500)
            }
        }) { port, log in
            let client = try testClient(port)
            var seen: [ListWatchEvent] = []
            for try await event in client.listWatch(.pods, namespace: "student-ada", labelSelector: "app=reviews") {
                seen.append(event)
                if seen.count == 5 { break }
            }
            #expect(seen.count == 5)
            #expect(seen[0] == .synced(items: [["metadata": ["name": "p-100"]]], resourceVersion: "100"))
            #expect(seen[1] == .synced(items: [["metadata": ["name": "p-200"]]], resourceVersion: "200"))
            #expect(seen[2] == .added(["metadata": ["name": "a", "resourceVersion": "201"]]))
            #expect(seen[3] == .synced(items: [["metadata": ["name": "p-300"]]], resourceVersion: "300"))
            #expect(seen[4] == .modified(["metadata": ["name": "b", "resourceVersion": "306"]]))
            let versions = log.all.map { ($0.query["watch"] == nil ? "list" : "watch@") + ($0.query["resourceVersion"] ?? "") }
            #expect(versions == ["list", "watch@100", "list", "watch@200", "list", "watch@300", "watch@305"])
            #expect(log.all.allSatisfy { $0.query["labelSelector"] == "app=reviews" })
        }
    }

    @Test("list+watch watches again from the last version seen when a watch breaks off mid-stream")
    func rewatchAfterBreak() async throws {
        try await withAPIServer({ request in
            switch request.query["resourceVersion"] {
            case nil: .json(#"{"metadata":{"resourceVersion":"1"},"items":[]}"#)
            case "1":
                Answer(chunks: [#"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}"# + "\n", #"{"type":"MODI"#], breakOff: true)
            default:
                Answer(chunks: [#"{"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"3"}}}"# + "\n"])
            }
        }) { port, log in
            let client = try testClient(port)
            var seen: [ListWatchEvent] = []
            for try await event in client.listWatch(.pods, namespace: "student-ada") {
                seen.append(event)
                if seen.count == 3 { break }
            }
            #expect(seen == [
                .synced(items: [], resourceVersion: "1"),
                .added(["metadata": ["name": "a", "resourceVersion": "2"]]),
                .deleted(["metadata": ["name": "a", "resourceVersion": "3"]]),
            ])
            #expect(log.all.map { $0.query["resourceVersion"] ?? "list" } == ["list", "1", "2"])
        }
    }

    @Test("a non-410 ERROR event ends list+watch with the server's Status")
    func otherWatchErrorsThrow() async throws {
        try await withAPIServer({ request in
            request.query["watch"] == nil
                ? .json(#"{"metadata":{"resourceVersion":"1"},"items":[]}"#)
                : Answer(chunks: [#"{"type":"ERROR","object":{"kind":"Status","code":500,"reason":"InternalError","message":"etcd is down"}}"# + "\n"])
        }) { port, _ in
            let client = try testClient(port)
            var iterator = client.listWatch(.pods, namespace: "student-ada").makeAsyncIterator()
            #expect(try await iterator.next() == .synced(items: [], resourceVersion: "1"))
            let error = try await #require(throws: KubeStatusError.self) { _ = try await iterator.next() }
            #expect(error.code == 500 && error.message == "etcd is down")
        }
    }

    @Test("a token file is read again for each request, as kubelet rotates it")
    func tokenFileRotation() async throws {
        let directory = try temporaryDirectory()
        let tokenPath = directory + "/token"
        try "first\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        try await withAPIServer({ _ in .json(#"{"metadata":{"name":"x"}}"#) }) { port, log in
            let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:\(port)", credentials: .tokenFile(tokenPath)))
            _ = try await client.get(.namespaces, namespace: nil, name: "x")
            try "second".write(toFile: tokenPath, atomically: true, encoding: .utf8)
            _ = try await client.get(.namespaces, namespace: nil, name: "x")
            #expect(log.all.map { $0.headers["authorization"] } == ["Bearer first", "Bearer second"])
        }
    }

    @Test("an unreachable server is a transport error naming the URL")
    func transportError() async throws {
        // A port nothing listens on and nothing else can take meanwhile: bound here, never listened on.
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(bound == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        var client = try testClient(port)
        client.timeout = .seconds(2)
        let error = try await #require(throws: KubeClientError.self) {
            _ = try await client.get(.namespaces, namespace: nil, name: "x")
        }
        #expect(error.description.lowercased().contains("refused"), "\(error)")
        guard case .transport(let method, let url, _) = error else {
            Issue.record("expected a transport error, got \(error)")
            return
        }
        #expect(method == "GET" && url == "http://127.0.0.1:\(port)/api/v1/namespaces/x")
    }
}

/// Counts calls by name, for handlers that answer differently the second time.
final class Counter: Sendable {
    let counts = Mutex<[String: Int]>([:])
    /// The count before this call.
    func next(_ name: String) -> Int { counts.withLock { counts in defer { counts[name, default: 0] += 1 }; return counts[name, default: 0] } }
    func value(_ name: String) -> Int { counts.withLock { $0[name, default: 0] } }
}

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "meshdojo-kube-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
