import Crypto
import Foundation
import SealedTesting
import Testing

@testable import EncryptionSDK

struct FormatTests {
    @Test func suitesParseFromText() {
        #expect(AlgorithmSuite("0x0578") == .aes256GCMHKDFSHA512CommittingECDSAP384)
        #expect(AlgorithmSuite("0478") == .aes256GCMHKDFSHA512Committing)
        #expect(AlgorithmSuite("0x0000") == nil)
        #expect(AlgorithmSuite("0x6700") == nil)
        #expect(AlgorithmSuite.aes128GCMNoKDF.description == "0x0014")
        #expect(AlgorithmSuite.all.count == 11)
    }

    @Test func contextSerializationSortsByUTF8Bytes() throws {
        // "Z" (0x5A) < "a" (0x61) < "é" (0xC3 0xA9) bytewise.
        let bytes = try ContextCoding.serialize(["é": "3", "a": "2", "Z": "1"])
        #expect(bytes == [0, 3, 0, 1, 0x5A, 0, 1, 0x31, 0, 1, 0x61, 0, 1, 0x32, 0, 2, 0xC3, 0xA9, 0, 1, 0x33])
        #expect(try ContextCoding.serialize([:]) == [])
        let parsed = try bytes.withUnsafeBytes { try ContextCoding.parse($0) }
        #expect(parsed == ["é": "3", "a": "2", "Z": "1"])
    }

    @Test func contextParsingRejectsDuplicatesInvalidUTF8AndTrailingBytes() {
        let cases: [[UInt8]] = [
            [0, 2, 0, 1, 0x61, 0, 0, 0, 1, 0x61, 0, 0],  // duplicate key
            [0, 1, 0, 1, 0xFF, 0, 0],  // invalid UTF-8
            [0, 1, 0, 1, 0x61, 0, 0, 0],  // trailing byte
            [0, 1, 0, 5, 0x61],  // truncated
            [0, 0],  // zero pairs in a non-empty field
        ]
        for bytes in cases {
            #expect(throws: EncryptionSDKError.self) { try bytes.withUnsafeBytes { try ContextCoding.parse($0) } }
        }
    }

    @Test func contextOver64KiBIsRefused() async throws {
        let big = String(repeating: "x", count: 70_000)
        await #expect(throws: EncryptionSDKError(.invalidEncryptionContext, "")) {
            _ = try await EncryptionClient().encrypt([1], keyring: Fixtures.aesKeyring, encryptionContext: ["k": big])
        }
    }

    @Test func headerRoundTripsThroughTheParser() async throws {
        let message = try await EncryptionClient().encrypt(
            Fixtures.bytes(10),
            keyring: Fixtures.aesKeyring,
            encryptionContext: Fixtures.context
        )
        let parsed = try message.ciphertext.withUnsafeBytes { try MessageHeader.parse($0, maxEncryptedDataKeys: nil) }
        let (header, length) = try #require(parsed)
        #expect(header.serialized == Array(message.ciphertext[..<length]))
        #expect(header.messageID == message.header.messageID)
        #expect(header.encryptedDataKeys == message.header.encryptedDataKeys)
        // Every proper prefix of the header asks for more input instead of failing.
        for cut in stride(from: 0, to: length, by: 7) {
            let prefix = Array(message.ciphertext[..<cut])
            #expect(try prefix.withUnsafeBytes { try MessageHeader.parse($0, maxEncryptedDataKeys: nil) } == nil)
        }
    }

    @Test func framesCarryTheSequenceIVsAndTheLayoutOfTheSpec() async throws {
        // Frame IVs are 00×8 ‖ u32 sequence; regular frames are sequence ‖ IV ‖ ciphertext ‖ tag, the final frame
        // marker ‖ sequence ‖ IV ‖ length ‖ ciphertext ‖ tag (data-format/message-body.md), for both suites.
        for suite in [AlgorithmSuite.aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384] {
            let plaintext = Fixtures.bytes(40)
            let message = try await EncryptionClient().encrypt(
                plaintext,
                keyring: Fixtures.aesKeyring,
                encryptionContext: Fixtures.context,
                algorithmSuite: suite,
                frameLength: 16
            )
            let bytes = message.ciphertext
            var offset = message.header.length
            #expect(message.header.authenticationIV == [UInt8](repeating: 0, count: 12))
            func u32(_ at: Int) -> UInt32 { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
            for sequence in UInt32(1)...3 {
                let final = sequence == 3
                if final {
                    #expect(u32(offset) == 0xFFFF_FFFF)
                    offset += 4
                }
                #expect(u32(offset) == sequence)
                #expect(
                    Array(bytes[(offset + 4)..<(offset + 16)]) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, UInt8(sequence)]
                )
                offset += 16
                if final {
                    #expect(u32(offset) == 8)
                    offset += 4
                }
                offset += (final ? 8 : 16) + 16
            }
            #expect(offset == bytes.count - (suite.signature == nil ? 0 : 2 + Int(u32(offset - 2) & 0xFFFF)))
            let opened = try await EncryptionClient().decrypt(bytes, keyring: Fixtures.aesKeyring)
            #expect(opened.plaintext == plaintext)
        }
    }

    @Test func encryptedDataKeyLimitIsEnforcedBeforeAnyUnwrap() async throws {
        let keyrings = try (0..<3).map {
            try RawAESKeyring(keyNamespace: "ns", keyName: "k\($0)", wrappingKey: SymmetricKey(size: .bits256))
        }
        let multi = try MultiKeyring(generator: keyrings[0], children: Array(keyrings[1...]))
        let message = try await EncryptionClient().encrypt([1, 2, 3], keyring: multi)
        let counting = CountingKeyring(keyrings[0])
        await #expect(throws: EncryptionSDKError(.tooManyEncryptedDataKeys, "")) {
            _ = try await EncryptionClient(maxEncryptedDataKeys: 2).decrypt(message.ciphertext, keyring: counting)
        }
        #expect(counting.decryptCalls == 0)
        #expect(
            try await EncryptionClient(maxEncryptedDataKeys: 3).decrypt(message.ciphertext, keyring: counting).plaintext
                == [1, 2, 3]
        )
        // And on encrypt.
        await #expect(throws: EncryptionSDKError(.tooManyEncryptedDataKeys, "")) {
            _ = try await EncryptionClient(maxEncryptedDataKeys: 2).encrypt([1], keyring: multi)
        }
    }

    /// A header declaring 65 535 encrypted data keys but holding none fails as soon as it runs out,
    /// and the limit trips before a single entry is read.
    @Test func hugeDeclaredCountsAndLengthsFailFast() async throws {
        var header: [UInt8] = [2, 0x04, 0x78] + [UInt8](repeating: 7, count: 32)
        header += [0, 0]  // empty context
        header += [0xFF, 0xFF]  // 65 535 EDKs
        header += [0xFF, 0xFF] + [UInt8](repeating: 0x61, count: 10)  // a provider ID claiming 65 535 bytes
        await #expect(throws: EncryptionSDKError(.tooManyEncryptedDataKeys, "")) {
            _ = try await EncryptionClient(maxEncryptedDataKeys: 10).decrypt(header, keyring: Fixtures.aesKeyring)
        }
        await #expect(throws: EncryptionSDKError(.malformedMessage, "")) {
            _ = try await EncryptionClient().decrypt(header, keyring: Fixtures.aesKeyring)
        }
        // A context length far beyond the message.
        let context: [UInt8] = [2, 0x04, 0x78] + [UInt8](repeating: 7, count: 32) + [0xFF, 0xFF, 0, 1]
        await #expect(throws: EncryptionSDKError(.malformedMessage, "")) {
            _ = try await EncryptionClient().decrypt(context, keyring: Fixtures.aesKeyring)
        }
    }

    @Test func malformedHeadersAreTyped() async throws {
        let message = try await EncryptionClient().encrypt(
            [1],
            keyring: Fixtures.aesKeyring,
            algorithmSuite: .aes256GCMHKDFSHA512Committing
        )
        let c = message.ciphertext
        let edits: [(String, [UInt8])] = [
            ("version 3", [3] + c.dropFirst()),
            ("v1 version with a v2 suite", [1, 0x80] + c.dropFirst()),
            ("unknown suite", [2, 0x12, 0x34] + c.dropFirst(3)),
            ("empty", []),
        ]
        for (name, bytes) in edits {
            await #expect(throws: EncryptionSDKError(.malformedMessage, ""), "\(name)") {
                _ = try await EncryptionClient().decrypt(bytes, keyring: Fixtures.aesKeyring)
            }
        }
    }

    @Test(arguments: [
        (AlgorithmSuite.aes256GCMHKDFSHA512CommittingECDSAP384, CommitmentPolicy.requireEncryptRequireDecrypt, 103),
        (.aes256GCMHKDFSHA384ECDSAP384, .forbidEncryptAllowDecrypt, 103),
        (.aes128GCMHKDFSHA256ECDSAP256, .forbidEncryptAllowDecrypt, 71),
    ])
    func signaturesHaveTheOfficialFixedLength(suite: AlgorithmSuite, policy: CommitmentPolicy, length: Int) async throws
    {
        let client = EncryptionClient(commitmentPolicy: policy)
        for i in 0..<40 {
            let message = try await client.encrypt(
                Fixtures.bytes(i),
                keyring: Fixtures.aesKeyring,
                algorithmSuite: suite
            )
            let c = message.ciphertext
            #expect(Int(c[c.count - length - 2]) << 8 | Int(c[c.count - length - 1]) == length)
            let der = Array(c.suffix(length))
            #expect(DERSignature.parse(der) != nil)
        }
    }

    @Test func derNormalisationFlipsS() throws {
        let order = BigEndian.p384Order
        let s = [UInt8](repeating: 0, count: 47) + [5]
        let flipped = BigEndian.subtract(order, s)
        #expect(BigEndian.subtract(order, flipped).drop { $0 == 0 }.elementsEqual([5]))
        let der = DERSignature.encode(
            r: [0x80] + [UInt8](repeating: 1, count: 47),
            s: [0x7F] + [UInt8](repeating: 2, count: 47)
        )
        #expect(der.count == 103)
        let parsed = try #require(DERSignature.parse(der))
        #expect(parsed.r.count == 48 && parsed.s.count == 48)
        #expect(DERSignature.parse(der + [0]) == nil)
        #expect(DERSignature.parse(Array(der.dropLast())) == nil)
    }

    @Test func knownAnswerKeyDerivation() throws {
        // Entry 1 of the ESDK commitment known-answer tests (esdk-format.md § 4.4).
        let dataKey = SymmetricKey(
            data: BigEndian.hexBytes("fa9ebec213d5c3d90ead82d914c4412769fa5658ba4ffed39230e8b92fb6e6cd")
        )
        let messageID = BigEndian.hexBytes("4dfbd1314d9d55925b817232c5e36d6e3e5e230f018930e2c2c1f243f67dc179")
        let keys = KeyDerivation.derive(dataKey: dataKey, suite: .aes256GCMHKDFSHA512Committing, messageID: messageID)
        #expect(
            keys.encryptionKey.withUnsafeBytes { Array($0) }
                == BigEndian.hexBytes("57aef7d35c8c26d9348f139cdd025e05a73ab8ac4edd7ca55ad90a4d899453e3")
        )
        #expect(
            keys.commitment == BigEndian.hexBytes("17cf08f733db51049f3a5ccb5effae218dbe9bf13a8f63ccb1b81e1d51ff2f4c")
        )
    }

    @Test func committingKeyDerivationAgreesWithSwiftCrypto() {
        // The hand-written HKDF (HMACSHA512's copying and state-consuming codes) against swift-crypto's generic
        // HKDF<SHA512> and HMAC<SHA512>, on seeded random keys, message IDs and messages.
        var generator = SeededGenerator(seed: 5)
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        for suite in [AlgorithmSuite.aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384] {
            for _ in 0..<200 {
                let dataKey = SymmetricKey(data: bytes(32))
                let messageID = bytes(32)
                let keys = KeyDerivation.derive(dataKey: dataKey, suite: suite, messageID: messageID)
                let prk = HKDF<SHA512>.extract(inputKeyMaterial: dataKey, salt: messageID)
                let key = HKDF<SHA512>.expand(
                    pseudoRandomKey: prk,
                    info: [UInt8(suite.id >> 8), UInt8(suite.id & 0xFF)] + Array("DERIVEKEY".utf8),
                    outputByteCount: 32
                )
                let commitment = HKDF<SHA512>.expand(
                    pseudoRandomKey: prk,
                    info: Array("COMMITKEY".utf8),
                    outputByteCount: 32
                )
                #expect(keys.encryptionKey == key)
                #expect(keys.commitment == commitment.withUnsafeBytes { Array($0) })
            }
        }
        for _ in 0..<500 {
            let key = bytes(Int.random(in: 0...128, using: &generator))
            let first = bytes(Int.random(in: 0...300, using: &generator))
            let second = bytes(Int.random(in: 0...300, using: &generator))
            let length = Int.random(in: 0...64, using: &generator)
            let expected = [first, second].map {
                Array(HMAC<SHA512>.authenticationCode(for: $0, using: SymmetricKey(data: key)).prefix(length))
            }
            var actual = [[UInt8](repeating: 0, count: length), [UInt8](repeating: 0, count: length)]
            key.withUnsafeBytes { key in
                let hmac = HMACSHA512(key: key)
                actual[0].withUnsafeMutableBytes { out in first.withUnsafeBytes { hmac.code(for: $0, into: out) } }
                actual[1].withUnsafeMutableBytes { out in second.withUnsafeBytes { hmac.finalCode(for: $0, into: out) }
                }
            }
            #expect(actual == expected)
        }
        // KeyedHMAC<SHA256>, the hierarchical keyring's derivation, against HMAC<SHA256>.
        for _ in 0..<300 {
            let key = bytes(Int.random(in: 0...64, using: &generator))
            let message = bytes(Int.random(in: 0...200, using: &generator))
            let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
            var actual = [UInt8](repeating: 0, count: 32)
            key.withUnsafeBytes { key in
                let hmac = KeyedHMAC<SHA256>(key: key)
                actual.withUnsafeMutableBytes { out in message.withUnsafeBytes { hmac.code(for: $0, into: out) } }
            }
            #expect(actual == expected)
        }
    }

    @Test func errorsCompareByCodeAndHideDetail() {
        #expect(EncryptionSDKError(.authenticationFailure, "x") == EncryptionSDKError.authenticationFailure)
        #expect(EncryptionSDKError(.malformedMessage, "x") != EncryptionSDKError.authenticationFailure)
        #expect(EncryptionSDKError.authenticationFailure.reason == "the message could not be authenticated")
    }

    @Test func signingKeysPrintNoBytes() {
        let key = SigningKey(for: .ecdsaP384SHA384)
        #expect(String(describing: key) == "SigningKey(ecdsaP384SHA384)")
        #expect(!String(describing: Fixtures.aesKeyring).contains("AAEC"))
    }
}
