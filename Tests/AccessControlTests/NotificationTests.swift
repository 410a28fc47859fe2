import Foundation
import Synchronization
import Testing

@testable import AccessControl

/// Request hygiene and what the access workflow tells teams, in memory with a hand-moved clock: pending requests
/// expire, a grant's duration counts from its final approval, each transition is notified to the right teams once,
/// and the webhook signature and retry schedule as documented.
struct NotificationTests {
    static let eventType = AccessWorkflowTests.eventType

    /// Keeps what the workflow notified.
    final class Recorder: AccessNotificationSink {
        let notifications = Mutex<[AccessNotification]>([])
        func notify(_ notification: AccessNotification) { notifications.withLock { $0.append(notification) } }
        var kinds: [AccessNotification.Kind] { notifications.withLock { $0.map(\.kind) } }
        var last: AccessNotification? { notifications.withLock { $0.last } }
    }

    /// The access workflow's world (teams `payments`, reviewed by `reviewer` and `reviewer2`, and `analytics`, with
    /// `analyst`, who is in `marketing` too), its notifications recorded.
    struct World {
        let recorder = Recorder()
        let base: AccessWorkflowTests.World
        var clock: AccessWorkflowTests.Clock { base.clock }
        var access: AccessRequests { base.access }
        var audited: [String] { base.sink.recorded.withLock { $0.map(\.name) } }

        init(approvals: Int = 1, pendingLifetime: TimeInterval = AccessRequests.defaultPendingLifetime) async throws {
            base = try await AccessWorkflowTests.World(
                approvals: approvals,
                notifications: recorder,
                pendingLifetime: pendingLifetime
            )
            _ = try await base.identities.createTeam("marketing", by: .platform)
            try await base.identities.addUser("analyst", toTeam: "marketing", by: .platform)
        }

        func user(_ name: String) -> String { base.user(name) }

        /// A new request of `requester` for the event type.
        func request(
            by requester: String,
            justification: String = "fraud dashboards",
            durationSeconds: Int? = nil
        ) async throws -> AccessRequest {
            try await access.request(
                NotificationTests.eventType,
                justification: justification,
                durationSeconds: durationSeconds,
                by: user(requester)
            )
        }
    }

    // MARK: - Request hygiene

    @Test func aPendingRequestExpiresUndecidedAfterItsLifetimeAndIsAuditedAndNotified() async throws {
        let world = try await World(pendingLifetime: 7 * 86_400)
        let created = try await world.request(by: "analyst", durationSeconds: 3600)
        #expect(created.pendingExpirationDate == created.creationDate.addingTimeInterval(7 * 86_400))

        world.clock.advance(7 * 86_400 - 1)
        #expect(try await world.access.expireDue().isEmpty)
        #expect(try await world.access.show(created.id, by: world.user("analyst")).status == .pending)

        world.clock.advance(1)
        let expired = try await world.access.expireDue()
        #expect(expired.map(\.id) == [created.id])
        let after = try await world.access.show(created.id, by: world.user("analyst"))
        #expect(after.status == .expired)
        #expect(after.closing?.reviewer == "sealed")
        #expect(world.audited == ["ExpirePendingAccessRequest"])
        #expect(world.recorder.last?.kind == .requestExpired)
        #expect(world.recorder.last?.teams == ["analytics", "marketing", "payments"])

        // Expired: it cannot be approved any more, and the consumer may ask again.
        await #expect(throws: AccessControlError.self) {
            try await world.access.approve(created.id, comment: "late", by: world.user("reviewer"))
        }
        let again = try await world.request(by: "analyst", justification: "again")
        #expect(again.status == .pending)
    }

    @Test func aRequestStoredWithoutADeadlineWaitsThePendingLifetimeFromItsCreation() async throws {
        let world = try await World()
        let base = world.base
        // As stored before pending requests expired: no deadline in the document.
        let old = AccessRequest(
            id: "ar-0000000000000001",
            eventType: Self.eventType,
            requester: world.user("analyst"),
            justification: "from an older version",
            durationSeconds: nil,
            approvalsRequired: 1,
            creationDate: world.clock.now.addingTimeInterval(-86_400)
        )
        try await base.store.put(old)
        let reopened = try await AccessRequests(
            identities: base.identities,
            directory: AccessWorkflowTests.Directory(),
            store: base.store,
            events: base.sink,
            pendingLifetime: 2 * 86_400,
            now: { base.clock.now }
        )
        let loaded = try await reopened.show(old.id, by: world.user("analyst"))
        #expect(loaded.pendingExpirationDate == old.creationDate.addingTimeInterval(2 * 86_400))
        world.clock.advance(86_400 - 1)
        #expect(try await reopened.expireDue().isEmpty)
        world.clock.advance(1)
        #expect(try await reopened.expireDue().map(\.id) == [old.id])
    }

    @Test func aGrantsDurationCountsFromItsFinalApprovalWithTwoApprovers() async throws {
        let world = try await World(approvals: 2)
        let created = try await world.request(by: "analyst", durationSeconds: 3600)
        world.clock.advance(2 * 3600)
        let first = try await world.access.approve(created.id, comment: "ok", by: world.user("reviewer"))
        #expect(first.status == .pending)
        #expect(first.expirationDate == nil)
        #expect(!world.recorder.kinds.contains(.requestApproved), "a first approval of two grants nothing yet")

        world.clock.advance(3 * 3600)
        let finalApproval = world.clock.now
        let second = try await world.access.approve(created.id, comment: "ok too", by: world.user("reviewer2"))
        #expect(second.status == .approved)
        #expect(second.approvalDate == finalApproval)
        #expect(second.expirationDate == finalApproval.addingTimeInterval(3600))
        #expect(second.grantsAccess(at: finalApproval.addingTimeInterval(3599)))
        #expect(!second.grantsAccess(at: finalApproval.addingTimeInterval(3600)))

        // An hour after the request was made plus the review time has long passed, yet the grant holds.
        #expect(try await world.access.expireDue().isEmpty)
        world.clock.advance(3600)
        #expect(try await world.access.expireDue().map(\.id) == [created.id])
    }

    // MARK: - Who is told what

    @Test func eachTransitionIsNotifiedOnceToTheTeamsThatCare() async throws {
        let world = try await World()
        let created = try await world.request(by: "analyst", durationSeconds: 2 * 86_400)
        // Created: the owning team's reviewers only.
        #expect(world.recorder.kinds == [.requestCreated])
        #expect(world.recorder.last?.teams == ["payments"])

        _ = try await world.access.approve(created.id, comment: "fine", by: world.user("reviewer"))
        let approved = try #require(world.recorder.last)
        #expect(approved.kind == .requestApproved)
        #expect(approved.teams == ["analytics", "marketing", "payments"])
        #expect(approved.actor == world.user("reviewer"))
        #expect(approved.comment == "fine")

        // Grants ending within a day: told once, however many sweeps run.
        #expect(try await world.access.warnExpiringGrants().isEmpty)
        world.clock.advance(86_400 + 1)
        #expect(try await world.access.warnExpiringGrants().map(\.id) == [created.id])
        #expect(try await world.access.warnExpiringGrants().isEmpty)
        #expect(world.recorder.kinds == [.requestCreated, .requestApproved, .grantExpiring])

        _ = try await world.access.revoke(created.id, comment: "project over", by: world.user("reviewer2"))
        #expect(world.recorder.last?.kind == .grantRevoked)
        #expect(world.recorder.last?.actor == world.user("reviewer2"))

        let second = try await world.request(by: "analyst", justification: "again")
        _ = try await world.access.deny(second.id, comment: "no", by: world.user("reviewer"))
        #expect(
            world.recorder.kinds == [
                .requestCreated, .requestApproved, .grantExpiring, .grantRevoked, .requestCreated, .requestDenied,
            ]
        )

        // A refused transition tells nobody.
        await #expect(throws: AccessControlError.self) {
            try await world.access.approve(second.id, comment: "", by: world.user("reviewer"))
        }
        #expect(world.recorder.kinds.count == 6)
    }

    @Test func aGrantThatEndsIsNotifiedOnceWithTheTeams() async throws {
        let world = try await World()
        let created = try await world.request(by: "analyst", durationSeconds: 3600)
        _ = try await world.access.approve(created.id, comment: "fine", by: world.user("reviewer"))
        #expect(try await world.access.expireDue().isEmpty)
        world.clock.advance(3600 + 1)
        #expect(try await world.access.expireDue().map(\.id) == [created.id])
        #expect(try await world.access.expireDue().isEmpty)
        let ended = try #require(world.recorder.last)
        #expect(ended.kind == .grantExpired)
        #expect(ended.request.status == .expired)
        #expect(ended.teams == ["analytics", "marketing", "payments"])
        #expect(ended.slackText.contains("access to \(ended.request.eventType) (\(created.id)) has ended"))
        #expect(world.recorder.kinds.filter { $0 == .grantExpired }.count == 1)
    }

    @Test func theBodyCarriesTheFactsAndASlackTextWithUserTextEscaped() async throws {
        let world = try await World()
        _ = try await world.request(
            by: "analyst",
            justification: "<script>alert(1)</script> & <!channel>",
            durationSeconds: 7 * 86_400
        )
        let notification = try #require(world.recorder.last)
        let body = notification.body(for: "payments")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(object["event"] as? String == "access_request.created")
        #expect(object["team"] as? String == "payments")
        #expect(object["eventType"] as? String == Self.eventType)
        #expect(object["requester"] as? String == world.user("analyst"))
        #expect(object["justification"] as? String == "<script>alert(1)</script> & <!channel>")
        #expect(object["durationSeconds"] as? Int == 7 * 86_400)
        #expect(object["approvalsRequired"] as? Int == 1)
        // The world's clock starts at 2026-05-09T06:13:20Z.
        #expect(object["createdAt"] as? String == "2026-05-09T06:13:20Z")
        #expect(object["pendingExpiresAt"] as? String == "2026-05-16T06:13:20Z")
        let text = try #require(object["text"] as? String)
        #expect(text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;"))
        #expect(!text.contains("<"))
        #expect(text.contains("7d"))
    }

    // MARK: - Signature and retries

    @Test func theSignatureIsHMACSHA256OverTimestampDotBodyAsPythonComputesIt() {
        let secret = "whsec_" + String(repeating: "00", count: 32)
        let body = Array(#"{"event":"access_request.created"}"#.utf8)
        // hmac.new(secret.encode(), b"1800000000." + body, hashlib.sha256).hexdigest()
        let expected = "t=1800000000,v1=c540a6f0fcd7ae90d165f517b9da53721eaadad8e13cc7e7724db481af96b24e"
        #expect(WebhookSignature.header(secret: secret, timestamp: 1_800_000_000, body: body) == expected)

        let now = Date(timeIntervalSince1970: 1_800_000_100)
        #expect(WebhookSignature.isValid(expected, secret: secret, body: body, now: now))
        #expect(!WebhookSignature.isValid(expected, secret: secret, body: body + [0x20], now: now))
        #expect(!WebhookSignature.isValid(expected, secret: secret + "0", body: body, now: now))
        #expect(!WebhookSignature.isValid(expected, secret: secret, body: body, now: now.addingTimeInterval(300)))
        #expect(!WebhookSignature.isValid("t=1800000000", secret: secret, body: body, now: now))

        let generated = WebhookSignature.generateSecret()
        #expect(generated.hasPrefix("whsec_") && generated.count == 6 + 64)
        #expect(generated != WebhookSignature.generateSecret())
    }

    @Test(arguments: [0.0, 0.5, 0.999])
    func retriesBackOffExponentiallyWithJitterAndStop(random: Double) throws {
        let policy = RetryPolicy(maximumAttempts: 6, initialDelay: .seconds(1), maximumDelay: .seconds(10))
        let ceilings: [Duration] = [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10)]
        for (index, ceiling) in ceilings.enumerated() {
            let delay = try #require(policy.delay(after: index + 1, random: random))
            #expect(delay >= ceiling / 2 && delay <= ceiling, "after attempt \(index + 1)")
        }
        #expect(policy.delay(after: 6, random: random) == nil)
        #expect(policy.maximumTotalDelay == .seconds(25))
        #expect(RetryPolicy().maximumTotalDelay == .seconds(31))
    }

    @Test func aWebhookURLIsValidatedAndShownRedacted() throws {
        for bad in ["ftp://example.com/x", "https://user:pw@example.com/x", "not a url", "https:///path"] {
            #expect(throws: AccessControlError.self, "\(bad)") { try TeamWebhooks.validate(bad) }
        }
        try TeamWebhooks.validate("https://hooks.slack.com/services/T000/B000/XXXX")
        #expect(
            TeamWebhook.redacted("https://hooks.slack.com/services/T000/B000/XXXX") == "https://hooks.slack.com/…"
        )
        #expect(TeamWebhook.redacted("http://127.0.0.1:8081/") == "http://127.0.0.1:8081/")
    }
}
