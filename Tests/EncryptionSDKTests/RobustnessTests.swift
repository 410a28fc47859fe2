import Crypto
import EncryptionSDK
import Foundation
import PropertyBased
import SealedTesting
import Testing

/// Mutated, truncated and extended messages: each is rejected with a typed error, none crashes, none
/// releases plaintext. The generators are seeded; a failure prints the seed to replay it with
/// `.fixedSeed(...)`. `SEALED_FUZZ_SCALE` multiplies the iteration counts.
struct RobustnessTests {
    struct Corpus: Sendable {
        let messages: [[UInt8]]

        static func make() async throws -> Corpus {
            let client = EncryptionClient()
            let legacy = EncryptionClient(commitmentPolicy: .forbidEncryptAllowDecrypt)
            var messages: [[UInt8]] = []
            messages.append(
                try await client.encrypt(
                    Fixtures.bytes(700),
                    keyring: Fixtures.aesKeyring,
                    encryptionContext: Fixtures.context,
                    algorithmSuite: .aes256GCMHKDFSHA512Committing,
                    frameLength: 128
                ).ciphertext
            )
            messages.append(
                try await client.encrypt(
                    [],
                    keyring: Fixtures.aesKeyring,
                    algorithmSuite: .aes256GCMHKDFSHA512Committing
                ).ciphertext
            )
            messages.append(
                try await client.encrypt(
                    Fixtures.bytes(300),
                    keyring: Fixtures.aesKeyring,
                    encryptionContext: ["k": "v"],
                    frameLength: 100
                ).ciphertext
            )
            messages.append(
                try await legacy.encrypt(
                    Fixtures.bytes(200),
                    keyring: Fixtures.aesKeyring,
                    algorithmSuite: .aes256GCMHKDFSHA256,
                    frameLength: 64
                ).ciphertext
            )
            messages.append(
                try await legacy.encrypt(
                    Fixtures.bytes(200),
                    keyring: Fixtures.aesKeyring,
                    algorithmSuite: .aes128GCMNoKDF,
                    frameLength: 64
                ).ciphertext
            )
            return Corpus(messages: messages)
        }
    }

    static let scale = Int(ProcessInfo.processInfo.environment["SEALED_FUZZ_SCALE"] ?? "") ?? 1
    static let client = EncryptionClient(commitmentPolicy: .requireEncryptAllowDecrypt)

    /// Decrypts `bytes` one-shot and streamed; both must fail with an ``EncryptionSDKError`` and the
    /// stream must release nothing for signed messages.
    static func expectRejected(_ bytes: [UInt8], chunk: Int) async {
        do {
            let opened = try await client.decrypt(bytes, keyring: Fixtures.aesKeyring)
            Issue.record("a modified message decrypted to \(opened.plaintext.count) bytes")
        } catch is EncryptionSDKError {
        } catch {
            Issue.record("untyped error \(type(of: error)): \(error)")
        }
        do {
            let stream = client.decryptStream(
                Chunks(bytes, sizes: [chunk]),
                materialsManager: DefaultMaterialsManager(keyring: Fixtures.aesKeyring)
            )
            _ = try await collect(stream)
            Issue.record("a modified message decrypted through the stream")
        } catch is EncryptionSDKError {
        } catch {
            Issue.record("untyped stream error \(type(of: error)): \(error)")
        }
    }

    @Test func corpusDecrypts() async throws {
        for message in try await Corpus.make().messages {
            _ = try await Self.client.decrypt(message, keyring: Fixtures.aesKeyring)
        }
    }

    @Test func flippedBytesAreRejected() async throws {
        let corpus = try await Corpus.make()
        await propertyCheck(
            count: 1500 * Self.scale,
            input: Gen.int(in: 0..<corpus.messages.count),
            Gen.int(in: 0...Int(Int32.max)),
            Gen.int(in: 1...255),
            Gen.int(in: 1...512)
        ) { which, position, mask, chunk in
            var bytes = corpus.messages[which]
            bytes[position % bytes.count] ^= UInt8(mask)
            await Self.expectRejected(bytes, chunk: chunk)
        }
    }

    @Test func truncatedMessagesAreRejected() async throws {
        let corpus = try await Corpus.make()
        await propertyCheck(
            count: 1000 * Self.scale,
            input: Gen.int(in: 0..<corpus.messages.count),
            Gen.int(in: 0...Int(Int32.max)),
            Gen.int(in: 1...512)
        ) { which, cut, chunk in
            let message = corpus.messages[which]
            await Self.expectRejected(Array(message.prefix(cut % message.count)), chunk: chunk)
        }
    }

    @Test func extendedAndSplicedMessagesAreRejected() async throws {
        let corpus = try await Corpus.make()
        await propertyCheck(
            count: 1000 * Self.scale,
            input: Gen.int(in: 0..<corpus.messages.count),
            Gen.int(in: 0...Int(Int32.max)),
            Gen.int(in: 0...255).array(of: 1...40),
            Gen.bool
        ) { which, position, extra, insert in
            let message = corpus.messages[which]
            let bytes: [UInt8]
            if insert {
                let at = position % message.count
                bytes = Array(message[..<at]) + extra.map(UInt8.init) + Array(message[at...])
            } else {
                bytes = message + extra.map(UInt8.init)
            }
            await Self.expectRejected(bytes, chunk: 1 + position % 300)
        }
    }

    @Test func removedBytesAreRejected() async throws {
        let corpus = try await Corpus.make()
        await propertyCheck(
            count: 1000 * Self.scale,
            input: Gen.int(in: 0..<corpus.messages.count),
            Gen.int(in: 0...Int(Int32.max)),
            Gen.int(in: 1...40)
        ) { which, position, length in
            var bytes = corpus.messages[which]
            let at = position % bytes.count
            bytes.removeSubrange(at..<min(bytes.count, at + length))
            await Self.expectRejected(bytes, chunk: 64)
        }
    }

    @Test func randomBytesAreRejected() async {
        await propertyCheck(count: 1000 * Self.scale, input: Gen.int(in: 0...255).array(of: 0...400)) { bytes in
            await Self.expectRejected(bytes.map(UInt8.init), chunk: 17)
        }
    }
}
