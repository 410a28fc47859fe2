import Crypto
import EncryptionSDK
import Foundation
import KMS
import SealedTesting
import Testing

/// The branch keystore against moto's DynamoDB and KMS (IAM enforced): every operation, the records it writes,
/// rotation, erasure, and the typed errors of items that do not parse, another KMS key, a missing version and a
/// caller KMS refuses.
struct BranchKeyStoreMotoTests {
    static func bytes(_ key: SymmetricKey) -> [UInt8] { key.withUnsafeBytes { Array($0) } }

    static func items(_ moto: Moto, _ table: String, _ id: String) async throws -> [DynamoDBItem] {
        try await moto.dynamoDB().query(
            .init(
                tableName: table,
                keyConditionExpression: "#p = :p",
                expressionAttributeNames: ["#p": "branch-key-id"],
                expressionAttributeValues: [":p": .string(id)],
                consistentRead: true
            )
        ).items ?? []
    }

    @Test func createKeyStoreCreatesOnceAndChecksTheSchema() async throws {
        guard let moto = try Moto.located() else { return }
        let table = Moto.uniqueTable("ks-create")
        let store = try moto.keyStore(table: table)
        let arn = try await store.createKeyStore()
        #expect(arn == "arn:aws:dynamodb:\(moto.region):\(moto.account):table/\(table)")
        #expect(try await store.createKeyStore() == arn, "an existing keystore table is accepted")
        let described = try await moto.dynamoDB().describeTable(.init(tableName: table)).table
        #expect(
            Set(described?.keySchema ?? []) == [
                .init(attributeName: "branch-key-id", keyType: "HASH"), .init(attributeName: "type", keyType: "RANGE"),
            ]
        )

        let other = Moto.uniqueTable("ks-other")
        _ = try await DynamoDBClientMotoTests.createTable(moto.dynamoDB(), other)
        await #expect(throws: BranchKeyStoreError.tableMismatch) {
            _ = try await moto.keyStore(table: other).createKeyStore()
        }
    }

    @Test func createReadVersionAndBeacon() async throws {
        guard let moto = try Moto.located() else { return }
        let table = Moto.uniqueTable("ks-ops")
        let store = try moto.keyStore(table: table)
        try await store.createKeyStore()
        let context = ["eventType": "orders.created", "domain": "orders"]
        let id = try await store.createKey(branchKeyID: "orders.created/s-0a1b", encryptionContext: context)
        #expect(id == "orders.created/s-0a1b")

        let active = try await store.activeBranchKey(id: id)
        #expect(active.branchKeyIdentifier == id && active.encryptionContext == context)
        #expect(UUID(uuidString: active.branchKeyVersion)?.lowercasedString == active.branchKeyVersion)
        #expect(active.branchKey.bitCount == 256)
        let first = try await store.branchKeyVersion(id: id, version: active.branchKeyVersion)
        #expect(Self.bytes(first.branchKey) == Self.bytes(active.branchKey))
        let upper = try await store.branchKeyVersion(id: id, version: active.branchKeyVersion.uppercased())
        #expect(upper.branchKeyVersion == active.branchKeyVersion)
        let beacon = try await store.beaconKey(id: id)
        #expect(beacon.beaconKeyIdentifier == id && beacon.encryptionContext == context)
        #expect(Self.bytes(beacon.beaconKey) != Self.bytes(active.branchKey))
        #expect(!"\(active)".contains("SymmetricKey") && "\(beacon)" == "BeaconKeyMaterials(\(id))")

        // The three records, as the spec lays them out.
        let items = try await Self.items(moto, table, id)
        let byType = Dictionary(uniqueKeysWithValues: items.compactMap { item in item["type"]?.stringValue.map { ($0, item) } })
        #expect(Set(byType.keys) == ["branch:ACTIVE", "beacon:ACTIVE", "branch:version:\(active.branchKeyVersion)"])
        for item in items {
            #expect(item["kms-arn"] == .string(moto.primaryKey))
            #expect(item["hierarchy-version"] == .number("1"))
            #expect(item["aws-crypto-ec:eventType"] == .string("orders.created"))
            #expect(item["aws-crypto-ec:domain"] == .string("orders"))
            #expect(item["tablename"] == nil)
            #expect(item["enc"]?.binaryValue?.isEmpty == false)
            let time = item["create-time"]?.stringValue ?? ""
            #expect(time.count == 27 && time.hasSuffix("Z"), "\(time)")
        }
        #expect(byType["branch:ACTIVE"]?["version"] == .string("branch:version:\(active.branchKeyVersion)"))
        #expect(byType["beacon:ACTIVE"]?["version"] == nil)

        // Rotation: a new active version; the first stays readable with the same key.
        let second = try await store.versionKey(branchKeyID: id)
        #expect(second != active.branchKeyVersion)
        let rotated = try await store.activeBranchKey(id: id)
        #expect(rotated.branchKeyVersion == second && rotated.encryptionContext == context)
        #expect(Self.bytes(rotated.branchKey) != Self.bytes(active.branchKey))
        let old = try await store.branchKeyVersion(id: id, version: active.branchKeyVersion)
        #expect(Self.bytes(old.branchKey) == Self.bytes(active.branchKey))
        #expect(Set(try await store.versions(of: id)) == [active.branchKeyVersion, second])

        // A random id without context, as the spec allows.
        let random = try await store.createKey()
        #expect(UUID(uuidString: random) != nil)
        #expect(try await store.activeBranchKey(id: random).encryptionContext.isEmpty)
    }

    @Test func createKeyRefusesBadArgumentsAndExistingKeys() async throws {
        guard let moto = try Moto.located() else { return }
        let table = Moto.uniqueTable("ks-args")
        let store = try moto.keyStore(table: table)
        try await store.createKeyStore()
        await #expect(throws: BranchKeyStoreError.invalidArgument) { try await store.createKey(branchKeyID: "custom") }
        await #expect(throws: BranchKeyStoreError.invalidArgument) {
            try await store.createKey(branchKeyID: "", encryptionContext: ["a": "b"])
        }
        await #expect(throws: BranchKeyStoreError.invalidArgument) {
            try await store.createKey(encryptionContext: ["": "b"])
        }
        let id = try await store.createKey(branchKeyID: "k", encryptionContext: ["a": "b"])
        let before = try await store.activeBranchKey(id: id)
        await #expect(throws: BranchKeyStoreError.conflict) {
            try await store.createKey(branchKeyID: "k", encryptionContext: ["a": "c"])
        }
        let after = try await store.activeBranchKey(id: id)
        #expect(after.branchKeyVersion == before.branchKeyVersion && after.encryptionContext == ["a": "b"])
        #expect(try await Self.items(moto, table, id).count == 3, "a refused CreateKey writes nothing")
        await #expect(throws: BranchKeyStoreError.notFound) { try await store.versionKey(branchKeyID: "absent") }
    }

    @Test func versionKeyRefusesAChangedActiveRecord() async throws {
        guard let moto = try Moto.located() else { return }
        let table = Moto.uniqueTable("ks-race")
        // Each request sent once, with time to spare: moto ignores `ClientRequestToken`, so a retry of a rotation it
        // had applied (its first attempt timed out on a loaded machine) would be refused as a conflict, where
        // DynamoDB would answer the retry as the same transaction.
        let once = ClientOptions(maxAttempts: 1, baseBackoff: .milliseconds(10), timeout: .seconds(120))
        let store = try moto.keyStore(table: table, dynamoDBOptions: once)
        try await store.createKeyStore()
        let id = try await store.createKey(branchKeyID: "race", encryptionContext: ["a": "b"])
        // Two rotations of the same active version: only one may replace it (the ACTIVE put is conditioned on the
        // `enc` read); moto runs them one after the other, so the second sees the first's ACTIVE and succeeds,
        // or both race and exactly one wins. Either way no rotation is lost silently.
        @Sendable func rotate() async -> Result<String, any Error> {
            do { return .success(try await store.versionKey(branchKeyID: id)) } catch { return .failure(error) }
        }
        async let one = rotate()
        async let two = rotate()
        let results = await [one, two]
        let won = results.compactMap { try? $0.get() }
        for case .failure(let error) in results { #expect(error as? BranchKeyStoreError == .conflict) }
        #expect(!won.isEmpty)
        let active = try await store.activeBranchKey(id: id)
        #expect(won.contains(active.branchKeyVersion))
        #expect(try await store.versions(of: id).count == 1 + won.count)
    }

    @Test func destroyDeletesEveryRecordAndIsIdempotent() async throws {
        guard let moto = try Moto.located() else { return }
        let table = Moto.uniqueTable("ks-erase")
        let store = try moto.keyStore(table: table)
        try await store.createKeyStore()
        let erased = try await store.createKey(branchKeyID: "subject-a", encryptionContext: ["eventType": "t"])
        let kept = try await store.createKey(branchKeyID: "subject-b", encryptionContext: ["eventType": "t"])
        let first = try await store.activeBranchKey(id: erased).branchKeyVersion
        try await store.versionKey(branchKeyID: erased)
        try await store.versionKey(branchKeyID: erased)

        #expect(try await store.destroyBranchKey(id: erased) == 5, "three versions, the ACTIVE copy, the beacon key")
        #expect(try await Self.items(moto, table, erased).isEmpty)
        await #expect(throws: BranchKeyStoreError.notFound) { try await store.activeBranchKey(id: erased) }
        await #expect(throws: BranchKeyStoreError.notFound) {
            try await store.branchKeyVersion(id: erased, version: first)
        }
        await #expect(throws: BranchKeyStoreError.notFound) { try await store.beaconKey(id: erased) }
        await #expect(throws: BranchKeyStoreError.notFound) { try await store.versionKey(branchKeyID: erased) }
        #expect(try await store.versions(of: erased).isEmpty)
        #expect(try await store.destroyBranchKey(id: erased) == 0)
        #expect(try await store.destroyBranchKey(id: "never-created") == 0)
        #expect(try await store.activeBranchKey(id: kept).branchKeyIdentifier == kept, "other keys are untouched")
    }

    @Test func malformedItemsWrongKeysAndMissingVersionsAreTypedErrors() async throws {
        guard let moto = try Moto.located() else { return }
        let table = Moto.uniqueTable("ks-bad")
        let store = try moto.keyStore(table: table)
        try await store.createKeyStore()
        let dynamoDB = try moto.dynamoDB()
        let id = try await store.createKey(branchKeyID: "bad", encryptionContext: ["eventType": "t"])
        let active = try #require(
            try await dynamoDB.getItem(
                .init(tableName: table, key: ["branch-key-id": .string(id), "type": .string("branch:ACTIVE")])
            ).item
        )

        // A version that does not exist, and a version that is not a UUID.
        await #expect(throws: BranchKeyStoreError.notFound) {
            try await store.branchKeyVersion(id: id, version: UUID().uuidString)
        }
        await #expect(throws: BranchKeyStoreError.invalidArgument) {
            try await store.branchKeyVersion(id: id, version: "v2")
        }

        // A keystore configured with another KMS key refuses the records before calling KMS.
        let other = try moto.keyStore(table: table, key: moto.secondaryKey)
        await #expect(throws: BranchKeyStoreError.kmsKeyMismatch) { try await other.activeBranchKey(id: id) }
        await #expect(throws: BranchKeyStoreError.kmsKeyMismatch) { try await other.versionKey(branchKeyID: id) }

        // An item that does not parse.
        var broken = active
        broken["enc"] = .string("not binary")
        _ = try await dynamoDB.putItem(.init(tableName: table, item: broken))
        do {
            _ = try await store.activeBranchKey(id: id)
            Issue.record("a malformed item was read")
        } catch let error as BranchKeyStoreError {
            #expect(error == .malformedItem && error.reason.contains("enc of type S"))
        }

        // A record that names another key: refused as a mismatch.
        var moved = active
        moved["kms-arn"] = .string(moto.secondaryKey)
        _ = try await dynamoDB.putItem(.init(tableName: table, item: moved))
        await #expect(throws: BranchKeyStoreError.kmsKeyMismatch) { try await store.activeBranchKey(id: id) }

        // A record whose custom context was changed: KMS refuses to unwrap (the context is authenticated).
        var tampered = active
        tampered["aws-crypto-ec:eventType"] = .string("other")
        _ = try await dynamoDB.putItem(.init(tableName: table, item: tampered))
        await #expect(throws: KMSError.invalidCiphertext) { try await store.activeBranchKey(id: id) }
        await #expect(throws: KMSError.invalidCiphertext) { try await store.versionKey(branchKeyID: id) }

        // Restored, it reads again.
        _ = try await dynamoDB.putItem(.init(tableName: table, item: active))
        #expect(try await store.activeBranchKey(id: id).encryptionContext == ["eventType": "t"])
    }

    @Test func aCallerKMSRefusesGetsKMSErrorNotNotFound() async throws {
        guard let moto = try Moto.located() else { return }
        let table = Moto.uniqueTable("ks-denied")
        let store = try moto.keyStore(table: table)
        try await store.createKeyStore()
        let id = try await store.createKey(branchKeyID: "secret", encryptionContext: ["eventType": "t"])
        // May read the table but not call kms:Decrypt: the item is found and KMS says no.
        let reader = try moto.keyStore(table: table, user: moto.tableReader)
        await #expect(throws: KMSError.accessDenied) { try await reader.activeBranchKey(id: id) }
        await #expect(throws: BranchKeyStoreError.notFound) { try await reader.activeBranchKey(id: "absent") }
        // May not read the table at all.
        let denied = try moto.keyStore(table: table, user: moto.denied)
        await #expect(throws: DynamoDBError.accessDenied) { try await denied.activeBranchKey(id: id) }
    }
}
