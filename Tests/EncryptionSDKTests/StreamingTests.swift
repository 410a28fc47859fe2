import EncryptionSDK
import SealedTesting
import Testing

struct StreamingTests {
    static let cmm = DefaultMaterialsManager(keyring: Fixtures.aesKeyring)

    @Test(arguments: [AlgorithmSuite.aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384])
    func streamedEncryptionMatchesOneShotDecryption(suite: AlgorithmSuite) async throws {
        for (size, frame, chunks) in [
            (0, 128, [7]), (1, 128, [1]), (128, 128, [5, 300]), (8192, 4096, [4096]), (70_001, 4096, [1, 999, 65536]),
        ] {
            let plaintext = Fixtures.bytes(size)
            let message = try await collect(
                EncryptionClient().encryptStream(
                    Chunks(plaintext, sizes: chunks),
                    materialsManager: Self.cmm,
                    encryptionContext: Fixtures.context,
                    algorithmSuite: suite,
                    frameLength: frame
                )
            )
            let oneShot = try await EncryptionClient().encrypt(
                plaintext,
                keyring: Fixtures.aesKeyring,
                encryptionContext: Fixtures.context,
                algorithmSuite: suite,
                frameLength: frame
            )
            #expect(message.count == oneShot.ciphertext.count, "same framing as one-shot for size \(size)")
            #expect(try await EncryptionClient().decrypt(message, keyring: Fixtures.aesKeyring).plaintext == plaintext)
        }
    }

    @Test(arguments: [AlgorithmSuite.aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384])
    func streamedDecryptionWithAnyChunking(suite: AlgorithmSuite) async throws {
        let plaintext = Fixtures.bytes(20_000)
        let message = try await EncryptionClient().encrypt(
            plaintext,
            keyring: Fixtures.aesKeyring,
            algorithmSuite: suite,
            frameLength: 1000
        )
        for sizes in [[1], [3, 7, 11], [999, 1001], [message.ciphertext.count]] {
            let opened = try await collect(
                EncryptionClient().decryptStream(Chunks(message.ciphertext, sizes: sizes), materialsManager: Self.cmm)
            )
            #expect(opened == plaintext)
        }
    }

    @Test func unsignedStreamsReleaseFramesAsTheyVerify() async throws {
        let message = try await EncryptionClient().encrypt(
            Fixtures.bytes(10_000),
            keyring: Fixtures.aesKeyring,
            algorithmSuite: .aes256GCMHKDFSHA512Committing,
            frameLength: 1000
        )
        var iterator = EncryptionClient().decryptStream(
            Chunks(message.ciphertext, sizes: [1500]),
            materialsManager: Self.cmm
        ).makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first == Array(Fixtures.bytes(10_000)[..<1000]))
    }

    @Test func signedStreamsReleaseNothingBeforeTheSignatureVerifies() async throws {
        let message = try await EncryptionClient().encrypt(
            Fixtures.bytes(10_000),
            keyring: Fixtures.aesKeyring,
            frameLength: 1000
        )
        var tampered = message.ciphertext
        tampered[tampered.count - 5] ^= 1  // inside the signature
        var released = 0
        await #expect(throws: EncryptionSDKError.authenticationFailure) {
            for try await chunk in EncryptionClient().decryptStream(
                Chunks(tampered, sizes: [700]),
                materialsManager: Self.cmm
            ) {
                released += chunk.count
            }
        }
        #expect(released == 0)
    }

    @Test func unsignedOnlyModeRefusesSignedSuitesAtTheHeader() async throws {
        let signed = try await EncryptionClient().encrypt([1, 2, 3], keyring: Fixtures.aesKeyring)
        let counting = CountingKeyring(Fixtures.aesKeyring)
        await #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            _ = try await collect(
                EncryptionClient().decryptStream(
                    Chunks(signed.ciphertext, sizes: [64]),
                    materialsManager: DefaultMaterialsManager(keyring: counting),
                    mode: .unsignedOnly
                )
            )
        }
        #expect(counting.decryptCalls == 0)
        let unsigned = try await EncryptionClient().encrypt(
            [1, 2, 3],
            keyring: Fixtures.aesKeyring,
            algorithmSuite: .aes256GCMHKDFSHA512Committing
        )
        #expect(
            try await collect(
                EncryptionClient().decryptStream(
                    Chunks(unsigned.ciphertext, sizes: [64]),
                    materialsManager: Self.cmm,
                    mode: .unsignedOnly
                )
            ) == [1, 2, 3]
        )
    }

    @Test func bufferLimitBoundsSignedPlaintextAndFrames() async throws {
        let signed = try await EncryptionClient().encrypt(
            Fixtures.bytes(100_000),
            keyring: Fixtures.aesKeyring,
            frameLength: 4096
        )
        await #expect(throws: EncryptionSDKError(.bufferLimitExceeded, "")) {
            _ = try await collect(
                EncryptionClient().decryptStream(
                    Chunks(signed.ciphertext, sizes: [4096]),
                    materialsManager: Self.cmm,
                    bufferLimit: 50_000
                )
            )
        }
        let bigFrames = try await EncryptionClient().encrypt(
            Fixtures.bytes(100),
            keyring: Fixtures.aesKeyring,
            algorithmSuite: .aes256GCMHKDFSHA512Committing,
            frameLength: 1 << 20
        )
        await #expect(throws: EncryptionSDKError(.bufferLimitExceeded, "")) {
            _ = try await collect(
                EncryptionClient().decryptStream(
                    Chunks(bigFrames.ciphertext, sizes: [4096]),
                    materialsManager: Self.cmm,
                    bufferLimit: 1 << 16
                )
            )
        }
    }

    @Test func truncatedAndExtendedStreamsFail() async throws {
        let message = try await EncryptionClient().encrypt(
            Fixtures.bytes(3000),
            keyring: Fixtures.aesKeyring,
            algorithmSuite: .aes256GCMHKDFSHA512Committing,
            frameLength: 1000
        )
        for bytes in [
            Array(message.ciphertext.dropLast()), message.ciphertext + [0], Array(message.ciphertext.prefix(40)),
        ] {
            await #expect(throws: EncryptionSDKError.self) {
                _ = try await collect(
                    EncryptionClient().decryptStream(Chunks(bytes, sizes: [333]), materialsManager: Self.cmm)
                )
            }
        }
    }
}
