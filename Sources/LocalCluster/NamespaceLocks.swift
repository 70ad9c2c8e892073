/// Who holds each namespace's change lock and who waits for it, first come, first served. The
/// owner (an actor) keeps it in its state: ``take(_:)`` or wait, and ``handOver(_:)`` on release.
public struct LockQueue: Sendable {
    var held: Set<String> = []
    var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    /// Takes the lock when it is free; false when the caller must ``wait(_:_:)``.
    public mutating func take(_ name: String) -> Bool {
        held.insert(name).inserted
    }

    public mutating func wait(_ name: String, _ continuation: CheckedContinuation<Void, Never>) {
        waiting[name, default: []].append(continuation)
    }

    /// Releases the lock: the next waiter, if any, now holds it (resume it); else it is free.
    public mutating func handOver(_ name: String) -> CheckedContinuation<Void, Never>? {
        guard var queue = waiting[name], !queue.isEmpty else {
            held.remove(name)
            return nil
        }
        let next = queue.removeFirst()
        waiting[name] = queue.isEmpty ? nil : queue
        return next
    }
}

/// One change at a time per namespace: callers of one namespace wait their turn, callers of
/// different namespaces never wait for each other.
public actor NamespaceLocks {
    var queue = LockQueue()

    public init() {}

    /// Runs `body` holding the locks of `namespaces`, taken in name order so that two callers
    /// never wait for each other crosswise.
    public func with<T: Sendable>(_ namespaces: [String], _ body: @Sendable () async throws -> T) async throws -> T {
        let names = Array(Set(namespaces)).sorted()
        for name in names where !queue.take(name) {
            await withCheckedContinuation { queue.wait(name, $0) }
        }
        defer { for name in names { queue.handOver(name)?.resume() } }
        return try await body()
    }
}
