import ServiceLifecycle

/// Runs `body` every `interval` (first at once, or after one interval) until the service group shuts down gracefully
/// or the task is cancelled; `body` handles its own failures, so one bad run does not stop the next.
func runPeriodically(
    every interval: Duration,
    immediately: Bool,
    _ body: @escaping @Sendable () async -> Void
) async throws {
    do {
        try await cancelWhenGracefulShutdown {
            if !immediately { try await Task.sleep(for: interval) }
            while !Task.isCancelled {
                await body()
                try await Task.sleep(for: interval)
            }
        }
    } catch is CancellationError {
        return
    }
}
