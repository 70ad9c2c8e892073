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

        public init(executable: String, arguments: [String], environment: [String: String], workingDirectory: String? = nil, logFile: String) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.logFile = logFile
        }
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

    /// - Parameter onEvent: called on every start and exit (from a background thread).
    public init(spec: Spec, logger: Logger, onEvent: @escaping @Sendable (Event) -> Void = { _ in }) {
        self.spec = spec
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
        process.executableURL = URL(fileURLWithPath: spec.executable)
        process.arguments = spec.arguments
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
        onEvent(.started(pid: process.processIdentifier))
    }

    func exited(_ finished: Process) {
        let delay: Duration? = state.withLock { state in
            guard !state.stopping, state.process === finished else { return nil }
            if ContinuousClock.now - state.startedAt > .seconds(60) { state.backoff = .seconds(1) }
            let delay = state.backoff
            state.backoff = min(state.backoff * 2, .seconds(30))
            state.restarts += 1
            return delay
        }
        onEvent(.exited(status: finished.terminationStatus, restartIn: delay))
        guard let delay else { return }
        logger.warning(
            "process exited; restarting",
            metadata: ["mesh.process": "\(spec.executable)", "mesh.status": "\(finished.terminationStatus)", "mesh.backoff": "\(delay)"])
        Task.detached { [weak self] in
            try? await Task.sleep(for: delay)
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
    }

    /// Kills the current process without stopping supervision (it is restarted), as a crash would.
    public func crash() {
        if let pid { kill(pid, SIGKILL) }
    }
}
