import AccessControl
import AuditTrail
import Catalog
import Composition
import EventBus
import Foundation
import HTTPTypes
import HummingbirdTesting
import KMS
import KeyService
import NIOCore
import SealedEvents
import SealedServerTesting
import Subjects
import Server
import Testing
import WireShapes

@testable import Console

/// The access matrix (filters, revocation), the catalog's "who may read now", and topics with "Open": in process, on
/// the platform in memory, with events sealed by the SDK under the domain's key in the platform's key service.
struct ConsoleAccessTests {
    typealias World = ConsoleRouteTests.World
    typealias Browser = ConsoleRouteTests.Browser

    static let eventType = "payments.card.captured"
    static let topic = "payments"

    /// Publishes one event of ``eventType`` with `card` in its sealed field; returns its offset.
    static func publish(_ world: World, card: String) async throws -> UInt64 {
        let platform = world.fixture.platform
        let type = try await platform.catalog.eventType(named: eventType)
        let domain = try #require(await platform.catalog.domain(named: type.domain))
        let descriptor = PublishGovernor.descriptor(of: type, keyARN: domain.keyARN)
        let kms = InProcessKMS(keyService: platform.keyService, caller: Caller(principal: platform.administratorARN))
        let sealer = try Sealer(keyring: try KMSKeyring(generatorKeyId: domain.keyARN, client: kms))
        let envelope = Envelope(
            metaData: MetaData(eventId: UUID().uuidString, eventType: eventType, domain: "payments", source: "checkout"),
            data: ["amount": 42, "card": .string(card)]
        )
        let sealed = try await sealer.seal(envelope, as: descriptor)
        if try await platform.bus.transport.topic(named: topic) == nil {
            _ = try await platform.bus.transport.createTopic(TopicConfiguration(name: topic))
        }
        return try await platform.bus.transport.publish(
            OutgoingEvent(eventID: sealed.metaData.eventId, payload: sealed.serialized()),
            to: topic
        )
    }

    /// Carl's approved request (two approvals, by rita and sam); its id.
    static func grant(_ world: World) async throws -> String {
        let identities = world.fixture.identities
        let request = try await world.fixture.access.request(
            eventType,
            justification: "reconciliation",
            durationSeconds: 86_400,
            by: identities.userARN("carl")
        )
        _ = try await world.fixture.access.approve(request.id, comment: "ok", by: identities.userARN("rita"))
        _ = try await world.fixture.access.approve(request.id, comment: "ok", by: identities.userARN("sam"))
        return request.id
    }

    @Test func theMatrixShowsWhatEachPrincipalMaySeeAndFilters() async throws {
        let world = try await World()
        try await world.test { client in
            var consumer = Browser()
            _ = try await consumer.signIn(client, world.consumer)
            let empty = String(buffer: try await consumer.get(client, "/console/access").body)
            #expect(empty.contains(#"id="no-grants""#))
            let id = try await Self.grant(world)

            let mine = String(buffer: try await consumer.get(client, "/console/access").body)
            #expect(mine.contains(#"id="grant-\#(id)""#))
            #expect(mine.contains("arn:aws:iam::000000000000:user/carl"))
            #expect(mine.contains("arn:aws:iam::000000000000:user/rita, arn:aws:iam::000000000000:user/sam"))
            #expect(!mine.contains("/revoke"), "a consumer may not revoke its own grant")

            var reviewer = Browser()
            _ = try await reviewer.signIn(client, world.reviewer)
            let owners = String(buffer: try await reviewer.get(client, "/console/access").body)
            #expect(owners.contains(#"action="/console/access/\#(id)/revoke""#))

            var outsider = Browser()
            _ = try await outsider.signIn(client, world.outsider)
            let nothing = String(buffer: try await outsider.get(client, "/console/access").body)
            #expect(!nothing.contains(#"id="grant-"#), "olga neither holds it nor owns the type")

            for (query, kept) in [
                ("eventType=\(Self.eventType)", true), ("eventType=payments.other", false),
                ("team=analytics", true), ("team=payments", true), ("team=logistics", false),
                ("principal=carl", true), ("principal=arn:aws:iam::000000000000:user/carl", true), ("principal=rita", false),
            ] {
                let page = String(buffer: try await reviewer.get(client, "/console/access?\(query)").body)
                #expect(page.contains(#"id="grant-\#(id)""#) == kept, "\(query)")
            }
            let record = try #require(try await world.fixture.lastRecord())
            #expect(record.eventName == "GetAccessMatrix")
            #expect(record.requestParameters?["principal"]?.stringValue == "rita")
            #expect(record.userAgent?.hasPrefix("sealed-console/1") == true)
        }
    }

    @Test func theCatalogSaysWhoMayReadEachTypeNow() async throws {
        let world = try await World()
        _ = try await Self.grant(world)
        try await world.test { client in
            var reviewer = Browser()
            _ = try await reviewer.signIn(client, world.reviewer)
            let catalog = String(buffer: try await reviewer.get(client, "/console/catalog").body)
            #expect(catalog.contains(#"<td class="arn readers">user/carl (until "#))
            let type = String(buffer: try await reviewer.get(client, "/console/catalog/\(Self.eventType)").body)
            #expect(type.contains(#"id="readers">user/carl (until "#))

            var outsider = Browser()
            _ = try await outsider.signIn(client, world.outsider)
            let hidden = String(buffer: try await outsider.get(client, "/console/catalog").body)
            #expect(hidden.contains(#"<td class="arn readers">none you may see</td>"#))
        }
    }

    @Test func revokingFromThePageEndsTheGrantAndOnlyOwnersMay() async throws {
        let world = try await World()
        let id = try await Self.grant(world)
        try await world.test { client in
            var outsider = Browser()
            _ = try await outsider.signIn(client, world.outsider)
            _ = try await outsider.get(client, "/console/access")
            let refused = try await outsider.post(client, "/console/access/\(id)/revoke", [("comment", "mine now")])
            #expect(refused.status == .seeOther)
            let notice = String(buffer: try await outsider.get(client, "/console/access").body)
            #expect(notice.contains("Only members of payments or an administrator can revoke access"))
            #expect(try await world.fixture.access.show(id, by: world.fixture.platform.administratorARN).status == .approved)

            var reviewer = Browser()
            _ = try await reviewer.signIn(client, world.reviewer)
            _ = try await reviewer.get(client, "/console/access")
            let forged = try await reviewer.post(client, "/console/access/\(id)/revoke", [("comment", "x")], csrf: .some(nil))
            #expect(forged.status == .forbidden)
            #expect(try await world.fixture.access.show(id, by: world.fixture.platform.administratorARN).status == .approved)

            _ = try await reviewer.post(client, "/console/access/\(id)/revoke", [("comment", "project over")])
            let after = String(buffer: try await reviewer.get(client, "/console/access").body)
            #expect(after.contains("Revoked \(id): arn:aws:iam::000000000000:user/carl may no longer read"))
            #expect(!after.contains(#"id="grant-\#(id)""#))
            let revoked = try await world.fixture.access.show(id, by: world.fixture.platform.administratorARN)
            #expect(revoked.status == .revoked)
            #expect(revoked.closing?.comment == "project over")
        }
        let records = try await world.fixture.audit.tail(after: 0, limit: 10_000).map(\.record)
        let revocations = records.filter { $0.eventName == "RevokeAccessRequest" && !$0.isIntent }
        #expect(revocations.map(\.errorCode) == ["AccessDenied", nil])
    }

    @Test func topicsShowEventsSealedAndOpenOnlyWithAGrant() async throws {
        let world = try await World()
        let offset = try await Self.publish(world, card: "4111-1111-1111-1111")
        try await world.test { client in
            var consumer = Browser()
            _ = try await consumer.signIn(client, world.consumer)
            let topics = String(buffer: try await consumer.get(client, "/console/topics").body)
            #expect(topics.contains(#"<a href="/console/topics/payments">payments</a>"#))
            let page = String(buffer: try await consumer.get(client, "/console/topics/payments").body)
            #expect(page.contains(#"id="event-\#(offset)""#))
            #expect(page.contains("&quot;sealed&quot;: true"), "the sealed field shows as sealed")
            #expect(page.contains("&quot;amount&quot;: 42"), "the readable field shows")
            #expect(!page.contains("4111"))

            // No grant: the event stays sealed, with the request to make; nothing is decrypted.
            let refused = String(buffer: try await consumer.post(client, "/console/topics/payments/events/\(offset)/open", []).body)
            #expect(refused.contains(#"id="refusal""#))
            #expect(refused.contains("sealed access request \(Self.eventType) --justification"))
            #expect(!refused.contains("4111"))

            _ = try await Self.grant(world)
            let opened = try await consumer.post(client, "/console/topics/payments/events/\(offset)/open", [])
            #expect(opened.status == .ok)
            #expect(opened.headers[.cacheControl] == "no-store")
            let html = String(buffer: opened.body)
            #expect(html.contains(#"id="opened""#))
            #expect(html.contains("&quot;card&quot;: &quot;4111-1111-1111-1111&quot;"))

            let forged = try await consumer.post(client, "/console/topics/payments/events/\(offset)/open", [], csrf: .some(nil))
            #expect(forged.status == .forbidden)
            #expect(!String(buffer: forged.body).contains("4111"))

            let missing = try await consumer.post(client, "/console/topics/payments/events/999/open", [])
            #expect(missing.status == .notFound)
        }
        let records = try await world.fixture.audit.tail(after: 0, limit: 10_000).map(\.record).filter { !$0.isIntent }
        let assumed = records.filter { $0.eventName == "AssumeRole" }
        #expect(assumed.map(\.errorCode) == ["AccessDenied", nil], "refused before the grant, allowed after")
        #expect(assumed.allSatisfy { $0.userIdentity.arn == "arn:aws:iam::000000000000:user/carl" })
        let decrypt = try #require(records.last { $0.eventName == "Decrypt" && $0.eventSource == .kms })
        #expect(decrypt.errorCode == nil)
        #expect(decrypt.userIdentity.arn?.hasPrefix("arn:aws:sts::000000000000:assumed-role/") == true)
        #expect(decrypt.userIdentity.arn?.hasSuffix("/sealed-console") == true)
        #expect(decrypt.contextEventType == Self.eventType)
        #expect(decrypt.principalARNs.contains { $0.hasPrefix("arn:aws:iam::000000000000:role/") })
        #expect(decrypt.userAgent?.hasPrefix("sealed-console/1") == true)
        #expect(!decrypt.keyIdentifiers.isEmpty)
    }

    @Test func aRevokedGrantStopsOpeningAtOnce() async throws {
        let world = try await World()
        let offset = try await Self.publish(world, card: "5500-0000-0000-0004")
        let id = try await Self.grant(world)
        try await world.test { client in
            var consumer = Browser()
            _ = try await consumer.signIn(client, world.consumer)
            _ = try await consumer.get(client, "/console/topics/payments")
            let opened = String(buffer: try await consumer.post(client, "/console/topics/payments/events/\(offset)/open", []).body)
            #expect(opened.contains("5500-0000-0000-0004"))
            _ = try await world.fixture.access.revoke(id, comment: "done", by: world.fixture.identities.userARN("rita"))
            let refused = String(buffer: try await consumer.post(client, "/console/topics/payments/events/\(offset)/open", []).body)
            #expect(refused.contains(#"id="refusal""#))
            #expect(!refused.contains("5500"))
        }
    }

    /// The trail in front of the fixture's, refusing `Decrypt` records.
    struct RefusingDecrypts: AuditSink {
        let trail: any AuditSink

        func record(_ record: Record) async throws {
            if record.eventName == "Decrypt" { throw CancellationError() }
            try await trail.record(record)
        }
    }

    @Test func aDecryptTheTrailCannotRecordOpensNothing() async throws {
        var world = try await World()
        let server = world.fixture.server
        let trail = try #require(server.auditSink)
        world.console = Console(
            platform: try #require(server.platform),
            authentication: server.authentication,
            auditSink: RefusingDecrypts(trail: trail),
            region: server.configuration.region,
            account: server.configuration.accountID,
            bus: server.busRoutes?.transport,
            keyService: server.keyService
        )
        let offset = try await Self.publish(world, card: "3400-0000-0000-009")
        _ = try await Self.grant(world)
        let consumerKeys = world.consumer
        try await world.test { client in
            var consumer = Browser()
            _ = try await consumer.signIn(client, consumerKeys)
            _ = try await consumer.get(client, "/console/topics/payments")
            let refused = try await consumer.post(client, "/console/topics/payments/events/\(offset)/open", [])
            #expect(refused.status == .serviceUnavailable)
            let html = String(buffer: refused.body)
            #expect(html.contains("Audit trail unavailable"))
            #expect(!html.contains("3400"))
        }
    }

    /// Resolves subjects with the platform's subject service, as a producer.
    struct PlatformResolver: SubjectKeyResolver {
        let subjects: SubjectService
        let producer: String

        func subjectKey(subjectID: String, eventType: String) async throws -> SealedEvents.SubjectKey {
            let key = try await subjects.resolve(subjectID: subjectID, eventType: eventType, by: producer)
            return SealedEvents.SubjectKey(branchKeyID: key.branchKeyID, keyStoreTable: SubjectKeys.platformTable)
        }
    }

    @Test func aSubjectKeyedEventOpensUntilItsSubjectIsErased() async throws {
        let world = try await World()
        let platform = world.fixture.platform
        let admin = platform.administratorARN
        _ = try await platform.catalog.createEventType(
            .init(
                name: "payments.customer.registered", domain: "payments", classification: .confidential,
                regulations: ["GDPR"], sensitiveFields: ["/customer"], subjectField: "/customer/id",
                algorithmSuite: "0x0478", approvalsRequired: 1
            ),
            by: admin
        )
        let type = try await platform.catalog.eventType(named: "payments.customer.registered")
        let domain = try #require(await platform.catalog.domain(named: "payments"))
        let descriptor = PublishGovernor.descriptor(of: type, keyARN: domain.keyARN)
        let kms = InProcessKMS(keyService: platform.keyService, caller: Caller(principal: admin))
        let subjects = SubjectKeys(resolver: PlatformResolver(subjects: platform.subjects, producer: admin)) { table, arn in
            try BranchKeyStore(
                tableName: table, logicalKeyStoreName: table, kmsKeyARN: arn,
                dynamoDB: InProcessDynamoDB(tables: platform.tables, caller: admin), kms: kms
            )
        }
        let sealer = try Sealer(keyring: try KMSKeyring(generatorKeyId: domain.keyARN, client: kms), subjects: subjects)
        let sealed = try await sealer.seal(
            Envelope(
                metaData: MetaData(eventId: UUID().uuidString, eventType: type.name, domain: "payments", source: "signup"),
                data: ["customer": ["id": "cust-77", "email": "ada@example.com"], "plan": "gold"]
            ),
            as: descriptor
        )
        _ = try await platform.bus.transport.createTopic(TopicConfiguration(name: "customers"))
        let offset = try await platform.bus.transport.publish(
            OutgoingEvent(eventID: sealed.metaData.eventId, payload: sealed.serialized()),
            to: "customers"
        )
        let carl = world.fixture.identities.userARN("carl")
        let request = try await platform.access.request(type.name, justification: "support", durationSeconds: 3600, by: carl)
        _ = try await platform.access.approve(request.id, comment: "ok", by: world.fixture.identities.userARN("rita"))
        let consumerKeys = world.consumer
        try await world.test { client in
            var consumer = Browser()
            _ = try await consumer.signIn(client, consumerKeys)
            _ = try await consumer.get(client, "/console/topics/customers")
            let opened = String(buffer: try await consumer.post(client, "/console/topics/customers/events/\(offset)/open", []).body)
            #expect(opened.contains(#"id="opened""#))
            #expect(opened.contains("ada@example.com"))

            _ = try await platform.subjects.erase(subjectID: "cust-77", domain: "payments", reason: "GDPR Art. 17", by: admin)
            let erased = String(buffer: try await consumer.post(client, "/console/topics/customers/events/\(offset)/open", []).body)
            #expect(!erased.contains("ada@example.com"))
            #expect(erased.contains("&quot;erased&quot;: true"))
            #expect(erased.contains("The data subject of this event was erased"))
        }
        let records = try await world.fixture.audit.tail(after: 0, limit: 10_000).map(\.record)
        let reads = records.filter { $0.eventSource == .dynamoDB && $0.userIdentity.arn?.hasSuffix("/sealed-console") == true }
        #expect(!reads.isEmpty, "the branch key reads are audited as the role session's")
        #expect(reads.allSatisfy { $0.userAgent?.hasPrefix("sealed-console/1") == true })
    }
}
