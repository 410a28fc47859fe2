import AWSGovernance
import AccessControl
import Catalog
import Composition
import Foundation
import KMS
import Logging
import SealedTesting
import SigV4
import Synchronization
import Testing

/// `sealed serve --aws`'s platform against moto with IAM enforced, as the fixture's `platform` user (exactly
/// `docs/aws/platform-policy.json`'s actions): the whole story — domain, event type, request, two approvals, the
/// consumer assuming the reader role in STS and decrypting in KMS, revocation, expiry on an injected clock — with the
/// account read back after each step by boto3 (`scripts/peers/aws_readback.py`, as IAM and KMS administrators).
///
/// moto enforces identity policies' actions, not trust policies on `AssumeRole` nor conditions on KMS calls: the
/// documents are checked here, and what they let happen by the platform's evaluator (the drift check's effective
/// readers).
struct AWSModeStoryTests {
    static let logger = Logger(label: "aws-mode-story")

    /// A wall clock the test moves.
    final class Wall: Sendable {
        let date = Mutex(Date())
        func now() -> Date { date.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { date.withLock { $0 += seconds } }
    }

    static func configuration(_ moto: MotoFixture, administrator: String) -> PlatformConfiguration {
        PlatformConfiguration(
            storage: .memory,
            aws: .init(endpoint: moto.endpointURL, administrators: [administrator], serverID: "sealed-test")
        )
    }

    /// What boto3 reads back.
    struct Readback: Decodable {
        struct Role: Decodable {
            var arn: String
            var path: String
            var trust: String
            var policies: [String: String]
            var tags: [String: String]
        }
        struct Key: Decodable {
            var state: String
            var spec: String
            var usage: String
            var policy: String
            var tags: [String: String]
            var aliases: [String]
        }
        struct Policy: Decodable {
            var document: String
            var users: [String]
        }
        var roles: [String: Role?]
        var keys: [String: Key]
        var policies: [String: Policy]
    }

    static func readBack(
        _ moto: MotoFixture,
        roles: [String] = [],
        keys: [String] = [],
        policies: [String] = []
    )
        async throws -> Readback?
    {
        guard let python = try TestEnvironment.peerPython() else { return nil }
        let script = TestEnvironment.packageRoot.appendingPathComponent("scripts/peers/aws_readback.py")
        let arguments =
            [script.path, "--endpoint", moto.endpoint, "--region", moto.region]
            + roles.flatMap { ["--role", $0] } + keys.flatMap { ["--key", $0] } + policies.flatMap { ["--policy", $0] }
        let outcome = try await ChildProcess.run(
            python,
            arguments: arguments,
            environment: [
                "AWS_ACCESS_KEY_ID": moto.iamAdmin.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.iamAdmin.secretAccessKey,
                "KMS_ACCESS_KEY_ID": moto.allowed.accessKeyId, "KMS_SECRET_ACCESS_KEY": moto.allowed.secretAccessKey,
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin",
            ],
            deadline: .seconds(60)
        )
        try #require(outcome.status == 0, "aws_readback.py failed: \(outcome.errors)")
        return try JSONDecoder().decode(Readback.self, from: outcome.standardOutput)
    }

    /// The trust policy's grants: principal → its `DateLessThan aws:CurrentTime`, as the document says.
    static func grants(_ trust: String) throws -> [String: Date?] {
        try TrustPolicy(parsing: trust).grants
    }

    /// A role that must be there.
    static func role(_ account: Readback, _ name: String) throws -> Readback.Role {
        guard case .some(.some(let role)) = account.roles[name] else {
            throw ReadbackError(message: "the role \(name) is not in the account")
        }
        return role
    }

    struct ReadbackError: Error { var message: String }

    @Test func theWholeStoryGovernsTheAccount() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let wall = Wall()
        let admin = moto.iamAdmin.arn
        let platform = try await SealedPlatform.build(
            Self.configuration(moto, administrator: admin),
            environment: moto.environment(),
            now: { wall.now() },
            logger: Self.logger
        )
        defer { platform.close() }
        let aws = try #require(platform.aws)
        #expect(aws.account == moto.account)
        #expect(aws.platformARN == moto.platform.arn)
        #expect(platform.identities.isAllowed(admin, "catalog:CreateDomain", on: "*"))
        #expect(!platform.identities.isAllowed(moto.allowed.arn, "catalog:CreateDomain", on: "*"))

        // A team of two reviewers (AWS users), then the domain it owns: its key is in KMS.
        let tag = UUID().uuidString.prefix(6).lowercased()
        let team = "payments-\(tag)"
        let domain = "payments\(tag)"
        let type = "\(domain).card.captured"
        let (reviewer1, reviewer2, consumer) = (moto.denied.arn, moto.tableReader.arn, moto.allowed.arn)
        _ = try await platform.identities.createTeam(team, by: .principal(admin))
        try await platform.identities.addMember(principal: reviewer1, toTeam: team, by: .principal(admin))
        try await platform.identities.addMember(principal: reviewer2, toTeam: team, by: .principal(admin))
        await #expect(throws: AccessControlError.self) {
            try await platform.identities.addMember(principal: reviewer1, toTeam: team, by: .principal(consumer))
        }
        let created = try await platform.catalog.createDomain(domain, owner: team, by: admin)
        #expect(created.keyARN.hasPrefix("arn:aws:kms:\(moto.region):\(moto.account):key/"))
        var account = try #require(try await Self.readBack(moto, keys: [created.keyARN]))
        let key = try #require(account.keys[created.keyARN])
        #expect(key.state == "Enabled" && key.spec == "SYMMETRIC_DEFAULT" && key.usage == "ENCRYPT_DECRYPT")
        #expect(key.tags == [AWSNames.domainTag: domain])
        #expect(key.aliases == [AWSNames.keyAlias(domain: domain)])
        #expect(AWSDrift.sameDocument(key.policy, AWSPolicies.keyPolicy(account: moto.account)))

        // The event type: its reader role under /sealed/, trusting nobody, decrypting this type only; the team's
        // producer policy attached to its members.
        let eventType = try await platform.catalog.createEventType(
            .init(name: type, domain: domain, approvalsRequired: 2),
            by: admin
        )
        let roleName = AWSNames.readerRole(eventType: type)
        #expect(eventType.readerRoleARN == "arn:aws:iam::\(moto.account):role/sealed/\(roleName)")
        let producerPolicy = "arn:aws:iam::\(moto.account):policy/sealed/\(AWSNames.producerPolicy(domain: domain))"
        account = try #require(try await Self.readBack(moto, roles: [roleName], policies: [producerPolicy]))
        var role = try Self.role(account, roleName)
        #expect(role.path == AWSNames.path)
        #expect(role.tags[AWSNames.eventTypeTag] == type)
        #expect(try Self.grants(role.trust).isEmpty)
        let readerPolicy = try #require(role.policies[AWSNames.readerPolicyName])
        #expect(
            AWSDrift.sameDocument(
                readerPolicy,
                AWSPolicies.readerPolicy(keyARN: created.keyARN, eventType: type)
            )
        )
        let producer = try #require(account.policies[producerPolicy])
        #expect(
            AWSDrift.sameDocument(
                producer.document,
                AWSPolicies.producerPolicy(keyARN: created.keyARN, eventTypes: [type])
            )
        )
        #expect(producer.users == ["sealed-denied", "sealed-tablereader"])

        // A type whose events are sealed under subjects' branch keys needs the platform's keystore: refused.
        await #expect(throws: AccessControlError.self) {
            try await platform.catalog.createEventType(
                .init(name: "\(domain).card.refunded", domain: domain, subjectField: "/customer"),
                by: admin
            )
        }

        // A request, two approvals: the consumer is in the trust policy until the grant's end.
        let request = try await platform.access.request(
            type,
            justification: "fraud scoring",
            durationSeconds: 3600,
            by: consumer
        )
        _ = try await platform.access.approve(request.id, comment: "ok", by: reviewer1)
        account = try #require(try await Self.readBack(moto, roles: [roleName]))
        #expect(try Self.grants(try Self.role(account, roleName).trust).isEmpty, "one approval of two: no grant")
        let approved = try await platform.access.approve(request.id, comment: "ok", by: reviewer2)
        let end = try #require(approved.expirationDate)
        account = try #require(try await Self.readBack(moto, roles: [roleName]))
        role = try Self.role(account, roleName)
        let granted = try Self.grants(role.trust)
        #expect(granted.keys.sorted() == [consumer])
        let grantEnd = try #require(granted[consumer] ?? nil)
        #expect(abs(grantEnd.timeIntervalSince(end)) < 1, "DateLessThan aws:CurrentTime is the grant's end")

        // The consumer assumes the reader role in STS, as `consume --open` does. (moto evaluates identity policies
        // against the resource "*", so it refuses the session's kms:Decrypt scoped to the key's ARN: that the session
        // can decrypt this type, and only it, is checked by the platform's evaluator below.)
        let sts = try STSClient(
            region: moto.region,
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: moto.allowed.accessKeyId, secretAccessKey: moto.allowed.secretAccessKey)
            ),
            endpoint: moto.endpointURL,
            options: ClientOptions(maxAttempts: 2, baseBackoff: .milliseconds(10), timeout: .seconds(10))
        )
        let session = try await sts.assumeRole(
            AssumeRoleRequest(roleArn: eventType.readerRoleARN, roleSessionName: "consumer")
        )
        #expect(session.assumedRoleArn == "arn:aws:sts::\(moto.account):assumed-role/\(roleName)/consumer")
        #expect(!session.credentials.accessKeyId.isEmpty)

        // Nothing drifted, and by the live documents the consumer is who can read the type.
        let readers = try await aws.expectedReaders(catalog: platform.catalog, access: platform.access, at: wall.now())
        let report = try await aws.governor.check(readers, at: wall.now())
        #expect(report.differences.isEmpty)
        #expect(report.readers[type] == [consumer])

        // Revocation removes the grant; a new request, approved, then expired on the clock, removes it again.
        _ = try await platform.access.revoke(request.id, comment: "done", by: reviewer1)
        account = try #require(try await Self.readBack(moto, roles: [roleName]))
        #expect(try Self.grants(try Self.role(account, roleName).trust).isEmpty)
        let again = try await platform.access.request(type, justification: "again", durationSeconds: 600, by: consumer)
        _ = try await platform.access.approve(again.id, comment: "ok", by: reviewer1)
        _ = try await platform.access.approve(again.id, comment: "ok", by: reviewer2)
        account = try #require(try await Self.readBack(moto, roles: [roleName]))
        #expect(try Self.grants(try Self.role(account, roleName).trust).keys.sorted() == [consumer])
        wall.advance(601)
        let expired = try await platform.access.expireDue()
        #expect(expired.map(\.id) == [again.id])
        account = try #require(try await Self.readBack(moto, roles: [roleName]))
        #expect(try Self.grants(try Self.role(account, roleName).trust).isEmpty)
    }

    @Test func aPlatformIdentityWithoutThePolicyIsRefusedAtStart() async throws {
        guard let moto = try MotoFixture.located() else { return }
        // sealed-tablereader may only read DynamoDB items: moto answers its GetCallerIdentity, refuses kms:ListKeys.
        let environment = moto.environment(as: moto.tableReader)
        let error = await #expect(throws: AWSGovernanceError.self) {
            _ = try await SealedPlatform.build(
                Self.configuration(moto, administrator: moto.iamAdmin.arn),
                environment: environment,
                logger: Self.logger
            )
        }
        #expect(error?.message.contains("(\(moto.tableReader.arn)) cannot kms:ListKeys") == true)
        #expect(error?.message.contains("docs/aws/platform-policy.json") == true)
        #expect(error?.message.contains(moto.tableReader.secretAccessKey) == false)
    }
}
