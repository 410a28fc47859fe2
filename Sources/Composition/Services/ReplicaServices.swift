import AccessControl
import Catalog
import Logging
import PostgresStorage
public import ServiceLifecycle
import Synchronization

/// The platform's background work that must run once across replicas sharing a PostgreSQL database.
public enum BackgroundRole: Sendable, Hashable, CaseIterable {
    /// Access grants' and pending requests' expiry, expired role sessions' removal (`ExpiryService`).
    case accessExpiry
    /// Key rotation and key deletion at the end of its waiting period (`MaintenanceService`).
    case keyMaintenance
    /// Signing the audit trail's digests (`DigestService`).
    case auditDigests
    /// Deleting the embedded bus's expired events (`BusRetentionService`).
    case busRetention
    /// Appending the KMS events CloudTrail delivered to the audit trail (`CloudTrailService`).
    case cloudTrailIngest
    /// AWS mode's periodic drift check, which records what it finds in the audit trail (`AWSDriftService`).
    case awsDriftCheck

    var leadershipRole: PostgresLeadership.Role {
        switch self {
        case .accessExpiry: .expiry
        case .keyMaintenance: .keyMaintenance
        case .auditDigests: .auditDigests
        case .busRetention: .busRetention
        case .cloudTrailIngest: .cloudTrailIngest
        case .awsDriftCheck: .awsDriftCheck
        }
    }
}

/// Runs a service only while this replica leads its role (``PostgresStorage/PostgresLeadership``): one replica at a
/// time runs it, and another takes over within seconds when the leader dies.
///
/// Graceful shutdown reaches the service while it leads (the digest signer signs its last digest); a replica standing
/// by just stops waiting. The leadership's documented overlap applies: when PostgreSQL itself ends the leader's session
/// a successor may start up to a second before the old leader stops, so the services led this way are idempotent
/// (expiry and maintenance write compare-and-set; two digests of one head are two valid signatures).
public struct LeaderService: Service {
    /// The role whose leader runs ``service``.
    public let role: BackgroundRole
    /// The service run while this replica leads ``role``.
    public let service: any Service
    let leadership: PostgresLeadership
    let logger: Logger

    public func run() async throws {
        let leading = SharedFlag()
        let lead = Task { [role, service, leadership, logger] in
            try await leadership.lead(
                role.leadershipRole,
                onChange: { change in
                    leading.value.withLock { $0 = change == .leading }
                    if change != .standingBy {
                        logger.info("Leadership \(change)", metadata: ["role": "\(role.leadershipRole)"])
                    }
                },
                whileLeader: { try await service.run() }
            )
        }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await lead.value
            } onGracefulShutdown: {
                if !leading.value.withLock({ $0 }) { lead.cancel() }
            }
        } onCancel: {
            lead.cancel()
        }
    }
}

/// A flag tasks share (whether this replica leads, whether a reload failed).
private final class SharedFlag: Sendable {
    let value = Mutex(false)
}

/// Keeps the identities, the catalog and the access requests each replica holds in memory in step with the database:
/// reloads one when the change feed reports a commit to its store (by any replica, this one included), and all of
/// them on `.resync` (the feed's first event, and again after its connection came back, when changes may have been
/// missed). A change to one access request re-reads that request alone (one primary-key read, however many requests
/// there are); after a reload that failed, the next change re-reads them all.
struct ReplicaSync: Service {
    let changes: PostgresChangeFeed
    let identities: IdentityService
    let catalog: EventCatalog
    let access: AccessRequests
    let logger: Logger
    /// Whether a reload of the access requests failed since the last one that succeeded.
    private let requestsStale = SharedFlag()

    func run() async throws {
        let events = changes.changes()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await changes.run() }
            await cancelWhenGracefulShutdown {
                for await event in events {
                    await follow(event)
                }
            }
            group.cancelAll()
        }
    }

    private func follow(_ event: PostgresChangeFeed.Event) async {
        switch event {
        case .changed(let change):
            switch change.store {
            case PostgresIdentityStore.changeStore: await reload("identities") { try await identities.reload() }
            case PostgresCatalogStore.changeStore: await reload("catalog") { try await catalog.reload() }
            case PostgresAccessRequestStore.changeStore: await reloadRequests(change.key)
            default: break
            }
        case .resync:
            await reload("identities") { try await identities.reload() }
            await reload("catalog") { try await catalog.reload() }
            await reloadRequests(nil)
        case .interrupted:
            logger.warning("Lost the change feed: other replicas' changes are picked up when it is back")
        }
    }

    /// Re-reads access request `id`, or all of them (`nil`, or after a reload that failed).
    private func reloadRequests(_ id: String?) async {
        let stale = requestsStale.value.withLock { $0 }
        let reloaded = await reload("access requests") {
            if let id, !stale { try await access.reload(id: id) } else { try await access.reload() }
        }
        requestsStale.value.withLock { $0 = !reloaded }
    }

    /// Runs a reload; a failure (the database unreachable) is logged, and the next change or resync retries.
    @discardableResult
    private func reload(_ what: String, _ body: () async throws -> Void) async -> Bool {
        do {
            try await body()
            return true
        } catch {
            logger.warning("Could not reload \(what) from PostgreSQL", metadata: ["error": "\(error)"])
            return false
        }
    }
}

/// Runs `body` (a listener that runs until cancelled) as a service: cancelled at graceful shutdown.
struct RunningService: Service, CustomStringConvertible {
    let name: String
    let body: @Sendable () async -> Void

    var description: String { name }

    func run() async throws {
        await cancelWhenGracefulShutdown { await body() }
    }
}

/// Waits for graceful shutdown, then runs `close`: placed first among the services, so it runs after all the others
/// stopped (the audit store, closed here, takes the final digest's records before its database goes).
struct ClosingService: Service {
    let close: @Sendable () async -> Void

    func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
