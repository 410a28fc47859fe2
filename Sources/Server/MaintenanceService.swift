import Foundation
public import KeyService
public import Logging
public import ServiceLifecycle

/// Runs ``KeyService/KeyService/runMaintenance(now:)`` every `interval` (deletes keys whose deletion window passed,
/// rotates keys that are due) until graceful shutdown.
///
/// A failed run is logged and retried at the next tick; it never stops the service.
public struct MaintenanceService: Service {
    let keyService: KeyService
    let interval: Duration
    let logger: Logger

    public init(keyService: KeyService, interval: Duration, logger: Logger) {
        self.keyService = keyService
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    await runOnce()
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// One maintenance pass.
    func runOnce() async {
        do {
            let report = try await keyService.runMaintenance()
            if !report.deletedKeyIDs.isEmpty || !report.rotatedKeyIDs.isEmpty {
                logger.info(
                    "key maintenance",
                    metadata: [
                        "deleted": "\(report.deletedKeyIDs.count)", "rotated": "\(report.rotatedKeyIDs.count)",
                    ]
                )
            }
        } catch {
            logger.error("key maintenance failed", metadata: ["error": "\(error)"])
        }
    }
}
