import HummingbirdCore
import Logging
import NIOCore

/// Runs a task's jobs on one NIO event loop.
///
/// Hummingbird reads a connection's requests on the channel's event loop and answers them in a
/// task. On the default executor that task lives in the cooperative thread pool, so every request
/// wakes a pool thread to run the handler and then the event loop to write the response: two
/// thread switches, which cost more CPU than answering a bookinfo request does. A task that
/// prefers this executor runs on the loop that owns its connection, and hands data to the channel
/// without waking another thread.
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

/// A server child channel whose connection tasks prefer their channel's event loop as executor;
/// see ``EventLoopTaskExecutor``. Whatever a handler awaits still runs where it must (actors on
/// their own executors); only work that would go to the global pool stays on the loop, so a
/// handler must not block, as it must not on any event loop.
struct EventLoopPinnedChannel<Base: ServerChildChannel>: ServerChildChannel {
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Base.Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 as `.http1(configuration:)`, each connection answered on its own event loop.
    static func http1OnEventLoops(configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        .init { responder in
            EventLoopPinnedChannel(base: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}
