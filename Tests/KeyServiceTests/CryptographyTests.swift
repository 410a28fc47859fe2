import Foundation
import KMS
import KeyService
import Testing

struct CryptographyTests {
    @Test func encryptThenDecryptWithAndWithoutKeyId() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let plaintext = Data("card 4111 1111 1111 1111".utf8)
        let context = ["eventType": "payments.card.captured", "domain": "payments"]
        let response = try await fixture.service.encrypt(
            EncryptRequest(keyId: key.keyId, plaintext: plaintext, encryptionContext: context),
            caller: administrator
        )
        #expect(response.keyId == key.arn)
        #expect(response.encryptionAlgorithm == .symmetricDefault)
        let blob = try #require(response.ciphertextBlob)
        #expect(blob.count == 1 + 16 + 4 + 12 + plaintext.count + 16)
        #expect(blob.first == 1)
        #expect(blob.range(of: plaintext) == nil)

        let decrypted = try await fixture.service.decrypt(
            DecryptRequest(ciphertextBlob: blob, encryptionContext: context),
            caller: administrator
        )
        #expect(decrypted.plaintext == plaintext)
        #expect(decrypted.keyId == key.arn)
        #expect(decrypted.keyMaterialId == key.currentKeyMaterialId)
        #expect(try await fixture.decrypt(blob, keyID: key.arn, context: context) == plaintext)
        // Context order does not matter.
        #expect(
            try await fixture.decrypt(blob, context: ["domain": "payments", "eventType": "payments.card.captured"])
                == plaintext
        )
    }

    @Test func emptyAndAbsentContextsAreTheSame() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let blob = try await fixture.encrypt(key.keyId, context: [:])
        #expect(try await fixture.decrypt(blob) == Data("secret".utf8))
    }

    @Test(
        arguments: [
            nil, ["a": "1", "b": "3"], ["a": "1"], ["a": "1", "b": "2", "c": "3"], ["A": "1", "b": "2"], [:],
        ] as [[String: String]?]
    )
    func wrongEncryptionContextIsInvalidCiphertext(context: [String: String]?) async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let blob = try await fixture.encrypt(key.keyId, context: ["a": "1", "b": "2"])
        await expectKMSError(.invalidCiphertextException) { _ = try await fixture.decrypt(blob, context: context) }
    }

    @Test func canonicalContextIsLengthPrefixedSoBoundariesCannotShift() {
        let a = CiphertextBlob.canonicalEncryptionContext(["ab": "c"])
        let b = CiphertextBlob.canonicalEncryptionContext(["a": "bc"])
        #expect(a != b)
        #expect(CiphertextBlob.canonicalEncryptionContext([:]) == Data([0, 0, 0, 0]))
        #expect(
            CiphertextBlob.canonicalEncryptionContext(["b": "2", "a": "1"])
                == Data([0, 0, 0, 2, 0, 0, 0, 1, 0x61, 0, 0, 0, 1, 0x31, 0, 0, 0, 1, 0x62, 0, 0, 0, 1, 0x32])
        )
    }

    @Test func everyTamperedByteIsInvalidCiphertext() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        _ = try await fixture.service.rotateKeyOnDemand(
            RotateKeyOnDemandRequest(keyId: key.keyId),
            caller: administrator
        )
        let blob = try await fixture.encrypt(key.keyId, Data("abc".utf8))
        for index in blob.indices {
            var tampered = blob
            tampered[index] ^= 0x01
            await expectKMSError(.invalidCiphertextException) { _ = try await fixture.decrypt(tampered) }
        }
        await expectKMSError(.invalidCiphertextException) { _ = try await fixture.decrypt(blob.dropLast()) }
        await expectKMSError(.invalidCiphertextException) {
            _ = try await fixture.decrypt(Data(repeating: 1, count: 10))
        }
        await expectKMSError(.validationException) { _ = try await fixture.decrypt(Data()) }
        // The material-version field names the first material: authentication still fails.
        var older = blob
        older[20] = 1
        await expectKMSError(.invalidCiphertextException) { _ = try await fixture.decrypt(older) }
    }

    @Test func decryptWithAnotherKeysIdIsIncorrectKey() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let other = try await fixture.createKey()
        try await fixture.createAlias("alias/other", target: other.keyId)
        let blob = try await fixture.encrypt(key.keyId)
        for identifier in [other.keyId, other.arn!, "alias/other", "arn:aws:kms:us-east-1:000000000000:alias/other"] {
            await expectKMSError(.incorrectKeyException) { _ = try await fixture.decrypt(blob, keyID: identifier) }
        }
        await expectKMSError(.notFoundException) { _ = try await fixture.decrypt(blob, keyID: "alias/missing") }
    }

    @Test func aBlobOfOneKeyRelabelledAsAnotherDoesNotOpen() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let other = try await fixture.createKey()
        var blob = try await fixture.encrypt(key.keyId)
        let otherUUID = try #require(UUID(uuidString: other.keyId)).uuid
        withUnsafeBytes(of: otherUUID) { blob.replaceSubrange(1..<17, with: $0) }
        await expectKMSError(.invalidCiphertextException) { _ = try await fixture.decrypt(blob) }
        await expectKMSError(.invalidCiphertextException) { _ = try await fixture.decrypt(blob, keyID: other.keyId) }
    }

    @Test func encryptValidatesPlaintextAndAlgorithm() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        #expect(try await fixture.decrypt(try await fixture.encrypt(key.keyId, Data(count: 4096))) == Data(count: 4096))
        let tooLong = await expectKMSError(.validationException) {
            _ = try await fixture.encrypt(key.keyId, Data(count: 4097))
        }
        #expect(tooLong?.message.contains("4096") == true)
        await expectKMSError(.validationException) { _ = try await fixture.encrypt(key.keyId, Data()) }
        await expectKMSError(.invalidKeyUsageException) {
            _ = try await fixture.service.encrypt(
                EncryptRequest(keyId: key.keyId, plaintext: Data([1]), encryptionAlgorithm: .rsaesOAEPSHA256),
                caller: administrator
            )
        }
        await expectKMSError(.dryRunOperationException) {
            _ = try await fixture.service.encrypt(
                EncryptRequest(keyId: key.keyId, plaintext: Data([1]), dryRun: true),
                caller: administrator
            )
        }
    }

    @Test func reEncryptMovesCiphertextToAnotherKeyAndContext() async throws {
        let fixture = try Fixture()
        let source = try await fixture.createKey()
        let destination = try await fixture.createKey()
        try await fixture.createAlias("alias/dest", target: destination.keyId)
        let blob = try await fixture.encrypt(source.keyId, Data("move me".utf8), context: ["from": "a"])
        let response = try await fixture.service.reEncrypt(
            ReEncryptRequest(
                ciphertextBlob: blob,
                sourceEncryptionContext: ["from": "a"],
                sourceKeyId: source.keyId,
                destinationKeyId: "alias/dest",
                destinationEncryptionContext: ["to": "b"]
            ),
            caller: administrator
        )
        #expect(response.sourceKeyId == source.arn)
        #expect(response.keyId == destination.arn)
        let moved = try #require(response.ciphertextBlob)
        #expect(
            try await fixture.decrypt(moved, keyID: destination.keyId, context: ["to": "b"]) == Data("move me".utf8)
        )
        await expectKMSError(.invalidCiphertextException) {
            _ = try await fixture.service.reEncrypt(
                ReEncryptRequest(ciphertextBlob: blob, destinationKeyId: destination.keyId),
                caller: administrator
            )
        }
        await expectKMSError(.incorrectKeyException) {
            _ = try await fixture.service.reEncrypt(
                ReEncryptRequest(
                    ciphertextBlob: blob,
                    sourceEncryptionContext: ["from": "a"],
                    sourceKeyId: destination.keyId,
                    destinationKeyId: destination.keyId
                ),
                caller: administrator
            )
        }
    }

    @Test(
        arguments: [(1, nil), (1024, nil), (nil, DataKeySpec.aes128), (nil, DataKeySpec.aes256)]
            as [(Int?, DataKeySpec?)]
    )
    func generateDataKeyLengths(numberOfBytes: Int?, keySpec: DataKeySpec?) async throws {
        let length = numberOfBytes ?? (keySpec == .aes128 ? 16 : 32)
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let response = try await fixture.service.generateDataKey(
            GenerateDataKeyRequest(
                keyId: key.keyId,
                encryptionContext: ["c": "d"],
                numberOfBytes: numberOfBytes,
                keySpec: keySpec
            ),
            caller: administrator
        )
        let plaintext = try #require(response.plaintext)
        #expect(plaintext.count == length)
        #expect(response.keyId == key.arn)
        #expect(response.keyMaterialId == key.currentKeyMaterialId)
        #expect(try await fixture.decrypt(try #require(response.ciphertextBlob), context: ["c": "d"]) == plaintext)

        let without = try await fixture.service.generateDataKeyWithoutPlaintext(
            GenerateDataKeyWithoutPlaintextRequest(keyId: key.keyId, keySpec: keySpec, numberOfBytes: numberOfBytes),
            caller: administrator
        )
        #expect(try await fixture.decrypt(try #require(without.ciphertextBlob)).count == length)
        #expect(without.keyId == key.arn)
    }

    @Test(
        arguments: [
            (nil, nil), (0, nil), (1025, nil), (16, DataKeySpec.aes128), (nil, DataKeySpec(rawValue: "AES_512")),
        ] as [(Int?, DataKeySpec?)]
    )
    func generateDataKeyRefusesBadLengths(numberOfBytes: Int?, keySpec: DataKeySpec?) async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        await expectKMSError(.validationException) {
            _ = try await fixture.service.generateDataKey(
                GenerateDataKeyRequest(keyId: key.keyId, numberOfBytes: numberOfBytes, keySpec: keySpec),
                caller: administrator
            )
        }
        await expectKMSError(.validationException) {
            _ = try await fixture.service.generateDataKeyWithoutPlaintext(
                GenerateDataKeyWithoutPlaintextRequest(
                    keyId: key.keyId,
                    keySpec: keySpec,
                    numberOfBytes: numberOfBytes
                ),
                caller: administrator
            )
        }
    }

    @Test func generateRandom() async throws {
        let fixture = try Fixture()
        for count in [1, 32, 1024] {
            let random = try await fixture.service.generateRandom(
                GenerateRandomRequest(numberOfBytes: count),
                caller: administrator
            )
            #expect(random.plaintext?.count == count)
        }
        let a = try await fixture.service.generateRandom(
            GenerateRandomRequest(numberOfBytes: 32),
            caller: administrator
        )
        let b = try await fixture.service.generateRandom(
            GenerateRandomRequest(numberOfBytes: 32),
            caller: administrator
        )
        #expect(a.plaintext != b.plaintext)
        for count in [nil, 0, 1025] as [Int?] {
            await expectKMSError(.validationException) {
                _ = try await fixture.service.generateRandom(
                    GenerateRandomRequest(numberOfBytes: count),
                    caller: administrator
                )
            }
        }
    }

    @Test func disabledKeyRefusesUseWithAWSMessage() async throws {
        let fixture = try Fixture()
        let key = try await fixture.createKey()
        let blob = try await fixture.encrypt(key.keyId)
        try await fixture.disable(key.keyId)
        let error = await expectKMSError(.disabledException) { _ = try await fixture.decrypt(blob) }
        #expect(error?.message == "\(key.arn!) is disabled.")
        try await fixture.enable(key.keyId)
        #expect(try await fixture.decrypt(blob) == Data("secret".utf8))
    }
}
