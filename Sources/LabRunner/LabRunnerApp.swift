import BookinfoKit
import Foundation
import Hummingbird
import LocalCluster
import Labs
import LabStore
import KubeAPI
import KubernetesBackend
import Logging
import MeshModel
import NIOSSL
import HummingbirdTLS
import ServiceLifecycle
import Synchronization

/// Starting the lab-runner: the engine, its stored namespaces, and the API on loopback.
public enum LabRunnerApp {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var stateDirectory: String
        public var binDirectory: String
        public var envoyBinary: String?
        /// PostgreSQL URL for the store; nil keeps it in SQLite (`<state>/meshdojo.sqlite`).
        public var storeURL: String?
        /// The folder holding `labs/`.
        public var home: String

        public init(stateDirectory: String, binDirectory: String, home: String = FileManager.default.currentDirectoryPath) {
            self.stateDirectory = stateDirectory
            self.binDirectory = binDirectory
            self.home = home
        }

        /// Port of the Kubernetes API over TLS (0: any free port).
        public var kubePort = 8443
        /// The loopback ports the engine gives pods and Envoys.
        public var portRange = 20000...32000
        /// Istio's CRD file (schemas and printer columns); nil: `<home>/../shared/istio-crds/networking.yaml` when present.
        public var istioCRDs: String?
        /// Where the students' namespaces live.
        public var backend: Backend = .local
        /// How long a student may stay on one step before the class grid shows them as stuck.
        public var stuckAfter: TimeInterval = 15 * 60

        public enum Backend: Sendable, Equatable {
            /// The embedded engine on this machine (the default).
            case local
            /// A real Kubernetes + Istio cluster.
            case kubernetes(KubernetesOptions)
        }

        public struct KubernetesOptions: Sendable, Equatable {
            /// A kubeconfig file; nil: the pod's service account (in-cluster).
            public var kubeconfig: String?
            public var context: String?
            /// Where nodePorts are reached when gateways get no load-balancer address.
            public var nodeAddress: String?
            /// The workshop's name, in every namespace's `meshdojo.dev/workshop` label.
            public var workshop = "meshdojo"
            /// The API server URL students reach, when not the one the runner uses (in a pod).
            public var studentAPIServer: String?
            /// That server's certificate authority (PEM), for the students' kubeconfigs.
            public var studentCertificateAuthorityPEM: [UInt8]?
            /// How long provisioning waits for a student's pods.
            public var readyTimeout: Duration = .seconds(300)

            public init(kubeconfig: String? = nil, context: String? = nil, nodeAddress: String? = nil) {
                self.kubeconfig = kubeconfig
                self.context = context
                self.nodeAddress = nodeAddress
            }
        }

        /// The defaults, from the environment (`LAB_RUNNER_PORT`, `LAB_RUNNER_KUBE_PORT`,
        /// `MESHDOJO_STATE`, `MESHDOJO_HOME`, `MESHDOJO_STORE_URL`, `MESHDOJO_ENVOY`,
        /// `MESHDOJO_ISTIO_CRDS`) and where the executable is.
        public static func defaults(arguments: [String], environment: [String: String]) -> Options {
            let executable = URL(fileURLWithPath: arguments.first ?? "lab-runner").resolvingSymlinksInPath()
            var options = Options(
                stateDirectory: environment["MESHDOJO_STATE"] ?? FileManager.default.currentDirectoryPath + "/.state",
                binDirectory: executable.deletingLastPathComponent().path)
            options.home = environment["MESHDOJO_HOME"] ?? FileManager.default.currentDirectoryPath
            options.storeURL = environment["MESHDOJO_STORE_URL"]
            options.port = environment["LAB_RUNNER_PORT"].flatMap { Int($0) } ?? options.port
            options.kubePort = environment["LAB_RUNNER_KUBE_PORT"].flatMap { Int($0) } ?? options.kubePort
            options.envoyBinary = environment["MESHDOJO_ENVOY"]
            options.istioCRDs = environment["MESHDOJO_ISTIO_CRDS"]
            if let range = environment["MESHDOJO_PORT_RANGE"].flatMap(parseRange) { options.portRange = range }
            return options
        }

        /// `20000-24999`.
        public static func parseRange(_ text: String) -> ClosedRange<Int>? {
            let parts = text.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 2, parts[0] > 1024, parts[0] < parts[1], parts[1] <= 65535 else { return nil }
            return parts[0]...parts[1]
        }
    }

    /// Runs until SIGTERM/SIGINT or `POST /apis/meshdojo.dev/v1/shutdown`, then stops every process.
    public static func run(_ options: Options) async throws {
        let logger = {
            var logger = Logger(label: "lab-runner")
            logger.logLevel = .info
            return logger
        }()
        switch options.backend {
        case .local:
            try await runLocal(options, logger: logger)
        case .kubernetes(let kubernetes):
            try await runOnCluster(options, kubernetes, logger: logger)
        }
    }

    /// The embedded engine, its Kubernetes API over TLS, and the workshop API.
    static func runLocal(_ options: Options, logger: Logger) async throws {
        let envoy = try options.envoyBinary ?? EnvoyLocator.find()
        let cluster = try LocalCluster(
            configuration: .init(
                stateDirectory: options.stateDirectory, binDirectory: options.binDirectory, envoyBinary: envoy,
                ports: PortAllocator(range: options.portRange)),
            logger: logger)
        // The engine's background jobs run beside everything else; its shutdown (whatever ends
        // the runner) stops its processes and ends them.
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await cluster.supervisor.run() }
            do {
                try await cluster.restore()
                try await serveLocal(cluster, options, logger: logger)
            } catch {
                await cluster.shutdown()
                throw error
            }
            await cluster.shutdown()
        }
    }

    static func serveLocal(_ cluster: LocalCluster, _ options: Options, logger: Logger) async throws {
        let store = try await LabStores.open(url: options.storeURL, sqlitePath: options.stateDirectory + "/meshdojo.sqlite", logger: logger)
        do {
            let workshop = try await openWorkshop(options, backend: cluster, store: store, logger: logger)
            let certificates = try ServingCertificates.loadOrCreate(directory: options.stateDirectory + "/tls", hosts: ["localhost", "127.0.0.1", "::1", options.host])
            let crds = try loadCRDs(options, logger: logger)
            let kubeAddress = BoundAddress()
            let kube = KubeServer(cluster: cluster, workshop: workshop, crds: crds, address: kubeAddress)
            let metrics = MetricsRegistry()
            let resources = ResourceAPI(backend: cluster, onShutdown: { kill(getpid(), SIGTERM) })
            let api = WorkshopAPI(workshop: workshop, resources: resources, kube: kube, kubeAddress: kubeAddress, caPEM: certificates.caPEM)
            // Not on the event loops: the workshop API writes files and starts processes while it answers.
            let app = BookinfoServer.application(
                name: "lab-runner", handler: api, metrics: metrics, host: options.host, port: options.port, onEventLoops: false)
            let tls = try TLSConfiguration.makeServerConfiguration(
                certificateChain: NIOSSLCertificate.fromPEMBytes(Array(certificates.certificatePEM.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certificates.keyPEM.utf8), format: .pem)))
            let kubeApp = Application(
                responder: InstrumentedResponder(handler: kube, metrics: metrics), server: try .tls(.http1(), tlsConfiguration: tls),
                configuration: .init(address: .hostname(options.host, port: options.kubePort), serverName: nil, backlog: 256),
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? options.kubePort
                    kubeAddress.set(host: options.host, port: port)
                    do {
                        try String(port).write(toFile: options.stateDirectory + "/kube-port", atomically: true, encoding: .utf8)
                    } catch {
                        logger.error("cannot record the Kubernetes API port", metadata: ["lab.error": "\(error)"])
                    }
                    logger.info("Kubernetes API listening", metadata: ["lab.kube": "https://\(options.host):\(port)"])
                },
                logger: logger)
            logger.info("workshop ready", metadata: ["lab.backend": "local", "lab.labs": "\(workshop.labs.count)", "lab.state": "\(options.stateDirectory)"])
            // The engine stands first, so it is told last: it stops its processes once the API
            // servers have finished their requests.
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: cluster), .init(service: app), .init(service: kubeApp), .init(service: WatchCloser(hub: cluster.hub))],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// A real cluster: students' namespaces there, the workshop API here. The cluster's own API
    /// server serves kubectl, so the runner serves none.
    static func runOnCluster(_ options: Options, _ kubernetes: Options.KubernetesOptions, logger: Logger) async throws {
        let config = try KubeConfig.resolve(kubeconfig: kubernetes.kubeconfig, context: kubernetes.context)
        var configuration = KubernetesBackend.Configuration(workshop: kubernetes.workshop, nodeAddress: kubernetes.nodeAddress)
        configuration.studentAPIServer = kubernetes.studentAPIServer
        configuration.studentCertificateAuthorityPEM = kubernetes.studentCertificateAuthorityPEM
        configuration.readyTimeout = kubernetes.readyTimeout
        let backend = KubernetesBackend(client: try KubeClient(config: config, logger: logger), configuration: configuration, logger: logger)
        switch try await backend.gatewayScoping() {
        case .scoped:
            logger.info("istiod scopes gateways to their namespace (PILOT_SCOPE_GATEWAY_TO_NAMESPACE=true)")
        case .notScoped:
            logger.warning(
                "istiod runs without PILOT_SCOPE_GATEWAY_TO_NAMESPACE=true: every student's Gateway with hosts [\"*\"] selects every student's gateway pods; set it (docs/instructor-guide.md, real cluster)")
        case .unknown(let reason):
            logger.notice("cannot tell whether istiod scopes gateways to their namespace", metadata: ["lab.reason": "\(reason)"])
        }
        let workloads = try ManifestLoader.load(path: options.home + "/bookinfo/platform/kube/bookinfo.yaml").map { $0.body }
        let cluster = KubernetesClusterBackend(backend: backend, workloads: workloads, logger: logger)
        try FileManager.default.createDirectory(atPath: options.stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store = try await LabStores.open(url: options.storeURL, sqlitePath: options.stateDirectory + "/meshdojo.sqlite", logger: logger)
        do {
            let workshop = try await openWorkshop(options, backend: cluster, store: store, logger: logger)
            let known = Set(try await store.students().map(\.namespace))
            for student in try await backend.students() where !known.contains(student.namespace) {
                logger.warning(
                    "a namespace of this workshop belongs to no registered student (left as it is; delete it with kubectl when it is not needed)",
                    metadata: ["lab.namespace": "\(student.namespace)", "lab.student": "\(student.studentName)"])
            }
            let resources = ResourceAPI(backend: cluster, onShutdown: { kill(getpid(), SIGTERM) })
            let api = WorkshopAPI(workshop: workshop, resources: resources, kube: nil)
            let app = BookinfoServer.application(
                name: "lab-runner", handler: api, metrics: MetricsRegistry(), host: options.host, port: options.port, onEventLoops: false)
            logger.info("workshop ready", metadata: ["lab.backend": "kubernetes", "lab.cluster": "\(config.server)", "lab.labs": "\(workshop.labs.count)"])
            let group = ServiceGroup(configuration: .init(services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// The workshop over a backend: labs, secrets, and every registered student's namespace
    /// checked (recreated where it is missing).
    static func openWorkshop(_ options: Options, backend: any ClusterBackend, store: any LabStore, logger: Logger) async throws -> Workshop {
        let labs = try LabCatalog.load(directory: options.home + "/labs")
        let workshop = Workshop(
            backend: backend, store: store, labs: labs, eventCode: try secret("event-code", options, length: 3),
            instructorToken: try secret("instructor-token", options, length: 32), stuckAfter: options.stuckAfter, logger: logger)
        try await workshop.adoptStudents()
        return workshop
    }

    /// Istio's CRDs from `--istio-crds`, else from `<home>/../shared/istio-crds/networking.yaml`
    /// when that exists; without them the Istio kinds are served with open schemas.
    static func loadCRDs(_ options: Options, logger: Logger) throws -> CRDCatalog {
        let fallback = URL(fileURLWithPath: options.home).deletingLastPathComponent().appendingPathComponent("shared/istio-crds/networking.yaml").path
        guard let path = options.istioCRDs ?? (FileManager.default.fileExists(atPath: fallback) ? fallback : nil) else {
            logger.notice("no Istio CRD file: kubectl explain shows short descriptions of the Istio kinds (give --istio-crds PATH)")
            return .empty
        }
        return try CRDCatalog.load(path: path)
    }

    /// A secret kept in the state folder (mode 0600), created on first start; the environment
    /// (`MESHDOJO_INSTRUCTOR_TOKEN`, `MESHDOJO_EVENT_CODE`) wins.
    static func secret(_ name: String, _ options: Options, length: Int) throws -> String {
        let variable = "MESHDOJO_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
        if let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty { return value }
        let path = options.stateDirectory + "/" + name
        if let value = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
            return value
        }
        try FileManager.default.createDirectory(atPath: options.stateDirectory, withIntermediateDirectories: true)
        let value = String(Tokens.generate().prefix(length * 2))
        FileManager.default.createFile(atPath: path, contents: Data(value.utf8), attributes: [.posixPermissions: 0o600])
        return value
    }
}

/// Where the Kubernetes API listens, known once its server is running (port 0 picks one).
public final class BoundAddress: Sendable {
    let value = Mutex<(host: String, port: Int)?>(nil)

    public init() {}

    func set(host: String, port: Int) {
        value.withLock { $0 = (host, port) }
    }

    /// `127.0.0.1:8443`.
    public var hostPort: String? {
        value.withLock { address in address.map { $0.host.contains(":") ? "[\($0.host)]:\($0.port)" : "\($0.host):\($0.port)" } }
    }
}

/// Ends every open watch when the runner shuts down. It stands last in the service group, so it
/// is told first: the API servers then have no endless responses left to wait for.
struct WatchCloser: Service {
    let hub: WatchHub

    func run() async throws {
        try? await gracefulShutdown()
        hub.finishAll()
    }
}
