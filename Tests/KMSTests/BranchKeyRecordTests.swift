import Foundation
import SealedTesting
import SigV4
import Testing

@testable import KMS

/// The keystore's record format without a service: encryption contexts of new keys, items from them and back, and
/// every way an item can fail to be a record (ESDK spec `framework/branch-key-store.md`, "Record Format").
struct BranchKeyRecordTests {
    static let arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    static let version = "83eec007-5659-4554-bf11-699b90f41ac6"

    static var decryptOnly: [String: String] {
        BranchKeyRecord.decryptOnlyContext(
            branchKeyID: "orders.created/s-0123",
            version: version,
            createTime: "2024-06-03T19:03:29.358123Z",
            logicalKeyStoreName: "sealed-branch-keys",
            kmsARN: arn,
            custom: ["eventType": "orders.created", "domain": "orders"]
        )
    }

    static func item(_ context: [String: String]) -> DynamoDBItem {
        BranchKeyRecord.item(encryptionContext: context, wrappedKey: Data(repeating: 7, count: 184))
    }

    @Test func contextsOfANewKey() {
        let decryptOnly = Self.decryptOnly
        #expect(
            decryptOnly == [
                "branch-key-id": "orders.created/s-0123", "type": "branch:version:\(Self.version)",
                "create-time": "2024-06-03T19:03:29.358123Z", "tablename": "sealed-branch-keys", "kms-arn": Self.arn,
                "hierarchy-version": "1", "aws-crypto-ec:eventType": "orders.created", "aws-crypto-ec:domain": "orders",
            ]
        )
        let active = BranchKeyRecord.activeContext(decryptOnly: decryptOnly)
        #expect(active["type"] == "branch:ACTIVE" && active["version"] == "branch:version:\(Self.version)")
        #expect(active.filter { $0.key != "type" && $0.key != "version" } == decryptOnly.filter { $0.key != "type" })
        let beacon = BranchKeyRecord.beaconContext(decryptOnly: decryptOnly)
        #expect(beacon["type"] == "beacon:ACTIVE" && beacon["version"] == nil)
    }

    @Test func itemsStoreTheContextAndParseBackToIt() throws {
        for (context, kind, version) in [
            (Self.decryptOnly, BranchKeyRecord.Kind.version, Optional(Self.version)),
            (BranchKeyRecord.activeContext(decryptOnly: Self.decryptOnly), .active, Self.version),
            (BranchKeyRecord.beaconContext(decryptOnly: Self.decryptOnly), .beacon, nil),
        ] {
            let item = Self.item(context)
            #expect(item["tablename"] == nil, "the logical name is bound, not stored")
            #expect(item["hierarchy-version"] == .number("1"))
            #expect(item["enc"] == .binary(Data(repeating: 7, count: 184)))
            #expect(item["aws-crypto-ec:domain"] == .string("orders"))
            let record = try BranchKeyRecord(item: item, logicalKeyStoreName: "sealed-branch-keys")
            #expect(record.encryptionContext == context, "the KMS context is rebuilt exactly")
            #expect(record.kind == kind && record.version == version)
            #expect(record.branchKeyID == "orders.created/s-0123" && record.kmsARN == Self.arn)
            #expect(record.customEncryptionContext == ["eventType": "orders.created", "domain": "orders"])
            #expect(!"\(record)".contains("enc"))
        }
        // Another logical name is another context: the unwrap would fail.
        let renamed = try BranchKeyRecord(item: Self.item(Self.decryptOnly), logicalKeyStoreName: "restored")
        #expect(renamed.encryptionContext["tablename"] == "restored")
    }

    @Test func versionsAreReturnedLowerCase() throws {
        var item = Self.item(Self.decryptOnly)
        item["type"] = .string("branch:version:" + Self.version.uppercased())
        let record = try BranchKeyRecord(item: item, logicalKeyStoreName: "t")
        #expect(record.version == Self.version)
        #expect(record.encryptionContext["type"] == "branch:version:" + Self.version.uppercased())
    }

    /// (case, attribute, its new value or `nil` to remove it, what the reason says).
    @Test(arguments: [
        ("no enc", "enc", nil, "no enc attribute"),
        ("enc as S", "enc", .string("AAEC"), "enc of type S"),
        ("empty enc", "enc", .binary(Data()), "not a KMS ciphertext"),
        ("no id", "branch-key-id", nil, "no branch-key-id"),
        ("empty id", "branch-key-id", .string(""), "empty branch-key-id"),
        ("no type", "type", nil, "no type"),
        ("bad type", "type", .string("branch:OLD"), "has type \"branch:OLD\""),
        ("version not a UUID", "type", .string("branch:version:v2"), "not branch:version:<uuid>"),
        ("no create-time", "create-time", nil, "no create-time"),
        ("no kms-arn", "kms-arn", nil, "no kms-arn"),
        ("alias kms-arn", "kms-arn", .string("arn:aws:kms:us-east-1:1:alias/keys"), "not a KMS key ARN"),
        ("hierarchy as S", "hierarchy-version", .string("1"), "hierarchy-version of type S"),
        ("hierarchy 2", "hierarchy-version", .number("2"), "only version 1"),
        ("tablename", "tablename", .string("x"), "reserved"),
        ("custom as N", "aws-crypto-ec:domain", .number("1"), "aws-crypto-ec:domain of type N"),
        (
            "version on a version item", "version",
            .string("branch:version:83eec007-5659-4554-bf11-699b90f41ac6"), "only branch:ACTIVE items have"
        ),
    ] as [(String, String, DynamoDBAttributeValue?, String)])
    func malformedItems(name: String, attribute: String, value: DynamoDBAttributeValue?, reason: String) {
        var item = Self.item(Self.decryptOnly)
        item[attribute] = value
        do {
            _ = try BranchKeyRecord(item: item, logicalKeyStoreName: "t")
            Issue.record("\(name): parsed")
        } catch {
            #expect(error == .malformedItem, "\(name)")
            #expect(error.reason.contains(reason), "\(name): \(error.reason)")
            #expect(!error.reason.contains("BwcH"), "\(name): the wrapped key stays out of errors")
        }
    }

    @Test func activeItemNeedsAUUIDVersion() {
        var item = Self.item(BranchKeyRecord.activeContext(decryptOnly: Self.decryptOnly))
        item["version"] = nil
        #expect(throws: BranchKeyStoreError.malformedItem) { try BranchKeyRecord(item: item, logicalKeyStoreName: "t") }
        item["version"] = .string("branch:version:not-a-uuid")
        #expect(throws: BranchKeyStoreError.malformedItem) { try BranchKeyRecord(item: item, logicalKeyStoreName: "t") }
        item["version"] = .binary(Data([1]))
        #expect(throws: BranchKeyStoreError.malformedItem) { try BranchKeyRecord(item: item, logicalKeyStoreName: "t") }
    }

    @Test func storeArgumentsAreChecked() throws {
        let credentials = StaticCredentialProvider(.init(accessKeyId: "A", secretAccessKey: "B"))
        let endpoint = URL(string: "http://127.0.0.1:1")!
        let dynamoDB = try DynamoDBClient(region: "us-east-1", credentialProvider: credentials, endpoint: endpoint)
        let kms = try KMSClient(region: "us-east-1", credentialProvider: credentials, endpoint: endpoint)
        func store(table: String = "keys", logical: String = "keys", arn: String = Self.arn) throws -> BranchKeyStore {
            try BranchKeyStore(tableName: table, logicalKeyStoreName: logical, kmsKeyARN: arn, dynamoDB: dynamoDB, kms: kms)
        }
        #expect(try store().description.contains(Self.arn))
        for arn in ["alias/keys", "arn:aws:kms:us-east-1:111122223333:alias/keys", "1234abcd-12ab-34cd-56ef", ""] {
            #expect(throws: BranchKeyStoreError.invalidArgument, "\(arn)") { try store(arn: arn) }
        }
        for table in ["ab", String(repeating: "a", count: 256), "keys/x", "kéys"] {
            #expect(throws: BranchKeyStoreError.invalidArgument, "\(table)") { try store(table: table) }
        }
        #expect(throws: BranchKeyStoreError.invalidArgument) { try store(logical: "") }
    }

    @Test func timestampsHaveMicroseconds() {
        let timestamp = BranchKeyStore.timestamp(Date(timeIntervalSince1970: 1_717_441_409.358_123_6))
        // ISO 8601 in UTC to the microsecond (the last digit is at the mercy of the Double).
        #expect(timestamp.hasPrefix("2024-06-03T19:03:29.35812") && timestamp.hasSuffix("Z") && timestamp.count == 27)
    }
}
