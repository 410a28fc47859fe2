import Logging
import ServiceLifecycle

/// The embedded bus's retention, enforced for topics nobody publishes to any more: publishing already drops the
/// events a topic's `RetentionSeconds` and `RetentionBytes` no longer keep (and reads never return expired ones), but
/// only in the topic published to; this deletes them in every topic every `interval` (`SQLiteTransport.prune()`,
/// `PostgresTransport.prune()`).
///
/// With one process it always runs; with replicas on PostgreSQL it runs on the leader of its role only
/// (``BackgroundRole/busRetention``). A failed run is logged and the next one tries again; a run repeated by another
/// replica deletes nothing twice (each topic is pruned in a transaction that locks its row).
struct BusRetentionService: Service {
    let prune: @Sendable () async throws -> Int
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await runPeriodically(every: interval, immediately: false) { [self] in
            do {
                let deleted = try await prune()
                guard deleted > 0 else { return }
                logger.info("Bus retention deleted expired events", metadata: ["events": "\(deleted)"])
            } catch {
                logger.warning("Bus retention failed; the next run tries again", metadata: ["error": "\(error)"])
            }
        }
    }
}
