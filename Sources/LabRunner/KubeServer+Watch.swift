import BookinfoKit
import Foundation
import Hummingbird
import KubeAPI
import LocalCluster
import MeshModel
import NIOCore

/// `?watch=true`: a stream of ADDED / MODIFIED / DELETED events, one JSON object a line, as
/// `kubectl get -w`, `kubectl rollout status` and `kubectl delete --wait` read it.
extension KubeServer {
    /// The longest a watch stays open (kubectl opens another when it ends).
    static let maxWatch: Duration = .seconds(1800)

    func watch(_ info: RequestInfo, request: Request, caller: Caller) async throws -> Response {
        let query = request.uri.queryParameters
        let labels = try Selector.labels(query["labelSelector"].map(String.init))
        let fields = try info.name.map { try Selector.fields("metadata.name=\($0)") } ?? Selector.fields(query["fieldSelector"].map(String.init))
        let table = Self.wantsTable(request)
        let includeObject = query["includeObject"].map(String.init)
        let timeout = query["timeoutSeconds"].flatMap { Int(String($0)) }.map { Duration.seconds(min($0, 1800)) } ?? Self.maxWatch
        let start = query["resourceVersion"].flatMap { Int(String($0)) }
        // Without a version (or with 0), a watch starts with the current objects, as Kubernetes' does.
        let initial: [Value] = start == nil || start == 0
            ? try await objects(info, caller: caller).filter { labels.matchesLabels(of: $0) && fields.matchesFields(of: $0) } : []
        let resource = info.resource
        let namespace = info.namespace
        let own: String? = if case .student(_, let ns) = caller { ns } else { nil }
        guard let subscription = cluster.hub.subscribe(after: start == 0 ? nil : start) else {
            let gone = StatusError.gone("too old resource version: \(start ?? 0)")
            let event: Value = ["type": "ERROR", "object": gone.status]
            return .text(event.json + "\n", contentType: "application/json")
        }
        let hub = cluster.hub
        let printer = self.printer
        @Sendable func line(_ type: String, _ object: Value) -> ByteBuffer {
            var shown = Self.versioned(object, info)
            if table {
                shown = printer.table(resource, version: info.version, objects: [shown], resourceVersion: Self.text(shown["metadata"]?["resourceVersion"]), includeObject: includeObject)
            }
            return ByteBuffer(string: (["type": .string(type), "object": shown] as Value).json + "\n")
        }
        let body = ResponseBody { writer in
            defer { hub.unsubscribe(subscription.id) }
            for object in initial { try await writer.write(line("ADDED", object)) }
            let deadline = ContinuousClock.now + timeout
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Ending the subscription ends the stream below.
                group.addTask {
                    try? await Task.sleep(until: deadline)
                    hub.unsubscribe(subscription.id)
                }
                for await event in subscription.stream {
                    guard event.kind == resource.kind else { continue }
                    if let namespace, event.namespace != namespace { continue }
                    if resource.plural == "namespaces", let own, Self.text(event.object["metadata"]?["name"]) != own { continue }
                    guard labels.matchesLabels(of: event.object), fields.matchesFields(of: event.object) else { continue }
                    try await writer.write(line(event.type.rawValue, event.object))
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"], body: body)
    }
}
