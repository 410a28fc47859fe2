import Crypto
import EncryptionSDK
import Foundation
import SealedTesting
import Testing

/// Both directions against the official Python AWS Encryption SDK 4.0.7 (keyring API with the
/// Material Providers Library, and the legacy master-key API), run by `scripts/peers/esdk_peer.py`.
@Suite(.serialized)
struct InteropTests {
    static let aes256 = (0..<32).map { UInt8($0 * 7 & 0xff) }
    static let aes128 = (0..<16).map { UInt8(200 - $0) }
    static let context: EncryptionContext = ["tenant": "acme", "régión": "eu-west-1 🇪🇺", "日本語キー": "値"]

    static let swiftAES = try! RawAESKeyring(
        keyNamespace: "interop",
        keyName: "aes-256",
        wrappingKey: SymmetricKey(data: aes256)
    )
    static let swiftChild = try! RawAESKeyring(
        keyNamespace: "interop-child",
        keyName: "aes-128",
        wrappingKey: SymmetricKey(data: aes128)
    )
    static let swiftMulti = try! MultiKeyring(generator: swiftAES, children: [swiftChild])
    static let pythonAES = PythonESDK.Keyring.rawAES(namespace: "interop", name: "aes-256", key: aes256)
    static let pythonChild = PythonESDK.Keyring.rawAES(namespace: "interop-child", name: "aes-128", key: aes128)
    static let pythonMulti = PythonESDK.Keyring.multi(generator: pythonAES, children: [pythonChild])

    struct Shape: CustomStringConvertible {
        let suite: AlgorithmSuite
        let frameLength: Int
        let size: Int
        let multi: Bool
        var id: String { "\(suite)-f\(frameLength)-s\(size)-\(multi ? "multi" : "aes")" }
        var description: String { id }
    }

    /// Suites 0x0478 and 0x0578; frames 128, 4096, 65536; plaintexts of 0, 1, frame−1, frame,
    /// frame+1 bytes and 1 MiB; a raw AES keyring and a multi-keyring.
    static let shapes: [Shape] = {
        var shapes: [Shape] = []
        for suite in [AlgorithmSuite.aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384] {
            for frame in [128, 4096, 65536] {
                for size in [0, 1, frame - 1, frame, frame + 1, 1 << 20] {
                    for multi in [false, true] {
                        shapes.append(Shape(suite: suite, frameLength: frame, size: size, multi: multi))
                    }
                }
            }
        }
        return shapes
    }()

    @Test func swiftEncryptsPythonDecrypts() async throws {
        guard let python = try PythonESDK.located() else { return }
        var cases: [PythonESDK.Case] = []
        var plaintexts: [String: [UInt8]] = [:]
        for (index, shape) in Self.shapes.enumerated() {
            let plaintext = Fixtures.bytes(shape.size, seed: UInt64(index + 1))
            let message = try await EncryptionClient().encrypt(
                plaintext,
                keyring: shape.multi ? Self.swiftMulti : Self.swiftAES,
                encryptionContext: Self.context,
                algorithmSuite: shape.suite,
                frameLength: shape.frameLength
            )
            plaintexts[shape.id] = plaintext
            // Every message through the keyring API; every other one also through the legacy API; the
            // multi-keyring messages are opened with the child key alone, proving the child's copy.
            cases.append(
                .init(
                    id: shape.id,
                    operation: .decrypt,
                    keyring: shape.multi ? Self.pythonChild : Self.pythonAES,
                    input: message.ciphertext
                )
            )
            if index % 2 == 0 {
                cases.append(
                    .init(
                        id: shape.id + "-legacy",
                        operation: .decrypt,
                        api: .masterKey,
                        keyring: Self.pythonAES,
                        input: message.ciphertext
                    )
                )
            }
        }
        let results = try await python.run(cases)
        #expect(results.count == cases.count)
        for item in cases {
            let result = try #require(results[item.id], "no result for \(item.id)")
            let shapeID = item.id.replacingOccurrences(of: "-legacy", with: "")
            #expect(result.error == nil, "\(item.id): \(result.error ?? "")")
            let same = result.output == plaintexts[shapeID]
            #expect(same, "\(item.id): plaintext differs")
            #expect(result.encryptionContext.filter { $0.key != publicKeyContextKey } == Self.context, "\(item.id)")
        }
    }

    @Test func pythonEncryptsSwiftDecrypts() async throws {
        guard let python = try PythonESDK.located() else { return }
        var cases: [PythonESDK.Case] = []
        for (index, shape) in Self.shapes.enumerated() {
            cases.append(
                .init(
                    id: shape.id,
                    operation: .encrypt,
                    api: index % 3 == 0 ? .masterKey : .keyring,
                    keyring: shape.multi ? Self.pythonMulti : Self.pythonAES,
                    suite: shape.suite.description,
                    frameLength: shape.frameLength,
                    encryptionContext: Self.context,
                    input: Fixtures.bytes(shape.size, seed: UInt64(index + 1))
                )
            )
        }
        let results = try await python.run(cases)
        for (item, shape) in zip(cases, Self.shapes) {
            let result = try #require(results[item.id])
            let message = try #require(result.output, "\(item.id): \(result.error ?? "python failed")")
            let opened = try await EncryptionClient().decrypt(
                message,
                keyring: shape.multi ? Self.swiftChild : Self.swiftAES,
                encryptionContext: Self.context
            )
            let same = opened.plaintext == item.input
            #expect(same, "\(item.id): plaintext differs")
            #expect(opened.header.algorithmSuite == shape.suite)
            #expect(opened.header.frameLength == UInt32(shape.frameLength))
            // The streaming decryptor agrees.
            let streamed = try await collect(
                EncryptionClient().decryptStream(
                    Chunks(message, sizes: [1000, 7]),
                    materialsManager: DefaultMaterialsManager(keyring: Self.swiftAES)
                )
            )
            let streamedSame = streamed == item.input
            #expect(streamedSame, "\(item.id): streamed plaintext differs")
        }
    }

    /// Python writes every legacy suite (policy forbid-encrypt); we decrypt them under
    /// require-encrypt / allow-decrypt, and refuse them under the default policy.
    @Test func pythonLegacySuitesDecrypt() async throws {
        guard let python = try PythonESDK.located() else { return }
        let legacy = AlgorithmSuite.all.filter { !$0.isCommitting }
        let cases = legacy.map { suite in
            PythonESDK.Case(
                id: suite.description,
                operation: .encrypt,
                keyring: Self.pythonAES,
                suite: suite.description,
                frameLength: 512,
                encryptionContext: Self.context,
                commitmentPolicy: "forbid-allow",
                input: Fixtures.bytes(3000)
            )
        }
        let results = try await python.run(cases)
        for suite in legacy {
            let message = try #require(
                results[suite.description]?.output,
                "\(suite): \(results[suite.description]?.error ?? "")"
            )
            let opened = try await EncryptionClient(commitmentPolicy: .requireEncryptAllowDecrypt).decrypt(
                message,
                keyring: Self.swiftAES
            )
            #expect(opened.plaintext == Fixtures.bytes(3000))
            #expect(opened.header.algorithmSuite == suite)
            await #expect(throws: EncryptionSDKError(.commitmentPolicyViolation, "")) {
                _ = try await EncryptionClient().decrypt(message, keyring: Self.swiftAES)
            }
        }
    }

    /// RSA both ways: Python wraps with every padding (SHA-384/512 OAEP too), we unwrap; we wrap
    /// with the paddings swift-crypto can encrypt, Python unwraps.
    @Test func rsaKeyringsInteroperate() async throws {
        guard let python = try PythonESDK.located() else { return }
        let pem = Fixtures.rsaPEM
        var cases: [PythonESDK.Case] = []
        for padding in RawRSAKeyring.Padding.allCases {
            let keyring = PythonESDK.Keyring.rawRSA(
                namespace: "interop-rsa",
                name: "rsa-2048",
                padding: padding.rawValue,
                publicPEM: pem.publicKey,
                privatePEM: pem.privateKey
            )
            cases.append(
                .init(id: "py-\(padding.rawValue)", operation: .encrypt, keyring: keyring, input: Fixtures.bytes(777))
            )
            if [.pkcs1, .oaepSHA1, .oaepSHA256].contains(padding) {
                let swiftKeyring = try RawRSAKeyring(
                    keyNamespace: "interop-rsa",
                    keyName: "rsa-2048",
                    padding: padding,
                    publicKeyPEM: pem.publicKey
                )
                let message = try await EncryptionClient().encrypt(Fixtures.bytes(555), keyring: swiftKeyring)
                cases.append(
                    .init(
                        id: "swift-\(padding.rawValue)",
                        operation: .decrypt,
                        keyring: keyring,
                        input: message.ciphertext
                    )
                )
            }
        }
        let results = try await python.run(cases)
        for padding in RawRSAKeyring.Padding.allCases {
            let swiftKeyring = try RawRSAKeyring(
                keyNamespace: "interop-rsa",
                keyName: "rsa-2048",
                padding: padding,
                privateKeyPEM: pem.privateKey
            )
            let message = try #require(
                results["py-\(padding.rawValue)"]?.output,
                "\(padding): \(results["py-\(padding.rawValue)"]?.error ?? "")"
            )
            #expect(
                try await EncryptionClient().decrypt(message, keyring: swiftKeyring).plaintext == Fixtures.bytes(777),
                "\(padding)"
            )
            if [.pkcs1, .oaepSHA1, .oaepSHA256].contains(padding) {
                let result = try #require(results["swift-\(padding.rawValue)"], "no Python result for \(padding)")
                let same = result.output == Fixtures.bytes(555)
                #expect(same, "\(padding): \(result.error ?? "plaintext differs")")
            }
        }
    }

    /// Tampering is caught by Python too: a one-byte change in our message fails there.
    @Test func pythonRejectsOurTamperedMessages() async throws {
        guard let python = try PythonESDK.located() else { return }
        let message = try await EncryptionClient().encrypt(
            Fixtures.bytes(2000),
            keyring: Self.swiftAES,
            encryptionContext: Self.context
        )
        let positions = [
            5, message.header.serialized.count - 3, message.ciphertext.count / 2, message.ciphertext.count - 10,
        ]
        let cases = positions.map { position in
            var bytes = message.ciphertext
            bytes[position] ^= 0x40
            return PythonESDK.Case(id: "flip-\(position)", operation: .decrypt, keyring: Self.pythonAES, input: bytes)
        }
        let results = try await python.run(cases)
        for item in cases {
            let result = try #require(results[item.id])
            #expect(result.output == nil, "\(item.id) decrypted in Python")
        }
    }
}
