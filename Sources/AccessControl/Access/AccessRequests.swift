public import Foundation
import SealedSupport

/// What the access workflow needs to know about an event type; the catalog answers.
public struct AccessTarget: Sendable, Hashable {
    public var eventType: String
    public var domain: String
    /// The team whose members review requests for this type.
    public var owningTeam: String
    /// 1 or 2 different reviewers.
    public var approvalsRequired: Int
    /// The role that may decrypt this type and nothing else.
    public var readerRoleName: String

    public init(eventType: String, domain: String, owningTeam: String, approvalsRequired: Int, readerRoleName: String) {
        self.eventType = eventType
        self.domain = domain
        self.owningTeam = owningTeam
        self.approvalsRequired = approvalsRequired
        self.readerRoleName = readerRoleName
    }
}

/// The seam to the catalog: the access target of an event type, or `nil` when the catalog has no such type.
public protocol EventTypeDirectory: Sendable {
    func accessTarget(for eventType: String) async throws -> AccessTarget?
}

/// Where access requests are kept.
public protocol AccessRequestStore: Sendable {
    /// Every request, with its stored ``AccessRequest/version``.
    func load() async throws -> [AccessRequest]
    /// Inserts or replaces a request, compare-and-set: only when the stored version is `request.version` (0: no
    /// such request yet), as version `request.version + 1`.
    ///
    /// - Throws: ``AccessControlError`` `concurrentModification` when the stored version differs (another writer
    ///   changed the request since it was read).
    func put(_ request: AccessRequest) async throws
    /// The request `id` with its stored version, `nil` when there is none: what a replica re-reads when another
    /// commits a change to it. The default reads every request.
    func load(id: String) async throws -> AccessRequest?
}

extension AccessRequestStore {
    public func load(id: String) async throws -> AccessRequest? { try await load().first { $0.id == id } }
}

/// An ``AccessRequestStore`` in memory.
public actor InMemoryAccessRequestStore: AccessRequestStore {
    private var requests: [String: AccessRequest] = [:]
    public init() {}
    public func load() -> [AccessRequest] { Array(requests.values) }
    public func put(_ request: AccessRequest) throws {
        guard (requests[request.id]?.version ?? 0) == request.version else {
            throw AccessControlError.staleVersion(of: "access request \(request.id)")
        }
        var stored = request
        stored.version += 1
        requests[request.id] = stored
    }
}

/// A transition the platform made by itself (an approval expiring), for the audit trail; transitions made by a
/// caller are audited with the caller's API call.
public struct AccessEvent: Sendable, Hashable {
    /// `ExpireAccessRequest`.
    public var name: String
    public var request: AccessRequest

    public init(name: String, request: AccessRequest) {
        self.name = name
        self.request = request
    }
}

/// Where ``AccessEvent``s go; the audit trail implements it. A failure to record fails the transition.
public protocol AccessEventSink: Sendable {
    func record(_ event: AccessEvent) async throws
}

/// Where a grant is also made besides the platform's own IAM: the trust policy of the event type's reader role in
/// an AWS account, when the platform governs one. Each call is idempotent.
public protocol AccessGrantEffects: Sendable {
    /// Lets `principal` assume the reader role of `eventType` until `end` (for ever when `nil`).
    func grant(eventType: String, to principal: String, until end: Date?) async throws
    /// Ends `principal`'s grant on the reader role of `eventType`.
    func revoke(eventType: String, from principal: String) async throws
}

/// One row of the access matrix: who may read which event type, until when, approved by whom.
public struct AccessGrant: Sendable, Hashable {
    public var eventType: String
    public var principal: String
    public var requestID: String
    public var approvedBy: [String]
    public var approvalDate: Date?
    public var expirationDate: Date?
}

/// The access-request workflow: request, approve, deny, cancel, revoke, expire.
///
/// Approval adds the requester to the event type's reader role's trust policy (with the expiry as a condition);
/// revocation and expiry remove it. Reviewers are members of the team that owns the event type's domain; nobody
/// approves their own request; two required approvals come from two different reviewers; a principal cannot ask
/// again for a type it holds or has a pending request for.
///
/// **Requesters are base identities.** A request made with role-session credentials
/// (`arn:aws:sts::ACCOUNT:assumed-role/R/SESSION`) is the role's request (`arn:aws:iam::ACCOUNT:role/R`): its
/// approval lets *any* session of `R` assume the reader role, whatever its session name, and every session of `R`
/// sees and may cancel it. Nobody decides their own request: not the requester, and for a role's request not a
/// reviewer who may assume that role (directly or through other roles) when deciding.
///
/// **Transitions are atomic.** Every change (a new request, each decision, the expiry sweep) runs under one FIFO
/// lock, from reading the request to storing it, the trust-policy edit included: a failure of either undoes both,
/// and no other transition sees the state in between. The store's compare-and-set on ``AccessRequest/version``
/// keeps this when several processes share one store.
public actor AccessRequests {
    public nonisolated let identities: IdentityService
    let directory: any EventTypeDirectory
    let store: any AccessRequestStore
    let events: (any AccessEventSink)?
    let notifications: (any AccessNotificationSink)?
    /// The same grants made in an AWS account, when the platform governs one.
    let grants: (any AccessGrantEffects)?
    /// How long a request may stay pending before it expires undecided.
    public nonisolated let pendingLifetime: TimeInterval
    nonisolated let now: @Sendable () -> Date
    private var requests: [String: AccessRequest]
    /// Held by every transition from its read to its write.
    private let transitions = AsyncLock()

    /// Durations accepted for a grant: one minute to one year.
    public static let durationRange = 60...(366 * 86_400)
    /// How long a request stays pending by default: 7 days.
    public static let defaultPendingLifetime: TimeInterval = 7 * 86_400

    /// - Parameters:
    ///   - events: Where the transitions the platform makes by itself are audited.
    ///   - notifications: Told of each transition teams hear of (``AccessNotification``), after it is stored.
    ///   - pendingLifetime: How long a request may stay pending; the sweep (``expireDue()``) expires it after that.
    ///   - grants: Where each grant and its removal are made too (an AWS account's reader roles), after the
    ///     platform's own IAM and before the request is stored; a failure there undoes the transition.
    public init(
        identities: IdentityService,
        directory: any EventTypeDirectory,
        store: any AccessRequestStore,
        events: (any AccessEventSink)? = nil,
        notifications: (any AccessNotificationSink)? = nil,
        grants: (any AccessGrantEffects)? = nil,
        pendingLifetime: TimeInterval = AccessRequests.defaultPendingLifetime,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws {
        self.identities = identities
        self.directory = directory
        self.store = store
        self.events = events
        self.notifications = notifications
        self.grants = grants
        self.pendingLifetime = pendingLifetime
        self.now = now
        self.requests = Self.indexed(try await store.load(), pendingLifetime: pendingLifetime)
    }

    /// Reads the requests from the store again, replacing those in memory: another process sharing the store (a
    /// replica on the same database) changed them. Waits for the transitions in progress here, so none is lost.
    public func reload() async throws {
        try await transitions.withLock {
            requests = Self.indexed(try await store.load(), pendingLifetime: pendingLifetime)
        }
    }

    /// Reads request `id` from the store again, replacing (or, gone from the store, removing) the one in memory:
    /// another process sharing the store committed a change to it. Waits for the transitions in progress here.
    public func reload(id: String) async throws {
        try await transitions.withLock {
            requests[id] = try await store.load(id: id).map { Self.completed($0, pendingLifetime: pendingLifetime) }
        }
    }

    private static func indexed(_ stored: [AccessRequest], pendingLifetime: TimeInterval) -> [String: AccessRequest] {
        var loaded: [String: AccessRequest] = [:]
        for request in stored { loaded[request.id] = completed(request, pendingLifetime: pendingLifetime) }
        return loaded
    }

    /// A request stored before pending requests expired waits `pendingLifetime` from its creation.
    private static func completed(_ request: AccessRequest, pendingLifetime: TimeInterval) -> AccessRequest {
        var request = request
        if request.status == .pending, request.pendingExpirationDate == nil {
            request.pendingExpirationDate = request.creationDate.addingTimeInterval(pendingLifetime)
        }
        return request
    }

    /// A new pending request by `principal`'s base identity (a role session's role).
    public func request(
        _ eventType: String,
        justification: String,
        durationSeconds: Int?,
        by caller: String
    ) async throws -> AccessRequest {
        let principal = identities.baseIdentity(of: caller)
        guard let target = try await directory.accessTarget(for: eventType) else {
            throw AccessControlError(.noSuchEntity, "The event type \(eventType) is not in the catalog.")
        }
        let justification = justification.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !justification.isEmpty else {
            throw AccessControlError(.validationError, "An access request needs a justification.")
        }
        if let durationSeconds, !Self.durationRange.contains(durationSeconds) {
            throw AccessControlError(.validationError, "The duration must be between 1 minute and 366 days.")
        }
        return try await transitions.withLock {
            let at = now()
            if let held = requests.values.first(where: {
                $0.eventType == eventType && $0.requester == principal
                    && ($0.status == .pending || $0.grantsAccess(at: at))
            }) {
                let what = held.status == .pending ? "has a pending request" : "already holds read access"
                throw AccessControlError(
                    .entityAlreadyExists,
                    "\(principal) \(what) for \(eventType) (\(held.id))."
                )
            }
            let request = AccessRequest(
                id: "ar-" + Random.hex(byteCount: 8),
                eventType: eventType,
                requester: principal,
                justification: justification,
                durationSeconds: durationSeconds,
                approvalsRequired: target.approvalsRequired,
                creationDate: at,
                pendingExpirationDate: at.addingTimeInterval(pendingLifetime)
            )
            let saved = try await save(request)
            notify(.requestCreated, saved, target: target, teams: [target.owningTeam], at: at)
            return saved
        }
    }

    /// The requests `principal` may see, newest first, optionally only those in `status`: an administrator sees
    /// all, others their own and those they review.
    public func list(status: AccessRequest.Status?, by principal: String) async throws -> [AccessRequest] {
        var visible: [AccessRequest] = []
        for request in requests.values where status == nil || request.status == status {
            if try await mayView(request, principal) { visible.append(request) }
        }
        return visible.sorted { ($0.creationDate, $0.id) > ($1.creationDate, $1.id) }
    }

    public func show(_ id: String, by principal: String) async throws -> AccessRequest {
        let request = try find(id)
        guard try await mayView(request, principal) else { throw Self.notFound(id) }
        return request
    }

    public func approve(_ id: String, comment: String, by reviewer: String) async throws -> AccessRequest {
        try await transitions.withLock {
            var request = try find(id)
            let target = try await reviewable(request, by: reviewer)
            let effect = try request.approve(by: identities.baseIdentity(of: reviewer), comment: comment, at: now())
            let saved = try await apply(effect, to: request, target: target)
            if saved.status == .approved {
                notify(.requestApproved, saved, target: target, actor: reviewer, comment: comment)
            }
            return saved
        }
    }

    public func deny(_ id: String, comment: String, by reviewer: String) async throws -> AccessRequest {
        try await transitions.withLock {
            var request = try find(id)
            let target = try await reviewable(request, by: reviewer)
            let effect = try request.deny(by: identities.baseIdentity(of: reviewer), comment: comment, at: now())
            let saved = try await apply(effect, to: request, target: target)
            notify(.requestDenied, saved, target: target, actor: reviewer, comment: comment)
            return saved
        }
    }

    /// Withdrawal by the requester: the user, or any session of the requesting role.
    public func cancel(_ id: String, by principal: String) async throws -> AccessRequest {
        try await transitions.withLock {
            var request = try find(id)
            guard try await mayView(request, principal) else { throw Self.notFound(id) }
            let effect = try request.cancel(by: identities.baseIdentity(of: principal), at: now())
            return try await apply(effect, to: request, target: nil)
        }
    }

    /// Revocation by a member of the owning team or an administrator (`access:RevokeAccess`).
    public func revoke(_ id: String, comment: String, by principal: String) async throws -> AccessRequest {
        try await transitions.withLock {
            var request = try find(id)
            guard let target = try await directory.accessTarget(for: request.eventType) else {
                throw Self.notFound(id)
            }
            guard mayRevoke(target, by: principal) else {
                throw AccessControlError(
                    .accessDenied,
                    "Only members of \(target.owningTeam) or an administrator can revoke access to "
                        + "\(request.eventType)."
                )
            }
            let effect = try request.revoke(by: principal, comment: comment, at: now())
            let saved = try await apply(effect, to: request, target: target)
            notify(.grantRevoked, saved, target: target, actor: principal, comment: comment)
            return saved
        }
    }

    /// Expires every approved grant whose time has passed, and every pending request not decided by its
    /// ``AccessRequest/pendingExpirationDate`` (one stored without that date gets ``pendingLifetime`` after its
    /// creation when loaded); returns them. The expiry service calls it.
    ///
    /// Each expiry is recorded (``AccessEvent`` `ExpireAccessRequest` for a grant, `ExpirePendingAccessRequest` for
    /// a request) before it changes anything: when the record cannot be written the sweep stops there and that
    /// request stays as it was, to be expired by a later sweep. A record whose change then fails (the store) is
    /// followed by another record when a later sweep retries. Expired pending requests and grants are notified to the
    /// requesting and owning teams.
    @discardableResult
    public func expireDue() async throws -> [AccessRequest] {
        try await transitions.withLock {
            let at = now()
            var expired: [AccessRequest] = []
            for id in requests.keys.sorted() {
                guard var request = requests[id] else { continue }
                let wasPending = request.status == .pending
                var due = request.expireIfDue(at: at)
                if due == nil { due = request.expirePendingIfDue(at: at) }
                guard let effect = due else { continue }
                let target = try await directory.accessTarget(for: request.eventType)
                let name = wasPending ? "ExpirePendingAccessRequest" : "ExpireAccessRequest"
                try await events?.record(AccessEvent(name: name, request: request))
                let saved = try await apply(effect, to: request, target: target)
                if let target { notify(wasPending ? .requestExpired : .grantExpired, saved, target: target, at: at) }
                expired.append(saved)
            }
            return expired
        }
    }

    /// Tells the requesting and owning teams of each approved grant that ends within `interval` (once per grant:
    /// the request keeps ``AccessRequest/expiryNoticeDate``); returns those requests. The expiry service calls it.
    @discardableResult
    public func warnExpiringGrants(within interval: TimeInterval = 86_400) async throws -> [AccessRequest] {
        try await transitions.withLock {
            let at = now()
            var warned: [AccessRequest] = []
            for id in requests.keys.sorted() {
                guard var request = requests[id], request.grantsAccess(at: at), request.expiryNoticeDate == nil,
                    let end = request.expirationDate, end.timeIntervalSince(at) <= interval,
                    let target = try await directory.accessTarget(for: request.eventType)
                else { continue }
                request.expiryNoticeDate = at
                let saved = try await apply(.none, to: request, target: target)
                notify(.grantExpiring, saved, target: target, at: at)
                warned.append(saved)
            }
            return warned
        }
    }

    /// Makes the reader roles' trust policies agree with the stored requests; returns the requests whose grant was
    /// repaired. The platform runs it at start.
    ///
    /// A transition edits the trust policy first and stores the request second, and undoes the edit when the store
    /// fails; only a crash between the two leaves them apart. The stored request is the truth, since only it was
    /// acknowledged: an approved request's requester is in the role's trust policy with the request's expiry, and a
    /// requester none of whose requests for the role's types is approved is not (a trust-policy entry of a principal
    /// that never asked is left alone: an administrator may have added it). Each repair is recorded
    /// (``AccessEvent`` `ReconcileAccessRequest`) before it is made.
    @discardableResult
    public func reconcileGrants() async throws -> [AccessRequest] {
        try await transitions.withLock {
            struct Grant: Hashable {
                var role: String
                var principal: String
            }
            var wanted: [Grant: (request: AccessRequest, until: Date??)] = [:]
            for request in requests.values.sorted(by: { $0.id < $1.id }) {
                guard let target = try await directory.accessTarget(for: request.eventType) else { continue }
                let grant = Grant(role: target.readerRoleName, principal: request.requester)
                if request.status == .approved {
                    wanted[grant] = (request, .some(request.expirationDate))
                } else if wanted[grant] == nil {
                    wanted[grant] = (request, nil)
                }
            }
            var repaired: [AccessRequest] = []
            for (grant, want) in wanted.sorted(by: { $0.value.request.id < $1.value.request.id }) {
                let present = try identities.assumeRoleGrant(grant.role, for: grant.principal)
                guard present != want.until else { continue }
                try await events?.record(AccessEvent(name: "ReconcileAccessRequest", request: want.request))
                if case .some(let until) = want.until {
                    try await identities.grantAssumeRole(grant.role, to: grant.principal, until: until)
                } else {
                    try await identities.revokeAssumeRole(grant.role, from: grant.principal)
                }
                repaired.append(want.request)
            }
            return repaired
        }
    }

    /// The grants in force: who may read which type, until when, approved by whom. An administrator sees all,
    /// others the grants of types their teams own and their own.
    public func matrix(by principal: String) async throws -> [AccessGrant] {
        let at = now()
        var rows: [AccessGrant] = []
        for request in requests.values where request.grantsAccess(at: at) {
            guard try await mayView(request, principal) else { continue }
            rows.append(
                AccessGrant(
                    eventType: request.eventType,
                    principal: request.requester,
                    requestID: request.id,
                    approvedBy: request.approvals.map(\.reviewer),
                    approvalDate: request.approvalDate,
                    expirationDate: request.expirationDate
                )
            )
        }
        return rows.sorted { ($0.eventType, $0.principal) < ($1.eventType, $1.principal) }
    }

    /// Whether `principal` may revoke grants of `eventType` (a member of its owning team, or a principal allowed
    /// `access:RevokeAccess` on it): what ``revoke(_:comment:by:)`` checks, for a page that offers the action.
    public func mayRevoke(eventType: String, by principal: String) async throws -> Bool {
        guard let target = try await directory.accessTarget(for: eventType) else { return false }
        return mayRevoke(target, by: principal)
    }

    // MARK: - Helpers

    private func mayRevoke(_ target: AccessTarget, by principal: String) -> Bool {
        identities.teams(of: principal).contains(target.owningTeam)
            || identities.isAllowed(principal, "access:RevokeAccess", on: resource(of: target))
    }

    private func find(_ id: String) throws -> AccessRequest {
        guard let request = requests[id] else { throw Self.notFound(id) }
        return request
    }

    private func mayView(_ request: AccessRequest, _ principal: String) async throws -> Bool {
        if request.requester == identities.baseIdentity(of: principal) { return true }
        guard let target = try await directory.accessTarget(for: request.eventType) else {
            return identities.isAllowed(principal, "access:ListRequests", on: "*")
        }
        return identities.isAllowed(principal, "access:ListRequests", on: resource(of: target))
            || identities.teams(of: principal).contains(target.owningTeam)
    }

    /// The ARN the `access:` actions on a target's requests are authorized on: its event type's.
    private func resource(of target: AccessTarget) -> String {
        PlatformARN.eventType(target.eventType, domain: target.domain, account: identities.account)
    }

    /// The target of a request `reviewer` may decide: a member of the owning team who is not, and cannot act as,
    /// the requester (for a role's request: cannot assume the role, directly or through other roles).
    private func reviewable(_ request: AccessRequest, by reviewer: String) async throws -> AccessTarget {
        guard let target = try await directory.accessTarget(for: request.eventType) else {
            throw Self.notFound(request.id)
        }
        guard identities.teams(of: reviewer).contains(target.owningTeam) else {
            throw AccessControlError(
                .accessDenied,
                "\(reviewer) is not a member of \(target.owningTeam), which reviews access to \(request.eventType)."
            )
        }
        if identities.roleName(of: request.requester) != nil,
            identities.mayActAs(role: request.requester, caller: reviewer)
        {
            throw AccessControlError(
                .accessDenied,
                "\(reviewer) may assume \(request.requester), which made access request \(request.id); "
                    + "nobody decides their own request."
            )
        }
        return target
    }

    /// Stores `request` over the version it was read from and makes it visible.
    private func save(_ request: AccessRequest) async throws -> AccessRequest {
        try await store.put(request)
        var stored = request
        stored.version += 1
        requests[stored.id] = stored
        return stored
    }

    /// Applies the trust-policy effect, then stores the request; a failed store undoes the effect. Runs under
    /// ``transitions``, so no other transition sees the trust policy and the request disagree.
    private func apply(
        _ effect: AccessRequest.Effect,
        to request: AccessRequest,
        target: AccessTarget?
    ) async throws
        -> AccessRequest
    {
        if let target {
            switch effect {
            case .none: break
            case .grant(let until): try await grant(target, to: request.requester, until: until)
            case .removeGrant: try await removeGrant(target, from: request.requester, restoring: request.expirationDate)
            }
        }
        do {
            try await store.put(request)
        } catch {
            if let target {
                switch effect {
                case .none: break
                case .grant:
                    try? await removeGrant(target, from: request.requester, restoring: request.expirationDate)
                case .removeGrant:
                    try? await grant(target, to: request.requester, until: request.expirationDate)
                }
            }
            throw error
        }
        var stored = request
        stored.version += 1
        requests[stored.id] = stored
        return stored
    }

    /// Adds the grant to the reader role's trust policy here, then in the AWS account (``grants``); a failure there
    /// undoes the first.
    private func grant(_ target: AccessTarget, to principal: String, until end: Date?) async throws {
        try await identities.grantAssumeRole(target.readerRoleName, to: principal, until: end)
        do {
            try await grants?.grant(eventType: target.eventType, to: principal, until: end)
        } catch {
            try? await identities.revokeAssumeRole(target.readerRoleName, from: principal)
            throw error
        }
    }

    /// Removes the grant here, then in the AWS account; a failure there restores the first (until `previous`).
    private func removeGrant(_ target: AccessTarget, from principal: String, restoring previous: Date?) async throws {
        try await identities.revokeAssumeRole(target.readerRoleName, from: principal)
        do {
            try await grants?.revoke(eventType: target.eventType, from: principal)
        } catch {
            try? await identities.grantAssumeRole(target.readerRoleName, to: principal, until: previous)
            throw error
        }
    }

    /// Hands a transition to the notification sink: to `teams`, or to the requester's teams and the owning team.
    private func notify(
        _ kind: AccessNotification.Kind,
        _ request: AccessRequest,
        target: AccessTarget,
        teams: [String]? = nil,
        actor: String? = nil,
        comment: String? = nil,
        at date: Date? = nil
    ) {
        guard let notifications else { return }
        notifications.notify(
            AccessNotification(
                kind: kind,
                request: request,
                teams: teams ?? identities.teams(of: request.requester) + [target.owningTeam],
                owningTeam: target.owningTeam,
                actor: actor.map { identities.baseIdentity(of: $0) },
                comment: comment,
                date: date ?? now()
            )
        )
    }

    static func notFound(_ id: String) -> AccessControlError {
        AccessControlError(.noSuchEntity, "No access request \(id) is visible to you.")
    }
}
