import BookinfoKit
import Foundation
import Hummingbird
import LocalCluster
import Labs
import LabStore
import Logging

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

        /// From `--port`, `--host`, `--state-dir`, `--bin-dir` and the environment
        /// (`LAB_RUNNER_PORT`, `MESHDOJO_STATE`, `MESHDOJO_ENVOY`).
        public static func parse(_ arguments: [String], environment: [String: String]) -> Options {
            let executable = URL(fileURLWithPath: arguments.first ?? "lab-runner").resolvingSymlinksInPath()
            var options = Options(
                stateDirectory: environment["MESHDOJO_STATE"] ?? FileManager.default.currentDirectoryPath + "/.state",
                binDirectory: executable.deletingLastPathComponent().path)
            options.home = environment["MESHDOJO_HOME"] ?? FileManager.default.currentDirectoryPath
            options.storeURL = environment["MESHDOJO_STORE_URL"]
            options.port = environment["LAB_RUNNER_PORT"].flatMap { Int($0) } ?? options.port
            var index = 1
            while index < arguments.count {
                let value = index + 1 < arguments.count ? arguments[index + 1] : ""
                switch arguments[index] {
                case "--port": options.port = Int(value) ?? options.port
                case "--host": options.host = value
                case "--state-dir": options.stateDirectory = value
                case "--bin-dir": options.binDirectory = value
                case "--store-url": options.storeURL = value
                case "--home": options.home = value
                default: break
                }
                index += 2
            }
            options.envoyBinary = environment["MESHDOJO_ENVOY"]
            return options
        }
    }

    /// Runs until SIGTERM/SIGINT or `POST /apis/meshdojo.dev/v1/shutdown`, then stops every process.
    public static func run(_ options: Options) async throws {
        var logger = Logger(label: "lab-runner")
        logger.logLevel = .info
        let envoy = try options.envoyBinary ?? EnvoyLocator.find()
        let cluster = try LocalCluster(
            configuration: .init(stateDirectory: options.stateDirectory, binDirectory: options.binDirectory, envoyBinary: envoy),
            logger: logger)
        try await cluster.restore()
        let store = try await LabStores.open(url: options.storeURL, sqlitePath: options.stateDirectory + "/meshdojo.sqlite", logger: logger)
        let labs = try LabCatalog.load(directory: options.home + "/labs")
        let workshop = Workshop(
            cluster: cluster, store: store, labs: labs, eventCode: try secret("event-code", options, length: 3),
            instructorToken: try secret("instructor-token", options, length: 32), logger: logger)
        try await workshop.adoptStudents()
        let metrics = MetricsRegistry()
        let resources = ResourceAPI(cluster: cluster, onShutdown: { kill(getpid(), SIGTERM) })
        let api = WorkshopAPI(workshop: workshop, resources: resources)
        let app = BookinfoServer.application(name: "lab-runner", handler: api, metrics: metrics, host: options.host, port: options.port)
        logger.info("workshop ready", metadata: ["lab.labs": "\(labs.count)", "lab.state": "\(options.stateDirectory)"])
        do {
            try await app.runService()
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
        await store.close()
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
