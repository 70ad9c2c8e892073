import Foundation
import Logging
import Synchronization

/// A child process kept running: restarted with exponential back-off (1 s doubling to 30 s, reset
/// after 60 s of good running) when it exits, until ``stop()``.
public final class SupervisedProcess: Sendable {
    public struct Spec: Sendable, Equatable {
        public var executable: String
        public var arguments: [String]
        public var environment: [String: String]
        public var workingDirectory: String?
        /// Standard output and error are appended here.
        public var logFile: String
        /// The child gets SIGKILL when the runner dies, even by `kill -9` (Linux `PR_SET_PDEATHSIG`,
        /// through util-linux's `setpriv`), and its pid is kept in `<logFile>.pid` for the
        /// start-up sweep of a runner that restarts.
        public var dieWithParent: Bool
        /// The longest wait before a restart.
        public var maxBackoff: Duration
        /// The first wait before a restart.
        public var initialBackoff: Duration

        public init(
            executable: String, arguments: [String], environment: [String: String], workingDirectory: String? = nil, logFile: String,
            dieWithParent: Bool = false, initialBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(30)
        ) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.logFile = logFile
            self.dieWithParent = dieWithParent
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
        }

        static let setpriv = "/usr/bin/setpriv"
    }

    /// What the supervisor reports to its owner.
    public enum Event: Sendable {
        case started(pid: Int32)
        case exited(status: Int32, restartIn: Duration?)
    }

    struct State {
        var process: Process?
        var stopping = false
        var restarts = 0
        var backoff: Duration = .seconds(1)
        var startedAt = ContinuousClock.now
    }

    public let spec: Spec
    let state = Mutex(State())
    let onEvent: @Sendable (Event) -> Void
    let logger: Logger
    /// Runs the restarts (after their back-off).
    let supervisor: Supervisor

    /// - Parameters:
    ///   - supervisor: runs the restarts after their back-off.
    ///   - onEvent: called on every start and exit (from a background thread).
    public init(spec: Spec, supervisor: Supervisor, logger: Logger, onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.spec = spec
        self.supervisor = supervisor
        state.withLock { $0.backoff = spec.initialBackoff }
        self.logger = logger
        self.onEvent = onEvent
    }

    /// How often the process was restarted after exiting.
    public var restarts: Int { state.withLock { $0.restarts } }

    /// The running process id, if any.
    public var pid: Int32? { state.withLock { $0.process?.isRunning == true ? $0.process?.processIdentifier : nil } }

    /// Starts the process (and keeps it running).
    public func start() throws {
        let process = Process()
        if spec.dieWithParent, FileManager.default.isExecutableFile(atPath: Spec.setpriv) {
            process.executableURL = URL(fileURLWithPath: Spec.setpriv)
            process.arguments = ["--pdeathsig", "KILL", "--", spec.executable] + spec.arguments
        } else {
            process.executableURL = URL(fileURLWithPath: spec.executable)
            process.arguments = spec.arguments
        }
        process.environment = spec.environment
        if let directory = spec.workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if !FileManager.default.fileExists(atPath: spec.logFile) {
            FileManager.default.createFile(atPath: spec.logFile, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: spec.logFile))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [weak self] finished in
            try? log.close()
            self?.exited(finished)
        }
        let stopping = state.withLock { state -> Bool in
            if state.stopping { return true }
            state.process = process
            state.startedAt = .now
            return false
        }
        if stopping { return }
        try process.run()
        if spec.dieWithParent {
            FileManager.default.createFile(atPath: spec.logFile + ".pid", contents: Data("\(process.processIdentifier)\n".utf8))
        }
        onEvent(.started(pid: process.processIdentifier))
    }

    func exited(_ finished: Process) {
        let delay: Duration? = state.withLock { state in
            guard !state.stopping, state.process === finished else { return nil }
            if ContinuousClock.now - state.startedAt > .seconds(60) { state.backoff = spec.initialBackoff }
            let delay = state.backoff
            state.backoff = min(state.backoff * 2, spec.maxBackoff)
            state.restarts += 1
            return delay
        }
        onEvent(.exited(status: finished.terminationStatus, restartIn: delay))
        guard let delay else { return }
        logger.warning(
            "process exited; restarting",
            metadata: ["mesh.process": "\(spec.executable)", "mesh.status": "\(finished.terminationStatus)", "mesh.backoff": "\(delay)"])
        supervisor.spawn { [weak self] in
            // Cancelled (the engine is stopping): no restart.
            do { try await Task.sleep(for: delay) } catch { return }
            do { try self?.start() } catch { self?.logger.error("restart failed", metadata: ["mesh.error": "\(error)"]) }
        }
    }

    /// Stops the process: SIGTERM, then SIGKILL after `grace`; returns once it has exited.
    /// (Children inherit the engine's blocked-signal mask from Foundation's `Process`, so SIGTERM
    /// may stay pending; the grace period is kept short for that reason.)
    public func stop(grace: Duration = .milliseconds(300)) async {
        let process = state.withLock { state -> Process? in
            state.stopping = true
            return state.process
        }
        guard let process, process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        if spec.dieWithParent { try? FileManager.default.removeItem(atPath: spec.logFile + ".pid") }
    }

    /// Kills what a previous runner left behind under `directory` (every `*.pid` file it wrote),
    /// when the process is still the one it started (its command line names the same program).
    /// - Returns: how many processes were killed.
    @discardableResult
    public static func sweep(directory: String) -> Int {
        var killed = 0
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return 0 }
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".log.pid") else { continue }
            let path = (directory as NSString).appendingPathComponent(relative)
            defer { try? FileManager.default.removeItem(atPath: path) }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else { continue }
            // Only a process still working in the folder this runner started it in (pids are reused).
            let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? ""
            let logFolder = URL(fileURLWithPath: (path as NSString).deletingLastPathComponent).resolvingSymlinksInPath().path
            guard !cwd.isEmpty, URL(fileURLWithPath: cwd).resolvingSymlinksInPath().path == logFolder else { continue }
            if kill(pid, SIGKILL) == 0 { killed += 1 }
        }
        return killed
    }

    /// Kills the current process without stopping supervision (it is restarted), as a crash would.
    public func crash() {
        if let pid { kill(pid, SIGKILL) }
    }
}
