import ArgumentParser
import BookinfoKit
import Foundation
import LabRunner

/// `lab-runner`: the workshop's server (plain-HTTP API and dashboard, and the Kubernetes API over TLS).
@main
struct LabRunnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab-runner",
        abstract: "Run the MeshDojo workshop: namespaces per student, labs, grading, the dashboard and a Kubernetes API for kubectl.")

    @Option(help: "Address the plain-HTTP API and dashboard listen on.") var host = "127.0.0.1"
    @Option(help: "Port of the plain-HTTP API and dashboard (env LAB_RUNNER_PORT).") var port: Int?
    @Option(help: "Port of the Kubernetes API over TLS (env LAB_RUNNER_KUBE_PORT; 0 picks a free port).") var kubePort: Int?
    @Option(help: "Folder for the runner's state (env MESHDOJO_STATE; default ./.state).") var stateDir: String?
    @Option(help: "Folder with the bookinfo executables (default: beside lab-runner).") var binDir: String?
    @Option(help: "PostgreSQL URL of the store (env MESHDOJO_STORE_URL; default SQLite in the state folder).") var storeURL: String?
    @Option(help: "The project folder holding labs/ (env MESHDOJO_HOME; default the current folder).") var home: String?
    @Option(help: "Istio's CRD file, for OpenAPI schemas and printer columns (env MESHDOJO_ISTIO_CRDS).") var istioCRDs: String?
    @Option(help: "Loopback ports for pods and Envoys, LOW-HIGH (env MESHDOJO_PORT_RANGE; default 20000-32000).") var portRange: String?
    @Option(help: "Minutes on one step after which the class grid shows a student as stuck (default 15).") var stuckMinutes: Int?
    @Option(help: "Where students' namespaces live: local (the embedded engine) or kubernetes (a real cluster with Istio).") var backend: BackendName = .local
    @Option(help: "kubernetes backend: the kubeconfig file (default: the pod's service account).") var kubeconfig: String?
    @Option(help: "kubernetes backend: the kubeconfig context (default: its current context).") var context: String?
    @Option(help: "kubernetes backend: the address of a node, for gateways reached by nodePort (no load balancer; env MESHDOJO_NODE_ADDRESS).") var nodeAddress: String?
    @Option(help: "kubernetes backend: the workshop's name, labelled on its namespaces (env MESHDOJO_WORKSHOP; default meshdojo).") var workshop: String?
    @Option(help: "kubernetes backend: the API server URL students' kubeconfigs name (env MESHDOJO_STUDENT_API_SERVER; default: the runner's own).") var studentAPIServer: String?
    @Option(help: "kubernetes backend: the PEM file of that API server's certificate authority (env MESHDOJO_STUDENT_API_CA).") var studentAPICA: String?

    enum BackendName: String, ExpressibleByArgument, CaseIterable {
        case local, kubernetes
    }

    func validate() throws {
        for (name, value) in [("--port", port), ("--kube-port", kubePort)] {
            if let value, !(0...65535).contains(value) { throw ValidationError("\(name) must be a port number (0-65535), not \(value)") }
        }
        if backend == .local {
            for (name, value) in [("--kubeconfig", kubeconfig), ("--context", context), ("--node-address", nodeAddress), ("--workshop", workshop), ("--student-api-server", studentAPIServer), ("--student-api-ca", studentAPICA)]
            where value != nil {
                throw ValidationError("\(name) is for --backend kubernetes")
            }
        }
        if let workshop { try Self.checkWorkshop(workshop, from: "--workshop") }
        if let stuckMinutes, !(1...24 * 60).contains(stuckMinutes) {
            throw ValidationError("--stuck-minutes must be between 1 and 1440, not \(stuckMinutes)")
        }
        if let portRange, LabRunnerApp.Options.parseRange(portRange) == nil {
            throw ValidationError("--port-range must be LOW-HIGH with 1024 < LOW < HIGH <= 65535, not \(portRange)")
        }
    }

    /// A workshop name is a label value: at most 63 lower-case ASCII letters, digits and '-'.
    static func checkWorkshop(_ name: String, from source: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        guard !name.isEmpty, name.count <= 63, name.allSatisfy(allowed.contains) else {
            throw ValidationError("\(source) must be a label value: at most 63 lower-case letters, digits and '-', not \(name)")
        }
    }

    func run() async throws {
        let environment = BookinfoEnvironment()
        BookinfoServer.bootstrapLogging(environment)
        var options = LabRunnerApp.Options.defaults(arguments: CommandLine.arguments, environment: environment.values)
        options.host = host
        if let port { options.port = port }
        if let kubePort { options.kubePort = kubePort }
        if let stateDir { options.stateDirectory = stateDir }
        if let binDir { options.binDirectory = binDir }
        if let storeURL { options.storeURL = storeURL }
        if let home { options.home = home }
        if let istioCRDs { options.istioCRDs = istioCRDs }
        if let portRange, let range = LabRunnerApp.Options.parseRange(portRange) { options.portRange = range }
        if let stuckMinutes { options.stuckAfter = TimeInterval(stuckMinutes * 60) }
        if backend == .kubernetes {
            var kubernetes = LabRunnerApp.Options.KubernetesOptions(
                kubeconfig: kubeconfig, context: context, nodeAddress: nodeAddress ?? environment.values["MESHDOJO_NODE_ADDRESS"])
            if let workshop { kubernetes.workshop = workshop } else if let named = environment.values["MESHDOJO_WORKSHOP"] {
                try Self.checkWorkshop(named, from: "MESHDOJO_WORKSHOP")
                kubernetes.workshop = named
            }
            kubernetes.studentAPIServer = studentAPIServer ?? environment.values["MESHDOJO_STUDENT_API_SERVER"]
            if let path = studentAPICA ?? environment.values["MESHDOJO_STUDENT_API_CA"] {
                do {
                    kubernetes.studentCertificateAuthorityPEM = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
                } catch {
                    throw ValidationError("--student-api-ca: cannot read \(path): \(error.localizedDescription)")
                }
            }
            if kubernetes.studentCertificateAuthorityPEM != nil, kubernetes.studentAPIServer == nil {
                throw ValidationError("--student-api-ca goes with --student-api-server")
            }
            options.backend = .kubernetes(kubernetes)
        }
        try await LabRunnerApp.run(options)
    }
}
