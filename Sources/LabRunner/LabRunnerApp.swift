import BookinfoKit
import Foundation
import Hummingbird
import LocalCluster
import Logging

/// Starting the lab-runner: the engine, its stored namespaces, and the API on loopback.
public enum LabRunnerApp {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var stateDirectory: String
        public var binDirectory: String
        public var envoyBinary: String?

        public init(stateDirectory: String, binDirectory: String) {
            self.stateDirectory = stateDirectory
            self.binDirectory = binDirectory
        }

        /// From `--port`, `--host`, `--state-dir`, `--bin-dir` and the environment
        /// (`LAB_RUNNER_PORT`, `MESHDOJO_STATE`, `MESHDOJO_ENVOY`).
        public static func parse(_ arguments: [String], environment: [String: String]) -> Options {
            let executable = URL(fileURLWithPath: arguments.first ?? "lab-runner").resolvingSymlinksInPath()
            var options = Options(
                stateDirectory: environment["MESHDOJO_STATE"] ?? FileManager.default.currentDirectoryPath + "/.state",
                binDirectory: executable.deletingLastPathComponent().path)
            options.port = environment["LAB_RUNNER_PORT"].flatMap { Int($0) } ?? options.port
            var index = 1
            while index < arguments.count {
                let value = index + 1 < arguments.count ? arguments[index + 1] : ""
                switch arguments[index] {
                case "--port": options.port = Int(value) ?? options.port
                case "--host": options.host = value
                case "--state-dir": options.stateDirectory = value
                case "--bin-dir": options.binDirectory = value
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
        let metrics = MetricsRegistry()
        let api = ResourceAPI(cluster: cluster, onShutdown: { kill(getpid(), SIGTERM) })
        let app = BookinfoServer.application(name: "lab-runner", handler: api, metrics: metrics, host: options.host, port: options.port)
        do {
            try await app.runService()
        } catch {
            await cluster.shutdown()
            throw error
        }
        await cluster.shutdown()
    }
}
