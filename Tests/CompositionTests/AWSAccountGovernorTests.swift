import AWSGovernance
import Composition
import Foundation
import KMS
import SealedTesting
import SigV4
import Testing

/// The platform driving an AWS account (moto, IAM enforced) as the identity given `docs/aws/platform-policy.json`
/// (moto enforces its actions; their resource scoping is checked by the platform's evaluator in AWSGovernanceTests):
/// domain keys, reader roles, grants and producer policies, each read back with an administrator's clients and
/// checked, and each step idempotent.
struct AWSAccountGovernorTests {
    static let options = ClientOptions(maxAttempts: 2, baseBackoff: .milliseconds(10), timeout: .seconds(10))

    static func clients(_ moto: MotoFixture, _ user: MotoFixture.User) throws -> (KMSClient, IAMClient) {
        let credentials = StaticCredentialProvider(Credentials(accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey))
        return (
            try KMSClient(region: moto.region, credentialProvider: credentials, endpoint: moto.endpointURL, options: options),
            try IAMClient(region: moto.region, credentialProvider: credentials, endpoint: moto.endpointURL, options: options)
        )
    }

    @Test func theStoryOfOneEventTypeInAnAWSAccount() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let (kms, iam) = try Self.clients(moto, moto.platform)
        let governor = AWSAccountGovernor(kms: kms, iam: iam, account: moto.account)
        let (adminKMS, adminIAM) = (try Self.clients(moto, moto.allowed).0, try Self.clients(moto, moto.iamAdmin).1)
        let tag = UUID().uuidString.prefix(6).lowercased()
        let domain = "payments\(tag)"
        let type = "\(domain).card.captured"

        // The domain key: created once, tagged, with the platform's key policy, found again by its alias.
        let key = try await governor.domainKey(domain)
        #expect(try await governor.domainKey(domain) == key, "idempotent: the alias finds it")
        let tags = try await adminKMS.listResourceTags(ListResourceTagsRequest(keyId: key)).tags ?? []
        #expect(tags.contains(Tag(key: AWSNames.domainTag, value: domain)))
        let keyPolicy = try #require(try await adminKMS.getKeyPolicy(GetKeyPolicyRequest(keyId: key)).policy)
        #expect(AWSDrift.sameDocument(keyPolicy, AWSPolicies.keyPolicy(account: moto.account)))

        // The reader role, under /sealed/, trusting nobody, allowed to decrypt this type only.
        let roleARN = try await governor.readerRole(eventType: type, keyARN: key)
        #expect(try await governor.readerRole(eventType: type, keyARN: key) == roleARN)
        let name = AWSNames.readerRole(eventType: type)
        #expect(roleARN == "arn:aws:iam::\(moto.account):role/sealed/\(name)")
        let permission = try await adminIAM.getRolePolicy(roleName: name, policyName: AWSNames.readerPolicyName)
        #expect(AWSDrift.sameDocument(permission, AWSPolicies.readerPolicy(keyARN: key, eventType: type)))

        // An administrator's statement, then an approval, a second one, a revocation: the statement survives.
        let admin = #"{"Version":"2012-10-17","Statement":[{"Sid":"BreakGlass","Effect":"Allow","Principal":{"AWS":"\#(moto.allowed.arn)"},"Action":"sts:AssumeRole"}]}"#
        try await adminIAM.updateAssumeRolePolicy(roleName: name, document: admin)
        let end = Date(timeIntervalSince1970: 1_900_000_000)
        try await governor.grant(eventType: type, to: moto.denied.arn, until: end)
        try await governor.grant(eventType: type, to: moto.tableReader.arn, until: nil)
        try await governor.grant(eventType: type, to: moto.tableReader.arn, until: nil)
        try await governor.revoke(eventType: type, from: moto.denied.arn)
        let trust = try TrustPolicy(parsing: try #require(try await adminIAM.getRole(name: name).assumeRolePolicyDocument))
        #expect(trust.grants == [moto.tableReader.arn: nil])
        #expect(trust.foreignStatementCount == 1)

        // Nothing drifted, and the live documents say who can read: the grant and the break-glass statement.
        let live = AWSDrift.LiveReader(
            trustPolicy: try await adminIAM.getRole(name: name).assumeRolePolicyDocument,
            readerPolicy: permission
        )
        let expected = AWSDrift.ExpectedReader(eventType: type, keyARN: key, grants: [moto.tableReader.arn: nil])
        let liveKey = AWSDrift.LiveKey(arn: key, enabled: true, pendingDeletion: false, keyPolicy: keyPolicy)
        #expect(AWSDrift.differences(readers: [expected], liveReaders: [name: live], keys: [liveKey], account: moto.account).isEmpty)
        #expect(
            AWSDrift.effectiveReaders(of: expected, roleARN: roleARN, live: live, keyPolicy: keyPolicy, at: Date())
                == [moto.allowed.arn, moto.tableReader.arn].sorted()
        )

        // The producer policy: created, attached to a producer, a new version when the domain's types change.
        let policyARN = try await governor.producerPolicy(domain: domain, keyARN: key, eventTypes: [type], principals: [moto.denied.arn])
        try await governor.producerPolicy(domain: domain, keyARN: key, eventTypes: [type], principals: [moto.denied.arn])
        #expect(try await adminIAM.listPolicyVersions(arn: policyARN).count == 1, "unchanged: no new version")
        try await governor.producerPolicy(domain: domain, keyARN: key, eventTypes: [type, "\(domain).refund"], principals: [])
        let current = try await adminIAM.getPolicy(arn: policyARN)
        #expect(current.defaultVersionId == "v2")
        let document = try await adminIAM.getPolicyVersion(arn: policyARN, versionId: "v2").document
        #expect(AWSDrift.sameDocument(document ?? "", AWSPolicies.producerPolicy(keyARN: key, eventTypes: [type, "\(domain).refund"])))
        let userName = String(moto.denied.arn.split(separator: "/").last!)
        #expect(try await adminIAM.attachedPolicies(of: .user(userName)).map(\.policyArn).contains(policyARN))
    }

    @Test func aKeyThatIsNotSymmetricIsNotAdopted() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let (adminKMS, _) = try Self.clients(moto, moto.allowed)
        let (kms, iam) = try Self.clients(moto, moto.platform)
        let governor = AWSAccountGovernor(kms: kms, iam: iam, account: moto.account)
        let signing = try await adminKMS.createKey(CreateKeyRequest(keyUsage: .signVerify, keySpec: .eccNISTP256))
        let arn = try #require(signing.keyMetadata?.arn)
        await #expect(throws: AWSGovernanceError.self) { try await governor.adoptKey(arn, domain: "signing") }
    }

    @Test func checkNamesEveryHandEditAndFixRestoresWhatThePlatformOwns() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let (kms, iam) = try Self.clients(moto, moto.platform)
        let governor = AWSAccountGovernor(kms: kms, iam: iam, account: moto.account)
        let (adminKMS, adminIAM) = (try Self.clients(moto, moto.allowed).0, try Self.clients(moto, moto.iamAdmin).1)
        let domain = "drift\(UUID().uuidString.prefix(6).lowercased())"
        let type = "\(domain).order.placed"
        let key = try await governor.domainKey(domain)
        _ = try await governor.readerRole(eventType: type, keyARN: key)
        let end = Date(timeIntervalSince1970: 1_900_000_000)
        try await governor.grant(eventType: type, to: moto.tableReader.arn, until: end)
        let expected = [AWSDrift.ExpectedReader(eventType: type, keyARN: key, grants: [moto.tableReader.arn: end])]
        #expect(try await governor.check(expected).differences.isEmpty)

        // By hand: a break-glass statement (not drift), a grant the platform never made, a widened permission
        // policy, an edited key policy, a disabled key.
        let name = AWSNames.readerRole(eventType: type)
        var trust = try TrustPolicy(
            parsing: #"{"Version":"2012-10-17","Statement":[{"Sid":"BreakGlass","Effect":"Allow","Principal":{"AWS":"\#(moto.allowed.arn)"},"Action":"sts:AssumeRole"}]}"#
        )
        trust.grant(moto.tableReader.arn, until: end)
        trust.grant(moto.denied.arn, until: nil)
        try await adminIAM.updateAssumeRolePolicy(roleName: name, document: trust.document)
        try await adminIAM.putRolePolicy(
            roleName: name,
            policyName: AWSNames.readerPolicyName,
            document: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#
        )
        let opened = AWSPolicies.keyPolicy(account: moto.account).replacingOccurrences(of: "\"Deny\"", with: "\"Allow\"")
        try await adminKMS.putKeyPolicy(PutKeyPolicyRequest(keyId: key, policy: opened))
        // (moto's DisableKey takes a key id only, not an ARN)
        try await adminKMS.disableKey(DisableKeyRequest(keyId: String(key.split(separator: "/").last!)))

        let report = try await governor.check(expected, at: end.addingTimeInterval(-60))
        #expect(
            report.differences == [
                .readerPolicyChanged(eventType: type), .grantExtra(eventType: type, principal: moto.denied.arn),
                .keyDisabled(keyARN: key), .keyPolicyChanged(keyARN: key),
            ]
        )
        #expect(
            report.readers[type] == [moto.allowed.arn, moto.denied.arn, moto.tableReader.arn].sorted(),
            "the widened documents let the break-glass role, the planted grant and the real one decrypt"
        )

        // Fixed: the planted grant gone, the policies restored, the break-glass statement kept; the disabled key is
        // left to a person.
        #expect(try await governor.fix(expected) == [.keyDisabled(keyARN: key)])
        let restored = try TrustPolicy(parsing: try #require(try await adminIAM.getRole(name: name).assumeRolePolicyDocument))
        #expect(restored.grants == [moto.tableReader.arn: end] && restored.foreignStatementCount == 1)
        let after = try await governor.check(expected, at: end.addingTimeInterval(-60))
        #expect(after.readers[type] == [moto.allowed.arn, moto.tableReader.arn].sorted())
        #expect(try await governor.check(expected, at: end.addingTimeInterval(60)).readers[type] == [moto.allowed.arn])

        // A role deleted by hand is named, and recreated by fix.
        try await adminIAM.deleteRolePolicy(roleName: name, policyName: AWSNames.readerPolicyName)
        try await adminIAM.deleteRole(name: name)
        #expect(try await governor.check(expected).differences.contains(.roleMissing(eventType: type)))
        #expect(try await governor.fix(expected) == [.keyDisabled(keyARN: key)])
    }
}
