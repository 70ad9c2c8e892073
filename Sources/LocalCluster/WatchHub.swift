import Foundation
import MeshModel
import Synchronization

/// A change to one object, as a Kubernetes watch reports it.
public struct WatchEvent: Sendable {
    public enum Kind: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED"
    }

    public var type: Kind
    /// The object's kind (`Pod`, `VirtualService`, …).
    public var kind: String
    /// nil for cluster-scoped objects (namespaces).
    public var namespace: String?
    /// The object as it is after the change (before it, for a deletion).
    public var object: Value
    public var resourceVersion: Int
}

/// Fans every change out to the watches that are open, and keeps the most recent changes so a
/// watch that starts from a list's `resourceVersion` misses nothing (older starts get 410 Gone,
/// as from a real API server, and kubectl relists).
public final class WatchHub: Sendable {
    struct State {
        var subscribers: [UUID: AsyncStream<WatchEvent>.Continuation] = [:]
        var history: [WatchEvent] = []
        var lastVersion = 0
    }

    let state = Mutex(State())
    let historyLimit: Int

    public init(historyLimit: Int = 4096) {
        self.historyLimit = historyLimit
    }

    /// The next resource version: increasing, and increasing across restarts (milliseconds since
    /// 1970 at least), so versions handed out before a restart are never reused.
    public func nextVersion() -> Int {
        state.withLock { state in
            let now = Int(Date().timeIntervalSince1970 * 1000)
            state.lastVersion = max(state.lastVersion + 1, now)
            return state.lastVersion
        }
    }

    /// The latest version handed out.
    public var currentVersion: Int {
        state.withLock { state in
            if state.lastVersion == 0 { state.lastVersion = Int(Date().timeIntervalSince1970 * 1000) }
            return state.lastVersion
        }
    }

    public func publish(_ event: WatchEvent) {
        let subscribers = state.withLock { state in
            state.history.append(event)
            if state.history.count > historyLimit { state.history.removeFirst(state.history.count - historyLimit) }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    /// A stream of changes after `resourceVersion` (nil: from now on).
    ///
    /// - Returns: nil when that version is older than the kept history (the caller answers 410).
    public func subscribe(after resourceVersion: Int?) -> (id: UUID, stream: AsyncStream<WatchEvent>)? {
        let id = UUID()
        let (stream, continuation) = AsyncStream<WatchEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let ok = state.withLock { state -> Bool in
            if let resourceVersion, resourceVersion > 0 {
                if let oldest = state.history.first, oldest.resourceVersion > resourceVersion + 1, state.history.count >= historyLimit {
                    return false
                }
                for event in state.history where event.resourceVersion > resourceVersion { continuation.yield(event) }
            }
            state.subscribers[id] = continuation
            return true
        }
        guard ok else { return nil }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(id) }
        return (id, stream)
    }

    public func unsubscribe(_ id: UUID) {
        let continuation = state.withLock { $0.subscribers.removeValue(forKey: id) }
        continuation?.finish()
    }

    /// Ends every open watch (at shutdown).
    public func finishAll() {
        let all = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in all { continuation.finish() }
    }
}
