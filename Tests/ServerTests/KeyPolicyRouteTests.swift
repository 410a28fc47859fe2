import AccessControl
import Composition
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import KMS
import KeyService
import Server
import Testing

/// Key policies over the KMS wire, as boto3 sends them: parsed with the IAM grammar when stored (the position of a
/// problem in the message), and AWS's lockout safety check.
struct KeyPolicyRouteTests {
    typealias World = AuditedServerTests.World

    static let root = "arn:aws:iam::000000000000:root"

    /// A policy of one statement for the account (whose identity policies then decide) allowing `actions`.
    static func accountPolicy(_ actions: [String]) -> String {
        let list = actions.map { "\"\($0)\"" }.joined(separator: ",")
        return """
            {
              "Version": "2012-10-17",
              "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": "\(root)"},
                "Action": [\(list)],
                "Resource": "*"
              }]
            }
            """
    }

    func withWorld(_ body: @Sendable (World, any TestClientProtocol, String) async throws -> Void) async throws {
        let world = try await World()
        let app = Application(router: world.server.router(), logger: Fixture.logger)
        try await app.test(.router) { client in
            let (created, key) = try await AuditedServerTests.kms(client, world.admin, "CreateKey", [:])
            #expect(created.status == .ok)
            let keyID = try #require((key["KeyMetadata"] as? [String: Any])?["KeyId"] as? String)
            try await body(world, client, keyID)
        }
    }

    func policy(of keyID: String, _ world: World, _ client: some TestClientProtocol) async throws -> String? {
        let (_, body) = try await AuditedServerTests.kms(client, world.admin, "GetKeyPolicy", ["KeyId": keyID])
        return body["Policy"] as? String
    }

    @Test func aMalformedPolicyIsRefusedWithItsPosition() async throws {
        try await withWorld { world, client, keyID in
            let before = try await policy(of: keyID, world, client)
            // Not JSON (a missing comma on line 3), then JSON that breaks the grammar (`Efect` on line 4).
            let cases = [
                ("{\n  \"Version\": \"2012-10-17\"\n  \"Statement\": []\n}", "line 3"),
                (
                    """
                    {"Version": "2012-10-17",
                     "Statement": [{
                       "Principal": {"AWS": "\(Self.root)"},
                       "Efect": "Allow", "Action": "kms:*", "Resource": "*"}]}
                    """, "line 4"
                ),
            ]
            for (text, line) in cases {
                let (response, body) = try await AuditedServerTests.kms(
                    client,
                    world.admin,
                    "PutKeyPolicy",
                    ["KeyId": keyID, "PolicyName": "default", "Policy": text]
                )
                #expect(response.status == .badRequest)
                #expect(body["__type"] as? String == "MalformedPolicyDocumentException")
                let message = try #require(body["message"] as? String)
                #expect(message.contains(line) && message.contains("column"), "\(message)")

                let (created, refused) = try await AuditedServerTests.kms(
                    client,
                    world.admin,
                    "CreateKey",
                    ["Policy": text]
                )
                #expect(created.status == .badRequest)
                #expect(refused["__type"] as? String == "MalformedPolicyDocumentException")
            }
            #expect(try await policy(of: keyID, world, client) == before)
        }
    }

    @Test func aPolicyThatLocksTheCallerOutIsRefusedUnlessBypassed() async throws {
        try await withWorld { world, client, keyID in
            let before = try await policy(of: keyID, world, client)
            let lockout = Self.accountPolicy(["kms:Encrypt", "kms:Decrypt", "kms:GetKeyPolicy"])
            let (refused, body) = try await AuditedServerTests.kms(
                client,
                world.admin,
                "PutKeyPolicy",
                ["KeyId": keyID, "PolicyName": "default", "Policy": lockout]
            )
            #expect(refused.status == .badRequest)
            #expect(body["__type"] as? String == "MalformedPolicyDocumentException")
            #expect(
                body["message"] as? String
                    == "The new key policy will not allow you to update the key policy in the future."
            )
            #expect(try await policy(of: keyID, world, client) == before)

            // The same policy with the bypass: stored, and from then on the administrator cannot change it.
            let (bypassed, _) = try await AuditedServerTests.kms(
                client,
                world.admin,
                "PutKeyPolicy",
                [
                    "KeyId": keyID, "PolicyName": "default", "Policy": lockout,
                    "BypassPolicyLockoutSafetyCheck": true,
                ]
            )
            #expect(bypassed.status == .ok)
            #expect(try await policy(of: keyID, world, client) == lockout)
            let (denied, deniedBody) = try await AuditedServerTests.kms(
                client,
                world.admin,
                "PutKeyPolicy",
                ["KeyId": keyID, "PolicyName": "default", "Policy": before ?? ""]
            )
            #expect(denied.status == .badRequest)
            #expect(deniedBody["__type"] as? String == "AccessDeniedException")

            // CreateKey runs the same check.
            let (created, createdBody) = try await AuditedServerTests.kms(
                client,
                world.admin,
                "CreateKey",
                ["Policy": lockout]
            )
            #expect(created.status == .badRequest)
            #expect(createdBody["__type"] as? String == "MalformedPolicyDocumentException")
            let (bypassedCreate, _) = try await AuditedServerTests.kms(
                client,
                world.admin,
                "CreateKey",
                ["Policy": lockout, "BypassPolicyLockoutSafetyCheck": true]
            )
            #expect(bypassedCreate.status == .ok)
        }
    }

    @Test func aValidPolicyThatKeepsPutKeyPolicyIsStored() async throws {
        try await withWorld { world, client, keyID in
            let kept = Self.accountPolicy(["kms:Encrypt", "kms:Decrypt", "kms:GetKeyPolicy", "kms:PutKeyPolicy"])
            let (stored, _) = try await AuditedServerTests.kms(
                client,
                world.admin,
                "PutKeyPolicy",
                ["KeyId": keyID, "PolicyName": "default", "Policy": kept]
            )
            #expect(stored.status == .ok)
            #expect(try await policy(of: keyID, world, client) == kept)
            let (created, _) = try await AuditedServerTests.kms(client, world.admin, "CreateKey", ["Policy": kept])
            #expect(created.status == .ok)
            // The policy took effect: DescribeKey is no longer allowed.
            let (described, body) = try await AuditedServerTests.kms(
                client,
                world.admin,
                "DescribeKey",
                ["KeyId": keyID]
            )
            #expect(described.status == .badRequest)
            #expect(body["__type"] as? String == "AccessDeniedException")
        }
    }

    /// A key whose stored policy no longer parses (stored before the grammar check) can still be read and repaired
    /// by a principal whose identity policies allow it; every other action on it is denied.
    @Test func aStoredPolicyThatDoesNotParseCanBeRepaired() async throws {
        let identities = try await IdentityService(
            account: "000000000000",
            store: InMemoryIdentityStore(),
            credentials: InMemoryCredentialStore()
        )
        _ = try await identities.createUser("admin", team: nil, by: .platform)
        try await identities.ensureAdministrator(named: "admin")
        _ = try await identities.createUser("reader", team: nil, by: .platform)
        let admin = Caller(principal: "arn:aws:iam::000000000000:user/admin")
        let reader = Caller(principal: "arn:aws:iam::000000000000:user/reader")
        let store = InMemoryKeyStore()
        let rootKey = SymmetricKey(size: .bits256)
        // The old behaviour: any JSON object was stored.
        let legacy = try KeyService(
            store: store,
            rootKey: rootKey,
            authorizer: AdministratorAuthorizer(administrator: admin.principal)
        )
        let broken = #"{"Version":"2012-10-17","Statement":{"Efect":"Allow"}}"#
        let keyID = try #require(
            try await legacy.createKey(CreateKeyRequest(policy: broken), caller: admin).keyMetadata?.keyId
        )

        let keys = try KeyService(store: store, rootKey: rootKey, authorizer: PolicyAuthorizer(identities: identities))
        await #expect(throws: KMSError.accessDenied) {
            _ = try await keys.encrypt(EncryptRequest(keyId: keyID, plaintext: Data("x".utf8)), caller: admin)
        }
        await #expect(throws: KMSError.accessDenied) {
            _ = try await keys.putKeyPolicy(
                PutKeyPolicyRequest(keyId: keyID, policy: Self.accountPolicy(["kms:*"])),
                caller: reader
            )
        }
        #expect(try await keys.getKeyPolicy(GetKeyPolicyRequest(keyId: keyID), caller: admin).policy == broken)
        _ = try await keys.putKeyPolicy(
            PutKeyPolicyRequest(keyId: keyID, policy: Self.accountPolicy(["kms:*"])),
            caller: admin
        )
        let sealed = try await keys.encrypt(EncryptRequest(keyId: keyID, plaintext: Data("x".utf8)), caller: admin)
        #expect(sealed.ciphertextBlob != nil)
    }
}
