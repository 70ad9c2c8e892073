import Foundation
import KubernetesBackend
import MeshModel
import Testing

/// Finding and running the command-line tools the manifest checks use.
enum Tools {
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func has(_ name: String) -> Bool { find(name) != nil }

    /// Runs a tool in the package root; returns its exit status and output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// The shared reference folder beside the package (`../shared`).
    static let shared = URL(fileURLWithPath: packageRoot).deletingLastPathComponent().appendingPathComponent("shared").path
    static let istioCRDs = shared + "/istio-crds/networking.yaml"
    static var hasIstioCRDs: Bool { FileManager.default.fileExists(atPath: istioCRDs) }
    /// kubectl with kustomize v5 or later (the overlays use `labels` and inline patches).
    static var hasKustomize5: Bool {
        guard has("kubectl"), let output = try? run(["kubectl", "version", "--client"]).output,
              let range = output.range(of: "Kustomize Version: v")
        else { return false }
        return Int(output[range.upperBound...].prefix { $0.isNumber }).map { $0 >= 5 } ?? false
    }
    static var hasJSONSchema: Bool { (try? run(["python3", "-c", "import jsonschema, yaml"]).status) == 0 }
}

/// The YAML files under a folder of the package, relative to the package root, sorted.
func yamlFiles(_ folder: String) -> [String] {
    let enumerator = FileManager.default.enumerator(atPath: packageRoot + "/" + folder)
    var files: [String] = []
    while let path = enumerator?.nextObject() as? String {
        if path.hasSuffix(".yaml") { files.append(folder + "/" + path) }
    }
    return files.sorted()
}

@Suite("the lab-runner's own manifests and image")
struct ManifestTests {
    static let folder = "manifests/lab-runner"
    static let kubernetesVersions = ["1.27.0", "1.33.0"]

    static func objects(_ file: String) throws -> [Value] {
        try ManifestLoader.documents(String(contentsOfFile: packageRoot + "/" + file, encoding: .utf8), file: file)
    }

    @Test("the ClusterRole grants exactly the least-privilege table, and nothing else")
    func clusterRoleMatchesTable() throws {
        let roles = try Self.objects(Self.folder + "/base/clusterrole.yaml").filter { $0["kind"] == "ClusterRole" }
        #expect(roles.count == 1)
        let rules = try #require(roles.first?["rules"]?.arrayValue)
        var granted: Set<Permission> = []
        for rule in rules {
            #expect(rule["resourceNames"] == nil && rule["nonResourceURLs"] == nil, "a rule narrower or wider than the table: \(rule.json)")
            for group in rule["apiGroups"]?.arrayValue ?? [] {
                for resource in rule["resources"]?.arrayValue ?? [] {
                    for verb in rule["verbs"]?.arrayValue ?? [] {
                        granted.insert(Permission(
                            apiGroup: group.stringValue ?? "?", resource: resource.stringValue ?? "?", verb: verb.stringValue ?? "?"))
                    }
                }
            }
        }
        #expect(!granted.contains { $0.apiGroup == "*" || $0.resource == "*" || $0.verb == "*" })
        let table = LeastPrivilege.permissions
        #expect(granted.subtracting(table).isEmpty, "the ClusterRole grants more than the table: \(granted.subtracting(table).sorted())")
        #expect(table.subtracting(granted).isEmpty, "the ClusterRole lacks: \(table.subtracting(granted).sorted())")
    }

    @Test("the runner runs the Kubernetes backend as the service account the ClusterRoleBinding binds")
    func bindingAndDeployment() throws {
        let binding = try #require(try Self.objects(Self.folder + "/base/clusterrolebinding.yaml").first)
        #expect(binding["roleRef"]?["name"] == "meshdojo-lab-runner")
        let subject = try #require(binding["subjects"]?.arrayValue?.first)
        #expect(subject["kind"] == "ServiceAccount" && subject["name"] == "lab-runner" && subject["namespace"] == "meshdojo")
        let deployment = try #require(try Self.objects(Self.folder + "/base/deployment.yaml").first)
        let pod = try #require(deployment["spec"]?["template"]?["spec"])
        #expect(pod["serviceAccountName"] == "lab-runner")
        let container = try #require(pod["containers"]?.arrayValue?.first)
        let arguments = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(arguments.starts(with: ["--backend", "kubernetes"]))
        #expect(!arguments.contains("--kubeconfig"), "in the cluster the runner uses its service account")
        let env = container["env"]?.arrayValue ?? []
        let store = env.first { $0["name"] == "MESHDOJO_STORE_URL" }
        #expect(store?["valueFrom"]?["secretKeyRef"]?["name"] == "lab-runner")
    }

    static var validatable: [String] {
        yamlFiles(folder).filter { !$0.hasSuffix("kustomization.yaml") }
    }

    @Test(
        "every manifest passes kubernetes-validate --strict for Kubernetes 1.27 and 1.33, and so do the kustomize builds and the student objects",
        .enabled(if: Tools.has("kubernetes-validate"), "kubernetes-validate is not installed (pip install kubernetes-validate; scripts/test does)"))
    func kubernetesValidate() throws {
        var files = Self.validatable
        #expect(files.count >= 8)
        // The overlays as kubectl would apply them, when a kubectl with kustomize v5 (kubectl 1.27
        // and later) is here to build them; Debian's kubernetes-client 1.20 carries kustomize v2.
        if Tools.hasKustomize5 {
            let directory = try temporaryDirectory()
            for overlay in ["postgres", "sqlite"] {
                let (status, output) = try Tools.run(["kubectl", "kustomize", Self.folder + "/overlays/" + overlay])
                #expect(status == 0, "kubectl kustomize \(overlay): \(output)")
                let path = directory + "/\(overlay).yaml"
                try output.write(toFile: path, atomically: true, encoding: .utf8)
                files.append(path)
            }
        }
        // What the backend creates for a student, as the golden files pin it.
        let golden = try FileManager.default.contentsOfDirectory(atPath: resource("golden")).filter { $0.hasSuffix(".json") }.sorted()
        #expect(!golden.isEmpty)
        files += golden.map { resource("golden/" + $0) }
        for version in Self.kubernetesVersions {
            let (status, output) = try Tools.run(["kubernetes-validate", "--strict", "--quiet", "-k", version] + files)
            #expect(status == 0, "Kubernetes \(version): \(output)")
            let unknown = output.split(separator: "\n").filter {
                $0.contains("Couldn't find schema") && !$0.contains("networking.istio.io") && !$0.contains("Kustomization")
            }
            #expect(unknown.isEmpty, "objects kubernetes-validate did not check: \(unknown)")
        }
    }

    @Test(
        "the Istio objects validate against Istio's CRD schemas in ../shared/istio-crds",
        .enabled(if: Tools.hasIstioCRDs, "../shared/istio-crds/networking.yaml is not beside the package"),
        .enabled(if: Tools.hasJSONSchema, "python3 with jsonschema and PyYAML is not installed (kubernetes-validate brings them)"))
    func istioSchemas() throws {
        let (status, output) = try Tools.run(["python3", resource("validate-istio.py"), Tools.istioCRDs] + Self.validatable)
        #expect(status == 0, "\(output)")
        #expect(output.contains("validated 2 Istio objects"), "\(output)")
    }

    @Test("the manifests pass yamllint", .enabled(if: Tools.has("yamllint"), "yamllint is not installed (apt-get install yamllint; scripts/test does)"))
    func yamllint() throws {
        let (status, output) = try Tools.run(["yamllint", "-c", ".yamllint", Self.folder])
        #expect(status == 0, "\(output)")
    }

    @Test("the lab-runner image builds lab-runner and labctl with a static Swift runtime and carries the labs and bookinfo")
    func dockerfile() throws {
        let text = try String(contentsOfFile: packageRoot + "/Dockerfiles/lab-runner.Dockerfile", encoding: .utf8)
        #expect(text.contains("--product lab-runner") && text.contains("--product labctl"))
        #expect(text.contains("--static-swift-stdlib"))
        #expect(text.contains("COPY labs ") && text.contains("COPY bookinfo "))
        #expect(text.contains("FROM ${RUNTIME_IMAGE}") && text.contains("debian:bookworm-slim"))
        let deployment = try #require(try Self.objects(Self.folder + "/base/deployment.yaml").first)
        let image = deployment["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["image"]?.stringValue
        #expect(image == "meshdojo/lab-runner:0.1.0")
        #expect(text.contains("meshdojo/lab-runner:0.1.0"))
    }
}
