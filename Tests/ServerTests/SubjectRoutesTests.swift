import AccessControl
import AuditTrail
import Catalog
import Composition
import Foundation
import KMS
import KeyService
import Logging
import PlatformClient
import SealedServerTesting
import SealedSupport
import Server
import SigV4
import Subjects
import Synchronization
import Tables
import Testing
import WireShapes

/// The data-subject calls over HTTP on a live server, with the platform built as `sealed serve` builds it (in memory):
/// branch keys in its own branch keystore (its DynamoDB tables and key service); and the reader and producer
/// policies of subject-keyed types against the real key service.
struct SubjectRoutesTests {
    /// Every log line of the server and the platform, with its metadata, at every level.
    final class LogCapture: LogHandler, @unchecked Sendable {
        // @unchecked: the lines are behind the mutex; `metadata` and `logLevel` are set once, before any use.
        let lines = Mutex<[String]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let error = event.error.map { " \($0)" } ?? ""
            lines.withLock { $0.append("\(event.level) \(event.message) \(all)\(error)") }
        }
    }

    static let subject = "subject-7f3a-alice@example.com"

    /// The platform with subjects on, a `payments` domain owned by the `payments` team, a subject-keyed type.
    struct World {
        let logs = LogCapture()
        let fixture: PlatformFixture
        let checkout: PlatformFixture.Keys
        let outsider: PlatformFixture.Keys

        init() async throws {
            let logs = self.logs
            var logger = Logger(label: "subject-routes") { _ in logs }
            logger.logLevel = .trace
            fixture = try await PlatformFixture(
                logger: logger
            )
            let admin = fixture.platform.administratorARN
            _ = try await fixture.identities.createTeam("payments", by: .platform)
            checkout = try await fixture.user("checkout", team: "payments")
            outsider = try await fixture.user("outsider")
            _ = try await fixture.catalog.createDomain("payments", owner: "payments", by: admin)
            _ = try await fixture.catalog.createEventType(
                .init(name: "payments.order.placed", domain: "payments", subjectField: "/customer/id"),
                by: admin
            )
        }

        /// How many items the platform's branch keystore holds for a branch key (its versions, active item, beacon).
        func keystoreItems(of branchKeyID: String) async throws -> Int {
            try await fixture.platform.tables.query(
                DynamoDBQueryRequest(
                    tableName: "sealed-branch-keys",
                    keyConditionExpression: "#id = :id",
                    expressionAttributeNames: ["#id": "branch-key-id"],
                    expressionAttributeValues: [":id": .string(branchKeyID)],
                    consistentRead: true
                ),
                caller: fixture.platform.administratorARN
            ).items?.count ?? 0
        }

        func live<T: Sendable>(_ body: @Sendable (URL) async throws -> T) async throws -> T {
            let server = SealedServer(
                fixture.platform,
                configuration: .init(host: "127.0.0.1", port: 0),
                logger: fixture.logger
            )
            return try await withLiveServer(server, logger: fixture.logger) { port in
                try await body(URL(string: "http://127.0.0.1:\(port)")!)
            }
        }

        static func client(_ endpoint: URL, _ keys: PlatformFixture.Keys) throws -> PlatformClient {
            try PlatformClient(
                endpoint: endpoint,
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(
                    Credentials(accessKeyId: keys.id, secretAccessKey: keys.secret)
                ),
                options: ClientOptions(maxAttempts: 1)
            )
        }
    }

    /// The error a call fails with.
    static func refusal<T>(_ call: () async throws -> T) async -> PlatformError? {
        do {
            _ = try await call()
            Issue.record("the call was accepted")
            return nil
        } catch let error as PlatformError {
            return error
        } catch {
            Issue.record("not a platform error: \(error)")
            return nil
        }
    }

    @Test func resolveEraseShowAndLiftOverHTTPWithOneAuditRecordAndNoSubjectIDAnywhere() async throws {
        let world = try await World()
        let (key, erasure) = try await world.live { endpoint in
            let producer = try World.client(endpoint, world.checkout)
            let key = try await producer.resolveSubject(Self.subject, eventType: "payments.order.placed")
            #expect(key.branchKeyId == "payments.order.placed/" + key.pseudonym)
            #expect(key.domain == "payments" && key.eventType == "payments.order.placed")
            #expect(
                key.keyStore
                    == KeyStoreOutput(tableName: "sealed-branch-keys", logicalKeyStoreName: "sealed-branch-keys")
            )
            let domainKey = await world.fixture.catalog.domain(named: "payments")?.keyARN
            #expect(key.kmsKeyArn == domainKey)

            let outsider = try World.client(endpoint, world.outsider)
            let denied = await Self.refusal {
                try await outsider.eraseSubject(Self.subject, domain: "payments", reason: "r")
            }
            #expect(denied?.statusCode == 403 && denied?.code == "AccessDenied")
            let blank = await Self.refusal {
                try await producer.eraseSubject(Self.subject, domain: "payments", reason: " ")
            }
            #expect(blank?.statusCode == 400 && blank?.code == "ValidationError")

            let erasure = try await producer.eraseSubject(Self.subject, domain: "payments", reason: "Art. 17 ticket 42")
            #expect(erasure.output.receipts.map(\.pseudonym) == [key.pseudonym])
            #expect(erasure.output.receipts.first?.keysDestroyed == 3)
            #expect(try await world.keystoreItems(of: key.branchKeyId) == 0)

            let erased = await Self.refusal {
                try await producer.resolveSubject(Self.subject, eventType: "payments.order.placed")
            }
            #expect(
                erased?.statusCode == 410 && erased?.code == "SubjectErasedException",
                "\(String(describing: erased))"
            )

            let shown = try await producer.showSubject(Self.subject).output.subjects
            #expect(shown.map(\.pseudonym) == [key.pseudonym])
            #expect(shown.first?.erasure?.fenced == true && shown.first?.erasure?.keysDestroyed == 3)

            let lifted = try await producer.liftSubjectFence(Self.subject, domain: "payments", reason: "new consent")
            #expect(lifted.output.erasure?.fenced == false && lifted.output.erasure?.liftReason == "new consent")
            let notFenced = await Self.refusal {
                try await producer.liftSubjectFence(Self.subject, domain: "payments", reason: "again")
            }
            #expect(notFenced?.statusCode == 409)
            #expect(
                try await producer.resolveSubject(Self.subject, eventType: "payments.order.placed").branchKeyId
                    == key.branchKeyId
            )
            for answer in [erasure.json, lifted.json] {
                #expect(!String(decoding: answer, as: UTF8.self).contains(Self.subject))
            }
            return (key, erasure.output)
        }

        // The erasure's record: named in the receipt, holding the pseudonym, the reason and the count.
        let recordID = try #require(erasure.auditRecordId)
        let stored = try await world.fixture.audit.tail(after: 0, limit: 10_000).map(\.record)
        let record = try #require(stored.first { $0.eventID == recordID })
        #expect(record.eventName == "EraseSubject")
        #expect(record.eventSource == .catalog)
        #expect(record.requestParameters?["reason"]?.stringValue == "Art. 17 ticket 42")
        #expect(record.requestParameters?["domain"]?.stringValue == "payments")
        let receipt = record.responseElements?["receipts"]
        #expect(receipt.map { "\($0)" }?.contains(key.pseudonym) == true, "\(String(describing: receipt))")
        #expect(record.responseElements?["keysDestroyed"] == .number(JSONNumber(3)))
        #expect(stored.filter { $0.eventName == "EraseSubject" && $0.errorCode == nil && !$0.isIntent }.count == 1)

        // Not in the audit trail, its export, nor any log line.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("subjects-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try await world.fixture.platform.audit.export(file, 1)
        let export = try Data(contentsOf: file)
        #expect(export.range(of: Data(key.pseudonym.utf8)) != nil)
        #expect(export.range(of: Data(Self.subject.utf8)) == nil, "the subject id is in the audit export")
        let lines = world.logs.lines.withLock { $0 }
        #expect(lines.filter { $0.hasPrefix("info request ") }.count >= 9, "every request was logged")
        #expect(!lines.contains { $0.contains(Self.subject) || $0.contains("alice") }, "the subject id is in the log")
    }

    @Test func readerAndProducerPoliciesOfSubjectTypesHoldInTheKeyService() async throws {
        let platform = try await SealedPlatform.build(
            PlatformConfiguration(storage: .memory),
            environment: [:],
            logger: Fixture.logger
        )
        let admin = platform.administratorARN
        let identities = platform.identities
        _ = try await identities.createTeam("payments", by: .platform)
        _ = try await identities.createTeam("shipping", by: .platform)
        _ = try await identities.createUser("checkout", team: "payments", by: .platform)
        _ = try await identities.createUser("analyst", team: nil, by: .platform)
        let payments = try await platform.catalog.createDomain("payments", owner: "payments", by: admin)
        let shipping = try await platform.catalog.createDomain("shipping", owner: "shipping", by: admin)
        let placed = try await platform.catalog.createEventType(
            .init(name: "payments.order.placed", domain: "payments", subjectField: "/customer/id"),
            by: admin
        )
        _ = try await platform.catalog.createEventType(
            .init(name: "payments.card.captured", domain: "payments", subjectField: "/customer/id"),
            by: admin
        )
        _ = try await platform.catalog.createEventType(
            .init(name: "shipping.parcel.sent", domain: "shipping", subjectField: "/recipient/id"),
            by: admin
        )

        /// A wrapped branch key as the keystore makes it: the custom context prefixed with `aws-crypto-ec:`.
        func wrapped(_ type: String, _ domain: Domain) async throws -> (Data, [String: String]) {
            let context = [
                "branch-key-id": "\(type)/s-00112233445566778899aabbccddeeff", "type": "branch:ACTIVE",
                "tablename": "sealed-branch-keys", "kms-arn": domain.keyARN,
                "aws-crypto-ec:eventType": type, "aws-crypto-ec:domain": domain.name,
            ]
            let response = try await platform.keyService.generateDataKeyWithoutPlaintext(
                GenerateDataKeyWithoutPlaintextRequest(
                    keyId: domain.keyARN,
                    encryptionContext: context,
                    numberOfBytes: 32
                ),
                caller: Caller(principal: admin)
            )
            return (try #require(response.ciphertextBlob), context)
        }
        func unwraps(_ blob: (Data, [String: String]), as principal: String) async throws -> Bool {
            do {
                _ = try await platform.keyService.decrypt(
                    DecryptRequest(ciphertextBlob: blob.0, encryptionContext: blob.1),
                    caller: Caller(principal: principal)
                )
                return true
            } catch let error as KMSError where error.code == .accessDeniedException {
                return false
            }
        }

        let ownType = try await wrapped("payments.order.placed", payments)
        let otherType = try await wrapped("payments.card.captured", payments)
        let otherDomain = try await wrapped("shipping.parcel.sent", shipping)
        let request = try await platform.access.request(
            placed.name,
            justification: "support",
            durationSeconds: nil,
            by: "arn:aws:iam::000000000000:user/analyst"
        )
        _ = try await platform.access.approve(request.id, comment: "ok", by: "arn:aws:iam::000000000000:user/checkout")
        let session = try await identities.assumeRole(
            placed.readerRoleARN,
            sessionName: "analyst",
            duration: 900,
            caller: "arn:aws:iam::000000000000:user/analyst",
            sourceIP: nil
        )
        #expect(try await unwraps(ownType, as: session.arn))
        #expect(try await !unwraps(otherType, as: session.arn))
        #expect(try await !unwraps(otherDomain, as: session.arn))
        let checkout = "arn:aws:iam::000000000000:user/checkout"
        #expect(try await unwraps(ownType, as: checkout))
        #expect(try await unwraps(otherType, as: checkout))
        #expect(try await !unwraps(otherDomain, as: checkout))
        #expect(try await !unwraps(ownType, as: "arn:aws:iam::000000000000:user/analyst"))
        #expect(
            identities.isAllowed(
                session.arn,
                "dynamodb:GetItem",
                on: "arn:aws:dynamodb:us-east-1:000000000000:table/sealed-branch-keys"
            )
        )
        #expect(
            !identities.isAllowed(
                session.arn,
                "dynamodb:PutItem",
                on: "arn:aws:dynamodb:us-east-1:000000000000:table/sealed-branch-keys"
            )
        )
    }
}
