import Crypto
import EncryptionSDK
import SealedTesting
import Testing

struct CachingTests {
    struct Setup {
        let clock = TestClock()
        let keyring = CountingKeyring(Fixtures.aesKeyring)
        let cmm: CachingMaterialsManager

        init(
            maxAge: Duration = .seconds(60),
            maxMessages: UInt64 = 1 << 32,
            maxBytes: UInt64 = UInt64(Int64.max),
            cache: MaterialsCache = MaterialsCache()
        ) throws {
            cmm = try CachingMaterialsManager(
                keyring: keyring,
                cache: cache,
                maxAge: maxAge,
                maxMessages: maxMessages,
                maxBytes: maxBytes,
                clock: clock
            )
        }

        func encrypt(
            _ size: Int,
            suite: AlgorithmSuite = .aes256GCMHKDFSHA512Committing,
            context: EncryptionContext = Fixtures.context
        ) async throws -> EncryptedMessage {
            try await EncryptionClient().encrypt(
                Fixtures.bytes(size),
                materialsManager: cmm,
                encryptionContext: context,
                algorithmSuite: suite
            )
        }
    }

    @Test(arguments: [1, 2, 3, 10])
    func maxMessagesIsExact(limit: UInt64) async throws {
        let setup = try Setup(maxMessages: limit)
        var keys: [[EncryptedDataKey]] = []
        for _ in 0..<(Int(limit) * 2 + 1) { keys.append(try await setup.encrypt(10).header.encryptedDataKeys) }
        // Messages come in runs of exactly `limit` per data key.
        #expect(setup.keyring.encryptCalls == 3)
        for (index, edks) in keys.enumerated() { #expect(edks == keys[index / Int(limit) * Int(limit)]) }
        #expect(keys[0] != keys[Int(limit)])
    }

    @Test func maxBytesIsExactAndOversizeMessagesBypass() async throws {
        let setup = try Setup(maxBytes: 1000)
        let first = try await setup.encrypt(400).header.encryptedDataKeys
        let second = try await setup.encrypt(600).header.encryptedDataKeys  // exactly 1000
        #expect(first == second)
        #expect(setup.keyring.encryptCalls == 1)
        let third = try await setup.encrypt(1).header.encryptedDataKeys  // 1001 would be over
        #expect(third != first)
        #expect(setup.keyring.encryptCalls == 2)
        _ = try await setup.encrypt(1001)
        _ = try await setup.encrypt(1001)
        #expect(setup.keyring.encryptCalls == 4)  // never cached
        #expect(try await setup.encrypt(1).header.encryptedDataKeys == third)  // the cached key survived
    }

    @Test func maxAgeIsExact() async throws {
        let setup = try Setup(maxAge: .seconds(60))
        let first = try await setup.encrypt(1).header.encryptedDataKeys
        setup.clock.advance(by: .seconds(60) - .nanoseconds(1))
        #expect(try await setup.encrypt(1).header.encryptedDataKeys == first)
        setup.clock.advance(by: .nanoseconds(1))
        #expect(try await setup.encrypt(1).header.encryptedDataKeys != first)
        #expect(setup.keyring.encryptCalls == 2)
    }

    @Test func signingKeysAreCachedWithTheDataKeyAndMessagesStillVerify() async throws {
        let setup = try Setup(maxMessages: 5)
        let a = try await setup.encrypt(100, suite: .aes256GCMHKDFSHA512CommittingECDSAP384)
        let b = try await setup.encrypt(100, suite: .aes256GCMHKDFSHA512CommittingECDSAP384)
        #expect(setup.keyring.encryptCalls == 1)
        #expect(a.header.encryptionContext[publicKeyContextKey] == b.header.encryptionContext[publicKeyContextKey])
        #expect(a.header.messageID != b.header.messageID)
        for message in [a, b] {
            #expect(
                try await EncryptionClient().decrypt(message.ciphertext, keyring: Fixtures.aesKeyring).plaintext
                    == Fixtures.bytes(100)
            )
        }
        // A different context is a different entry, with its own key pair.
        let c = try await setup.encrypt(
            100,
            suite: .aes256GCMHKDFSHA512CommittingECDSAP384,
            context: ["other": "context"]
        )
        #expect(c.header.encryptionContext[publicKeyContextKey] != a.header.encryptionContext[publicKeyContextKey])
        #expect(setup.keyring.encryptCalls == 2)
    }

    @Test func decryptionMaterialsAreCachedUntilMaxAge() async throws {
        let setup = try Setup(maxAge: .seconds(10))
        let message = try await EncryptionClient().encrypt(
            Fixtures.bytes(50),
            keyring: Fixtures.aesKeyring,
            encryptionContext: Fixtures.context
        )
        for _ in 0..<3 {
            #expect(
                try await EncryptionClient().decrypt(message.ciphertext, materialsManager: setup.cmm).plaintext
                    == Fixtures.bytes(50)
            )
        }
        #expect(setup.keyring.decryptCalls == 1)
        setup.clock.advance(by: .seconds(10))
        _ = try await EncryptionClient().decrypt(message.ciphertext, materialsManager: setup.cmm)
        #expect(setup.keyring.decryptCalls == 2)
        // A reproduced context is part of the key: it cannot borrow another request's materials.
        await #expect(throws: EncryptionSDKError.self) {
            _ = try await EncryptionClient().decrypt(
                message.ciphertext,
                materialsManager: setup.cmm,
                encryptionContext: ["tenant": "evil"]
            )
        }
    }

    @Test func partitionsSeparateCMMsThatShareACache() async throws {
        let cache = MaterialsCache()
        let counting = CountingKeyring(Fixtures.aesKeyring)
        let a = try CachingMaterialsManager(keyring: counting, cache: cache, maxAge: .seconds(60))
        let b = try CachingMaterialsManager(keyring: counting, cache: cache, maxAge: .seconds(60))
        let a2 = try CachingMaterialsManager(
            keyring: counting,
            cache: cache,
            maxAge: .seconds(60),
            partition: a.partition
        )
        for cmm in [a, b, a2] { _ = try await EncryptionClient().encrypt([1], materialsManager: cmm) }
        #expect(counting.encryptCalls == 2)
        #expect(cache.count == 2)
    }

    @Test func leastRecentlyUsedEntryIsEvicted() async throws {
        let setup = try Setup(cache: MaterialsCache(capacity: 2))
        _ = try await setup.encrypt(1, context: ["n": "A"])
        _ = try await setup.encrypt(1, context: ["n": "B"])
        _ = try await setup.encrypt(1, context: ["n": "A"])
        _ = try await setup.encrypt(1, context: ["n": "C"])  // evicts B
        #expect(setup.cmm.cache.count == 2)
        #expect(setup.keyring.encryptCalls == 3)
        _ = try await setup.encrypt(1, context: ["n": "A"])
        #expect(setup.keyring.encryptCalls == 3)
        _ = try await setup.encrypt(1, context: ["n": "B"])
        #expect(setup.keyring.encryptCalls == 4)
    }

    @Test func suitesWithoutKeyDerivationAndUnknownLengthsBypass() async throws {
        let setup = try Setup()
        let client = EncryptionClient(commitmentPolicy: .forbidEncryptAllowDecrypt)
        for _ in 0..<2 {
            _ = try await client.encrypt([1], materialsManager: setup.cmm, algorithmSuite: .aes256GCMNoKDF)
        }
        #expect(setup.keyring.encryptCalls == 2)
        for _ in 0..<2 {
            _ = try await collect(
                EncryptionClient().encryptStream(Chunks([1, 2], sizes: [1]), materialsManager: setup.cmm)
            )
        }
        #expect(setup.keyring.encryptCalls == 4)
        for _ in 0..<2 {
            _ = try await collect(
                EncryptionClient().encryptStream(
                    Chunks([1, 2], sizes: [1]),
                    materialsManager: setup.cmm,
                    plaintextLength: 2
                )
            )
        }
        #expect(setup.keyring.encryptCalls == 5)
    }

    @Test func limitsAreValidated() {
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            try CachingMaterialsManager(keyring: Fixtures.aesKeyring, maxAge: .zero)
        }
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            try CachingMaterialsManager(keyring: Fixtures.aesKeyring, maxAge: .seconds(1), maxMessages: 0)
        }
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            try CachingMaterialsManager(keyring: Fixtures.aesKeyring, maxAge: .seconds(1), maxMessages: (1 << 32) + 1)
        }
    }

    @Test func concurrentUseNeverExceedsMaxMessages() async throws {
        let setup = try Setup(maxMessages: 7)
        let messages = try await withThrowingTaskGroup(of: [EncryptedDataKey].self) { group in
            for _ in 0..<70 { group.addTask { try await setup.encrypt(3).header.encryptedDataKeys } }
            return try await group.reduce(into: [[EncryptedDataKey]]()) { $0.append($1) }
        }
        var uses: [[EncryptedDataKey]: Int] = [:]
        for edks in messages { uses[edks, default: 0] += 1 }
        #expect(uses.values.allSatisfy { $0 <= 7 })
    }
}
