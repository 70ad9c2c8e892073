import Foundation
import LabRunner
import LabStore
import LocalCluster
import MeshModel
import Testing

/// A seeded fuzz run through the API: a few thousand mutations of bookinfo's routing files (and
/// Istio's own samples when `../shared` is there). Whatever a student sends: no crash, no 5xx, no
/// partial apply, and the previous configuration keeps serving.
@Suite("fuzzing the apply API", .serialized)
struct FuzzTests {
    /// SplitMix64: the same seed gives the same run.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    static let oddValues: [Value] = [
        .int(9_223_372_036_854_775_807), .int(-9_223_372_036_854_775_807), .int(4_294_967_296), .int(-1), .int(0),
        .double(1e300), .double(-0.5), .double(Double.greatestFiniteMagnitude), .string(""), .string("10000000000s"), .string("-5s"),
        .string("a..b"), .string(String(repeating: "x", count: 300)), .string("[(*"), .string("default"), .null, .bool(true),
        .array([]), .object([]), .array([.null, .int(1)]), .object([("namespace", "other-student")]),
    ]

    static func mutate(_ value: Value, _ random: inout Random, depth: Int = 0) -> Value {
        switch value {
        case .object(var members) where !members.isEmpty:
            let index = random.below(members.count)
            switch random.below(6) {
            case 0: members.remove(at: index)
            case 1: members[index].1 = oddValues[random.below(oddValues.count)]
            case 2: members[index].0 += ["x", "s", ""][random.below(3)]  // a misspelt field
            case 3: members.append(("unknownField\(random.below(3))", oddValues[random.below(oddValues.count)]))
            default: members[index].1 = mutate(members[index].1, &random, depth: depth + 1)
            }
            return .object(members)
        case .array(var items) where !items.isEmpty:
            let index = random.below(items.count)
            switch random.below(4) {
            case 0: items.remove(at: index)
            case 1: items.append(items[index])
            default: items[index] = mutate(items[index], &random, depth: depth + 1)
            }
            return .array(items)
        default:
            return oddValues[random.below(oddValues.count)]
        }
    }

    static func seeds() throws -> [Value] {
        var files = try FileManager.default.contentsOfDirectory(atPath: MeshFixture.repoRoot + "/bookinfo/networking")
            .filter { $0.hasSuffix(".yaml") }.map { MeshFixture.repoRoot + "/bookinfo/networking/" + $0 }
        let samples = MeshFixture.shared + "/istio-samples/current"
        if let more = try? FileManager.default.contentsOfDirectory(atPath: samples) {
            files += more.filter { $0.hasPrefix("virtual-service") || $0.hasPrefix("destination-rule") }.map { samples + "/" + $0 }
        }
        return try files.sorted().flatMap { try ManifestLoader.load(path: $0).map(\.body) }
    }

    @Test("a seeded run of 2,000 mutated manifests: no 5xx, nothing half applied, the page keeps serving")
    func serialMutatedManifests() async throws {
        let cluster = try await MeshFixture.cluster.value
        try await RunnerTests.withRunner(cluster: cluster, store: MemoryLabStore()) { base, _ in
            let student = try await RunnerTests.register(base, "fuzzer")
            let ingress = try await MeshFixture.bookinfo(student.namespace)
            defer { Task { try? await MeshFixture.cleanUp(student.namespace) } }
            let apply = "\(base)/apis/meshdojo.dev/v1/namespaces/\(student.namespace)/apply"
            let seeds = try Self.seeds()
            var random = Random(state: 20_261_202)
            var statuses: [Int: Int] = [:]
            for round in 0..<2000 {
                var documents: [Value] = []
                for _ in 0..<(1 + random.below(3)) {
                    var document = seeds[random.below(seeds.count)]
                    for _ in 0..<(1 + random.below(3)) { document = Self.mutate(document, &random) }
                    documents.append(document)
                }
                let before = await Self.configuration(cluster, student.namespace)
                let body = documents.map(\.json).joined(separator: "\n---\n")
                let (status, reply) = try await RunnerTests.call(.POST, apply, token: student.token, body: body)
                statuses[status, default: 0] += 1
                #expect(status < 500, "round \(round): \(status) \(reply.json.prefix(300)) for \(body.prefix(300))")
                if status != 200 {
                    let after = await Self.configuration(cluster, student.namespace)
                    #expect(after == before, "round \(round): a refused apply changed the namespace")
                }
                if round % 250 == 249 {
                    // Whatever was accepted, the mesh still answers with a page.
                    _ = try await RunnerTests.call(.POST, apply, token: student.token, body: try String(contentsOfFile: MeshFixture.repoRoot + "/bookinfo/networking/virtual-service-all-v1.yaml", encoding: .utf8))
                    #expect(try await Browser.get(ingress + "/productpage").status == 200, "round \(round)")
                }
            }
            #expect((statuses[200] ?? 0) > 0 && statuses.filter { $0.key != 200 }.values.reduce(0, +) > 0, "both accepted and refused: \(statuses)")
        }
    }

    /// The namespace's objects (kind, name, body), in order.
    static func configuration(_ cluster: LocalCluster, _ namespace: String) async -> [String] {
        var out: [String] = []
        for kind in ["VirtualService", "DestinationRule", "Gateway", "ServiceEntry"] {
            for object in await cluster.objects(kind: kind, namespace: namespace) { out.append(object.body.json) }
        }
        return out
    }
}
