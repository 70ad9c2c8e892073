import AsyncHTTPClient
import EnvoyConfig
import Foundation
import Logging
import NIOCore

/// One namespace's Envoy: its folder (bootstrap and `xds/*.json`), its process, and the
/// apply-and-confirm protocol.
///
/// Files are replaced by `rename(2)` (Envoy ignores in-place writes) in dependency order
/// (clusters, then routes, then listeners); ``apply(_:)`` returns once Envoy's admin API reports
/// the new version for every subscription, or throws with Envoy's reason when it rejected the
/// files, in which case the previous files are put back and the previous configuration keeps serving.
public actor EnvoyProcess {
    public let directory: String
    /// The admin interface's Unix socket.
    public let adminSocket: String
    let process: SupervisedProcess
    let logger: Logger
    public private(set) var version = 0
    var lastGood: EnvoyResources

    /// - Parameters:
    ///   - binary: the Envoy executable.
    ///   - directory: the namespace's Envoy folder (created).
    ///   - nodeID: the node id Envoy reports.
    ///   - adminSocket: the admin API's Unix socket (in a folder only the runner can read).
    public init(binary: String, directory: String, nodeID: String, adminSocket: String, initial: EnvoyResources, supervisor: Supervisor, logger: Logger) throws {
        self.directory = directory
        self.adminSocket = adminSocket
        try? FileManager.default.removeItem(atPath: adminSocket)
        self.logger = logger
        let xds = (directory as NSString).appendingPathComponent("xds")
        try FileManager.default.createDirectory(atPath: xds, withIntermediateDirectories: true)
        try Self.atomicWrite(EnvoyBootstrap.render(nodeID: nodeID, adminSocket: adminSocket), to: (directory as NSString).appendingPathComponent("bootstrap.json"))
        for file in initial.orderedFiles(version: 0) {
            try Self.atomicWrite(file.text, to: (xds as NSString).appendingPathComponent(file.name))
        }
        lastGood = initial
        process = SupervisedProcess(
            spec: .init(
                executable: binary,
                arguments: [
                    "-c", "bootstrap.json", "--disable-hot-restart", "--concurrency", "1", "--drain-time-s", "1",
                    "--drain-strategy", "immediate", "--log-level", "warning", "--component-log-level", "config:info",
                    // Sidecar access lines reach `kubectl logs POD -c istio-proxy` within half a second.
                    "--file-flush-interval-msec", "500",
                ],
                environment: ProcessInfo.processInfo.environment, workingDirectory: directory,
                logFile: (directory as NSString).appendingPathComponent("envoy.log"), dieWithParent: true,
                // Every pod of the namespace depends on its Envoy: come back fast, whatever happened.
                initialBackoff: .milliseconds(100), maxBackoff: .seconds(1)),
            supervisor: supervisor, logger: logger)
    }

    /// Starts Envoy and waits until its admin API reports version 0 applied.
    public func start() async throws {
        try process.start()
        try await waitFor(version: 0, timeout: .seconds(20))
    }

    public func stop() async {
        await process.stop(grace: .milliseconds(100))
    }

    /// The Envoy process id, for measurements.
    public var pid: Int32? { process.pid }

    /// Writes a new configuration and waits until Envoy confirms it.
    /// - Throws: ``LocalClusterError/envoyRejected(_:)`` with Envoy's reason, or `envoyTimeout`.
    public func apply(_ resources: EnvoyResources) async throws {
        if resources == lastGood { return }
        let next = version + 1
        // Envoy may be restarting; its counters then start again from zero.
        let rejectedBefore = (try? await rejectedCount()) ?? 0
        let xds = (directory as NSString).appendingPathComponent("xds")
        for file in resources.orderedFiles(version: next) {
            try Self.atomicWrite(file.text, to: (xds as NSString).appendingPathComponent(file.name))
        }
        do {
            try await waitFor(version: next, timeout: .seconds(10), rejectedBefore: rejectedBefore, routes: Self.routeNames(resources))
            version = next
            lastGood = resources
        } catch {
            // Put the last accepted files back so that a restart of Envoy serves what is running now.
            for file in lastGood.orderedFiles(version: version) {
                try? Self.atomicWrite(file.text, to: (xds as NSString).appendingPathComponent(file.name))
            }
            throw error
        }
    }

    func stats(_ filter: String) async throws -> [(String, String)] {
        let body = try await UnixHTTP.get(socket: adminSocket, path: "/stats?filter=\(filter)", limit: 4 << 20)
        return body.split(separator: "\n").compactMap { line in
            guard let colon = line.range(of: ": ") else { return nil }
            let value = line[colon.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            return (String(line[..<colon.lowerBound]), value)
        }
    }

    func rejectedCount() async throws -> Int {
        try await stats("update_rejected$").reduce(0) { $0 + (Int($1.1) ?? 0) }
    }

    static func routeNames(_ resources: EnvoyResources) -> [String] {
        resources.routeConfigurations.compactMap { $0["name"]?.stringValue }
    }

    /// Polls the admin API until LDS, CDS and the RDS subscription of every current route
    /// configuration report `version` (stats of removed listeners keep their last version).
    func waitFor(version: Int, timeout: Duration, rejectedBefore: Int? = nil, routes: [String]? = nil) async throws {
        let deadline = ContinuousClock.now + timeout
        let expected = String(version)
        var delay = Duration.milliseconds(1)
        // A restarting Envoy reads the files written here when it comes back (within its ≤ 1 s
        // back-off), so keep asking until the deadline rather than giving up while it is down.
        while true {
            if let stats = try? await stats("version_text$") {
                let lookup = Dictionary(stats, uniquingKeysWith: { $1 })
                let core = ["listener_manager.lds.version_text", "cluster_manager.cds.version_text"].allSatisfy { lookup[$0] == expected }
                let wanted = routes ?? Self.routeNames(lastGood)
                let routesDone = wanted.allSatisfy { route in
                    let matching = stats.filter { $0.0.hasSuffix(".rds.\(route).version_text") }
                    return !matching.isEmpty && matching.allSatisfy { $0.1 == expected }
                }
                if core && routesDone { return }
                if let rejectedBefore, let now = try? await rejectedCount(), now > rejectedBefore {
                    throw LocalClusterError.envoyRejected(rejectionReason())
                }
            }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(50))
        }
        let log = (try? String(contentsOfFile: (directory as NSString).appendingPathComponent("envoy.log"), encoding: .utf8)) ?? ""
        if log.contains("inotify") {
            throw LocalClusterError.envoyTimeout(
                "Envoy cannot watch its configuration files: the kernel's inotify limit is reached (each namespace needs about 16 instances); raise it with: sudo sysctl -w fs.inotify.max_user_instances=8192")
        }
        throw LocalClusterError.envoyTimeout("version \(version) not reported within \(timeout); see \(directory)/envoy.log")
    }

    /// The last "rejected" line of Envoy's log.
    func rejectionReason() -> String {
        let log = (try? String(contentsOfFile: (directory as NSString).appendingPathComponent("envoy.log"), encoding: .utf8)) ?? ""
        return log.split(separator: "\n").last { $0.contains("rejected") }.map(String.init) ?? "see \(directory)/envoy.log"
    }

    /// Writes through a temporary file in the same folder and renames it into place.
    static func atomicWrite(_ text: String, to path: String) throws {
        let temporary = path + ".tmp-\(UInt32.random(in: 0...UInt32.max))"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CocoaError(.fileWriteUnknown)
        }
    }
}

extension EnvoyProcess {
    /// Requests per upstream host (`127.0.0.1:port`) of the clusters whose name contains `fragment`,
    /// from the admin API's `/clusters` (counts since Envoy started).
    public func requestsPerHost(clusterContaining fragment: String) async throws -> [Int: Int] {
        let body = try await UnixHTTP.get(socket: adminSocket, path: "/clusters")
        var counts: [Int: Int] = [:]
        for line in body.split(separator: "\n") where line.contains("::rq_total::") && line.contains(fragment) {
            let parts = line.components(separatedBy: "::")
            guard parts.count >= 4, let port = parts[1].split(separator: ":").last.flatMap({ Int($0) }), let total = Int(parts[3]) else { continue }
            counts[port, default: 0] += total
        }
        return counts
    }
}
