import Foundation
import KMS
import SealedTesting
import SigV4
import Testing

/// The IAM client against moto with IAM enforced: roles and trust policies, inline and managed policies, versions,
/// attachments, pagination and typed errors; each change read back.
struct IAMClientMotoTests {
    static func iam(_ moto: Moto, _ user: Moto.User? = nil) throws -> IAMClient {
        try IAMClient(
            region: moto.region,
            credentialProvider: StaticCredentialProvider((user ?? moto.iamAdmin).credentials),
            endpoint: moto.endpointURL,
            options: Moto.options
        )
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    static func trust(_ principals: [String]) -> String {
        let statements = principals.map { principal in
            #"{"Effect":"Allow","Principal":{"AWS":"\#(principal)"},"Action":"sts:AssumeRole"}"#
        }
        return #"{"Version":"2012-10-17","Statement":[\#(statements.joined(separator: ","))]}"#
    }

    static func decrypt(_ key: String, eventType: String) -> String {
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"\#(key)","#
            + #""Condition":{"StringEquals":{"kms:EncryptionContext:eventType":"\#(eventType)"}}}]}"#
    }

    /// The JSON text's value, to compare documents whatever their spacing.
    static func json(_ text: String?) throws -> NSDictionary {
        let text = try #require(text)
        return try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }

    @Test func aRoleUnderAPathWithItsTrustAndPermissionPolicies() async throws {
        guard let moto = try Moto.located() else { return }
        let iam = try Self.iam(moto)
        let name = Self.unique("sealed-reader")
        let created = try await iam.createRole(
            name: name,
            path: "/sealed/",
            trustPolicy: Self.trust([]),
            description: "reads payments.card.captured",
            maxSessionDuration: 3600,
            tags: ["sealed:event-type": "payments.card.captured", "sealed:managed": "true"]
        )
        #expect(created.arn == "arn:aws:iam::\(moto.account):role/sealed/\(name)")
        #expect(created.path == "/sealed/")

        let fetched = try await iam.getRole(name: name)
        #expect(fetched.arn == created.arn)
        #expect(fetched.tags == ["sealed:event-type": "payments.card.captured", "sealed:managed": "true"])
        #expect(try Self.json(fetched.assumeRolePolicyDocument) == Self.json(Self.trust([])))

        // The trust policy, replaced (what an approval does) and read back decoded.
        let trust = Self.trust([moto.allowed.arn])
        try await iam.updateAssumeRolePolicy(roleName: name, document: trust)
        #expect(try Self.json(try await iam.getRole(name: name).assumeRolePolicyDocument) == Self.json(trust))

        // An inline permission policy with a condition on the encryption context.
        let permission = Self.decrypt(moto.primaryKey, eventType: "payments.card.captured")
        try await iam.putRolePolicy(roleName: name, policyName: "decrypt", document: permission)
        #expect(try await iam.listRolePolicies(roleName: name) == ["decrypt"])
        #expect(try Self.json(try await iam.getRolePolicy(roleName: name, policyName: "decrypt")) == Self.json(permission))

        // A role with a policy cannot be deleted; without, it can, and then it is gone.
        await #expect(throws: IAMError(code: .deleteConflict)) { try await iam.deleteRole(name: name) }
        try await iam.deleteRolePolicy(roleName: name, policyName: "decrypt")
        try await iam.deleteRole(name: name)
        await #expect(throws: IAMError(code: .noSuchEntity)) { try await iam.getRole(name: name) }
    }

    @Test func listingRolesFollowsEveryPageOfAPath() async throws {
        guard let moto = try Moto.located() else { return }
        let iam = try Self.iam(moto)
        let path = "/\(Self.unique("listing"))/"
        var names: [String] = []
        for index in 0..<3 {
            let name = Self.unique("r\(index)")
            _ = try await iam.createRole(name: name, path: path, trustPolicy: Self.trust([]))
            names.append(name)
        }
        let listed = try await iam.listRoles(pathPrefix: path)
        #expect(Set(listed.map(\.roleName)) == Set(names), "only the roles of the path, each once")
        #expect(listed.allSatisfy { $0.path == path })
        #expect(try await iam.listRoles(pathPrefix: "/\(Self.unique("empty"))/").isEmpty)
    }

    @Test func managedPoliciesTheirVersionsAndAttachments() async throws {
        guard let moto = try Moto.located() else { return }
        let iam = try Self.iam(moto)
        let name = Self.unique("sealed-producer-payments")
        let first = Self.decrypt(moto.primaryKey, eventType: "a")
        let policy = try await iam.createPolicy(name: name, path: "/sealed/", document: first, description: "producers")
        #expect(policy.arn == "arn:aws:iam::\(moto.account):policy/sealed/\(name)")
        #expect(policy.defaultVersionId == "v1")

        let second = Self.decrypt(moto.primaryKey, eventType: "b")
        let version = try await iam.createPolicyVersion(arn: policy.arn, document: second, setAsDefault: true)
        #expect(version.versionId == "v2" && version.isDefaultVersion)
        #expect(try await iam.getPolicy(arn: policy.arn).defaultVersionId == "v2")
        let current = try await iam.getPolicyVersion(arn: policy.arn, versionId: "v2")
        #expect(try Self.json(current.document) == Self.json(second))
        #expect(try await iam.listPolicyVersions(arn: policy.arn).map(\.versionId).sorted() == ["v1", "v2"])
        try await iam.deletePolicyVersion(arn: policy.arn, versionId: "v1")
        #expect(try await iam.listPolicyVersions(arn: policy.arn).map(\.versionId) == ["v2"])

        // Attached to a role: listed, then detached. (AWS also refuses to delete an attached policy, DeleteConflict;
        // moto 5 deletes it.)
        let role = Self.unique("producer")
        _ = try await iam.createRole(name: role, trustPolicy: Self.trust([]))
        try await iam.attachPolicy(policy.arn, to: .role(role))
        #expect(try await iam.attachedPolicies(of: .role(role)) == [IAMAttachedPolicy(policyName: name, policyArn: policy.arn)])
        #expect(try await iam.getPolicy(arn: policy.arn).attachmentCount == 1)
        try await iam.detachPolicy(policy.arn, from: .role(role))
        #expect(try await iam.attachedPolicies(of: .role(role)).isEmpty)
        try await iam.deletePolicy(arn: policy.arn)
        try await iam.deleteRole(name: role)
    }

    @Test func errorsAreTypedAndNameTheEntity() async throws {
        guard let moto = try Moto.located() else { return }
        let iam = try Self.iam(moto)
        let name = Self.unique("twice")
        _ = try await iam.createRole(name: name, trustPolicy: Self.trust([]))
        do {
            _ = try await iam.createRole(name: name, trustPolicy: Self.trust([]))
            Issue.record("a second role of the same name was created")
        } catch let error as IAMError {
            #expect(error == IAMError(code: .entityAlreadyExists))
            #expect(error.statusCode == 409)
            #expect(error.message.contains(name))
        }
        do {
            _ = try await iam.getRolePolicy(roleName: name, policyName: "none")
            Issue.record("a missing inline policy was found")
        } catch let error as IAMError {
            #expect(error == IAMError(code: .noSuchEntity))
            #expect(error.statusCode == 404)
        }
        // A principal without IAM permissions is refused.
        do {
            _ = try await Self.iam(moto, moto.allowed).getRole(name: name)
            Issue.record("a user without iam:GetRole read a role")
        } catch let error as IAMError {
            #expect(error == IAMError(code: .accessDenied))
            #expect(error.statusCode == 403)
        }
        try await iam.deleteRole(name: name)
    }

    @Test func theGlobalEndpointAndSigningRegionPerPartition() throws {
        #expect(AWSConfiguration.iamEndpoint(region: "eu-west-1").absoluteString == "https://iam.amazonaws.com")
        #expect(AWSConfiguration.iamSigningRegion(region: "eu-west-1") == "us-east-1")
        #expect(AWSConfiguration.iamEndpoint(region: "cn-northwest-1").absoluteString == "https://iam.cn-north-1.amazonaws.com.cn")
        #expect(AWSConfiguration.iamSigningRegion(region: "cn-northwest-1") == "cn-north-1")
        let configured = try AWSConfiguration.resolve(
            environment: [
                "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
                "AWS_ENDPOINT_URL_IAM": "http://127.0.0.1:4566", "AWS_CONFIG_FILE": "/nonexistent",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            ]
        )
        #expect(configured.iamEndpoint.absoluteString == "http://127.0.0.1:4566")
        #expect(configured.kmsEndpoint.absoluteString == "https://kms.eu-west-1.amazonaws.com")
    }
}
