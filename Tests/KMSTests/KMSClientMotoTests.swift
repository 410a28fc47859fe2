import Foundation
import KMS
import SealedTesting
import Testing

/// Every KMS operation of the client against moto server (which implements all 26 of them), with IAM
/// enforcement on: the `allowed` user may do anything, the `denied` user only DescribeKey and ListKeys.
struct KMSClientMotoTests {
    @Test func keyLifecycle() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms()
        let created = try await kms.createKey(
            CreateKeyRequest(
                description: "lifecycle",
                keyUsage: .encryptDecrypt,
                keySpec: .symmetricDefault,
                tags: [Tag(key: "team", value: "payments")]
            )
        )
        let metadata = try #require(created.keyMetadata)
        let arn = try #require(metadata.arn)
        #expect(KMSARN(arn)?.resourceType == .key)
        #expect(metadata.keyState == .enabled && metadata.enabled == true)
        #expect(metadata.description == "lifecycle")
        #expect(metadata.creationDate != nil)

        let described = try await kms.describeKey(DescribeKeyRequest(keyId: metadata.keyId))
        #expect(described.keyMetadata?.arn == arn)

        var found = false
        var marker: String? = nil
        repeat {
            let page = try await kms.listKeys(ListKeysRequest(limit: 50, marker: marker))
            found = found || (page.keys ?? []).contains { $0.keyArn == arn }
            marker = page.truncated == true ? page.nextMarker : nil
        } while marker != nil
        #expect(found)

        // moto 5.2.5 finds keys only by key id (not ARN) in the key-management calls below; AWS takes both.
        let id = metadata.keyId
        try await kms.disableKey(DisableKeyRequest(keyId: id))
        #expect(try await kms.describeKey(DescribeKeyRequest(keyId: arn)).keyMetadata?.keyState == .disabled)
        // (moto 5.2.5 still encrypts with a disabled or pending-deletion key, so the refusals are not checked here;
        // BadServerTests checks how DisabledException and KMSInvalidStateException bodies decode.)
        try await kms.enableKey(EnableKeyRequest(keyId: id))
        #expect(try await kms.describeKey(DescribeKeyRequest(keyId: arn)).keyMetadata?.keyState == .enabled)

        try await kms.enableKeyRotation(EnableKeyRotationRequest(keyId: id, rotationPeriodInDays: 180))
        let rotation = try await kms.getKeyRotationStatus(GetKeyRotationStatusRequest(keyId: id))
        #expect(rotation.keyRotationEnabled == true)
        let rotated = try await kms.rotateKeyOnDemand(RotateKeyOnDemandRequest(keyId: id))
        #expect(rotated.keyId == metadata.keyId || rotated.keyId == arn)
        try await kms.disableKeyRotation(DisableKeyRotationRequest(keyId: id))
        #expect(try await kms.getKeyRotationStatus(GetKeyRotationStatusRequest(keyId: id)).keyRotationEnabled == false)

        let policy = try await kms.getKeyPolicy(GetKeyPolicyRequest(keyId: id))
        #expect(policy.policy?.contains("Statement") == true)
        let newPolicy =
            #"{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::\#(moto.account):root"},"Action":"kms:*","Resource":"*"}]}"#
        try await kms.putKeyPolicy(PutKeyPolicyRequest(keyId: id, policy: newPolicy))
        #expect(try await kms.getKeyPolicy(GetKeyPolicyRequest(keyId: id)).policy?.contains("\"Sid\":\"Root\"") == true)

        try await kms.tagResource(TagResourceRequest(keyId: id, tags: [Tag(key: "env", value: "test")]))
        var tags = try await kms.listResourceTags(ListResourceTagsRequest(keyId: id)).tags ?? []
        #expect(Set(tags) == [Tag(key: "team", value: "payments"), Tag(key: "env", value: "test")])
        try await kms.untagResource(UntagResourceRequest(keyId: id, tagKeys: ["team"]))
        tags = try await kms.listResourceTags(ListResourceTagsRequest(keyId: id)).tags ?? []
        #expect(tags == [Tag(key: "env", value: "test")])

        let scheduled = try await kms.scheduleKeyDeletion(ScheduleKeyDeletionRequest(keyId: id, pendingWindowInDays: 7))
        #expect(scheduled.deletionDate != nil)
        #expect(scheduled.keyState == nil || scheduled.keyState == .pendingDeletion, "moto leaves KeyState out")
        #expect(try await kms.describeKey(DescribeKeyRequest(keyId: arn)).keyMetadata?.keyState == .pendingDeletion)
        let cancelled = try await kms.cancelKeyDeletion(CancelKeyDeletionRequest(keyId: id))
        #expect(cancelled.keyId == arn || cancelled.keyId == metadata.keyId)
        #expect(try await kms.describeKey(DescribeKeyRequest(keyId: arn)).keyMetadata?.keyState == .disabled)
    }

    @Test func aliases() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms()
        let name = "alias/test-\(UUID().uuidString.prefix(8).lowercased())"
        try await kms.createAlias(CreateAliasRequest(aliasName: name, targetKeyId: moto.primaryKey))
        await #expect(throws: KMSError.alreadyExists) {
            try await kms.createAlias(CreateAliasRequest(aliasName: name, targetKeyId: moto.primaryKey))
        }
        let primaryId = try #require(KMSARN(moto.primaryKey)?.resourceId)
        let secondaryId = try #require(KMSARN(moto.secondaryKey)?.resourceId)
        var aliases = try await kms.listAliases(ListAliasesRequest(keyId: moto.primaryKey)).aliases ?? []
        #expect(aliases.contains { $0.aliasName == name && $0.targetKeyId == primaryId })

        try await kms.updateAlias(UpdateAliasRequest(aliasName: name, targetKeyId: moto.secondaryKey))
        aliases = try await kms.listAliases().aliases ?? []
        #expect(aliases.contains { $0.aliasName == name && $0.targetKeyId == secondaryId })
        let viaAlias = try await kms.describeKey(DescribeKeyRequest(keyId: name))
        #expect(viaAlias.keyMetadata?.arn == moto.secondaryKey)

        try await kms.deleteAlias(DeleteAliasRequest(aliasName: name))
        await #expect(throws: KMSError.notFound) {
            _ = try await kms.describeKey(DescribeKeyRequest(keyId: name))
        }
        await #expect(throws: KMSError.self) {
            try await kms.createAlias(CreateAliasRequest(aliasName: "not-an-alias", targetKeyId: moto.primaryKey))
        }
    }

    @Test func cryptographicOperations() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms()
        let context = ["eventType": "payments.card.captured", "ünïcødé": "✓"]
        let plaintext = Data("sealed".utf8)

        let encrypted = try await kms.encrypt(
            EncryptRequest(keyId: moto.alias, plaintext: plaintext, encryptionContext: context)
        )
        #expect(encrypted.keyId == moto.primaryKey, "KMS answers with the key ARN behind the alias")
        let blob = try #require(encrypted.ciphertextBlob)
        let decrypted = try await kms.decrypt(DecryptRequest(ciphertextBlob: blob, encryptionContext: context))
        #expect(decrypted.plaintext == plaintext)
        #expect(decrypted.keyId == moto.primaryKey)
        await #expect(throws: KMSError.invalidCiphertext) {
            _ = try await kms.decrypt(DecryptRequest(ciphertextBlob: blob, encryptionContext: ["eventType": "other"]))
        }

        let reencrypted = try await kms.reEncrypt(
            ReEncryptRequest(
                ciphertextBlob: blob,
                sourceEncryptionContext: context,
                destinationKeyId: moto.secondaryKey,
                destinationEncryptionContext: ["moved": "yes"]
            )
        )
        #expect(reencrypted.keyId == moto.secondaryKey)
        #expect(reencrypted.sourceKeyId == moto.primaryKey)
        let moved = try await kms.decrypt(
            DecryptRequest(
                ciphertextBlob: try #require(reencrypted.ciphertextBlob),
                encryptionContext: ["moved": "yes"]
            )
        )
        #expect(moved.plaintext == plaintext)

        let dataKey = try await kms.generateDataKey(
            GenerateDataKeyRequest(keyId: moto.primaryKey, encryptionContext: context, numberOfBytes: 32)
        )
        #expect(dataKey.plaintext?.count == 32)
        #expect(dataKey.keyId == moto.primaryKey)
        let unwrapped = try await kms.decrypt(
            DecryptRequest(
                ciphertextBlob: try #require(dataKey.ciphertextBlob),
                encryptionContext: context,
                keyId: moto.primaryKey
            )
        )
        #expect(unwrapped.plaintext == dataKey.plaintext)
        #expect(!String(describing: dataKey).contains(dataKey.plaintext!.base64EncodedString()))

        let spec = try await kms.generateDataKey(GenerateDataKeyRequest(keyId: moto.primaryKey, keySpec: .aes128))
        #expect(spec.plaintext?.count == 16)

        let withoutPlaintext = try await kms.generateDataKeyWithoutPlaintext(
            GenerateDataKeyWithoutPlaintextRequest(keyId: moto.primaryKey, keySpec: .aes256)
        )
        let recovered = try await kms.decrypt(
            DecryptRequest(ciphertextBlob: try #require(withoutPlaintext.ciphertextBlob))
        )
        #expect(recovered.plaintext?.count == 32)

        let random = try await kms.generateRandom(GenerateRandomRequest(numberOfBytes: 48))
        #expect(random.plaintext?.count == 48)
    }

    /// The environment's credentials and `AWS_ENDPOINT_URL_KMS`/`AWS_ENDPOINT_URL_STS` reach the clients.
    @Test func configurationFromEnvironment() async throws {
        guard let moto = try Moto.located() else { return }
        let configuration = try AWSConfiguration.resolve(environment: [
            "AWS_ACCESS_KEY_ID": moto.allowed.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.allowed.secretAccessKey,
            "AWS_DEFAULT_REGION": moto.region, "AWS_ENDPOINT_URL_KMS": moto.endpoint,
            "AWS_ENDPOINT_URL_STS": moto.endpoint, "HOME": "/nonexistent",
        ])
        let kms = try KMSClient(configuration: configuration, options: Moto.options)
        #expect(try await kms.describeKey(DescribeKeyRequest(keyId: moto.alias)).keyMetadata?.arn == moto.primaryKey)
        let sts = try STSClient(configuration: configuration, options: Moto.options)
        #expect(try await sts.getCallerIdentity().arn == moto.allowed.arn)
    }

    @Test func missingKeyIsNotFound() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms()
        await #expect(throws: KMSError.notFound) {
            _ = try await kms.describeKey(
                DescribeKeyRequest(keyId: "arn:aws:kms:\(moto.region):\(moto.account):key/\(UUID())")
            )
        }
    }

    @Test func deniedCallIsAccessDeniedException() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms(moto.denied)
        // DescribeKey is allowed for this user; Encrypt and GenerateDataKey are not.
        _ = try await kms.describeKey(DescribeKeyRequest(keyId: moto.primaryKey))
        do {
            _ = try await kms.generateDataKey(GenerateDataKeyRequest(keyId: moto.primaryKey, numberOfBytes: 32))
            Issue.record("a denied GenerateDataKey succeeded")
        } catch let error as KMSError {
            #expect(error == .accessDenied)
            #expect(error.code == .accessDeniedException)
            #expect(error.message.contains("kms:GenerateDataKey"))
            #expect(error.statusCode == 403)
        }
        await #expect(throws: KMSError.accessDenied) {
            _ = try await kms.encrypt(EncryptRequest(keyId: moto.primaryKey, plaintext: Data([1])))
        }
    }

    @Test func unknownAccessKeyIsRefused() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms(Moto.User(arn: "", accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "nope"))
        do {
            _ = try await kms.listKeys()
            Issue.record("an unknown access key could list keys")
        } catch let error as KMSError {
            #expect(error.statusCode == 403)
            #expect(!error.message.contains("nope"))
        }
    }
}
