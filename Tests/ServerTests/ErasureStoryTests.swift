import AccessControl
import AuditTrail
import Catalog
import Composition
import EventBus
import EncryptionSDK
import Foundation
import KMS
import Logging
import PlatformClient
import SealedEvents
import SealedServerTesting
import SealedSupport
import SealedTesting
import Server
import SigV4
import Testing

/// Crypto-shredding end to end on a live `sealed serve`: subject-keyed events of two event types for two subjects,
/// opened by an approved reader in Swift and with the official Python hierarchical keyring, one subject erased, and
/// then every one of its events refused as `subjectErased` everywhere while the other subject's open as before.
@Suite(.serialized) struct ErasureStoryTests {
    static let alice = "c-4711 alice@example.com"
    static let bob = "c-0815 bob@example.com"
    static let placed = "orders.order.placed"
    static let refunded = "orders.order.refunded"

    struct World {
        let fixture: PlatformFixture
        let shop: PlatformFixture.Keys
        let analyst: PlatformFixture.Keys
        let domainKey: String

        init() async throws {
            var logger = Logger(label: "erasure-story")
            logger.logLevel = .warning
            fixture = try await PlatformFixture(logger: logger)
            let admin = fixture.platform.administratorARN
            _ = try await fixture.identities.createTeam("orders", by: .platform)
            shop = try await fixture.user("shop", team: "orders")
            _ = try await fixture.user("reviewer", team: "orders")
            analyst = try await fixture.user("analyst")
            domainKey = try await fixture.catalog.createDomain("orders", owner: "orders", by: admin).keyARN
            for type in [ErasureStoryTests.placed, ErasureStoryTests.refunded] {
                _ = try await fixture.catalog.createEventType(
                    .init(
                        name: type,
                        domain: "orders",
                        classification: .restricted,
                        regulations: ["GDPR"],
                        sensitiveFields: ["/customer"],
                        subjectField: "/customer/id",
                        algorithmSuite: "0x0478"
                    ),
                    by: admin
                )
            }
            // The analyst is approved for order.placed only.
            let request = try await fixture.access.request(
                ErasureStoryTests.placed,
                justification: "fraud analysis",
                durationSeconds: nil,
                by: fixture.identities.userARN("analyst")
            )
            _ = try await fixture.access.approve(request.id, comment: "ok", by: fixture.identities.userARN("reviewer"))
        }

        /// The event type as the platform's publish governance sees it.
        func descriptor(_ type: String) async throws -> EventTypeDescriptor {
            PublishGovernor.descriptor(of: try await fixture.catalog.eventType(named: type), keyARN: domainKey)
        }

        /// Seals the events through a `Publisher` (one stream, governance per event) and returns them as a consumer
        /// reads them from the topic, by event id.
        func publish(
            _ events: [(Envelope, EventTypeDescriptor)],
            _ endpoint: URL
        ) async throws -> [String: Envelope] {
            _ = try? await fixture.platform.bus.transport.createTopic(TopicConfiguration(name: "orders"))
            let sealer = try sealer(endpoint)
            let receipts = try await client(shop, endpoint).withPublisher(topic: "orders", sealer: sealer) { publisher in
                var receipts: [Publisher.Receipt] = []
                for (event, descriptor) in events { receipts.append(try await publisher.publish(event, as: descriptor)) }
                return receipts
            }
            for receipt in receipts { _ = try await receipt.offset }
            var read: [String: Envelope] = [:]
            for stored in try await fixture.platform.bus.transport.read(topic: "orders", from: 1, limit: 100, wait: .zero) {
                read[stored.eventID] = try Envelope(json: stored.payload)
            }
            return read
        }

        static func aws(_ keys: PlatformFixture.Keys, _ endpoint: URL) -> AWSConfiguration {
            AWSConfiguration(
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(
                    SigV4.Credentials(accessKeyId: keys.id, secretAccessKey: keys.secret, sessionToken: keys.token)
                ),
                kmsEndpoint: endpoint,
                stsEndpoint: endpoint,
                dynamoDBEndpoint: endpoint
            )
        }

        func client(_ keys: PlatformFixture.Keys, _ endpoint: URL) throws -> PlatformClient {
            try PlatformClient(
                endpoint: endpoint,
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(
                    SigV4.Credentials(accessKeyId: keys.id, secretAccessKey: keys.secret)
                )
            )
        }

        func sealer(_ endpoint: URL) throws -> Sealer {
            let aws = Self.aws(shop, endpoint)
            return try Sealer(
                kms: KMSClient(configuration: aws),
                subjects: .keyStore(aws: aws, resolver: client(shop, endpoint))
            )
        }

        func event(_ type: String, subject: String, _ index: Int) -> Envelope {
            Envelope(
                metaData: MetaData(eventId: Sealer.makeEventId(), eventType: type, domain: "orders", source: "shop"),
                data: [
                    "orderId": .string("o-\(index)"), "amount": 12.5,
                    "customer": ["id": .string(subject), "email": .string("\(subject)@mail.example")],
                ]
            )
        }

        /// A role session of the analyst's reader role for order.placed, for the Python peer.
        func readerSession() async throws -> RoleSession {
            let type = try await fixture.catalog.eventType(named: ErasureStoryTests.placed)
            return try await fixture.identities.assumeRole(
                type.readerRoleARN,
                sessionName: "analyst-python",
                duration: 900,
                caller: fixture.identities.userARN("analyst"),
                sourceIP: nil
            )
        }

        func python(_ session: RoleSession, _ endpoint: URL) -> PythonKeyStore.Configuration {
            .init(
                table: "sealed-branch-keys",
                logicalName: "sealed-branch-keys",
                kmsKeyARN: domainKey,
                endpoint: endpoint.absoluteString,
                region: "us-east-1",
                accessKeyID: session.accessKey.id,
                secretAccessKey: session.accessKey.secretAccessKey,
                sessionToken: session.accessKey.sessionToken
            )
        }

        func live<T: Sendable>(_ body: @Sendable (URL) async throws -> T) async throws -> T {
            let server = SealedServer(fixture.platform, configuration: .init(host: "127.0.0.1", port: 0), logger: fixture.logger)
            return try await withLiveServer(server, logger: fixture.logger) { port in
                try await body(URL(string: "http://127.0.0.1:\(port)")!)
            }
        }
    }

    /// The ESDK message of a sealed event (scope `fields`).
    static func message(_ envelope: Envelope) throws -> [UInt8] {
        try SealedMessage(envelope).bytes
    }

    @Test func eraseOneSubjectAndEveryOneOfItsEventsIsGoneInSwiftAndPythonWhileTheOthersStillOpen() async throws {
        let python = try PythonKeyStore.located()
        let world = try await World()
        try await world.live { endpoint in
            let placed = try await world.descriptor(Self.placed)
            let refunded = try await world.descriptor(Self.refunded)
            // The producer publishes four events; consumers read them from the topic.
            let events = [
                (world.event(Self.placed, subject: Self.alice, 1), placed),
                (world.event(Self.placed, subject: Self.alice, 2), placed),
                (world.event(Self.placed, subject: Self.bob, 3), placed),
                (world.event(Self.refunded, subject: Self.alice, 4), refunded),
            ]
            let topic = try await world.publish(events, endpoint)
            try #require(topic.count == 4)
            let alicePlaced = try #require(topic[events[0].0.metaData.eventId])
            let alicePlaced2 = try #require(topic[events[1].0.metaData.eventId])
            let bobPlaced = try #require(topic[events[2].0.metaData.eventId])
            let aliceRefunded = try #require(topic[events[3].0.metaData.eventId])
            for sealed in [alicePlaced, alicePlaced2, bobPlaced, aliceRefunded] {
                #expect(!sealed.jsonString().contains("c-4711") && !sealed.jsonString().contains("c-0815"))
                #expect(try SealedMessage(sealed).header.encryptedDataKeys.map(\.providerID) == ["aws-kms-hierarchy"])
            }
            let aliceKey = try #require(alicePlaced.metaData.encryption?.encryptionContext["subjectKey"])
            #expect(aliceKey.hasPrefix(Self.placed + "/s-"))

            // The approved reader opens both subjects' order.placed events; a clock it controls shows the erasure delay.
            let clock = TestClock()
            let analystAWS = World.aws(world.analyst, endpoint)
            let opener = try Opener.assumingReaderRole(of: placed, aws: analystAWS, consumer: "analyst", clock: clock)
            #expect(try await opener.open(alicePlaced, as: placed).data.value(at: try JSONPointer("/customer/id")) == .string(Self.alice))
            #expect(try await opener.open(bobPlaced, as: placed).data.value(at: try JSONPointer("/customer/id")) == .string(Self.bob))
            // Least privilege per event type: the same reader session cannot unwrap the subject's order.refunded key.
            let denied = await #expect(throws: SealedEventsError.self) { _ = try await opener.open(aliceRefunded) }
            #expect(denied?.code == .accessDenied)

            // The official Python hierarchical keyring opens them too, with the reader role's session.
            let session = try await world.readerSession()
            if let python {
                let results = try await python.run(world.python(session, endpoint), [
                    .decrypt(branchKeyID: nil, ciphertext: try Self.message(alicePlaced)),
                    .decrypt(branchKeyID: nil, ciphertext: try Self.message(bobPlaced)),
                    .decrypt(branchKeyID: nil, ciphertext: try Self.message(aliceRefunded)),
                ])
                #expect(results[0].succeeded && results[1].succeeded, "\(results.map(\.error))")
                #expect(results[0].encryptionContext["subjectKey"] == aliceKey)
                #expect(String(decoding: results[0].plaintext ?? [], as: UTF8.self).contains(Self.alice))
                #expect(!results[2].succeeded, "Python opened another event type's subject key")
            }

            // Erase Alice: her four branch-key items per event type are gone, one audit record says so.
            let producer = try world.client(world.shop, endpoint)
            let erasure = try await producer.eraseSubject(Self.alice, domain: "orders", reason: "Art. 17 request #2291")
            let receipt = try #require(erasure.output.receipts.first)
            #expect(receipt.keysDestroyed == 6)  // two event types × (version, active, beacon)
            #expect(aliceKey.hasSuffix(receipt.pseudonym))

            // Within the erasure delay the opener's cached branch key still opens; after it, never again.
            _ = try await opener.open(alicePlaced, as: placed)
            clock.advance(by: .seconds(61))
            for event in [alicePlaced, alicePlaced2] {
                await #expect(throws: SealedEventsError(.subjectErased, "")) { _ = try await opener.open(event, as: placed) }
                let view = try await opener.open(event, as: placed, redacting: true)
                #expect(view.denial?.code == .subjectErased)
                #expect(try view.data.value(at: try JSONPointer("/customer")) == Envelope.erasedMarker)
            }
            #expect(try await opener.open(bobPlaced, as: placed).data.value(at: try JSONPointer("/customer/id")) == .string(Self.bob))
            let fresh = try Opener.assumingReaderRole(of: placed, aws: analystAWS, consumer: "analyst")
            await #expect(throws: SealedEventsError(.subjectErased, "")) { _ = try await fresh.open(alicePlaced, as: placed) }

            if let python {
                let results = try await python.run(world.python(session, endpoint), [
                    .decrypt(branchKeyID: nil, ciphertext: try Self.message(alicePlaced)),
                    .decrypt(branchKeyID: nil, ciphertext: try Self.message(bobPlaced)),
                ])
                #expect(!results[0].succeeded)
                #expect(results[0].error?.contains("No item found") == true, "\(results[0].errorType ?? ""): \(results[0].error ?? "")")
                #expect(results[1].succeeded)
            }

            // The fence: sealing for Alice fails until the owning team lifts it; Bob is sealed as before.
            let newSealer = try world.sealer(endpoint)
            await #expect(throws: SealedEventsError(.subjectErased, "")) {
                _ = try await newSealer.seal(world.event(Self.placed, subject: Self.alice, 5), as: placed)
            }
            _ = try await newSealer.seal(world.event(Self.placed, subject: Self.bob, 6), as: placed)

            // The audit trail: the erasure's record holds the pseudonym and the count, no record holds a subject id,
            // and the chain verifies.
            let records = try await world.fixture.audit.query(AuditQuery())
            let record = try #require(records.first { $0.record.eventID == erasure.output.auditRecordId })
            #expect(record.record.eventName == "EraseSubject")
            let text = record.record.responseElements.map { String(describing: $0) } ?? ""
            #expect(text.contains(receipt.pseudonym))
            for bytes in await world.fixture.audit.canonicalRecords() {
                let line = String(decoding: bytes, as: UTF8.self)
                #expect(!line.contains("c-4711") && !line.contains("alice@"), "an audit record names the subject")
            }
            let report = await world.fixture.audit.verify(publicKey: world.fixture.platform.audit.signingKey.publicKey)
            #expect(report.problem == nil, "\(report)")
        }
    }

    /// Branch keys made by the official Python keystore open in Swift and the reverse, and a rotation (VersionKey)
    /// on either side leaves old and new messages readable on both.
    @Test func pythonAndSwiftShareTheBranchKeysOfTheKeystoreSealedServeServes() async throws {
        guard let python = try PythonKeyStore.located() else { return }
        let world = try await World()
        try await world.live { endpoint in
            let placed = try await world.descriptor(Self.placed)
            let sealed = try await world.sealer(endpoint).seal(world.event(Self.placed, subject: Self.bob, 1), as: placed)
            let bobKey = try #require(sealed.metaData.encryption?.encryptionContext["subjectKey"])
            // The administrator encrypts with Python, rotates the key (VersionKey), encrypts again.
            let producer = PythonKeyStore.Configuration(
                table: "sealed-branch-keys",
                logicalName: "sealed-branch-keys",
                kmsKeyARN: world.domainKey,
                endpoint: endpoint.absoluteString,
                region: "us-east-1",
                accessKeyID: world.fixture.admin.id,
                secretAccessKey: world.fixture.admin.secret
            )
            let context = ["eventType": Self.placed, "domain": "orders", "subjectKey": bobKey]
            let results = try await python.run(producer, [
                .encrypt(branchKeyID: nil, plaintext: Array("from python, v1".utf8), encryptionContext: context),
                .versionKey(branchKeyID: bobKey),
                .encrypt(branchKeyID: nil, plaintext: Array("from python, v2".utf8), encryptionContext: context),
                .decrypt(branchKeyID: nil, ciphertext: try Self.message(sealed)),
            ])
            #expect(results.allSatisfy { $0.succeeded }, "\(results.map(\.error))")
            // Swift's reader keyring opens both Python messages (two versions) with the reader role's session.
            let session = try await world.readerSession()
            let store = try BranchKeyStore(
                tableName: "sealed-branch-keys",
                logicalKeyStoreName: "sealed-branch-keys",
                kmsKeyARN: world.domainKey,
                dynamoDB: DynamoDBClient(
                    region: "us-east-1",
                    credentialProvider: StaticCredentialProvider(
                        SigV4.Credentials(
                            accessKeyId: session.accessKey.id,
                            secretAccessKey: session.accessKey.secretAccessKey,
                            sessionToken: session.accessKey.sessionToken
                        )
                    ),
                    endpoint: endpoint
                ),
                kms: KMSClient(
                    region: "us-east-1",
                    credentialProvider: StaticCredentialProvider(
                        SigV4.Credentials(
                            accessKeyId: session.accessKey.id,
                            secretAccessKey: session.accessKey.secretAccessKey,
                            sessionToken: session.accessKey.sessionToken
                        )
                    ),
                    endpoint: endpoint
                )
            )
            let keyring = try HierarchicalKeyring(supplier: BranchKeyIDFromContext(key: "subjectKey"), provider: store)
            let v1 = try await EncryptionClient().decrypt(try #require(results[0].ciphertext), keyring: keyring)
            let v2 = try await EncryptionClient().decrypt(try #require(results[2].ciphertext), keyring: keyring)
            #expect(v1.plaintext == Array("from python, v1".utf8) && v2.plaintext == Array("from python, v2".utf8))
            let versions = Set([v1, v2].map { Array($0.header.encryptedDataKeys[0].ciphertext[28..<44]) })
            #expect(versions.count == 2, "VersionKey made a new version")
            // The first event (sealed under the old version) and one sealed now (the new one) open on both sides.
            let sealedAfter = try await world.sealer(endpoint).seal(world.event(Self.placed, subject: Self.bob, 2), as: placed)
            let opener = try Opener.assumingReaderRole(of: placed, aws: World.aws(world.analyst, endpoint), consumer: "analyst")
            for event in [sealed, sealedAfter] { _ = try await opener.open(event, as: placed) }
            let reader = try await python.run(world.python(session, endpoint), [
                .decrypt(branchKeyID: bobKey, ciphertext: try Self.message(sealed)),
                .decrypt(branchKeyID: bobKey, ciphertext: try Self.message(sealedAfter)),
            ])
            #expect(reader.allSatisfy { $0.succeeded }, "\(reader.map(\.error))")
        }
    }
}
