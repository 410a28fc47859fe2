import Foundation
import Synchronization
import Testing

@testable import AccessControl

/// The access workflow over the identity service, in memory: concurrent transitions, role-session requesters, the
/// expiry's audit record, and the identity-policy cache.
struct AccessWorkflowTests {
    static let account = "000000000000"
    static let eventType = "payments.card.captured"
    static let readerRole = "reader-payments.card.captured"

    /// The catalog's answer for one event type; an actor, so every lookup is a suspension point as in the server.
    actor Directory: EventTypeDirectory {
        let approvals: Int
        init(approvals: Int = 1) { self.approvals = approvals }

        func accessTarget(for eventType: String) -> AccessTarget? {
            guard eventType == AccessWorkflowTests.eventType else { return nil }
            return AccessTarget(
                eventType: eventType,
                domain: "payments",
                owningTeam: "payments",
                approvalsRequired: approvals,
                readerRoleName: AccessWorkflowTests.readerRole
            )
        }
    }

    /// An audit sink that fails while `failing` is set, and keeps what it recorded.
    final class Sink: AccessEventSink {
        let failing = Mutex(false)
        let recorded = Mutex<[AccessEvent]>([])

        func record(_ event: AccessEvent) throws {
            if failing.withLock({ $0 }) { throw AccessControlError("TrailUnwritable", "the audit trail is full") }
            recorded.withLock { $0.append(event) }
        }
    }

    final class Clock: Sendable {
        let date = Mutex(Date(timeIntervalSinceReferenceDate: 800_000_000))
        var now: Date { date.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { date.withLock { $0 += seconds } }
    }

    struct World {
        let clock = Clock()
        let sink = Sink()
        let identities: IdentityService
        let access: AccessRequests
        let store = InMemoryAccessRequestStore()

        /// - Parameters:
        ///   - approvals: How many reviewers the event type needs.
        ///   - notifications: Where the workflow's notifications go.
        ///   - pendingLifetime: How long a request may stay pending.
        init(
            approvals: Int = 1,
            notifications: (any AccessNotificationSink)? = nil,
            pendingLifetime: TimeInterval = AccessRequests.defaultPendingLifetime
        ) async throws {
            let clock = self.clock
            identities = try await IdentityService(
                account: AccessWorkflowTests.account,
                store: InMemoryIdentityStore(),
                credentials: InMemoryCredentialStore(),
                now: { clock.now }
            )
            try await identities.ensureAdministrator(named: "admin")
            access = try await AccessRequests(
                identities: identities,
                directory: Directory(approvals: approvals),
                store: store,
                events: sink,
                notifications: notifications,
                pendingLifetime: pendingLifetime,
                now: { clock.now }
            )
            _ = try await identities.createTeam("payments", by: .platform)
            _ = try await identities.createTeam("analytics", by: .platform)
            for (user, team) in [("reviewer", "payments"), ("reviewer2", "payments"), ("analyst", "analytics")] {
                _ = try await identities.createUser(user, team: team, by: .platform)
            }
            _ = try await identities.createRole(
                AccessWorkflowTests.readerRole,
                trustPolicy: #"{"Version":"2012-10-17","Statement":[]}"#,
                by: .platform
            )
        }

        func user(_ name: String) -> String { "arn:aws:iam::\(AccessWorkflowTests.account):user/\(name)" }
        var admin: String { user("admin") }

        /// The principals the reader role's trust policy names.
        func trusted() throws -> Set<String> {
            let role = try #require(identities.snapshot.roles[AccessWorkflowTests.readerRole])
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(role.trustPolicy.utf8)) as? [String: Any]
            )
            let statements = try #require(document["Statement"] as? [[String: Any]])
            return Set(statements.compactMap { ($0["Principal"] as? [String: Any])?["AWS"] as? String })
        }

        /// A role `name` that `principals` may assume.
        func createRole(_ name: String, trusting principals: [String]) async throws -> String {
            let statements = principals.map {
                #"{"Effect":"Allow","Principal":{"AWS":"\#($0)"},"Action":"sts:AssumeRole"}"#
            }
            let role = try await identities.createRole(
                name,
                trustPolicy: #"{"Version":"2012-10-17","Statement":[\#(statements.joined(separator: ","))]}"#,
                by: .platform
            )
            return role.arn
        }

        func session(of role: String, _ name: String) -> String {
            "arn:aws:sts::\(AccessWorkflowTests.account):assumed-role/\(role)/\(name)"
        }
    }

    func code(_ body: () async throws -> Void) async -> AccessControlError.Code? {
        do {
            try await body()
            return nil
        } catch {
            return (error as? AccessControlError)?.code
                ?? AccessControlError.Code(rawValue: "not an AccessControlError: \(error)")
        }
    }

    // MARK: - Finding 2: concurrent transitions

    /// 200 concurrent transitions on one request and one reader role — approvals, denials, revocations,
    /// cancellations, new requests, other grants and policy writes — leave the request's state and the trust policy
    /// in agreement, the store equal to the service's view, and lose no grant and no policy.
    @Test(arguments: 0..<15)
    func concurrentTransitionsKeepTheRequestAndTheTrustPolicyInAgreement(iteration: Int) async throws {
        let world = try await World()
        let analyst = world.user("analyst")
        let first = try await world.access.request(
            Self.eventType,
            justification: "x",
            durationSeconds: nil,
            by: analyst
        )
        let access = world.access
        let identities = world.identities
        let reviewer = world.user("reviewer")
        let reviewer2 = world.user("reviewer2")
        let tasks = 200
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<tasks {
                group.addTask {
                    // Every transition may be refused by the state it finds; only the end state matters.
                    switch index % 8 {
                    case 0: _ = try? await access.approve(first.id, comment: "", by: reviewer)
                    case 1: _ = try? await access.approve(first.id, comment: "", by: reviewer2)
                    case 2: _ = try? await access.revoke(first.id, comment: "", by: reviewer)
                    case 3: _ = try? await access.cancel(first.id, by: analyst)
                    case 4:
                        if let again = try? await access.request(
                            Self.eventType,
                            justification: "again",
                            durationSeconds: nil,
                            by: analyst
                        ) {
                            _ = try? await access.approve(again.id, comment: "", by: reviewer2)
                            _ = try? await access.revoke(again.id, comment: "", by: reviewer)
                        }
                    case 5:
                        try? await identities.grantAssumeRole(
                            Self.readerRole,
                            to: "arn:aws:iam::\(Self.account):user/other\(index)",
                            until: nil
                        )
                    case 6:
                        try? await identities.putRolePolicy(
                            Self.readerRole,
                            name: "policy\(index)",
                            document: #"{"Statement":{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}}"#,
                            by: .platform
                        )
                    default: _ = try? await access.deny(first.id, comment: "no", by: reviewer)
                    }
                }
            }
        }
        let all = try await access.list(status: nil, by: world.admin)
        let holding = all.filter { $0.grantsAccess(at: world.clock.now) }
        #expect(holding.count <= 1)
        let trusted = try world.trusted()
        #expect(trusted.contains(analyst) == !holding.isEmpty, "requests: \(all.map(\.status)), trusted: \(trusted)")
        // What the store holds is what the service shows.
        let stored = await world.store.load()
        #expect(Set(stored) == Set(all))
        // No grant and no policy written concurrently was lost.
        let indices = 0..<tasks
        let others = Set(indices.filter { $0 % 8 == 5 }.map { "arn:aws:iam::\(Self.account):user/other\($0)" })
        #expect(others.subtracting(trusted).isEmpty, "lost \(others.subtracting(trusted).count) grants")
        let role = try #require(world.identities.snapshot.roles[Self.readerRole])
        let policies = Set(indices.filter { $0 % 8 == 6 }.map { "policy\($0)" })
        #expect(
            policies.subtracting(role.policies.keys).isEmpty,
            "lost \(policies.subtracting(role.policies.keys).count)"
        )
        #expect(Set(role.policies.keys) == policies)
    }

    /// Stores refuse a write whose version is not the stored one, so two writers (two replicas) cannot both win.
    @Test func storesRefuseAStaleVersion() async throws {
        let store = InMemoryAccessRequestStore()
        var request = AccessRequest(
            id: "ar-1",
            eventType: Self.eventType,
            requester: "arn:aws:iam::\(Self.account):user/analyst",
            justification: "x",
            durationSeconds: nil,
            approvalsRequired: 1,
            creationDate: Date()
        )
        try await store.put(request)
        #expect(await code { try await store.put(request) } == .concurrentModification)
        request.version = 1
        try await store.put(request)
        #expect(try await store.load().first?.version == 2)

        let identities = InMemoryIdentityStore()
        var role = Role(name: "r", arn: "arn:aws:iam::\(Self.account):role/r", trustPolicy: "{}", creationDate: Date())
        try await identities.apply([.putRole(role)])
        #expect(await code { try await identities.apply([.putRole(role)]) } == .concurrentModification)
        role.version = 1
        try await identities.apply([.putRole(role)])
        #expect(try await identities.load().roles["r"]?.version == 2)
    }

    // MARK: - Finding 3: role-session requesters

    @Test func aSessionRequestsAsItsRoleAndEverySessionOfTheRoleSharesTheGrant() async throws {
        let world = try await World()
        let etl = try await world.createRole("etl", trusting: [world.user("analyst")])
        let request = try await world.access.request(
            Self.eventType,
            justification: "nightly job",
            durationSeconds: nil,
            by: world.session(of: "etl", "analyst-1")
        )
        #expect(request.requester == etl)
        // Another session of the role sees, and may not duplicate, the role's request.
        #expect(try await world.access.show(request.id, by: world.session(of: "etl", "other")).id == request.id)
        #expect(
            await code {
                _ = try await world.access.request(
                    Self.eventType,
                    justification: "again",
                    durationSeconds: nil,
                    by: world.session(of: "etl", "other")
                )
            } == .entityAlreadyExists
        )
        _ = try await world.access.approve(request.id, comment: "ok", by: world.user("reviewer"))
        #expect(try world.trusted() == [etl])
        // Any session of the role assumes the reader role; the requesting session's name does not matter.
        let readerArn = "arn:aws:iam::\(Self.account):role/\(Self.readerRole)"
        _ = try await world.identities.assumeRole(
            readerArn,
            sessionName: "later",
            duration: nil,
            caller: world.session(of: "etl", "another-session"),
            sourceIP: nil
        )
        // A user who shares the session name but not the role does not.
        #expect(
            await code {
                _ = try await world.identities.assumeRole(
                    readerArn,
                    sessionName: "x1",
                    duration: nil,
                    caller: world.user("analyst"),
                    sourceIP: nil
                )
            } == .accessDenied
        )
    }

    @Test func aReviewerWhoMayAssumeTheRequestingRoleCannotDecideItsRequest() async throws {
        let world = try await World()
        _ = try await world.createRole("shadow", trusting: [world.user("reviewer")])
        let request = try await world.access.request(
            Self.eventType,
            justification: "I will approve this myself",
            durationSeconds: nil,
            by: world.session(of: "shadow", "reviewer")
        )
        #expect(
            await code { _ = try await world.access.approve(request.id, comment: "", by: world.user("reviewer")) }
                == .accessDenied
        )
        #expect(
            await code { _ = try await world.access.deny(request.id, comment: "no", by: world.user("reviewer")) }
                == .accessDenied
        )
        #expect(try world.trusted().isEmpty)
        // Another reviewer, who cannot act as the role, may.
        let approved = try await world.access.approve(request.id, comment: "", by: world.user("reviewer2"))
        #expect(approved.status == .approved)
        #expect(approved.approvals.map(\.reviewer) == [world.user("reviewer2")])
    }

    @Test func aSessionOfTheRequestingRoleCannotApproveOrCancelAsSomeoneElse() async throws {
        let world = try await World()
        let etl = try await world.createRole("etl", trusting: [world.user("analyst")])
        let request = try await world.access.request(
            Self.eventType,
            justification: "job",
            durationSeconds: nil,
            by: world.session(of: "etl", "a")
        )
        #expect(
            await code {
                _ = try await world.access.approve(request.id, comment: "", by: world.session(of: "etl", "b"))
            }
                == .accessDenied
        )
        // Any session of the role may withdraw the role's request.
        let cancelled = try await world.access.cancel(request.id, by: world.session(of: "etl", "b"))
        #expect(cancelled.status == .cancelled && cancelled.requester == etl)
    }

    // MARK: - Finding 4: the expiry is recorded before it lands

    @Test func anExpiryWhoseRecordFailsChangesNothing() async throws {
        let world = try await World()
        let analyst = world.user("analyst")
        let request = try await world.access.request(
            Self.eventType,
            justification: "x",
            durationSeconds: 60,
            by: analyst
        )
        _ = try await world.access.approve(request.id, comment: "", by: world.user("reviewer"))
        world.clock.advance(61)
        world.sink.failing.withLock { $0 = true }
        #expect(await code { try await world.access.expireDue() } == "TrailUnwritable")
        #expect(try await world.access.show(request.id, by: world.admin).status == .approved)
        #expect(try await world.store.load().map(\.status) == [.approved])
        #expect(try world.trusted() == [analyst])
        #expect(world.sink.recorded.withLock { $0.isEmpty })
        // Once the trail is writable the next sweep expires it, with its record.
        world.sink.failing.withLock { $0 = false }
        #expect(try await world.access.expireDue().map(\.id) == [request.id])
        #expect(world.sink.recorded.withLock { $0.map(\.name) } == ["ExpireAccessRequest"])
        #expect(world.sink.recorded.withLock { $0.first?.request.status } == .expired)
        #expect(try await world.store.load().map(\.status) == [.expired])
        #expect(try world.trusted().isEmpty)
    }

    // MARK: - Finding 8: the identity-policy cache

    /// A lookup that read a principal's policy texts before a change does not cache what it parsed after it.
    @Test func aLookupThatOverlappedAChangeDoesNotCacheTheOldPolicies() async throws {
        let world = try await World()
        let analyst = world.user("analyst")
        let allow = #"{"Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}}"#
        try await world.identities.putUserPolicy("analyst", name: "read", document: allow, by: .platform)
        #expect(world.identities.isAllowed(analyst, "kms:Decrypt", on: "*"))
        // A lookup reads the texts (the cache was cleared by the change)...
        let (texts, generation) = world.identities.policyTexts(of: analyst)
        #expect(texts == [allow])
        // ... the policy is revoked while it parses ...
        let deny = #"{"Statement":{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}}"#
        try await world.identities.putUserPolicy("analyst", name: "read", document: deny, by: .platform)
        // ... and it stores what it parsed: that must not stick.
        let parsed = try texts.map { try PolicyDocument(parsing: $0, kind: .identity) }
        world.identities.cachePolicies(parsed, of: analyst, readAt: generation)
        #expect(!world.identities.isAllowed(analyst, "kms:Decrypt", on: "*"))
    }

    /// Two services on one store (two replicas on one database): one re-reads a request the other changed with
    /// `reload(id:)`, and only that one; a request gone from the store is gone from memory.
    @Test func reloadingOneRequestTakesTheOtherWritersChange() async throws {
        let world = try await World()
        let analyst = world.user("analyst")
        let replica = try await AccessRequests(
            identities: world.identities,
            directory: Directory(),
            store: world.store,
            events: world.sink,
            now: { world.clock.now }
        )
        let first = try await world.access.request(Self.eventType, justification: "one", durationSeconds: 3600, by: analyst)
        await #expect(throws: AccessControlError.self) { _ = try await replica.show(first.id, by: world.admin) }
        try await replica.reload(id: first.id)
        #expect(try await replica.show(first.id, by: world.admin) == first)

        let second = try await world.access.request(Self.eventType, justification: "two", durationSeconds: 3600, by: world.user("reviewer"))
        let approved = try await world.access.approve(first.id, comment: "ok", by: world.user("reviewer"))
        try await replica.reload(id: first.id)
        #expect(try await replica.show(first.id, by: world.admin) == approved)
        // Only the request named was read again.
        await #expect(throws: AccessControlError.self) { _ = try await replica.show(second.id, by: world.admin) }
        try await replica.reload(id: "ar-absent")
        await #expect(throws: AccessControlError.self) { _ = try await replica.show("ar-absent", by: world.admin) }
    }

    /// A crash between a transition's trust-policy edit and its stored request leaves them apart; at the next start
    /// `reconcileGrants` makes the trust policy agree with the stored requests, records each repair, and leaves a
    /// principal that never asked alone.
    @Test func reconcilingAfterACrashMakesTrustPoliciesAgreeWithRequests() async throws {
        let world = try await World()
        let analyst = world.user("analyst")
        let approved = try await world.access.request(
            Self.eventType, justification: "dashboards", durationSeconds: 3600, by: analyst
        )
        let granted = try await world.access.approve(approved.id, comment: "ok", by: world.user("reviewer"))
        _ = try await world.identities.createUser("pending-user", team: "analytics", by: .platform)
        let pendingUser = world.user("pending-user")
        let pending = try await world.access.request(
            Self.eventType, justification: "later", durationSeconds: nil, by: pendingUser
        )
        // The crashes: an approval whose request was never stored, and a revocation whose request was never stored.
        try await world.identities.grantAssumeRole(Self.readerRole, to: pendingUser, until: nil)
        try await world.identities.revokeAssumeRole(Self.readerRole, from: analyst)
        // An entry an administrator added by hand, for a principal without a request.
        try await world.identities.grantAssumeRole(Self.readerRole, to: world.admin, until: nil)
        #expect(try world.trusted() == [pendingUser, world.admin])

        let restarted = try await AccessRequests(
            identities: world.identities,
            directory: Directory(),
            store: world.store,
            events: world.sink,
            now: { world.clock.now }
        )
        let repaired = try await restarted.reconcileGrants()
        #expect(Set(repaired.map(\.id)) == [approved.id, pending.id])
        #expect(try world.trusted() == [analyst, world.admin])
        #expect(try world.identities.assumeRoleGrant(Self.readerRole, for: analyst) == .some(granted.expirationDate))
        let recorded = world.sink.recorded.withLock { $0 }.filter { $0.name == "ReconcileAccessRequest" }
        #expect(Set(recorded.map(\.request.id)) == [approved.id, pending.id])
        #expect(try await restarted.reconcileGrants().isEmpty, "a second pass finds nothing to repair")
    }
}
