import Crypto
import EncryptionSDK
import Foundation
import SealedSupport
import SealedTesting
import Synchronization
import Testing

/// A keystore's answers held in memory: the known branch keys of a vector file, or keys a test makes and destroys.
final class StaticBranchKeys: BranchKeyProvider, Sendable {
    struct Destroyed: Error, Equatable {}

    private let state: Mutex<(keys: [String: [String: SymmetricKey]], active: [String: String], fetches: Int)>

    init(_ id: String, versions: [String: SymmetricKey], active: String) {
        state = Mutex(([id: versions], [id: active], 0))
    }

    var fetches: Int { state.withLock { $0.fetches } }

    func destroy(_ id: String) { state.withLock { $0.keys[id] = nil } }

    func rotate(_ id: String, to version: String, key: SymmetricKey) {
        state.withLock {
            $0.keys[id, default: [:]][version] = key
            $0.active[id] = version
        }
    }

    func activeBranchKey(id: String) async throws -> BranchKeyMaterials {
        let version = try state.withLock { state -> String in
            state.fetches += 1
            guard let version = state.active[id], state.keys[id] != nil else { throw Destroyed() }
            return version
        }
        return try materials(id, version, counted: false)
    }

    func branchKeyVersion(id: String, version: String) async throws -> BranchKeyMaterials {
        try materials(id, version, counted: true)
    }

    private func materials(_ id: String, _ version: String, counted: Bool) throws -> BranchKeyMaterials {
        try state.withLock { state in
            if counted { state.fetches += 1 }
            guard let key = state.keys[id]?[version] else { throw Destroyed() }
            return BranchKeyMaterials(
                branchKeyIdentifier: id,
                branchKeyVersion: version,
                encryptionContext: ["eventType": "orders.placed"],
                branchKey: key
            )
        }
    }
}

@Suite struct HierarchicalKeyringTests {
    struct Vectors: Decodable {
        struct Message: Decodable {
            var suite: String
            var version: String
            var encryptionContext: [String: String]
            var plaintext: String
            var ciphertext: String
        }

        var branchKeyId: String
        var versions: [String: String]
        var messages: [Message]

        static func load() throws -> Vectors {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Vectors/hierarchy-kat.json")
            return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
        }

        var provider: StaticBranchKeys {
            let keys = versions.mapValues { SymmetricKey(data: Hex.decode($0)!) }
            return StaticBranchKeys(branchKeyId, versions: keys, active: versions.keys.sorted()[0])
        }
    }

    static let id = "orders.placed/s-00000000000000000000000000000000"
    static let version = "2f6c3f1e-8a52-4d4c-9a0e-0c7f6a1b2c3d"

    static func provider() -> StaticBranchKeys {
        StaticBranchKeys(id, versions: [version: SymmetricKey(size: .bits256)], active: version)
    }

    /// Messages the official Python MPL made with its hierarchical keyring decrypt with the branch keys alone: the
    /// derivation, the encrypted data key layout and the additional data are the spec's.
    @Test func decryptsMessagesOfTheOfficialImplementation() async throws {
        let vectors = try Vectors.load()
        #expect(vectors.versions.count == 2)
        #expect(vectors.messages.count == 6)
        let keyring = try HierarchicalKeyring(branchKeyID: vectors.branchKeyId, provider: vectors.provider)
        for message in vectors.messages {
            let bytes = [UInt8](Data(base64Encoded: message.ciphertext)!)
            let opened = try await EncryptionClient().decrypt(bytes, keyring: keyring)
            #expect(opened.plaintext == [UInt8](Data(base64Encoded: message.plaintext)!))
            #expect(opened.header.algorithmSuite.description.hasSuffix(message.suite.dropFirst(2)))
            let edks = opened.header.encryptedDataKeys
            #expect(edks.count == 1)
            #expect(edks[0].providerID == "aws-kms-hierarchy")
            #expect(edks[0].providerInfo == Array(vectors.branchKeyId.utf8))
            // salt 16 | IV 12 | version 16 | wrapped key 32 | tag 16
            #expect(edks[0].ciphertext.count == 92)
            let uuid = UUID(uuidString: message.version)!
            #expect(Array(edks[0].ciphertext[28..<44]) == withUnsafeBytes(of: uuid.uuid) { Array($0) })
        }
    }

    @Test func tamperedVectorsDoNotDecrypt() async throws {
        let vectors = try Vectors.load()
        let keyring = try HierarchicalKeyring(branchKeyID: vectors.branchKeyId, provider: vectors.provider)
        let message = vectors.messages[1]
        let bytes = [UInt8](Data(base64Encoded: message.ciphertext)!)
        let header = try #require(try MessageHeader(parsing: bytes))
        // Another branch key under the same version: the derived key differs, the tag fails.
        let wrongKey = StaticBranchKeys(
            vectors.branchKeyId,
            versions: [message.version: SymmetricKey(size: .bits256)],
            active: message.version
        )
        let wrong = try HierarchicalKeyring(branchKeyID: vectors.branchKeyId, provider: wrongKey)
        await #expect(throws: EncryptionSDKError(.noDecryptableDataKey, "")) {
            _ = try await EncryptionClient().decrypt(bytes, keyring: wrong)
        }
        // The same key under another id: no encrypted data key names it.
        let otherID = try HierarchicalKeyring(branchKeyID: "orders.placed/s-other", provider: vectors.provider)
        await #expect(throws: EncryptionSDKError(.noDecryptableDataKey, "")) {
            _ = try await EncryptionClient().decrypt(bytes, keyring: otherID)
        }
        // The additional data binds the encryption context: unwrapping under another context fails.
        let materials = DecryptionMaterials(
            algorithmSuite: header.algorithmSuite,
            encryptionContext: header.encryptionContext.merging(["extra": "pair"]) { a, _ in a }
        )
        await #expect(throws: EncryptionSDKError(.noDecryptableDataKey, "")) {
            _ = try await keyring.onDecrypt(materials, encryptedDataKeys: header.encryptedDataKeys)
        }
        #expect(try await keyring.onDecrypt(
            DecryptionMaterials(algorithmSuite: header.algorithmSuite, encryptionContext: header.encryptionContext),
            encryptedDataKeys: header.encryptedDataKeys
        ).plaintextDataKey != nil)
    }

    @Test func passesTheKeyringContract() async throws {
        let keyring = try HierarchicalKeyring(branchKeyID: Self.id, provider: Self.provider())
        let foreign = try HierarchicalKeyring(branchKeyID: Self.id, provider: Self.provider())
        try await KeyringContract(keyring: keyring, foreignKeyring: foreign).check()
    }

    @Test func theSupplierChoosesTheBranchKeyFromTheContext() async throws {
        let provider = Self.provider()
        provider.rotate("orders.placed/s-b", to: Self.version, key: SymmetricKey(size: .bits256))
        let keyring = try HierarchicalKeyring(supplier: BranchKeyIDFromContext(key: "subjectKey"), provider: provider)
        let message = try await EncryptionClient().encrypt(
            Array("for b".utf8),
            keyring: keyring,
            encryptionContext: ["subjectKey": "orders.placed/s-b"]
        )
        #expect(message.header.encryptedDataKeys.map(\.providerInfo) == [Array("orders.placed/s-b".utf8)])
        #expect(try await EncryptionClient().decrypt(message.ciphertext, keyring: keyring).plaintext == Array("for b".utf8))
        await #expect(throws: EncryptionSDKError(.invalidEncryptionContext, "")) {
            _ = try await EncryptionClient().encrypt([1], keyring: keyring, encryptionContext: ["other": "x"])
        }
    }

    /// Within the TTL the keystore is asked once per key; after it, again — so a destroyed branch key stops
    /// opening messages one TTL after it was destroyed, and the keystore's error is kept.
    @Test func branchKeysAreCachedForTheTTLOnly() async throws {
        let clock = TestClock()
        let provider = Self.provider()
        let cache = try BranchKeyCache(capacity: 10, ttl: .seconds(60), clock: clock)
        let keyring = try HierarchicalKeyring(branchKeyID: Self.id, provider: provider, cache: cache)
        let client = EncryptionClient()
        let message = try await client.encrypt(Array("cached".utf8), keyring: keyring)
        _ = try await client.decrypt(message.ciphertext, keyring: keyring)
        for _ in 0..<5 {
            _ = try await client.encrypt([1, 2, 3], keyring: keyring)
            _ = try await client.decrypt(message.ciphertext, keyring: keyring)
        }
        #expect(provider.fetches == 2)  // the active key once, the version once
        provider.destroy(Self.id)
        clock.advance(by: .seconds(59))
        _ = try await client.decrypt(message.ciphertext, keyring: keyring)
        clock.advance(by: .seconds(2))
        let error = await #expect(throws: EncryptionSDKError.self) {
            _ = try await client.decrypt(message.ciphertext, keyring: keyring)
        }
        #expect(error?.code == .noDecryptableDataKey)
        #expect(error?.underlyingErrors.contains { $0 is StaticBranchKeys.Destroyed } == true)
        await #expect(throws: StaticBranchKeys.Destroyed.self) {
            _ = try await client.encrypt([1], keyring: keyring)
        }
    }

    @Test func aRotatedBranchKeyWrapsNewMessagesAndTheOldVersionStillOpensOld() async throws {
        let clock = TestClock()
        let provider = Self.provider()
        let keyring = try HierarchicalKeyring(
            branchKeyID: Self.id,
            provider: provider,
            cache: BranchKeyCache(ttl: .seconds(1), clock: clock)
        )
        let client = EncryptionClient()
        let old = try await client.encrypt(Array("old".utf8), keyring: keyring)
        let next = "7d1c0c55-3f41-4b0e-b8a4-1f2e3d4c5b6a"
        provider.rotate(Self.id, to: next, key: SymmetricKey(size: .bits256))
        clock.advance(by: .seconds(2))
        let new = try await client.encrypt(Array("new".utf8), keyring: keyring)
        let versionOf = { (message: EncryptedMessage) in
            UUID(uuid: message.header.encryptedDataKeys[0].ciphertext[28..<44].withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) })
                .uuidString.lowercased()
        }
        #expect(versionOf(old) == Self.version)
        #expect(versionOf(new) == next)
        #expect(try await client.decrypt(old.ciphertext, keyring: keyring).plaintext == Array("old".utf8))
        #expect(try await client.decrypt(new.ciphertext, keyring: keyring).plaintext == Array("new".utf8))
    }

    @Test func badArgumentsAndBadKeystoreAnswersAreTypedErrors() async throws {
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) {
            try HierarchicalKeyring(branchKeyID: "", provider: Self.provider())
        }
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) { try BranchKeyCache(ttl: .zero) }
        #expect(throws: EncryptionSDKError(.invalidArgument, "")) { try BranchKeyCache(capacity: 0) }
        // A keystore that answers with a 16-byte key, or a version that is not a UUID.
        let short = StaticBranchKeys(Self.id, versions: ["not-a-uuid": SymmetricKey(size: .bits128)], active: "not-a-uuid")
        let keyring = try HierarchicalKeyring(branchKeyID: Self.id, provider: short)
        await #expect(throws: EncryptionSDKError(.invalidMaterials, "")) {
            _ = try await EncryptionClient().encrypt([1], keyring: keyring)
        }
        let notUUID = StaticBranchKeys(Self.id, versions: ["not-a-uuid": SymmetricKey(size: .bits256)], active: "not-a-uuid")
        await #expect(throws: EncryptionSDKError(.invalidMaterials, "")) {
            _ = try await EncryptionClient().encrypt([1], keyring: HierarchicalKeyring(branchKeyID: Self.id, provider: notUUID))
        }
        // A truncated encrypted data key.
        let good = try HierarchicalKeyring(branchKeyID: Self.id, provider: Self.provider())
        let materials = try await good.onEncrypt(
            EncryptionMaterials(algorithmSuite: .aes256GCMHKDFSHA512Committing, encryptionContext: [:])
        )
        var edk = materials.encryptedDataKeys[0]
        edk.ciphertext.removeLast()
        await #expect(throws: EncryptionSDKError(.noDecryptableDataKey, "")) {
            _ = try await good.onDecrypt(
                DecryptionMaterials(algorithmSuite: .aes256GCMHKDFSHA512Committing, encryptionContext: [:]),
                encryptedDataKeys: [edk]
            )
        }
    }
}
