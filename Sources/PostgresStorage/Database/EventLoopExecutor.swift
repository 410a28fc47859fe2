import NIOCore

/// Runs a task's jobs on one NIO event loop, as a task executor preference (SE-0417).
///
/// `PostgresConnection.run` sends each statement through the executor of its connection's loop, so that checking the
/// connection is open and postgres-nio's write of the statement happen in one job of that loop: the connection cannot
/// close between them (see ``PostgresNIO/PostgresConnection/run(_:)-(PostgresQuery)``).
final class EventLoopExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
