import Crypto
import Foundation
import KMS
import KeyService
import Testing

struct AtRestTests {
    /// The material that encrypts a blob is recovered by brute force over the store's records: it must be nowhere in
    /// them in plaintext.
    @Test func keyMaterialIsSealedUnderTheRootKey() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        _ = try await fixture.service.rotateKeyOnDemand(
            RotateKeyOnDemandRequest(keyId: key.keyId),
            caller: administrator
        )
        let records = await fixture.store.allKeyRecords()
        let record = try #require(records.first)
        #expect(record.materials.count == 2)

        // Open each sealed material with the root key (as the service does) and check it is nowhere in the stored
        // bytes, and that it really is the key that encrypts.
        let encoded = try JSONEncoder().encode(records)
        for sealed in record.materials {
            var aad = Data("sealed-events/key-material/v1\u{0}".utf8)
            aad.append(contentsOf: record.id.utf8)
            aad.append(0)
            withUnsafeBytes(of: sealed.version.bigEndian) { aad.append(contentsOf: $0) }
            let material = try AES.GCM.open(
                AES.GCM.SealedBox(combined: sealed.sealed),
                using: fixture.rootKey,
                authenticating: aad
            )
            #expect(material.count == 32)
            #expect(encoded.range(of: material) == nil)
            #expect(sealed.sealed.range(of: material) == nil)
            #expect(!String(describing: record).contains(material.base64EncodedString()))
            // A material sealed for another version does not open under this version's associated data.
            var otherAAD = aad
            otherAAD[otherAAD.count - 1] ^= 0xFF
            #expect(throws: (any Error).self) {
                _ = try AES.GCM.open(
                    AES.GCM.SealedBox(combined: sealed.sealed),
                    using: fixture.rootKey,
                    authenticating: otherAAD
                )
            }
        }
        // The newest material is the one that encrypts: decrypt a blob by hand with it.
        let blob = try await fixture.encrypt(key.keyId, Data("by hand".utf8), context: ["x": "y"])
        let newest = try #require(record.materials.last)
        var aad = Data("sealed-events/key-material/v1\u{0}".utf8)
        aad.append(contentsOf: record.id.utf8)
        aad.append(0)
        withUnsafeBytes(of: newest.version.bigEndian) { aad.append(contentsOf: $0) }
        let material = SymmetricKey(
            data: try AES.GCM.open(
                AES.GCM.SealedBox(combined: newest.sealed),
                using: fixture.rootKey,
                authenticating: aad
            )
        )
        let box = try AES.GCM.SealedBox(
            nonce: AES.GCM.Nonce(data: blob[21..<33]),
            ciphertext: blob[33..<(blob.count - 16)],
            tag: blob[(blob.count - 16)...]
        )
        let header = blob[0..<21]
        let opened = try AES.GCM.open(
            box,
            using: material,
            authenticating: header + CiphertextBlob.canonicalEncryptionContext(["x": "y"])
        )
        #expect(opened == Data("by hand".utf8))
    }

    @Test func aServiceWithAnotherRootKeyCannotUseTheStoredKeys() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let blob = try await fixture.encrypt(key.keyId)
        let impostor = try KeyService(
            store: fixture.store,
            rootKey: SymmetricKey(size: .bits256),
            authorizer: AdministratorAuthorizer(administrator: administrator.principal),
            now: { fixture.clock.now }
        )
        await expectKMSError(.kmsInternalException) {
            _ = try await impostor.decrypt(DecryptRequest(ciphertextBlob: blob), caller: administrator)
        }
        #expect(throws: KMSError.internalError) {
            _ = try KeyService(
                store: fixture.store,
                rootKey: SymmetricKey(size: .bits128),
                authorizer: AdministratorAuthorizer(administrator: administrator.principal)
            )
        }
    }

    @Test func concurrentChangesToOneKeyAreNotLost() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let service = fixture.service
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    _ = try await service.tagResource(
                        TagResourceRequest(keyId: key.keyId, tags: [Tag(key: "t\(index)", value: "\(index)")]),
                        caller: administrator
                    )
                }
            }
            try await group.waitForAll()
        }
        let tags = try await service.listResourceTags(ListResourceTagsRequest(keyId: key.keyId), caller: administrator)
        #expect(tags.tags?.count == 20)
    }

    @Test func storeRefusesStaleRevisionsAtomically() async throws {
        let store = InMemoryKeyStore()
        let record = KeyRecord(
            id: "k",
            arn: "arn",
            keyDescription: "",
            creationDate: Date(),
            state: .enabled,
            policy: "{}",
            materials: [],
            revision: 1
        )
        try await store.commit(KeyStoreBatch([.putKey(record, expectedRevision: nil)]))
        let alias = AliasRecord(
            name: "alias/x",
            targetKeyID: "k",
            creationDate: Date(),
            lastUpdatedDate: Date(),
            revision: 1
        )
        await #expect(throws: KeyStoreConflict()) {
            try await store.commit(
                KeyStoreBatch([.putAlias(alias, expectedRevision: nil), .putKey(record, expectedRevision: nil)])
            )
        }
        #expect(await store.alias(named: "alias/x") == nil)
    }
}

struct AuthorizationTests {
    @Test func administratorAuthorizerAllowsOnlyTheAdministrator() async {
        let authorizer = AdministratorAuthorizer(administrator: administrator.principal)
        let context = AuthorizationContext(currentTime: Date())
        #expect(
            await authorizer.authorize(
                AuthorizationRequest(
                    principal: administrator.principal,
                    action: "kms:Decrypt",
                    resource: "*",
                    context: context
                )
            ) == .allow
        )
        #expect(
            await authorizer.authorize(
                AuthorizationRequest(
                    principal: stranger.principal,
                    action: "kms:Decrypt",
                    resource: "*",
                    context: context
                )
            ) == .implicitDeny
        )
    }

    @Test func strangersAreDeniedEveryOperationWithAWSMessage() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let blob = try await fixture.encrypt(key.keyId)
        let denied = await expectKMSError(.accessDeniedException) {
            _ = try await fixture.service.decrypt(DecryptRequest(ciphertextBlob: blob), caller: stranger)
        }
        #expect(
            denied?.message
                == "User: \(stranger.principal) is not authorized to perform: kms:Decrypt on resource: \(key.arn!) because no resource-based policy allows the kms:Decrypt action"
        )
        await expectKMSError(.accessDeniedException) {
            _ = try await fixture.service.createKey(CreateKeyRequest(), caller: stranger)
        }
        await expectKMSError(.accessDeniedException) {
            _ = try await fixture.service.listKeys(ListKeysRequest(), caller: stranger)
        }
        await expectKMSError(.accessDeniedException) {
            _ = try await fixture.service.generateRandom(GenerateRandomRequest(numberOfBytes: 8), caller: stranger)
        }
        await expectKMSError(.accessDeniedException) {
            _ = try await fixture.service.disableKey(DisableKeyRequest(keyId: key.keyId), caller: stranger)
        }
        await expectKMSError(.accessDeniedException) {
            _ = try await fixture.service.createAlias(
                CreateAliasRequest(aliasName: "alias/x", targetKeyId: key.keyId),
                caller: stranger
            )
        }
        // Nothing changed.
        #expect(try await fixture.describe(key.keyId).keyState == .enabled)
        #expect(try await fixture.service.listAliases(ListAliasesRequest(), caller: administrator).aliases == [])
    }

    @Test func authorizationComesBeforeStateChecksAndCarriesTheRequestContext() async throws {
        let authorizer = RecordingAuthorizer { request in
            request.action == "kms:Decrypt" ? .explicitDeny(reason: "statement DenyDecrypt") : .allow
        }
        let fixture = try Fixture(authorizer: authorizer)
        let key = try await fixture.createKey()
        let blob = try await fixture.encrypt(key.keyId, context: ["eventType": "payments.card.captured"])
        try await fixture.disable(key.keyId)
        // Denied, not Disabled: the verdict comes first.
        let denied = await expectKMSError(.accessDeniedException) {
            _ = try await fixture.decrypt(blob, context: ["eventType": "payments.card.captured"])
        }
        #expect(denied?.message.contains("with an explicit deny") == true)
        #expect(denied?.message.contains("DenyDecrypt") == false)

        let decrypt = try #require(authorizer.requests.last)
        #expect(decrypt.action == "kms:Decrypt")
        #expect(decrypt.principal == administrator.principal)
        #expect(decrypt.resource == key.arn)
        #expect(decrypt.context.encryptionContext == ["eventType": "payments.card.captured"])
        #expect(decrypt.context.sourceIP == "127.0.0.1")
        #expect(decrypt.context.currentTime == fixture.clock.now)
        #expect(decrypt.context.keyPolicy?.contains("kms:*") == true)
        #expect(authorizer.requests.map(\.action) == ["kms:CreateKey", "kms:Encrypt", "kms:DisableKey", "kms:Decrypt"])
        #expect(authorizer.requests.first?.resource == "*")
    }

    @Test func reEncryptAndAliasesAskForEveryResource() async throws {
        let authorizer = RecordingAuthorizer { _ in .allow }
        let fixture = try Fixture(authorizer: authorizer)
        let source = try await fixture.createKey()
        let destination = try await fixture.createKey()
        let blob = try await fixture.encrypt(source.keyId)
        _ = try await fixture.service.reEncrypt(
            ReEncryptRequest(
                ciphertextBlob: blob,
                destinationKeyId: destination.keyId,
                destinationEncryptionContext: ["to": "x"]
            ),
            caller: administrator
        )
        let reEncrypt = authorizer.requests.suffix(2)
        #expect(reEncrypt.map(\.action) == ["kms:ReEncryptFrom", "kms:ReEncryptTo"])
        #expect(reEncrypt.map(\.resource) == [source.arn!, destination.arn!])
        #expect(reEncrypt.last?.context.encryptionContext == ["to": "x"])

        try await fixture.createAlias("alias/x", target: source.keyId)
        let create = authorizer.requests.suffix(2)
        #expect(create.map(\.action) == ["kms:CreateAlias", "kms:CreateAlias"])
        #expect(create.map(\.resource) == ["arn:aws:kms:us-east-1:000000000000:alias/x", source.arn!])
    }
}

struct DescriptionTests {
    @Test func noSecretPrints() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let rootKeyBytes = fixture.rootKey.withUnsafeBytes { Data($0) }
        let printed = [
            String(describing: fixture.service), String(reflecting: fixture.service),
            String(describing: await fixture.store.allKeyRecords()),
        ]
        for text in printed {
            #expect(!text.contains(rootKeyBytes.base64EncodedString()))
            #expect(!text.contains(rootKeyBytes.map { String(format: "%02x", $0) }.joined()))
        }
        #expect(String(describing: fixture.service) == "KeyService(us-east-1, account 000000000000)")
        #expect(printed[2].contains(key.keyId))
        #expect(!printed[2].contains("sealed"))
    }
}

/// AWS's lockout safety check: the authorizer is asked whether the caller could call `PutKeyPolicy` under the new
/// policy, and a policy it would refuse is not stored unless the caller bypasses the check.
struct LockoutSafetyCheckTests {
    static let lockout = #"{"Version":"2012-10-17","Statement":[]}"#

    /// Allows everything except `kms:PutKeyPolicy` evaluated against ``lockout``.
    static func authorizer() -> RecordingAuthorizer {
        RecordingAuthorizer { request in
            request.action == "kms:PutKeyPolicy" && request.context.keyPolicy == lockout ? .implicitDeny : .allow
        }
    }

    @Test func putKeyPolicyAsksAboutTheNewPolicy() async throws {
        let authorizer = Self.authorizer()
        let fixture = try Fixture(authorizer: authorizer)
        let key = try await fixture.createKey()
        let refused = await expectKMSError(.malformedPolicyDocumentException) {
            _ = try await fixture.service.putKeyPolicy(
                PutKeyPolicyRequest(keyId: key.keyId, policy: Self.lockout),
                caller: administrator
            )
        }
        #expect(refused?.message == "The new key policy will not allow you to update the key policy in the future.")
        let check = try #require(authorizer.requests.last)
        #expect(check.action == "kms:PutKeyPolicy" && check.resource == key.arn && check.principal == administrator.principal)
        #expect(check.context.keyPolicy == Self.lockout)
        #expect(
            try await fixture.service.getKeyPolicy(GetKeyPolicyRequest(keyId: key.keyId), caller: administrator).policy
                != Self.lockout
        )

        _ = try await fixture.service.putKeyPolicy(
            PutKeyPolicyRequest(keyId: key.keyId, policy: Self.lockout, bypassPolicyLockoutSafetyCheck: true),
            caller: administrator
        )
        #expect(
            try await fixture.service.getKeyPolicy(GetKeyPolicyRequest(keyId: key.keyId), caller: administrator).policy
                == Self.lockout
        )
    }

    @Test func createKeyAsksAboutItsPolicyForTheNewKey() async throws {
        let authorizer = Self.authorizer()
        let fixture = try Fixture(authorizer: authorizer)
        await expectKMSError(.malformedPolicyDocumentException) {
            _ = try await fixture.service.createKey(CreateKeyRequest(policy: Self.lockout), caller: administrator)
        }
        let check = try #require(authorizer.requests.last)
        #expect(check.action == "kms:PutKeyPolicy" && check.resource.hasPrefix("arn:aws:kms:us-east-1:000000000000:key/"))
        #expect(try await fixture.service.listKeys(ListKeysRequest(), caller: administrator).keys == [])
        let created = try await fixture.service.createKey(
            CreateKeyRequest(policy: Self.lockout, bypassPolicyLockoutSafetyCheck: true),
            caller: administrator
        )
        #expect(created.keyMetadata != nil)
    }
}
