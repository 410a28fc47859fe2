import AWSGovernance
import AccessControl
import Foundation
import KMS
import SealedTesting
import SigV4
import Testing

/// The documents as AWS stores them (moto with IAM enforced), and the platform's own IAM policy
/// (`docs/aws/platform-policy.json`), evaluated with the platform's evaluator.
struct AWSDocumentsInAWSTests {
    static func iam(_ moto: MotoFixture) throws -> IAMClient {
        try IAMClient(
            region: moto.region,
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: moto.iamAdmin.accessKeyId, secretAccessKey: moto.iamAdmin.secretAccessKey)
            ),
            endpoint: moto.endpointURL,
            options: ClientOptions(maxAttempts: 2, baseBackoff: .milliseconds(10), timeout: .seconds(10))
        )
    }

    @Test func aReaderRoleRoundTripsThroughIAM() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let iam = try Self.iam(moto)
        let type = "Payments.card_captured.\(UUID().uuidString.prefix(6).lowercased())"
        let name = AWSNames.readerRole(eventType: type)
        _ = try await iam.createRole(
            name: name,
            path: AWSNames.path,
            trustPolicy: TrustPolicy().document,
            tags: [AWSNames.eventTypeTag: type]
        )
        try await iam.putRolePolicy(
            roleName: name,
            policyName: AWSNames.readerPolicyName,
            document: AWSPolicies.readerPolicy(keyARN: moto.primaryKey, eventType: type)
        )
        // An administrator's statement, then two approvals and a revocation, each a read-modify-write.
        let admin = #"{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"\#(moto.allowed.arn)"},"Action":"sts:AssumeRole"}]}"#
        try await iam.updateAssumeRolePolicy(roleName: name, document: admin)
        let end = Date(timeIntervalSince1970: 1_900_000_000)
        for change in [("grant", moto.denied.arn), ("grant", moto.tableReader.arn), ("revoke", moto.denied.arn)] {
            var policy = try TrustPolicy(parsing: try #require(try await iam.getRole(name: name).assumeRolePolicyDocument))
            if change.0 == "grant" { policy.grant(change.1, until: end) } else { policy.revoke(change.1) }
            try await iam.updateAssumeRolePolicy(roleName: name, document: policy.document)
        }
        let stored = try TrustPolicy(parsing: try #require(try await iam.getRole(name: name).assumeRolePolicyDocument))
        #expect(stored.grants == [moto.tableReader.arn: end])
        #expect(stored.foreignStatementCount == 1, "the administrator's statement survived every edit")
        let role = try await iam.getRole(name: name)
        #expect(role.path == "/sealed/" && role.tags[AWSNames.eventTypeTag] == type)
        #expect(AWSNames.decode(String(role.roleName.dropFirst("sealed-reader-".count))) == type)
        try await iam.deleteRolePolicy(roleName: name, policyName: AWSNames.readerPolicyName)
        try await iam.deleteRole(name: name)
    }

    /// The policy names no account (`arn:aws:iam::*:role/sealed/*`): IAM and key policy actions only ever reach the
    /// caller's own account.
    static func platformPolicy() throws -> PolicyDocument {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/aws/platform-policy.json")
        return try PolicyDocument(parsing: try String(contentsOf: url, encoding: .utf8))
    }

    @Test func thePlatformPolicyAllowsWhatThePlatformDoesAndNothingBeside() throws {
        let account = "111122223333"
        let policy = try Self.platformPolicy()
        func allowed(_ action: String, _ resource: String, _ values: [String: [String]] = [:]) -> Bool {
            var context = RequestContext()
            for (key, value) in values { context.setValues(value, forKey: key) }
            return PolicyEvaluator.evaluate(
                EvaluationRequest(
                    principal: CallerIdentity(arn: "arn:aws:iam::\(account):role/sealed-platform"),
                    action: action,
                    resource: resource,
                    context: context
                ),
                identityPolicies: [policy]
            ).isAllowed
        }
        let role = "arn:aws:iam::\(account):role/sealed/sealed-reader-payments.card.captured"
        let key = "arn:aws:kms:eu-west-1:\(account):key/1234"
        #expect(allowed("iam:CreateRole", role) && allowed("iam:UpdateAssumeRolePolicy", role))
        #expect(!allowed("iam:CreateRole", "arn:aws:iam::\(account):role/admin"), "only roles under /sealed/")
        #expect(!allowed("iam:UpdateAssumeRolePolicy", "arn:aws:iam::\(account):role/admin"))
        #expect(allowed("kms:PutKeyPolicy", key, ["aws:ResourceTag/sealed:domain": ["payments"]]))
        #expect(!allowed("kms:PutKeyPolicy", key), "only keys tagged sealed:domain")
        #expect(!allowed("kms:Decrypt", key, ["aws:ResourceTag/sealed:domain": ["payments"]]), "it never decrypts")
        #expect(allowed("kms:CreateKey", "*", ["aws:RequestTag/sealed:domain": ["payments"], "aws:TagKeys": ["sealed:domain"]]))
        #expect(!allowed("kms:CreateKey", "*"), "a key is created tagged")
        #expect(!allowed("kms:CreateKey", "*", ["aws:RequestTag/sealed:domain": ["p"], "aws:TagKeys": ["sealed:domain", "owner"]]))
        let producers = "arn:aws:iam::\(account):policy/sealed/sealed-producer-payments"
        #expect(allowed("iam:AttachUserPolicy", "arn:aws:iam::\(account):user/checkout", ["iam:PolicyARN": [producers]]))
        #expect(!allowed("iam:AttachUserPolicy", "arn:aws:iam::\(account):user/checkout", ["iam:PolicyARN": ["arn:aws:iam::aws:policy/AdministratorAccess"]]), "never another policy")
    }

    @Test func thePlatformPolicyIsAValidIAMPolicy() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/aws/platform-policy.json")
        let iam = try Self.iam(moto)
        let created = try await iam.createPolicy(
            name: "sealed-platform-\(UUID().uuidString.prefix(6).lowercased())",
            document: try String(contentsOf: url, encoding: .utf8)
        )
        #expect(created.defaultVersionId == "v1")
        try await iam.deletePolicy(arn: created.arn)
    }
}
