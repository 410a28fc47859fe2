import AccessControl
import AuditTrail
import Catalog
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KMS
import KeyService
import NIOCore
import SealedServerTesting
import Server
import SigV4
import Testing

/// The server with the whole platform and an audit sink, driven in process: every kind of action leaves exactly one
/// record with the right identity, and no request is answered without its record.
struct AuditedServerTests {
    typealias Keys = PlatformFixture.Keys

    /// The platform in memory (``PlatformFixture``), with two teams and three of their people.
    final class World: Sendable {
        let fixture: PlatformFixture
        let producer: Keys
        let reviewer: Keys
        let analyst: Keys

        var audit: InMemoryAuditStore { fixture.audit }
        var credentials: InMemoryCredentialStore { fixture.credentials }
        var identities: IdentityService { fixture.identities }
        var server: SealedServer { fixture.server }
        var access: AccessRequests { fixture.access }
        var admin: Keys { fixture.admin }

        init() async throws {
            fixture = try await PlatformFixture(logger: Fixture.logger)
            _ = try await fixture.identities.createTeam("payments", by: .platform)
            _ = try await fixture.identities.createTeam("analytics", by: .platform)
            producer = try await fixture.user("checkout", team: "payments")
            reviewer = try await fixture.user("reviewer", team: "payments")
            analyst = try await fixture.user("analyst", team: "analytics")
        }

        static func user(_ name: String, _ team: String, in identities: IdentityService) async throws -> Keys {
            let (_, key) = try await identities.createUser(name, team: team, by: .platform)
            return Keys(id: key.id, secret: key.secretAccessKey)
        }
    }

    /// A signed request: KMS (`target`), STS (form `body`), or `/v1` (`path`).
    static func send(
        _ client: some TestClientProtocol,
        _ keys: Keys,
        method: HTTPRequest.Method = .post,
        path: String = "/",
        target: String? = nil,
        contentType: String,
        body: [UInt8],
        service: String
    ) async throws -> TestResponse {
        var headers: [(name: String, value: String)] = [
            (name: "host", value: "localhost"), (name: "content-type", value: contentType),
        ]
        if let target { headers.append((name: "x-amz-target", value: target)) }
        let signature = Signer().sign(
            SigV4.Request(method: method.rawValue, path: path, headers: headers, payload: .body(body)),
            credentials: Credentials(accessKeyId: keys.id, secretAccessKey: keys.secret, sessionToken: keys.token),
            region: "us-east-1",
            service: service,
            date: Date()
        )
        var fields = HTTPFields()
        for (name, value) in headers.dropFirst() { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        for header in signature.headers {
            fields.append(HTTPField(name: HTTPField.Name(header.name)!, value: header.value))
        }
        return try await client.execute(uri: path, method: method, headers: fields, body: ByteBuffer(bytes: body))
    }

    static func kms(
        _ client: some TestClientProtocol,
        _ keys: Keys,
        _ operation: String,
        _ body: [String: Any]
    ) async throws
        -> (TestResponse, [String: Any])
    {
        let response = try await send(
            client,
            keys,
            target: "TrentService.\(operation)",
            contentType: AWSJSON.contentType,
            body: Array(try JSONSerialization.data(withJSONObject: body)),
            service: "kms"
        )
        return (
            response,
            (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
        )
    }

    static func v1(
        _ client: some TestClientProtocol,
        _ keys: Keys,
        _ method: HTTPRequest.Method,
        _ path: String,
        _ body: [String: Any]?
    )
        async throws -> (TestResponse, [String: Any])
    {
        let response = try await send(
            client,
            keys,
            method: method,
            path: path,
            contentType: "application/json",
            body: body.map { Array(try! JSONSerialization.data(withJSONObject: $0)) } ?? [],
            service: "sealed"
        )
        return (
            response,
            (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
        )
    }

    /// The records of the one request written since `count`: its outcome record, preceded by its intent record
    /// (same request id, no outcome) when it changes state, and nothing else; returns the outcome record.
    static func onlyNewRecord(
        _ audit: InMemoryAuditStore,
        after count: inout Int,
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws -> Record
    {
        let records = try await audit.tail(after: Int64(count), limit: 100).map(\.record)
        count += records.count
        let outcome = try #require(records.last, sourceLocation: sourceLocation)
        #expect(!outcome.isIntent, sourceLocation: sourceLocation)
        if outcome.readOnly || outcome.eventSource == .kms && outcome.userIdentity.type == .unknown {
            #expect(
                records.count == 1,
                "expected exactly one new record, got \(records.map(\.eventName))",
                sourceLocation: sourceLocation
            )
        } else {
            #expect(
                records.count == 2,
                "expected an intent and an outcome, got \(records.map(\.eventName))",
                sourceLocation: sourceLocation
            )
            let intent = try #require(records.first, sourceLocation: sourceLocation)
            #expect(intent.isIntent && intent.requestID == outcome.requestID, sourceLocation: sourceLocation)
            #expect(intent.eventName == outcome.eventName, sourceLocation: sourceLocation)
            #expect(intent.userIdentity == outcome.userIdentity, sourceLocation: sourceLocation)
            #expect(intent.responseElements == nil && intent.errorCode == nil, sourceLocation: sourceLocation)
        }
        return outcome
    }

    @Test func everyKindOfActionLeavesExactlyOneRecordWithItsIdentity() async throws {
        let world = try await World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            var count = 0
            // A catalog change by the administrator.
            let (created, domain) = try await Self.v1(
                client,
                world.admin,
                .post,
                "/v1/catalog/domains",
                ["Domain": "payments", "Owner": "payments"]
            )
            #expect(created.status == .ok)
            var record = try await Self.onlyNewRecord(world.audit, after: &count)
            #expect(record.eventName == "CreateDomain" && record.eventSource == .catalog)
            #expect(record.userIdentity.arn == "arn:aws:iam::000000000000:user/admin")
            #expect(record.userIdentity.accessKeyId == world.admin.id)
            let keyARN = try #require(domain["KeyArn"] as? String)
            _ = try await Self.v1(
                client,
                world.admin,
                .post,
                "/v1/catalog/event-types",
                ["EventType": "payments.card.captured", "Domain": "payments"]
            )
            _ = try await Self.v1(
                client,
                world.admin,
                .post,
                "/v1/catalog/event-types",
                ["EventType": "payments.card.refunded", "Domain": "payments"]
            )
            count = Int(try await world.audit.chainHead().sequence)

            // The producer's data key, with the event type in the context, never the plaintext.
            let context = ["eventType": "payments.card.captured", "domain": "payments"]
            let (generated, dataKey) = try await Self.kms(
                client,
                world.producer,
                "GenerateDataKey",
                ["KeyId": keyARN, "KeySpec": "AES_256", "EncryptionContext": context]
            )
            #expect(generated.status == .ok)
            record = try await Self.onlyNewRecord(world.audit, after: &count)
            #expect(record.eventName == "GenerateDataKey" && record.errorCode == nil)
            #expect(record.contextEventType == "payments.card.captured")
            #expect(record.resources.map(\.arn) == [keyARN])
            let recordText = String(decoding: CanonicalJSON.encode(record.jsonValue), as: UTF8.self)
            #expect(!recordText.contains(try #require(dataKey["Plaintext"] as? String)))
            #expect(!recordText.contains(try #require(dataKey["CiphertextBlob"] as? String)))

            // The access request and its approval.
            let (_, request) = try await Self.v1(
                client,
                world.analyst,
                .post,
                "/v1/access/requests",
                ["EventType": "payments.card.captured", "Justification": "fraud", "DurationSeconds": 3600]
            )
            record = try await Self.onlyNewRecord(world.audit, after: &count)
            #expect(
                record.eventName == "CreateAccessRequest"
                    && record.userIdentity.arn == "arn:aws:iam::000000000000:user/analyst"
            )
            let requestID = try #require(request["RequestId"] as? String)
            #expect(record.responseElements?["requestId"]?.stringValue == requestID)
            _ = try await Self.v1(
                client,
                world.reviewer,
                .post,
                "/v1/access/requests/\(requestID)/approve",
                ["Comment": "ok"]
            )
            record = try await Self.onlyNewRecord(world.audit, after: &count)
            #expect(
                record.eventName == "ApproveAccessRequest"
                    && record.userIdentity.arn == "arn:aws:iam::000000000000:user/reviewer"
            )
            #expect(record.responseElements?["status"]?.stringValue == "approved")

            // STS AssumeRole of the reader role.
            let form =
                "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Freader-payments.card.captured&RoleSessionName=analytics"
            let assumed = try await Self.send(
                client,
                world.analyst,
                contentType: "application/x-www-form-urlencoded",
                body: Array(form.utf8),
                service: "sts"
            )
            #expect(assumed.status == .ok)
            record = try await Self.onlyNewRecord(world.audit, after: &count)
            #expect(record.eventSource == .sts && record.eventName == "AssumeRole")
            #expect(record.requestParameters?["roleSessionName"]?.stringValue == "analytics")
            let xml = String(buffer: assumed.body)
            func element(_ name: String) -> String? {
                guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>") else { return nil }
                return String(xml[start.upperBound..<end.lowerBound])
            }
            let token = try #require(element("SessionToken"))
            let session = Keys(
                id: try #require(element("AccessKeyId")),
                secret: try #require(element("SecretAccessKey")),
                token: token
            )
            #expect(!String(decoding: CanonicalJSON.encode(record.jsonValue), as: UTF8.self).contains(session.secret))

            // The session decrypts its type; the record shows the role and the session.
            let blob = try #require(dataKey["CiphertextBlob"] as? String)
            let (decrypted, _) = try await Self.kms(
                client,
                session,
                "Decrypt",
                ["CiphertextBlob": blob, "EncryptionContext": context]
            )
            #expect(decrypted.status == .ok)
            record = try await Self.onlyNewRecord(world.audit, after: &count)
            #expect(record.eventName == "Decrypt" && record.errorCode == nil)
            #expect(record.userIdentity.type == .assumedRole)
            #expect(
                record.userIdentity.sessionContext?.sessionIssuer?.arn
                    == "arn:aws:iam::000000000000:role/reader-payments.card.captured"
            )
            #expect(record.userIdentity.sessionContext?.sessionName == "analytics")

            // A denied decrypt by the same session (another type): recorded with the role, the session and the error.
            let (_, otherKey) = try await Self.kms(
                client,
                world.producer,
                "GenerateDataKey",
                [
                    "KeyId": keyARN, "KeySpec": "AES_256",
                    "EncryptionContext": ["eventType": "payments.card.refunded", "domain": "payments"],
                ]
            )
            count = Int(try await world.audit.chainHead().sequence)
            let otherBlob = try #require(otherKey["CiphertextBlob"] as? String)
            let (refused, _) = try await Self.kms(
                client,
                session,
                "Decrypt",
                [
                    "CiphertextBlob": otherBlob,
                    "EncryptionContext": ["eventType": "payments.card.refunded", "domain": "payments"],
                ]
            )
            #expect(refused.status == .badRequest)
            record = try await Self.onlyNewRecord(world.audit, after: &count)
            #expect(record.errorCode == "AccessDeniedException" && record.isDenial)
            #expect(
                record.userIdentity.arn
                    == "arn:aws:sts::000000000000:assumed-role/reader-payments.card.captured/analytics"
            )
            #expect(record.contextEventType == "payments.card.refunded")

            // A signature failure: recorded with the key id the caller claimed, no identity.
            let forged = Keys(id: world.analyst.id, secret: "not-the-secret")
            let (bad, _) = try await Self.kms(client, forged, "ListKeys", [:])
            #expect(bad.status == .badRequest)
            record = try await Self.onlyNewRecord(world.audit, after: &count)
            #expect(record.errorCode == "InvalidSignatureException")
            #expect(record.userIdentity.type == .unknown && record.userIdentity.accessKeyId == world.analyst.id)

            // The usage report counts the decrypt and the denial.
            let report = try await world.audit.usageReport(in: DateInterval(start: .distantPast, end: .distantFuture))
            let row = report.rows.first {
                $0.eventType == "payments.card.captured" && $0.principalARN?.contains("assumed-role") == true
            }
            #expect(row?.successfulDecrypts == 1)
        }
    }

    @Test func noRequestIsAnsweredWithoutItsRecord() async throws {
        let world = try await World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            let (_, key) = try await Self.kms(client, world.admin, "CreateKey", [:])
            let keyARN = try #require((key["KeyMetadata"] as? [String: Any])?["Arn"] as? String)
            let (_, encrypted) = try await Self.kms(
                client,
                world.admin,
                "Encrypt",
                ["KeyId": keyARN, "Plaintext": Data("secret".utf8).base64EncodedString()]
            )
            let blob = try #require(encrypted["CiphertextBlob"] as? String)
            let before = try await world.audit.chainHead().sequence

            struct DiskFull: Error {}
            await world.audit.setFailure(DiskFull())
            let (response, body) = try await Self.kms(client, world.admin, "Decrypt", ["CiphertextBlob": blob])
            #expect(response.status == .internalServerError)
            #expect(body["__type"] as? String == "KMSInternalException")
            #expect(body["Plaintext"] == nil)
            #expect(!String(buffer: response.body).contains(Data("secret".utf8).base64EncodedString()))
            #expect(try await world.audit.chainHead().sequence == before)

            await world.audit.setFailure(nil)
            let (recovered, plain) = try await Self.kms(client, world.admin, "Decrypt", ["CiphertextBlob": blob])
            #expect(recovered.status == .ok)
            #expect(plain["Plaintext"] as? String == Data("secret".utf8).base64EncodedString())
            #expect(try await world.audit.chainHead().sequence == before + 1)
            let signingKey = AuditSigningKey.generate()
            #expect(await world.audit.verify(publicKey: signingKey.publicKey).isValid)
        }
    }

    @Test func aSignatureScopedToAnotherServiceIsRefused() async throws {
        let world = try await World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            // KMS signed for sts, STS signed for kms, /v1 signed for kms: each refused with its protocol's error.
            let kms = try await Self.send(
                client,
                world.admin,
                target: "TrentService.ListKeys",
                contentType: AWSJSON.contentType,
                body: Array("{}".utf8),
                service: "sts"
            )
            #expect(kms.status == .badRequest)
            #expect(String(buffer: kms.body).contains("Credential should be scoped to correct service: 'kms'"))
            let sts = try await Self.send(
                client,
                world.admin,
                contentType: "application/x-www-form-urlencoded",
                body: Array("Action=GetCallerIdentity&Version=2011-06-15".utf8),
                service: "kms"
            )
            #expect(sts.status == .badRequest)
            #expect(String(buffer: sts.body).contains("<Code>SignatureDoesNotMatch</Code>"))
            let v1 = try await Self.send(
                client,
                world.admin,
                method: .get,
                path: "/v1/iam/users",
                contentType: "application/json",
                body: [],
                service: "kms"
            )
            #expect(v1.status == .badRequest)
            #expect(String(buffer: v1.body).contains("scoped to correct service: 'sealed'"))
            // Each refusal is in the trail, as a signature failure of the caller.
            let errors = try await world.audit.query(AuditQuery(errorsOnly: true, limit: 10))
            #expect(errors.count == 3)
        }
    }

    /// #4: a change is recorded before it is made. With the trail unwritable, no change lands: not a key, not a
    /// deletion, not a role session, not a catalog entry; once it heals, each change has its intent and its outcome.
    @Test func aChangeWhoseRecordCannotBeWrittenIsNotMade() async throws {
        let world = try await World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            let (_, existing) = try await Self.kms(client, world.admin, "CreateKey", [:])
            let keyARN = try #require((existing["KeyMetadata"] as? [String: Any])?["Arn"] as? String)
            let (_, listed) = try await Self.kms(client, world.admin, "ListKeys", [:])
            let keysBefore = (listed["Keys"] as? [Any])?.count
            let before = try await world.audit.chainHead().sequence

            struct DiskFull: Error {}
            await world.audit.setFailure(DiskFull())
            let (created, _) = try await Self.kms(client, world.admin, "CreateKey", ["Description": "unaudited"])
            #expect(created.status == .internalServerError)
            let (scheduled, _) = try await Self.kms(
                client,
                world.admin,
                "ScheduleKeyDeletion",
                ["KeyId": keyARN, "PendingWindowInDays": 7]
            )
            #expect(scheduled.status == .internalServerError)
            let (domain, _) = try await Self.v1(
                client,
                world.admin,
                .post,
                "/v1/catalog/domains",
                ["Domain": "unaudited", "Owner": "payments"]
            )
            #expect(domain.status == .internalServerError)
            let (user, _) = try await Self.v1(client, world.admin, .post, "/v1/iam/users", ["UserName": "ghost"])
            #expect(user.status == .internalServerError)
            await world.audit.setFailure(nil)

            #expect(try await world.audit.chainHead().sequence == before)
            let (_, after) = try await Self.kms(client, world.admin, "ListKeys", [:])
            #expect((after["Keys"] as? [Any])?.count == keysBefore)
            let (_, described) = try await Self.kms(client, world.admin, "DescribeKey", ["KeyId": keyARN])
            #expect((described["KeyMetadata"] as? [String: Any])?["KeyState"] as? String == "Enabled")
            let (_, domains) = try await Self.v1(client, world.admin, .get, "/v1/catalog/domains", nil)
            #expect(!String(describing: domains).contains("unaudited"))
            let (_, users) = try await Self.v1(client, world.admin, .get, "/v1/iam/users", nil)
            #expect(!String(describing: users).contains("ghost"))

            // Healed: the deletion is made, after its intent.
            var count = Int(try await world.audit.chainHead().sequence)
            let (healed, _) = try await Self.kms(
                client,
                world.admin,
                "ScheduleKeyDeletion",
                ["KeyId": keyARN, "PendingWindowInDays": 7]
            )
            #expect(healed.status == .ok)
            let record = try await Self.onlyNewRecord(world.audit, after: &count)
            #expect(record.eventName == "ScheduleKeyDeletion" && record.errorCode == nil)
            #expect(await world.audit.verify(publicKey: AuditSigningKey.generate().publicKey).isValid)
        }
    }

    /// #4: STS AssumeRole issues no session unless its intent record was written.
    @Test func anAssumeRoleWhoseRecordCannotBeWrittenIssuesNoSession() async throws {
        let world = try await World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            // The administrator may assume any role; make one to assume.
            let (role, _) = try await Self.v1(
                client,
                world.admin,
                .post,
                "/v1/iam/roles",
                [
                    "RoleName": "ops",
                    "AssumeRolePolicyDocument": #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","#
                        + #""Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::000000000000:user/admin"}}]}"#,
                ]
            )
            #expect(role.status == .ok)
            let form =
                "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fops&RoleSessionName=s1"
            struct DiskFull: Error {}
            await world.audit.setFailure(DiskFull())
            let refused = try await Self.send(
                client,
                world.admin,
                contentType: "application/x-www-form-urlencoded",
                body: Array(form.utf8),
                service: "sts"
            )
            await world.audit.setFailure(nil)
            #expect(refused.status == .internalServerError)
            #expect(!String(buffer: refused.body).contains("SecretAccessKey"))
            #expect(await world.credentials.accessKeys(of: nil).allSatisfy { !$0.principalARN.hasPrefix("arn:aws:sts:") })
            let assumed = try await Self.send(
                client,
                world.admin,
                contentType: "application/x-www-form-urlencoded",
                body: Array(form.utf8),
                service: "sts"
            )
            #expect(assumed.status == .ok)
        }
    }
}
