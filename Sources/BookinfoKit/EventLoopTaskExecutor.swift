import NIOCore

/// Runs a task's jobs on one NIO event loop.
///
/// A bookinfo request that must wait (an upstream call, a database) is answered in a task. On the
/// default executor that task lives in the cooperative thread pool, so every such request would
/// wake a pool thread to run the handler and then the event loop to write the response: two
/// thread switches, which cost more CPU than answering a bookinfo request does. A task that
/// prefers this executor (see ``BookinfoHTTP1Handler``) runs on the loop that owns its
/// connection, and hands data to the channel without waking another thread.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
