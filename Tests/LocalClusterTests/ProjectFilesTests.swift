import Foundation
import LocalCluster
import MeshModel
import Testing

/// The deployable files, checked offline: manifests lint and validate, Dockerfiles build products
/// that exist, every image a manifest names has a Dockerfile, and bookinfo.yaml mirrors Istio's.
@Suite("project files")
struct ProjectFilesTests {
    static let root = MeshFixture.repoRoot

    /// Runs a tool; returns its exit status and output.
    static func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    static func yamlFiles(_ folder: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: root + "/" + folder)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix(".yaml") { files.append(folder + "/" + path) }
        }
        return files.sorted()
    }

    @Test("every manifest and lab file passes yamllint")
    func yamllint() throws {
        let folders = ["bookinfo", "manifests", "labs"].filter { FileManager.default.fileExists(atPath: Self.root + "/" + $0) }
        let (status, output) = try Self.run(["yamllint", "-c", ".yamllint"] + folders)
        #expect(status == 0, "\(output)")
    }

    @Test("the Kubernetes manifests validate strictly against the Kubernetes schemas")
    func kubernetesValidate() throws {
        let files = Self.yamlFiles("bookinfo/platform").filter { !$0.hasSuffix("kustomization.yaml") }
        #expect(files.count >= 2)
        let (status, output) = try Self.run(["kubernetes-validate", "--strict", "--quiet"] + files)
        #expect(status == 0, "\(output)")
    }

    @Test("each Dockerfile builds an executable product of the package, and each image a manifest names has a Dockerfile")
    func dockerfilesAndImages() throws {
        let package = try String(contentsOfFile: Self.root + "/Package.swift", encoding: .utf8)
        let dockerfiles = try FileManager.default.contentsOfDirectory(atPath: Self.root + "/Dockerfiles").filter { $0.hasSuffix(".Dockerfile") }
        #expect(!dockerfiles.isEmpty)
        for file in dockerfiles {
            let text = try String(contentsOfFile: Self.root + "/Dockerfiles/" + file, encoding: .utf8)
            let products = text.components(separatedBy: "--product ").dropFirst().map { String($0.prefix { !$0.isWhitespace }) }
            #expect(!products.isEmpty, "\(file) names no product")
            for product in products {
                #expect(package.contains(".executable(name: \"\(product)\""), "\(file) builds \(product), which Package.swift does not declare")
            }
        }
        var images: Set<String> = []
        let manifests = (Self.yamlFiles("bookinfo/platform") + Self.yamlFiles("manifests") + Self.yamlFiles("labs")).filter {
            !$0.hasSuffix("kustomization.yaml") && !$0.hasSuffix("lab.yaml") && !$0.hasSuffix("expect.yaml")
        }
        for file in manifests {
            for object in try ManifestLoader.load(path: Self.root + "/" + file) where object.kind == "Deployment" {
                for container in object.body["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? [] {
                    if let image = container["image"]?.stringValue { images.insert(image) }
                }
            }
        }
        let ours = images.filter { $0.hasPrefix("meshdojo/") }
        #expect(ours.count >= 4)
        for image in ours {
            let name = String(image.dropFirst("meshdojo/".count).prefix { $0 != ":" })
            #expect(dockerfiles.contains("\(name).Dockerfile"), "no Dockerfile for \(image)")
        }
    }

    @Test("every setting bookinfo/README documents reaches a pod of the embedded engine, or is one the engine sets or refuses on purpose")
    func documentedSettingsReachPods() throws {
        let readme = try String(contentsOfFile: Self.root + "/bookinfo/README.md", encoding: .utf8)
        let documented = Set(readme.matches(of: /`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`/).map { String($0.output.1) })
        #expect(documented.count >= 20, "found only \(documented.sorted()) in bookinfo/README.md")
        // Documented, yet not a pod's to set, on purpose: the engine sets these itself for every pod
        // (HOSTNAME has no underscore, so the pattern above does not see it) …
        let setByEngine: Set<String> = ["LISTEN_HOST", "HTTP_PROXY"]
        // … and these name folders on the runner's machine.
        let runnerFolders: Set<String> = ["PRODUCTPAGE_BOOTSTRAP_DIR", "PRODUCTPAGE_JQUERY_DIR"]
        let missing = documented.subtracting(LocalCluster.allowedEnvironment).subtracting(setByEngine).subtracting(runnerFolders)
        #expect(missing.isEmpty, "bookinfo/README.md documents \(missing.sorted()), which a Deployment on the embedded engine may not set")
        #expect(setByEngine.union(runnerFolders).isDisjoint(with: LocalCluster.allowedEnvironment))
        let neverDocumented = setByEngine.union(runnerFolders).subtracting(documented)
        #expect(neverDocumented.isEmpty, "\(neverDocumented.sorted()) are listed here as refused on purpose but bookinfo/README.md does not mention them")
    }

    @Test("bookinfo.yaml has the same Services, Deployments, labels and ports as Istio's")
    func bookinfoMirrorsIstio() throws {
        func summary(_ objects: [KubeObject]) -> Set<String> {
            Set(objects.compactMap { object -> String? in
                switch object.kind {
                case "Service":
                    let ports = object.spec["ports"]?.arrayValue?.compactMap { $0["port"].map(\.json) } ?? []
                    return "Service/\(object.metadata.name) app=\(object.metadata.labels["app"] ?? "") ports=\(ports)"
                case "Deployment":
                    let labels = object.spec["template"]?["metadata"]?["labels"]
                    return "Deployment/\(object.metadata.name) app=\(labels?["app"]?.stringValue ?? "") version=\(labels?["version"]?.stringValue ?? "")"
                case "ServiceAccount":
                    return "ServiceAccount/\(object.metadata.name)"
                default:
                    return nil
                }
            })
        }
        let ours = summary(try ManifestLoader.load(path: Self.root + "/bookinfo/platform/kube/bookinfo.yaml"))
        let istio = summary(try ManifestLoader.load(path: MeshFixture.shared + "/istio-samples/current/bookinfo.yaml"))
        #expect(ours == istio, "only ours: \(ours.subtracting(istio)); only Istio's: \(istio.subtracting(ours))")
    }
}
