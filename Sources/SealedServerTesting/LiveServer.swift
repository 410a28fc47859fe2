public import Logging
public import Server
public import ServiceLifecycle

/// Runs `server` in process (after `services`) on its configured address until `body` returns, then shuts it down
/// gracefully; `body` gets the port it listens on (configure port 0 for a free one).
public func withLiveServer<T: Sendable>(
    _ server: SealedServer,
    after services: [any Service] = [],
    logger: Logger,
    _ body: (Int) async throws -> T
) async throws -> T {
    let running = try await BackgroundServer.start(server, after: services, logger: logger)
    let value: T
    do {
        value = try await body(running.port)
    } catch {
        try? await running.stop()
        throw error
    }
    try await running.stop()
    return value
}
