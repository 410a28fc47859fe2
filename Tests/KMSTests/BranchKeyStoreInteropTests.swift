import Crypto
import EncryptionSDK
import Foundation
import KMS
import SealedTesting
import Testing

/// Interop with the official branch keystore (the Python MPL's `KeyStore`) on the same moto table and KMS key, both
/// directions: keys one side creates or rotates, the other reads with the same key material, version and custom
/// encryption context; and a rotation on one side is the new active version on the other, the old still readable.
struct BranchKeyStoreInteropTests {
    static func bytes(_ key: SymmetricKey) -> [UInt8] { key.withUnsafeBytes { Array($0) } }

    @Test func pythonCreatesSwiftReads() async throws {
        guard let moto = try Moto.located(), let python = try PythonKeyStore.located() else { return }
        let table = Moto.uniqueTable("ks-py")
        let context = ["eventType": "orders.created", "domain": "orders", "ünïcødé": "✓"]
        let results = try await python.run(
            moto.pythonKeyStore(table: table),
            [
                .createKeyStore,
                .createKey(branchKeyID: "orders.created/s-py", encryptionContext: context),
                .activeBranchKey(branchKeyID: "orders.created/s-py"),
                .beaconKey(branchKeyID: "orders.created/s-py"),
                .createKey(branchKeyID: nil, encryptionContext: [:]),
            ]
        )
        for (index, result) in results.enumerated() { #expect(result.succeeded, "step \(index): \(result.error ?? "")") }
        let store = try moto.keyStore(table: table)
        #expect(try await store.createKeyStore() == results[0].tableARN, "Swift accepts the table Python made")

        let pythonActive = results[2]
        let active = try await store.activeBranchKey(id: "orders.created/s-py")
        #expect(active.branchKeyVersion == pythonActive.version)
        #expect(Self.bytes(active.branchKey) == pythonActive.key)
        #expect(active.encryptionContext == context && pythonActive.encryptionContext == context)
        let version = try await store.branchKeyVersion(id: "orders.created/s-py", version: active.branchKeyVersion)
        #expect(Self.bytes(version.branchKey) == pythonActive.key)
        let beacon = try await store.beaconKey(id: "orders.created/s-py")
        #expect(Self.bytes(beacon.beaconKey) == results[3].key && beacon.encryptionContext == context)

        let randomID = try #require(results[4].branchKeyID)
        #expect(try await store.activeBranchKey(id: randomID).encryptionContext.isEmpty)
        #expect(try await store.versions(of: "orders.created/s-py") == [active.branchKeyVersion])

        // Swift erases what Python created: its three records.
        #expect(try await store.destroyBranchKey(id: "orders.created/s-py") == 3)
        await #expect(throws: BranchKeyStoreError.notFound) { try await store.activeBranchKey(id: "orders.created/s-py") }
    }

    @Test func swiftCreatesPythonReads() async throws {
        guard let moto = try Moto.located(), let python = try PythonKeyStore.located() else { return }
        let table = Moto.uniqueTable("ks-swift")
        let store = try moto.keyStore(table: table)
        try await store.createKeyStore()
        let context = ["eventType": "payments.captured", "domain": "payments"]
        let id = try await store.createKey(branchKeyID: "payments.captured/s-sw", encryptionContext: context)
        let random = try await store.createKey()
        let active = try await store.activeBranchKey(id: id)
        let beacon = try await store.beaconKey(id: id)

        let results = try await python.run(
            moto.pythonKeyStore(table: table),
            [
                .createKeyStore,
                .activeBranchKey(branchKeyID: id),
                .branchKeyVersion(branchKeyID: id, version: active.branchKeyVersion),
                .beaconKey(branchKeyID: id),
                .activeBranchKey(branchKeyID: random),
            ]
        )
        for (index, result) in results.enumerated() { #expect(result.succeeded, "step \(index): \(result.error ?? "")") }
        #expect(results[1].version == active.branchKeyVersion && results[1].key == Self.bytes(active.branchKey))
        #expect(results[1].encryptionContext == context && results[1].branchKeyID == id)
        #expect(results[2].key == Self.bytes(active.branchKey))
        #expect(results[3].key == Self.bytes(beacon.beaconKey) && results[3].encryptionContext == context)
        #expect(results[4].branchKeyID == random && results[4].encryptionContext.isEmpty)
    }

    @Test func rotationOnEitherSideIsSeenByTheOther() async throws {
        guard let moto = try Moto.located(), let python = try PythonKeyStore.located() else { return }
        let table = Moto.uniqueTable("ks-rotate")
        let store = try moto.keyStore(table: table)
        try await store.createKeyStore()
        let id = try await store.createKey(branchKeyID: "rotated", encryptionContext: ["eventType": "t"])
        let first = try await store.activeBranchKey(id: id)

        // Python rotates: Swift sees the new active version and still reads the first.
        let pythonRotation = try await python.run(
            moto.pythonKeyStore(table: table),
            [.versionKey(branchKeyID: id), .activeBranchKey(branchKeyID: id)]
        )
        for result in pythonRotation { #expect(result.succeeded, "\(result.error ?? "")") }
        let second = try await store.activeBranchKey(id: id)
        #expect(second.branchKeyVersion == pythonRotation[1].version)
        #expect(second.branchKeyVersion != first.branchKeyVersion)
        #expect(Self.bytes(second.branchKey) == pythonRotation[1].key)
        #expect(second.encryptionContext == ["eventType": "t"])
        let stillFirst = try await store.branchKeyVersion(id: id, version: first.branchKeyVersion)
        #expect(Self.bytes(stillFirst.branchKey) == Self.bytes(first.branchKey))

        // Swift rotates: Python sees the new active version and still reads both older ones.
        let third = try await store.versionKey(branchKeyID: id)
        let thirdKey = try await store.activeBranchKey(id: id)
        let pythonRead = try await python.run(
            moto.pythonKeyStore(table: table),
            [
                .activeBranchKey(branchKeyID: id),
                .branchKeyVersion(branchKeyID: id, version: first.branchKeyVersion),
                .branchKeyVersion(branchKeyID: id, version: second.branchKeyVersion),
            ]
        )
        for result in pythonRead { #expect(result.succeeded, "\(result.error ?? "")") }
        #expect(pythonRead[0].version == third && pythonRead[0].key == Self.bytes(thirdKey.branchKey))
        #expect(pythonRead[0].encryptionContext == ["eventType": "t"])
        #expect(pythonRead[1].key == Self.bytes(first.branchKey))
        #expect(pythonRead[2].key == Self.bytes(second.branchKey))
        #expect(Set(try await store.versions(of: id)) == [first.branchKeyVersion, second.branchKeyVersion, third])

        // Erased on the Swift side: Python finds nothing either.
        #expect(try await store.destroyBranchKey(id: id) == 5)
        let afterErasure = try await python.run(
            moto.pythonKeyStore(table: table),
            [.activeBranchKey(branchKeyID: id), .branchKeyVersion(branchKeyID: id, version: first.branchKeyVersion)]
        )
        for result in afterErasure {
            #expect(result.errorType == "KeyStoreException", "\(result.errorType ?? "ok"): \(result.error ?? "")")
        }
    }
}
