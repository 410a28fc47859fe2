import Crypto
import EncryptionSDK
import Foundation
import KMS
import SealedTesting
import Testing

/// Interop with the official Python ESDK's AWS KMS keyring (MPL keyring API and legacy `KMSMasterKey`) against
/// the same moto server, both directions, plus a multi-keyring of a KMS key and a raw AES key.
struct KMSInteropTests {
    static let context: EncryptionContext = ["eventType": "payments.card.captured", "ünïcødé": "✓"]

    @Test func swiftEncryptsPythonDecrypts() async throws {
        guard let moto = try Moto.located(), let peer = try PythonESDK.located() else { return }
        let keyring = try KMSKeyring(generatorKeyId: moto.primaryKey, client: try moto.kms())
        let client = EncryptionClient()
        var cases: [PythonESDK.Case] = []
        var plaintexts: [String: [UInt8]] = [:]
        for suite in [AlgorithmSuite.aes256GCMHKDFSHA512CommittingECDSAP384, .aes256GCMHKDFSHA512Committing] {
            let plaintext = Array("swift → python \(suite)".utf8) + Array(repeating: 0x41, count: 5000)
            let message = try await client.encrypt(
                plaintext,
                keyring: keyring,
                encryptionContext: Self.context,
                algorithmSuite: suite
            )
            for api in [PythonESDK.Case.API.keyring, .masterKey] {
                let id = "\(suite)-\(api.rawValue)"
                plaintexts[id] = plaintext
                cases.append(
                    PythonESDK.Case(
                        id: id,
                        operation: .decrypt,
                        api: api,
                        keyring: moto.pythonKeyring(keyID: moto.primaryKey),
                        encryptionContext: Self.context,
                        input: message.ciphertext
                    )
                )
            }
        }
        let results = try await peer.run(cases)
        for (id, plaintext) in plaintexts {
            let result = try #require(results[id])
            #expect(result.error == nil, "\(id): \(result.error ?? "")")
            #expect(result.output == plaintext, "\(id)")
        }
    }

    @Test func pythonEncryptsSwiftDecrypts() async throws {
        guard let moto = try Moto.located(), let peer = try PythonESDK.located() else { return }
        let plaintext = Array("python → swift".utf8)
        let results = try await peer.run(
            [PythonESDK.Case.API.keyring, .masterKey].map { api in
                PythonESDK.Case(
                    id: api.rawValue,
                    operation: .encrypt,
                    api: api,
                    keyring: moto.pythonKeyring(keyID: moto.primaryKey),
                    encryptionContext: Self.context,
                    input: plaintext
                )
            }
        )
        let kms = try moto.kms()
        let strict = try KMSKeyring(generatorKeyId: moto.primaryKey, client: kms)
        let discovery = try KMSKeyring.discovery(client: kms, filter: .init(partition: "aws", accounts: [moto.account]))
        for api in ["keyring", "master-key"] {
            let result = try #require(results[api])
            let message = try #require(result.output, "\(api): \(result.error ?? "")")
            let header = try MessageHeader(parsing: message)
            #expect(header.encryptedDataKeys.map(\.providerID) == ["aws-kms"])
            #expect(
                header.encryptedDataKeys.map { String(decoding: $0.providerInfo, as: UTF8.self) } == [moto.primaryKey]
            )
            for keyring in [strict, discovery] {
                let opened = try await EncryptionClient().decrypt(
                    message,
                    keyring: keyring,
                    encryptionContext: Self.context
                )
                #expect(opened.plaintext == plaintext, "\(api) via \(keyring)")
            }
        }
    }

    @Test func multiKeyringBothDirections() async throws {
        guard let moto = try Moto.located(), let peer = try PythonESDK.located() else { return }
        let aesKey = (0..<32).map { UInt8($0) }
        let kms = try KMSKeyring(generatorKeyId: moto.primaryKey, client: try moto.kms())
        let aes = try RawAESKeyring(
            keyNamespace: "sealed-interop",
            keyName: "aes-1",
            wrappingKey: SymmetricKey(data: aesKey)
        )
        let multi = try MultiKeyring(generator: kms, children: [aes])
        let pythonKMS = moto.pythonKeyring(keyID: moto.primaryKey)
        let pythonAES = PythonESDK.Keyring.rawAES(namespace: "sealed-interop", name: "aes-1", key: aesKey)
        let pythonMulti = PythonESDK.Keyring.multi(generator: pythonKMS, children: [pythonAES])

        // Swift encrypts with KMS + AES; Python opens it with either one alone.
        let plaintext = Array("multi interop".utf8)
        let message = try await EncryptionClient().encrypt(plaintext, keyring: multi, encryptionContext: Self.context)
        var cases = [
            PythonESDK.Case(id: "py-kms", operation: .decrypt, keyring: pythonKMS, input: message.ciphertext),
            PythonESDK.Case(id: "py-aes", operation: .decrypt, keyring: pythonAES, input: message.ciphertext),
            PythonESDK.Case(
                id: "py-aes-legacy",
                operation: .decrypt,
                api: .masterKey,
                keyring: pythonAES,
                input: message.ciphertext
            ),
        ]
        // Python encrypts with KMS + AES (both APIs); Swift opens it with either one alone.
        cases.append(
            PythonESDK.Case(
                id: "enc",
                operation: .encrypt,
                keyring: pythonMulti,
                encryptionContext: Self.context,
                input: plaintext
            )
        )
        cases.append(
            PythonESDK.Case(
                id: "enc-legacy",
                operation: .encrypt,
                api: .masterKey,
                keyring: pythonMulti,
                encryptionContext: Self.context,
                input: plaintext
            )
        )
        let results = try await peer.run(cases)
        for id in ["py-kms", "py-aes", "py-aes-legacy"] {
            #expect(results[id]?.output == plaintext, "\(id): \(results[id]?.error ?? "")")
        }
        for id in ["enc", "enc-legacy"] {
            let encrypted = try #require(results[id]?.output, "\(id): \(results[id]?.error ?? "")")
            #expect(
                Set(try MessageHeader(parsing: encrypted).encryptedDataKeys.map(\.providerID)) == [
                    "aws-kms", "sealed-interop",
                ]
            )
            for keyring in [kms, aes] as [any Keyring] {
                #expect(
                    try await EncryptionClient().decrypt(encrypted, keyring: keyring).plaintext == plaintext,
                    "\(id) via \(keyring)"
                )
            }
        }
    }
}
