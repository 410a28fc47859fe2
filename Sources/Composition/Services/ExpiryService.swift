public import AccessControl
import Foundation
public import Logging
public import ServiceLifecycle

/// Ends approved access grants whose duration has passed: every `interval`, the access workflow removes each such
/// requester from its reader role's trust policy and marks the request `expired`; it expires pending requests not
/// decided in time, and tells teams of grants that end within a day (``AccessRequests/warnExpiringGrants(within:)``).
///
/// The trust policy's own `DateLessThan` condition already refuses `AssumeRole` from the expiry instant on; this
/// sweep makes the state and the matrix say so, and audits the transition. It also deletes the keys of role sessions
/// that expired more than ``IdentityService/expiredSessionRetention`` ago, so they do not pile up.
public struct ExpiryService: Service {
    let access: AccessRequests
    let interval: Duration
    let logger: Logger

    public init(access: AccessRequests, interval: Duration = .seconds(30), logger: Logger) {
        self.access = access
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        for request in try await access.expireDue() {
                            logger.info(
                                request.approvalDate == nil ? "pending access request expired" : "access grant expired",
                                metadata: ["request": "\(request.id)", "eventType": "\(request.eventType)"]
                            )
                        }
                    } catch {
                        logger.error("expiring access grants failed", metadata: ["error": "\(error)"])
                    }
                    do {
                        try await access.warnExpiringGrants()
                    } catch {
                        logger.error("warning of expiring access grants failed", metadata: ["error": "\(error)"])
                    }
                    do {
                        let purged = try await access.identities.purgeExpiredSessions()
                        if purged > 0 {
                            logger.debug("expired role sessions deleted", metadata: ["count": "\(purged)"])
                        }
                    } catch {
                        logger.error("deleting expired role sessions failed", metadata: ["error": "\(error)"])
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            return
        }
    }
}
