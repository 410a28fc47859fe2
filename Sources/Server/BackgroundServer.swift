public import Logging
import NIOCore
public import ServiceLifecycle

/// A ``SealedServer`` running on a background task of this process until ``stop()``: the server `sealed demo`
/// starts, and the tests' live servers. `sealed serve` runs its group in the foreground, stopped by signals.
public final class BackgroundServer: Sendable {
    /// The port it listens on.
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Starts `server` (on its configured address; port 0 picks a free one) after `services` (a platform's, which
    /// then stop after it), and returns once it listens.
    ///
    /// - Throws: Whatever stopped the services before the server listened, or ``StoppedBeforeListening``.
    public static func start(
        _ server: SealedServer,
        after services: [any Service] = [],
        logger: Logger
    ) async throws -> BackgroundServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services
                    + server.services { channel in
                        continuation.yield(channel.localAddress?.port ?? 0)
                        continuation.finish()
                    },
                logger: logger
            )
        )
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await task.value
            throw StoppedBeforeListening()
        }
        return BackgroundServer(port: port, group: group, task: task)
    }

    /// The services stopped, without an error, before the server listened.
    public struct StoppedBeforeListening: Error {}

    /// Shuts the services down gracefully (requests in flight finish) and waits for them.
    ///
    /// - Throws: The error a service stopped with.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
