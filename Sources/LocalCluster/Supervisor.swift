/// Work that outlives the call that starts it — watching a pod until it is ready, restarting a
/// process after its back-off — run as child tasks of one task group, so the engine starts no
/// unstructured task and every such job ends with it.
///
/// Whoever owns the engine runs ``run()`` (the lab-runner, in its top-level task group, before
/// the engine restores its namespaces); ``finish()`` (the engine's shutdown) ends it: jobs still
/// running are cancelled.
public final class Supervisor: Sendable {
    public typealias Job = @Sendable () async -> Void
    let jobs: AsyncStream<Job>
    let continuation: AsyncStream<Job>.Continuation

    public init() {
        (jobs, continuation) = AsyncStream.makeStream(of: Job.self)
    }

    /// Runs `job` as a child task of ``run()`` (at once when it runs; else once it starts).
    func spawn(_ job: @escaping Job) {
        continuation.yield(job)
    }

    /// Runs every job given until ``finish()``, then cancels those still running and returns
    /// once they have ended.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs { group.addTask { await job() } }
            group.cancelAll()
        }
    }

    /// Ends ``run()``.
    public func finish() {
        continuation.finish()
    }
}
