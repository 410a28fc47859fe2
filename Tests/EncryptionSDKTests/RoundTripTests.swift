import Crypto
import EncryptionSDK
import Foundation
import SealedTesting
import Testing

struct RoundTripTests {
    static let sizes = [0, 1, 127, 128, 129, 4095, 4096, 4097, 3 * 4096, 70_000]

    @Test(arguments: [AlgorithmSuite.aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384])
    func committingSuites(suite: AlgorithmSuite) async throws {
        let client = EncryptionClient()
        for frameLength in [1, 128, 4096] {
            for size in Self.sizes where frameLength > 1 || size < 300 {
                let plaintext = Fixtures.bytes(size, seed: UInt64(size))
                let message = try await client.encrypt(
                    plaintext,
                    keyring: Fixtures.aesKeyring,
                    encryptionContext: Fixtures.context,
                    algorithmSuite: suite,
                    frameLength: frameLength
                )
                #expect(message.header.algorithmSuite == suite)
                #expect(message.header.version == 2)
                #expect(message.header.frameLength == UInt32(frameLength))
                let opened = try await client.decrypt(
                    message.ciphertext,
                    keyring: Fixtures.aesKeyring,
                    encryptionContext: Fixtures.context
                )
                #expect(opened.plaintext == plaintext, "suite \(suite) frame \(frameLength) size \(size)")
                #expect(opened.header.encryptionContext.filter { $0.key != publicKeyContextKey } == Fixtures.context)
            }
        }
    }

    @Test func defaultSuiteIsSignedAndCommitting() async throws {
        let message = try await EncryptionClient().encrypt(Array("hello".utf8), keyring: Fixtures.aesKeyring)
        #expect(message.header.algorithmSuite == .aes256GCMHKDFSHA512CommittingECDSAP384)
        #expect(message.header.encryptionContext[publicKeyContextKey]?.count == 68)
    }

    @Test(arguments: AlgorithmSuite.all.filter { !$0.isCommitting })
    func legacySuitesUnderForbidPolicy(suite: AlgorithmSuite) async throws {
        let client = EncryptionClient(commitmentPolicy: .forbidEncryptAllowDecrypt)
        let plaintext = Fixtures.bytes(10_000)
        let message = try await client.encrypt(
            plaintext,
            keyring: Fixtures.aesKeyring,
            encryptionContext: Fixtures.context,
            algorithmSuite: suite,
            frameLength: 1024
        )
        #expect(message.header.version == 1)
        #expect(message.header.messageID.count == 16)
        let opened = try await client.decrypt(message.ciphertext, keyring: Fixtures.aesKeyring)
        #expect(opened.plaintext == plaintext)
        // The default policy refuses to decrypt it, and to encrypt with it.
        await #expect(throws: EncryptionSDKError(.commitmentPolicyViolation, "")) {
            _ = try await EncryptionClient().decrypt(message.ciphertext, keyring: Fixtures.aesKeyring)
        }
        await #expect(throws: EncryptionSDKError(.commitmentPolicyViolation, "")) {
            _ = try await EncryptionClient().encrypt(plaintext, keyring: Fixtures.aesKeyring, algorithmSuite: suite)
        }
        let allowing = EncryptionClient(commitmentPolicy: .requireEncryptAllowDecrypt)
        #expect(try await allowing.decrypt(message.ciphertext, keyring: Fixtures.aesKeyring).plaintext == plaintext)
    }

    @Test func forbidPolicyRefusesCommittingSuites() async throws {
        let client = EncryptionClient(commitmentPolicy: .forbidEncryptAllowDecrypt)
        await #expect(throws: EncryptionSDKError(.commitmentPolicyViolation, "")) {
            _ = try await client.encrypt(
                [1],
                keyring: Fixtures.aesKeyring,
                algorithmSuite: .aes256GCMHKDFSHA512Committing
            )
        }
        let message = try await client.encrypt([1, 2, 3], keyring: Fixtures.aesKeyring)
        #expect(message.header.algorithmSuite == .aes256GCMHKDFSHA384ECDSAP384)
    }

    @Test(arguments: [128, 192, 256])
    func aesKeySizes(bits: Int) async throws {
        let keyring = try RawAESKeyring(
            keyNamespace: "ns",
            keyName: "k\(bits)",
            wrappingKey: SymmetricKey(size: .init(bitCount: bits))
        )
        try await KeyringContract(keyring: keyring, foreignKeyring: Fixtures.aesKeyring).check()
    }

    @Test func aesKeyringRejectsBadKeysAndNamespaces() {
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            try RawAESKeyring(keyNamespace: "ns", keyName: "k", wrappingKey: SymmetricKey(size: .init(bitCount: 64)))
        }
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            try RawAESKeyring(keyNamespace: "aws-kms", keyName: "k", wrappingKey: Fixtures.aesKey)
        }
    }

    @Test(arguments: [RawRSAKeyring.Padding.pkcs1, .oaepSHA1, .oaepSHA256])
    func rsaKeyrings(padding: RawRSAKeyring.Padding) async throws {
        try await KeyringContract(
            keyring: Fixtures.rsaKeyring(padding),
            foreignKeyring: Fixtures.aesKeyring,
            bindsEncryptionContext: false
        ).check()
        let message = try await EncryptionClient().encrypt(Fixtures.bytes(5000), keyring: Fixtures.rsaKeyring(padding))
        #expect(
            try await EncryptionClient().decrypt(message.ciphertext, keyring: Fixtures.rsaKeyring(padding)).plaintext
                == Fixtures.bytes(5000)
        )
    }

    @Test(arguments: [RawRSAKeyring.Padding.oaepSHA384, .oaepSHA512])
    func rsaOAEPWithSHA2LargeHashesIsDecryptOnly(padding: RawRSAKeyring.Padding) async throws {
        await #expect(throws: EncryptionSDKError(.unsupported, "")) {
            _ = try await EncryptionClient().encrypt([1], keyring: Fixtures.rsaKeyring(padding))
        }
    }

    @Test func rsaPublicKeyOnlyEncryptsPrivateKeyDecrypts() async throws {
        let publicOnly = try RawRSAKeyring(
            keyNamespace: "sealed-tests-rsa",
            keyName: "rsa-2048",
            padding: .oaepSHA256,
            publicKeyPEM: Fixtures.rsaPEM.publicKey
        )
        let message = try await EncryptionClient().encrypt([9, 9, 9], keyring: publicOnly)
        await #expect(throws: EncryptionSDKError(.noDecryptableDataKey, "")) {
            _ = try await EncryptionClient().decrypt(message.ciphertext, keyring: publicOnly)
        }
        #expect(
            try await EncryptionClient().decrypt(message.ciphertext, keyring: Fixtures.rsaKeyring(.oaepSHA256))
                .plaintext == [9, 9, 9]
        )
    }

    @Test func multiKeyringEveryMemberDecrypts() async throws {
        let rsa = Fixtures.rsaKeyring(.oaepSHA256)
        let second = try RawAESKeyring(keyNamespace: "other", keyName: "k", wrappingKey: SymmetricKey(size: .bits128))
        let multi = try MultiKeyring(generator: Fixtures.aesKeyring, children: [rsa, second])
        try await KeyringContract(
            keyring: multi,
            foreignKeyring: Fixtures.otherAESKeyring,
            bindsEncryptionContext: false,
            wrapsExistingDataKeys: false
        ).check()
        let childrenOnly = try MultiKeyring(generator: nil, children: [rsa, second])
        #expect(
            await
                (try? childrenOnly.onEncrypt(
                    EncryptionMaterials(algorithmSuite: .aes256GCMHKDFSHA512Committing, encryptionContext: [:])
                )) == nil
        )
        let plaintext = Fixtures.bytes(9000)
        let message = try await EncryptionClient().encrypt(
            plaintext,
            keyring: multi,
            encryptionContext: Fixtures.context
        )
        #expect(message.header.encryptedDataKeys.count == 3)
        for keyring in [Fixtures.aesKeyring, rsa, second] as [any Keyring] {
            #expect(try await EncryptionClient().decrypt(message.ciphertext, keyring: keyring).plaintext == plaintext)
        }
        await #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            _ = try MultiKeyring(generator: nil, children: [])
        }
    }

    @Test func reproducedContextMustAgree() async throws {
        let client = EncryptionClient()
        let message = try await client.encrypt(
            [1, 2, 3],
            keyring: Fixtures.aesKeyring,
            encryptionContext: ["a": "1", "b": "2"]
        )
        #expect(
            try await client.decrypt(message.ciphertext, keyring: Fixtures.aesKeyring, encryptionContext: ["a": "1"])
                .plaintext == [1, 2, 3]
        )
        await #expect(throws: EncryptionSDKError(.invalidEncryptionContext, "")) {
            _ = try await client.decrypt(
                message.ciphertext,
                keyring: Fixtures.aesKeyring,
                encryptionContext: ["a": "2"]
            )
        }
        // A reproduced pair that was never in the message becomes authenticate-only, and fails: the
        // AES keyring binds the context to the data key; an RSA-wrapped key is caught by the header tag.
        await #expect(throws: EncryptionSDKError(.noDecryptableDataKey, "")) {
            _ = try await client.decrypt(
                message.ciphertext,
                keyring: Fixtures.aesKeyring,
                encryptionContext: ["c": "3"]
            )
        }
        let rsa = Fixtures.rsaKeyring(.oaepSHA256)
        let rsaMessage = try await client.encrypt([1, 2, 3], keyring: rsa, encryptionContext: ["a": "1"])
        await #expect(throws: EncryptionSDKError.authenticationFailure) {
            _ = try await client.decrypt(rsaMessage.ciphertext, keyring: rsa, encryptionContext: ["c": "3"])
        }
    }

    @Test func reservedContextKeysAreRefused() async throws {
        await #expect(throws: EncryptionSDKError(.invalidEncryptionContext, "")) {
            _ = try await EncryptionClient().encrypt(
                [1],
                keyring: Fixtures.aesKeyring,
                encryptionContext: ["aws-crypto-x": "y"]
            )
        }
    }

    @Test func requiredContextIsAuthenticatedButNotStored() async throws {
        let cmm = try RequiredEncryptionContextMaterialsManager(keyring: Fixtures.aesKeyring, requiredKeys: ["tenant"])
        let client = EncryptionClient()
        let message = try await client.encrypt(
            Fixtures.bytes(100),
            materialsManager: cmm,
            encryptionContext: ["tenant": "acme", "kept": "yes"]
        )
        #expect(message.header.encryptionContext["tenant"] == nil)
        #expect(message.header.encryptionContext["kept"] == "yes")
        let opened = try await client.decrypt(
            message.ciphertext,
            materialsManager: cmm,
            encryptionContext: ["tenant": "acme"]
        )
        #expect(opened.plaintext == Fixtures.bytes(100))
        // Without the pair, or with another value: refused.
        await #expect(throws: EncryptionSDKError(.invalidEncryptionContext, "")) {
            _ = try await client.decrypt(message.ciphertext, materialsManager: cmm)
        }
        await #expect(throws: EncryptionSDKError(.noDecryptableDataKey, "")) {
            _ = try await client.decrypt(
                message.ciphertext,
                keyring: Fixtures.aesKeyring,
                encryptionContext: ["tenant": "other"]
            )
        }
        let rsaCMM = try RequiredEncryptionContextMaterialsManager(
            keyring: Fixtures.rsaKeyring(.oaepSHA1),
            requiredKeys: ["tenant"]
        )
        let rsaMessage = try await client.encrypt([7], materialsManager: rsaCMM, encryptionContext: ["tenant": "acme"])
        await #expect(throws: EncryptionSDKError.authenticationFailure) {
            _ = try await client.decrypt(
                rsaMessage.ciphertext,
                materialsManager: rsaCMM,
                encryptionContext: ["tenant": "other"]
            )
        }
        #expect(
            try await client.decrypt(
                rsaMessage.ciphertext,
                materialsManager: rsaCMM,
                encryptionContext: ["tenant": "acme"]
            ).plaintext == [7]
        )
        // The default CMM can open it when the caller supplies the pair.
        #expect(
            try await client.decrypt(
                message.ciphertext,
                keyring: Fixtures.aesKeyring,
                encryptionContext: ["tenant": "acme"]
            ).plaintext == Fixtures.bytes(100)
        )
        await #expect(throws: EncryptionSDKError(.invalidEncryptionContext, "")) {
            _ = try await client.encrypt([1], materialsManager: cmm, encryptionContext: ["other": "x"])
        }
    }

    @Test func wrongKeyIsNoDecryptableDataKey() async throws {
        let message = try await EncryptionClient().encrypt([1, 2, 3], keyring: Fixtures.aesKeyring)
        await #expect(throws: EncryptionSDKError(.noDecryptableDataKey, "")) {
            _ = try await EncryptionClient().decrypt(message.ciphertext, keyring: Fixtures.otherAESKeyring)
        }
    }

    @Test func frameLengthIsValidated() async throws {
        for bad in [0, -1, Int(UInt32.max) + 1] {
            await #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
                _ = try await EncryptionClient().encrypt([1], keyring: Fixtures.aesKeyring, frameLength: bad)
            }
        }
    }

    @Test func dataOverloads() async throws {
        let cmm = DefaultMaterialsManager(keyring: Fixtures.aesKeyring)
        let message = try await EncryptionClient().encrypt(Data([1, 2, 3]), materialsManager: cmm)
        #expect(try await EncryptionClient().decrypt(message, materialsManager: cmm) == Data([1, 2, 3]))
    }
}
