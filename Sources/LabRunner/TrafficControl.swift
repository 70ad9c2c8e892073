import MeshModel

/// Routing from the dashboard: weights per reviews version become a DestinationRule with the
/// version subsets and a VirtualService with those weights, applied like any other manifest.
enum TrafficControl {
    static func apply(weights: Value, namespace: String, backend: any ClusterBackend) async throws -> [String] {
        var routes: [Value] = []
        var total = 0
        for version in ["v1", "v2", "v3"] {
            guard let weight = weights[version], case .int(let number) = weight else { continue }
            guard (0...100).contains(number) else { throw WorkshopError.badRequest("the weight of \(version) must be between 0 and 100") }
            total += number
            if number > 0 { routes.append(["destination": ["host": "reviews", "subset": .string(version)], "weight": .int(number)]) }
        }
        guard total == 100 else { throw WorkshopError.badRequest("the weights must add up to 100 (they add up to \(total))") }
        let rule: Value = [
            "apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule", "metadata": ["name": "reviews"],
            "spec": ["host": "reviews", "subsets": .array(["v1", "v2", "v3"].map { ["name": .string($0), "labels": ["version": .string($0)]] })],
        ]
        let service: Value = [
            "apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService", "metadata": ["name": "reviews"],
            "spec": ["hosts": ["reviews"], "http": [["route": .array(routes)]]],
        ]
        let text = rule.json + "\n---\n" + service.json
        let objects = try ManifestLoader.load(text, file: "dashboard traffic control")
        return try await backend.applyObjects(objects, namespace: namespace).lines
    }
}
