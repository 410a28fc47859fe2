import AccessControl
import AuditTrail
import Catalog
import Composition
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import SealedServerTesting
import SealedTesting
import Server
import Synchronization
import Testing

/// Team webhooks over real HTTP: the platform's ``WebhookService`` (AsyncHTTPClient) posts to a receiver served by
/// Hummingbird on a local port. Each notification arrives once, signed as documented; a failing or unreachable
/// receiver gets retries and a recorded failure while the workflow never waits for it; the signing secret and the
/// URL appear in no log, no audit record and no file of the data directory.
@Suite(.timeLimit(.minutes(2)))
struct WebhookDeliveryTests {
    static let eventType = "payments.card.captured"
    /// Fast retries: what is tested is their number and their record, not their pace.
    static let retry = RetryPolicy(maximumAttempts: 3, initialDelay: .milliseconds(5), maximumDelay: .milliseconds(20))

    /// What the receiver got: one entry per POST.
    struct Received: Sendable {
        var path: String
        var headers: HTTPFields
        var body: [UInt8]
    }

    /// A local webhook receiver. Every POST is kept; the answer waits until ``open()`` (when made closed), then is
    /// `status`.
    final class Receiver: Sendable {
        let status: HTTPResponse.Status
        let received = Mutex<[Received]>([])
        /// How many answers were sent.
        let answered = Mutex(0)
        private let gate: Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>

        init(status: HTTPResponse.Status = .noContent, open: Bool = true) {
            self.status = status
            self.gate = Mutex((open, []))
        }

        func open() {
            let waiting = gate.withLock { gate in
                gate.open = true
                defer { gate.waiting = [] }
                return gate.waiting
            }
            for continuation in waiting { continuation.resume() }
        }

        private func waitUntilOpen() async {
            await withCheckedContinuation { continuation in
                let isOpen = gate.withLock { gate in
                    if !gate.open { gate.waiting.append(continuation) }
                    return gate.open
                }
                if isOpen { continuation.resume() }
            }
        }

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.post(":team") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                self.received.withLock {
                    $0.append(Received(path: request.uri.path, headers: request.headers, body: Array(buffer: body)))
                }
                await self.waitUntilOpen()
                self.answered.withLock { $0 += 1 }
                return Response(status: self.status)
            }
            return router
        }

        /// Serves on a free local port while `body` runs.
        func serve(_ body: @Sendable (_ port: Int) async throws -> Void) async throws {
            let app = Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                logger: Fixture.logger
            )
            try await app.test(.live) { client in try await body(try #require(client.port)) }
        }
    }

    /// The platform in memory with the payments domain, its event type, a reviewer pair and a consumer, and the
    /// platform's webhook service running while `body` runs.
    struct World {
        let fixture: PlatformFixture
        var platform: SealedPlatform { fixture.platform }
        var access: AccessRequests { fixture.access }
        var webhooks: TeamWebhooks { fixture.platform.webhooks }

        /// `allowLoopback`: the test receivers listen on 127.0.0.1, which deliveries refuse by default.
        init(approvals: Int = 1, allowLoopback: Bool = true, logger: Logger = Fixture.logger) async throws {
            var configuration = PlatformConfiguration()
            configuration.webhookRetry = WebhookDeliveryTests.retry
            configuration.webhookPrivateAddresses = allowLoopback
            fixture = try await PlatformFixture(configuration: configuration, logger: logger)
            let iam = fixture.identities
            for team in ["payments", "analytics"] { _ = try await iam.createTeam(team, by: .platform) }
            for (user, team) in [("reviewer", "payments"), ("reviewer2", "payments"), ("analyst", "analytics")] {
                _ = try await fixture.user(user, team: team)
            }
            let admin = fixture.platform.administratorARN
            _ = try await fixture.catalog.createDomain("payments", owner: "payments", by: admin)
            _ = try await fixture.catalog.createEventType(
                .init(name: WebhookDeliveryTests.eventType, domain: "payments", approvalsRequired: approvals),
                by: admin
            )
        }

        func user(_ name: String) -> String { fixture.identities.userARN(name) }

        /// Runs the platform's webhook service beside `body`, and stops it after.
        func withWebhookService(_ body: () async throws -> Void) async throws {
            let service = try #require(platform.services.compactMap { $0 as? WebhookService }.first)
            try await withThrowingTaskGroup { group in
                group.addTask { try await service.run() }
                try await body()
                group.cancelAll()
                try await group.waitForAll()
            }
        }

        /// The team's deliveries once none is pending and there are `count` (or the suite's time limit).
        func settled(_ team: String, count: Int) async throws -> [WebhookDelivery] {
            while true {
                let deliveries = try await webhooks.deliveries(of: team, limit: 100, by: platform.administratorARN)
                if deliveries.count >= count, deliveries.allSatisfy({ $0.state != .pending }) { return deliveries }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// Verifies the signature as a receiver would, independently of the platform's code: HMAC-SHA-256 keyed with
    /// the secret's UTF-8, over `t`, `.`, then the body.
    static func verify(_ received: Received, secret: String) throws -> Bool {
        let header = try #require(received.headers[HTTPField.Name("Sealed-Signature")!])
        let parts = Dictionary(
            uniqueKeysWithValues: header.split(separator: ",").map { part in
                let pair = part.split(separator: "=", maxSplits: 1)
                return (String(pair[0]), String(pair.count == 2 ? pair[1] : ""))
            }
        )
        let timestamp = try #require(parts["t"])
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data(timestamp.utf8) + Data(".".utf8) + Data(received.body),
            using: SymmetricKey(data: Data(secret.utf8))
        )
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        return parts["v1"] == hex
            && WebhookSignature.isValid(header, secret: secret, body: received.body, now: Date())
    }

    static func header(_ received: Received, _ name: String) -> String? {
        received.headers[HTTPField.Name(name)!]
    }

    static func event(_ received: Received) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(received.body)) as? [String: Any])
    }

    // MARK: - Delivered once, signed

    @Test func eachNotificationArrivesOnceSignedWithItsTeamsSecret() async throws {
        let world = try await World()
        let receiver = Receiver()
        try await receiver.serve { port in
            let payments = try await world.webhooks.set(
                "payments",
                url: "http://127.0.0.1:\(port)/payments",
                by: world.user("reviewer")
            )
            let analytics = try await world.webhooks.set(
                "analytics",
                url: "http://127.0.0.1:\(port)/analytics",
                by: world.user("analyst")
            )
            #expect(payments.secret != analytics.secret)
            try await world.withWebhookService {
                let request = try await world.access.request(
                    Self.eventType,
                    justification: "fraud dashboards",
                    durationSeconds: 86_400 * 3,
                    by: world.user("analyst")
                )
                _ = try await world.access.approve(request.id, comment: "ok", by: world.user("reviewer"))
                _ = try await world.access.revoke(request.id, comment: "done", by: world.user("reviewer2"))

                let toPayments = try await world.settled("payments", count: 3)
                let toAnalytics = try await world.settled("analytics", count: 2)
                #expect(toPayments.map(\.event) == ["access_grant.revoked", "access_request.approved", "access_request.created"])
                #expect(toAnalytics.map(\.event) == ["access_grant.revoked", "access_request.approved"])
                for delivery in toPayments + toAnalytics {
                    #expect(delivery.state == .delivered)
                    #expect(delivery.attempts.count == 1)
                    #expect(delivery.lastStatusCode == 204)
                    #expect(delivery.requestID == request.id)
                }

                // Exactly what was recorded arrived: once each, each delivery id once.
                let received = receiver.received.withLock { $0 }
                #expect(received.count == 5)
                let ids = received.compactMap { Self.header($0, "Sealed-Delivery") }
                #expect(Set(ids) == Set((toPayments + toAnalytics).map(\.id)))
                #expect(ids.count == 5)
                for item in received {
                    let secret = item.path == "/payments" ? payments.secret : analytics.secret
                    let other = item.path == "/payments" ? analytics.secret : payments.secret
                    #expect(try Self.verify(item, secret: secret), "\(item.path)")
                    #expect(try !Self.verify(item, secret: other), "signed with the other team's secret")
                    #expect(Self.header(item, "Content-Type") == "application/json")
                    let body = try Self.event(item)
                    #expect(Self.header(item, "Sealed-Event") == body["event"] as? String)
                    #expect(body["team"] as? String == String(item.path.dropFirst()))
                    #expect(body["requestId"] as? String == request.id)
                    #expect((body["text"] as? String)?.isEmpty == false, "a Slack incoming webhook needs text")
                }
                let approved = try #require(
                    try received.first { try Self.event($0)["event"] as? String == "access_request.approved" }
                )
                #expect(try Self.event(approved)["actor"] as? String == world.user("reviewer"))
                #expect(try Self.event(approved)["comment"] as? String == "ok")
            }
        }
    }

    // MARK: - A failing receiver never holds the workflow

    @Test func aReceiverAnswering500GetsRetriesAndARecordedFailureWhileTheWorkflowGoesOn() async throws {
        let world = try await World()
        let receiver = Receiver(status: .internalServerError, open: false)
        try await receiver.serve { port in
            _ = try await world.webhooks.set(
                "payments",
                url: "http://127.0.0.1:\(port)/payments",
                by: world.user("reviewer")
            )
            try await world.withWebhookService {
                let first = try await world.access.request(
                    Self.eventType,
                    justification: "fraud dashboards",
                    durationSeconds: nil,
                    by: world.user("analyst")
                )
                _ = try await world.access.approve(first.id, comment: "ok", by: world.user("reviewer"))
                let second = try await world.access.request(
                    Self.eventType,
                    justification: "again",
                    durationSeconds: nil,
                    by: world.platform.administratorARN
                )
                _ = try await world.access.deny(second.id, comment: "no", by: world.user("reviewer"))
                // Four transitions done, and the receiver has not answered once: none of them waited for it.
                #expect(receiver.answered.withLock { $0 } == 0)

                receiver.open()
                let deliveries = try await world.settled("payments", count: 4)
                #expect(
                    Set(deliveries.map(\.event)) == [
                        "access_request.created", "access_request.approved", "access_request.denied",
                    ]
                )
                for delivery in deliveries {
                    #expect(delivery.state == .failed)
                    #expect(delivery.attempts.count == Self.retry.maximumAttempts)
                    #expect(delivery.attempts.allSatisfy { $0.statusCode == 500 })
                    #expect(delivery.failure == "HTTP 500")
                    #expect(delivery.completionDate != nil)
                }
                // Every attempt reached the receiver with the same delivery id.
                let received = receiver.received.withLock { $0 }
                #expect(received.count == 4 * Self.retry.maximumAttempts)
                let perDelivery = Dictionary(grouping: received) { Self.header($0, "Sealed-Delivery") ?? "" }
                #expect(perDelivery.count == 4)
                #expect(perDelivery.values.allSatisfy { $0.count == Self.retry.maximumAttempts })
            }
        }
    }

    @Test func anUnreachableReceiverGetsRetriesAndARecordedFailure() async throws {
        let world = try await World()
        // A port that was just free and is closed again: nothing listens there.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        _ = try await world.webhooks.set("payments", url: "http://127.0.0.1:\(port)/down", by: world.user("reviewer"))
        try await world.withWebhookService {
            let request = try await world.access.request(
                Self.eventType,
                justification: "fraud dashboards",
                durationSeconds: nil,
                by: world.user("analyst")
            )
            #expect(request.status == .pending)
            let deliveries = try await world.settled("payments", count: 1)
            let delivery = try #require(deliveries.first)
            #expect(delivery.state == .failed)
            #expect(delivery.attempts.count == Self.retry.maximumAttempts)
            #expect(delivery.attempts.allSatisfy { $0.statusCode == nil && $0.error != nil })
            #expect(delivery.failure?.contains("\(port)") == false, "the reason names no address")
        }
    }

    /// By default (no `--webhook-private-addresses`) a receiver on loopback is refused before any connection: the
    /// delivery is recorded as failed with the reason, and the receiver never sees a request.
    @Test func aReceiverOnAnInternalAddressIsRefusedByDefault() async throws {
        let world = try await World(allowLoopback: false)
        let receiver = Receiver()
        try await receiver.serve { port in
            _ = try await world.webhooks.set(
                "payments",
                url: "http://127.0.0.1:\(port)/payments",
                by: world.user("reviewer")
            )
            try await world.withWebhookService {
                _ = try await world.access.request(
                    Self.eventType,
                    justification: "fraud dashboards",
                    durationSeconds: nil,
                    by: world.user("analyst")
                )
                let delivery = try #require(try await world.settled("payments", count: 1).first)
                #expect(delivery.state == .failed)
                #expect(delivery.attempts.allSatisfy { $0.statusCode == nil && $0.error?.hasPrefix("refused") == true })
                #expect(delivery.failure?.contains("not public") == true, "\(delivery.failure ?? "")")
            }
            #expect(receiver.received.withLock { $0.isEmpty })
        }
    }

    @Test func aFullQueueDropsItsOldestDeliveryAndRecordsItAsFailed() async throws {
        let world = try await World()
        let store = InMemoryWebhookStore()
        let webhooks = TeamWebhooks(identities: world.fixture.identities, store: store, deliveries: store)
        // One delivery in flight at a time, one waiting.
        let dispatcher = WebhookDispatcher(webhooks: webhooks, deliveries: store, capacity: 1, concurrency: 1)
        let receiver = Receiver(open: false)
        let request = try await world.access.request(
            Self.eventType,
            justification: "fraud dashboards",
            durationSeconds: nil,
            by: world.user("analyst")
        )
        @Sendable func notification(_ comment: String) -> AccessNotification {
            AccessNotification(
                kind: .requestCreated,
                request: request,
                teams: ["payments"],
                owningTeam: "payments",
                comment: comment,
                date: Date()
            )
        }
        try await receiver.serve { port in
            _ = try await webhooks.set("payments", url: "http://127.0.0.1:\(port)/payments", by: world.user("reviewer"))
            let service = WebhookService(dispatcher: dispatcher, privateAddresses: true, logger: Fixture.logger)
            try await withThrowingTaskGroup { group in
                group.addTask { try await service.run() }
                dispatcher.notify(notification("first"))
                // The first is in flight (the receiver holds it): the next two meet a queue of one.
                while receiver.received.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(5)) }
                dispatcher.notify(notification("second"))
                dispatcher.notify(notification("third"))
                receiver.open()
                var deliveries: [WebhookDelivery] = []
                while deliveries.count < 3 || deliveries.contains(where: { $0.state == .pending }) {
                    try await Task.sleep(for: .milliseconds(5))
                    deliveries = await store.deliveries(of: "payments", limit: 10)
                }
                group.cancelAll()

                let comments = try receiver.received.withLock { $0 }.map { try Self.event($0)["comment"] as? String }
                #expect(comments == ["first", "third"], "the second was pushed out by the third")
                #expect(deliveries.filter { $0.state == .delivered }.count == 2)
                let dropped = try #require(deliveries.first { $0.state == .failed })
                #expect(dropped.failure == "queue full")
                #expect(dropped.attempts.isEmpty)
            }
        }
    }

    // MARK: - Routes, and the secret kept out of sight

    @Test func theSecretAndURLAreInNoLogNoAuditRecordAndNoFileInTheClear() async throws {
        let logs = SubjectRoutesTests.LogCapture()
        var logger = Logger(label: "webhook-secrecy") { _ in logs }
        logger.logLevel = .trace
        try await withTemporaryDirectory { parent in
            let directory = parent.appendingPathComponent("data")
            var configuration = PlatformConfiguration(storage: .sqlite(dataDirectory: directory))
            configuration.webhookRetry = Self.retry
            let platform = try await SealedPlatform.build(configuration, environment: [:], logger: logger)
            defer { platform.close() }
            _ = try await platform.identities.createTeam("payments", by: .platform)
            let (_, key) = try await platform.identities.createUser("reviewer", team: "payments", by: .platform)
            let reviewer = PlatformFixture.Keys(id: key.id, secret: key.secretAccessKey)
            let (_, outsiderKey) = try await platform.identities.createUser("outsider", team: nil, by: .platform)
            let outsider = PlatformFixture.Keys(id: outsiderKey.id, secret: outsiderKey.secretAccessKey)
            let server = SealedServer(platform, logger: logger)
            let url = "https://hooks.example.com/services/T0001/B0001/slack-url-token-\(UUID().uuidString)"
            let app = Application(router: server.router(), logger: logger)
            let secrets = try await app.test(.router) { client in
                var secrets: [String] = []
                let (set, answer) = try await AuditedServerTests.v1(
                    client,
                    reviewer,
                    .put,
                    "/v1/iam/teams/payments/webhook",
                    ["Url": url]
                )
                #expect(set.status == .ok)
                secrets.append(try #require(answer["SigningSecret"] as? String))
                #expect(answer["Url"] as? String == "https://hooks.example.com/…")

                let (shown, described) = try await AuditedServerTests.v1(
                    client,
                    reviewer,
                    .get,
                    "/v1/iam/teams/payments/webhook",
                    nil
                )
                #expect(shown.status == .ok)
                #expect(described["SigningSecret"] == nil)

                let (rotated, rotation) = try await AuditedServerTests.v1(
                    client,
                    reviewer,
                    .post,
                    "/v1/iam/teams/payments/webhook/rotate-secret",
                    nil
                )
                #expect(rotated.status == .ok)
                secrets.append(try #require(rotation["SigningSecret"] as? String))
                #expect(secrets[0] != secrets[1])

                // Not a member, not allowed: refused.
                let (refused, _) = try await AuditedServerTests.v1(
                    client,
                    outsider,
                    .get,
                    "/v1/iam/teams/payments/webhook",
                    nil
                )
                #expect(refused.status == .forbidden)
                let (deliveries, list) = try await AuditedServerTests.v1(
                    client,
                    reviewer,
                    .get,
                    "/v1/iam/teams/payments/webhook/deliveries",
                    nil
                )
                #expect(deliveries.status == .ok)
                #expect((list["Deliveries"] as? [Any])?.isEmpty == true)
                return secrets
            }
            let stored = try await platform.webhooks.webhook(of: "payments", by: platform.administratorARN)
            #expect(stored.secret == secrets[1] && stored.url == url)

            let secretPath = "slack-url-token"
            let records = try await platform.audit.store.query(AuditQuery(limit: 1000))
            #expect(records.contains { $0.record.eventName == "PutTeamWebhook" })
            for record in records {
                let text = String(decoding: try JSONEncoder().encode(record.record), as: UTF8.self)
                for secret in secrets { #expect(!text.contains(secret), "audit record \(record.sequence)") }
                #expect(!text.contains(secretPath), "audit record \(record.sequence) holds the URL")
            }
            for line in logs.lines.withLock({ $0 }) {
                for secret in secrets { #expect(!line.contains(secret)) }
                #expect(!line.contains(secretPath))
            }
            let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
            var scanned = 0
            while let file = files?.nextObject() as? URL {
                guard let bytes = FileManager.default.contents(atPath: file.path) else { continue }
                scanned += 1
                for needle in secrets + [secretPath] {
                    #expect(bytes.range(of: Data(needle.utf8)) == nil, "\(file.lastPathComponent) holds it")
                }
            }
            #expect(scanned > 5)
        }
    }
}
