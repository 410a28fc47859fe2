import Crypto
import EncryptionSDK
import Foundation
import KMS
import SealedTesting
import SigV4
import Synchronization
import Testing

/// The AWS KMS keyring: the keyring contract against moto, strict and discovery behaviour, the ARN checks of
/// ESDK spec `aws-kms-keyring.md` (docs/esdk-format.md §5.3), and composition with raw keyrings and the caching CMM.
struct KMSKeyringTests {
    static let context: EncryptionContext = ["eventType": "payments.card.captured", "domain": "payments"]

    @Test func contractStrict() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms()
        let keyring = try KMSKeyring(generatorKeyId: moto.primaryKey, client: kms)
        let foreign = try KMSKeyring(generatorKeyId: moto.secondaryKey, client: kms)
        try await KeyringContract(keyring: keyring, foreignKeyring: foreign).check()
    }

    @Test func contractWithTwoKeys() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms()
        let keyring = try KMSKeyring(generatorKeyId: moto.primaryKey, keyIds: [moto.secondaryKey], client: kms)
        try await KeyringContract(keyring: keyring).check()
        let materials = try await keyring.onEncrypt(
            EncryptionMaterials(algorithmSuite: .aes256GCMHKDFSHA512Committing, encryptionContext: Self.context)
        )
        #expect(materials.encryptedDataKeys.map(\.providerID) == ["aws-kms", "aws-kms"])
        #expect(
            materials.encryptedDataKeys.map { String(decoding: $0.providerInfo, as: UTF8.self) } == [
                moto.primaryKey, moto.secondaryKey,
            ]
        )
        // Either key alone decrypts.
        let secondaryOnly = try KMSKeyring(generatorKeyId: nil, keyIds: [moto.secondaryKey], client: kms)
        let decrypted = try await secondaryOnly.onDecrypt(
            DecryptionMaterials(algorithmSuite: .aes256GCMHKDFSHA512Committing, encryptionContext: Self.context),
            encryptedDataKeys: materials.encryptedDataKeys
        )
        #expect(decrypted.plaintextDataKey == materials.plaintextDataKey)
    }

    @Test func aliasEncryptsButDecryptNeedsTheARN() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms()
        let byAlias = try KMSKeyring(generatorKeyId: moto.alias, client: kms)
        let message = try await EncryptionClient().encrypt(
            Array("hi".utf8),
            keyring: byAlias,
            encryptionContext: Self.context
        )
        #expect(
            message.header.encryptedDataKeys.first.map { String(decoding: $0.providerInfo, as: UTF8.self) }
                == moto.primaryKey
        )
        await #expect(throws: EncryptionSDKError.self) {
            _ = try await EncryptionClient().decrypt(message.ciphertext, keyring: byAlias)
        }
        let byARN = try KMSKeyring(generatorKeyId: moto.primaryKey, client: kms)
        #expect(try await EncryptionClient().decrypt(message.ciphertext, keyring: byARN).plaintext == Array("hi".utf8))
    }

    @Test func discovery() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms()
        let strict = try KMSKeyring(generatorKeyId: moto.primaryKey, keyIds: [moto.secondaryKey], client: kms)
        let message = try await EncryptionClient().encrypt(
            Array("discover".utf8),
            keyring: strict,
            encryptionContext: Self.context
        )

        let any = try KMSKeyring.discovery(client: kms)
        #expect(
            try await EncryptionClient().decrypt(message.ciphertext, keyring: any).plaintext == Array("discover".utf8)
        )
        let mine = try KMSKeyring.discovery(client: kms, filter: .init(partition: "aws", accounts: [moto.account]))
        #expect(
            try await EncryptionClient().decrypt(message.ciphertext, keyring: mine).plaintext == Array("discover".utf8)
        )

        for filter in [
            KMSKeyring.DiscoveryFilter(partition: "aws", accounts: ["999999999999"]),
            KMSKeyring.DiscoveryFilter(partition: "aws-cn", accounts: [moto.account]),
        ] {
            let other = try KMSKeyring.discovery(client: kms, filter: filter)
            await #expect(throws: EncryptionSDKError(.noDecryptableDataKey, "")) {
                _ = try await EncryptionClient().decrypt(message.ciphertext, keyring: other)
            }
        }
        await #expect(throws: EncryptionSDKError.self) {
            _ = try await any.onEncrypt(
                EncryptionMaterials(algorithmSuite: .aes256GCMHKDFSHA512Committing, encryptionContext: [:])
            )
        }
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            _ = try KMSKeyring.discovery(client: kms, filter: .init(partition: "aws", accounts: []))
        }
    }

    @Test func invalidProviderInfoFails() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try moto.kms()
        let keyring = try KMSKeyring(generatorKeyId: moto.primaryKey, client: kms)
        let good = try await keyring.onEncrypt(
            EncryptionMaterials(algorithmSuite: .aes256GCMHKDFSHA512Committing, encryptionContext: Self.context)
        )
        let fresh = DecryptionMaterials(algorithmSuite: .aes256GCMHKDFSHA512Committing, encryptionContext: Self.context)
        for info in ["not-an-arn", moto.aliasArn, "arn:aws:kms:us-east-1::key/x", ""] {
            let bad = EncryptedDataKey(
                providerID: "aws-kms",
                providerInfo: Array(info.utf8),
                ciphertext: good.encryptedDataKeys[0].ciphertext
            )
            await #expect(throws: EncryptionSDKError.self, "\(info)") {
                _ = try await keyring.onDecrypt(fresh, encryptedDataKeys: [bad] + good.encryptedDataKeys)
            }
            let discovery = try KMSKeyring.discovery(client: kms)
            await #expect(throws: EncryptionSDKError.self, "\(info)") {
                _ = try await discovery.onDecrypt(fresh, encryptedDataKeys: [bad] + good.encryptedDataKeys)
            }
        }
        // Other providers' keys are skipped, not failures.
        let foreign = EncryptedDataKey(providerID: "aws-kms-other", providerInfo: Array("x".utf8), ciphertext: [1])
        let decrypted = try await keyring.onDecrypt(fresh, encryptedDataKeys: [foreign] + good.encryptedDataKeys)
        #expect(decrypted.plaintextDataKey == good.plaintextDataKey)
    }

    @Test func refusalsSurfaceKMSErrors() async throws {
        guard let moto = try Moto.located() else { return }
        let denied = try KMSKeyring(generatorKeyId: moto.primaryKey, client: try moto.kms(moto.denied))
        await #expect(throws: KMSError.accessDenied) {
            _ = try await EncryptionClient().encrypt(Array("x".utf8), keyring: denied)
        }
        let allowed = try KMSKeyring(generatorKeyId: moto.primaryKey, client: try moto.kms())
        let message = try await EncryptionClient().encrypt(Array("x".utf8), keyring: allowed)
        do {
            _ = try await EncryptionClient().decrypt(message.ciphertext, keyring: denied)
            Issue.record("a denied decrypt succeeded")
        } catch let error as EncryptionSDKError {
            #expect(error.code == .noDecryptableDataKey)
            #expect(error.reason.contains("AccessDeniedException"))
        }
    }

    @Test func multiKeyringWithRawAES() async throws {
        guard let moto = try Moto.located() else { return }
        let kms = try KMSKeyring(generatorKeyId: moto.primaryKey, client: try moto.kms())
        let aes = try RawAESKeyring(
            keyNamespace: "sealed",
            keyName: "backup",
            wrappingKey: SymmetricKey(size: .bits256)
        )
        let client = EncryptionClient()
        let plaintext = Array("multi".utf8)
        for multi in [
            try MultiKeyring(generator: kms, children: [aes]), try MultiKeyring(generator: aes, children: [kms]),
        ] {
            let message = try await client.encrypt(plaintext, keyring: multi, encryptionContext: Self.context)
            #expect(Set(message.header.encryptedDataKeys.map(\.providerID)) == ["aws-kms", "sealed"])
            #expect(try await client.decrypt(message.ciphertext, keyring: kms).plaintext == plaintext)
            #expect(try await client.decrypt(message.ciphertext, keyring: aes).plaintext == plaintext)
            #expect(try await client.decrypt(message.ciphertext, keyring: multi).plaintext == plaintext)
        }
        try await KeyringContract(keyring: MultiKeyring(generator: kms, children: [aes]), wrapsExistingDataKeys: false)
            .check()
    }

    @Test func cachingMaterialsManagerCallsKMSOncePerDataKey() async throws {
        guard let moto = try Moto.located() else { return }
        let counting = CountingKeyring(try KMSKeyring(generatorKeyId: moto.primaryKey, client: try moto.kms()))
        let cmm = try CachingMaterialsManager(keyring: counting, maxAge: .seconds(60), maxMessages: 4)
        let client = EncryptionClient()
        var messages: [[UInt8]] = []
        for index in 0..<10 {
            messages.append(
                try await client.encrypt(
                    Array("m\(index)".utf8),
                    materialsManager: cmm,
                    encryptionContext: Self.context
                ).ciphertext
            )
        }
        #expect(counting.encryptCalls == 3, "10 messages at 4 per data key need 3 data keys")
        for (index, message) in messages.enumerated() {
            #expect(try await client.decrypt(message, materialsManager: cmm).plaintext == Array("m\(index)".utf8))
        }
        #expect(counting.decryptCalls == 3, "decryption materials are cached per data key")
    }

    /// Grant tokens, the full encryption context and the suite's key length reach KMS; answers that break the
    /// rules (wrong key id, wrong length) are refused. Checked against an in-process fake of KMS.
    @Test func requestsAndResponseChecks() async throws {
        let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        let dataKey = Data(repeating: 7, count: 16)
        let wrapped = Data(repeating: 9, count: 40)
        let server = try ScriptedServer { _, request in
            switch request.header("X-Amz-Target") {
            case "TrentService.GenerateDataKey":
                return .json(
                    200,
                    #"{"KeyId":"\#(arn)","Plaintext":"\#(dataKey.base64EncodedString())","CiphertextBlob":"\#(wrapped.base64EncodedString())"}"#
                )
            case "TrentService.Decrypt" where (request.json?["GrantTokens"] as? [String]) == ["wrong-id"]:
                return .json(
                    200,
                    #"{"KeyId":"arn:aws:kms:us-east-1:111122223333:key/other","Plaintext":"\#(dataKey.base64EncodedString())"}"#
                )
            case "TrentService.Decrypt" where (request.json?["GrantTokens"] as? [String]) == ["wrong-length"]:
                return .json(200, #"{"KeyId":"\#(arn)","Plaintext":"\#(Data(count: 32).base64EncodedString())"}"#)
            case "TrentService.Decrypt":
                return .json(200, #"{"KeyId":"\#(arn)","Plaintext":"\#(dataKey.base64EncodedString())"}"#)
            default:
                return .json(400, #"{"__type":"UnsupportedOperationException"}"#)
            }
        }
        defer { server.stop() }
        let kms = try KMSClient(
            region: "us-east-1",
            credentialProvider: StaticCredentialProvider(Credentials(accessKeyId: "AKID", secretAccessKey: "s")),
            endpoint: server.url,
            options: ClientOptions(maxAttempts: 1)
        )
        let keyring = try KMSKeyring(generatorKeyId: arn, client: kms, grantTokens: ["g1", "g2"])
        let suite = AlgorithmSuite.aes128GCMHKDFSHA256
        let context: EncryptionContext = ["a": "b", "aws-crypto-public-key": "pk"]
        let materials = try await keyring.onEncrypt(
            EncryptionMaterials(algorithmSuite: suite, encryptionContext: context)
        )
        #expect(
            materials.encryptedDataKeys == [
                EncryptedDataKey(providerID: "aws-kms", providerInfo: Array(arn.utf8), ciphertext: Array(wrapped))
            ]
        )
        let generate = try #require(server.requests.first?.json)
        #expect(generate["KeyId"] as? String == arn)
        #expect(generate["NumberOfBytes"] as? Int == 16)
        #expect(generate["EncryptionContext"] as? [String: String] == context)
        #expect(generate["GrantTokens"] as? [String] == ["g1", "g2"])

        let fresh = DecryptionMaterials(algorithmSuite: suite, encryptionContext: context)
        let decrypted = try await keyring.onDecrypt(fresh, encryptedDataKeys: materials.encryptedDataKeys)
        #expect(decrypted.plaintextDataKey == SymmetricKey(data: dataKey))
        let decrypt = try #require(server.requests.last?.json)
        #expect(decrypt["KeyId"] as? String == arn)
        #expect(decrypt["CiphertextBlob"] as? String == wrapped.base64EncodedString())
        #expect(decrypt["EncryptionContext"] as? [String: String] == context)

        for token in ["wrong-id", "wrong-length"] {
            let strict = try KMSKeyring(generatorKeyId: arn, client: kms, grantTokens: [token])
            await #expect(throws: EncryptionSDKError(.noDecryptableDataKey, ""), "\(token)") {
                _ = try await strict.onDecrypt(fresh, encryptedDataKeys: materials.encryptedDataKeys)
            }
        }
        // A generated key of the wrong length is refused too.
        await #expect(throws: EncryptionSDKError.self) {
            _ = try await keyring.onEncrypt(
                EncryptionMaterials(algorithmSuite: .aes256GCMHKDFSHA512Committing, encryptionContext: [:])
            )
        }
    }

    @Test func invalidConfigurations() throws {
        let kms = try KMSClient(
            region: "us-east-1",
            credentialProvider: StaticCredentialProvider(Credentials(accessKeyId: "AKID", secretAccessKey: "s"))
        )
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            _ = try KMSKeyring(generatorKeyId: nil, client: kms)
        }
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            _ = try KMSKeyring(generatorKeyId: "", client: kms)
        }
    }
}
