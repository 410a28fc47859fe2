import Foundation
import PostgresStorage
import SealedTesting
import Storage
import Tables
import Testing
import WireShapes

/// A `TableStore` implementation the table contract runs against.
struct TableStoreKind: Sendable, CustomTestStringConvertible {
    let name: String
    let run: @Sendable (_ body: (any TableStore, URL?) async throws -> Void) async throws -> Void

    var testDescription: String { name }

    static let inMemory = TableStoreKind(name: "InMemoryTableStore") { body in try await body(InMemoryTableStore(), nil)
    }

    static let sqlite = TableStoreKind(name: "SQLiteTableStore") { body in
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent(SQLiteTableStore.fileName)
            let store = try SQLiteTableStore(url: url)
            defer { try? store.close() }
            try await body(store, url)
        }
    }

    static let postgres = TableStoreKind(name: "PostgresTableStore") { body in
        try await withPostgres { database in try await body(PostgresTableStore(database: database), nil) }
    }

    static let all: [TableStoreKind] = [.inMemory, .sqlite, .postgres]
}

/// Allows everything: these tests are about the stores.
struct AllowingTableAuthorizer: TableAuthorizer {
    func isAllowed(_ principal: String, _ action: String, on resource: String) async -> Bool { true }
}

/// The table service over each store: the same answers, queries in DynamoDB's order from SQL, transactions that
/// change nothing when a condition fails, and erased items gone from the SQLite files.
struct TableStoreTests {
    static func service(_ store: any TableStore) async throws -> TableService {
        let service = TableService(
            configuration: .init(region: "us-east-1", accountID: "000000000000"),
            store: store,
            authorizer: AllowingTableAuthorizer()
        )
        _ = try await service.createTable(
            DynamoDBCreateTableRequest(
                tableName: "sealed-branch-keys",
                attributeDefinitions: [
                    .init(attributeName: "branch-key-id", attributeType: "S"),
                    .init(attributeName: "type", attributeType: "S"),
                ],
                keySchema: [
                    .init(attributeName: "branch-key-id", keyType: "HASH"),
                    .init(attributeName: "type", keyType: "RANGE"),
                ],
                billingMode: "PAY_PER_REQUEST"
            ),
            caller: "admin"
        )
        _ = try await service.createTable(
            DynamoDBCreateTableRequest(
                tableName: "numbers",
                attributeDefinitions: [
                    .init(attributeName: "pk", attributeType: "B"), .init(attributeName: "n", attributeType: "N"),
                ],
                keySchema: [.init(attributeName: "pk", keyType: "HASH"), .init(attributeName: "n", keyType: "RANGE")],
                billingMode: "PAY_PER_REQUEST"
            ),
            caller: "admin"
        )
        return service
    }

    static func branchKey(_ id: String, _ type: String, enc: Data) -> DynamoDBItem {
        [
            "branch-key-id": .string(id), "type": .string(type), "enc": .binary(enc),
            "create-time": .string("2026-12-04T10:00:00Z"),
        ]
    }

    @Test(arguments: TableStoreKind.all)
    func queriesReadInDynamoDBsOrderAndPages(kind: TableStoreKind) async throws {
        try await kind.run { store, _ in
            let service = try await Self.service(store)
            let numbers = ["-1.5", "3", "-20", "0", "12", "1E1", "2.25", "-0.001"]
            for number in numbers {
                _ = try await service.putItem(
                    .init(
                        tableName: "numbers",
                        item: ["pk": .binary(Data([0, 1])), "n": .number(number), "x": .stringSet(["a"])]
                    ),
                    caller: "admin"
                )
            }
            func page(
                _ condition: String,
                _ values: DynamoDBItem,
                forward: Bool = true,
                limit: Int? = nil,
                start: DynamoDBItem? = nil
            )
                async throws -> DynamoDBQueryResponse
            {
                try await service.query(
                    .init(
                        tableName: "numbers",
                        keyConditionExpression: condition,
                        expressionAttributeValues: values,
                        limit: limit,
                        exclusiveStartKey: start,
                        scanIndexForward: forward
                    ),
                    caller: "admin"
                )
            }
            let p: DynamoDBAttributeValue = .binary(Data([0, 1]))
            let all = try await page("pk = :p", [":p": p]).items?.compactMap { $0["n"]?.numberValue }
            #expect(all == ["-20", "-1.5", "-0.001", "0", "2.25", "3", "1E1", "12"])
            let between = try await page(
                "pk = :p AND n BETWEEN :a AND :b",
                [":p": p, ":a": .number("-1.5"), ":b": .number("10")],
                forward: false
            )
            #expect(between.items?.compactMap { $0["n"]?.numberValue } == ["1E1", "3", "2.25", "0", "-0.001", "-1.5"])
            let first = try await page("pk = :p AND n > :z", [":p": p, ":z": .number("0")], limit: 2)
            #expect(first.items?.compactMap { $0["n"]?.numberValue } == ["2.25", "3"])
            let second = try await page(
                "pk = :p AND n > :z",
                [":p": p, ":z": .number("0")],
                limit: 2,
                start: first.lastEvaluatedKey
            )
            #expect(second.items?.compactMap { $0["n"]?.numberValue } == ["1E1", "12"])
            // Another partition holds nothing.
            #expect(try await page("pk = :p", [":p": .binary(Data([0]))]).items == [])

            let key = "branch-key-id"
            for type in ["branch:version:b", "beacon:ACTIVE", "branch:ACTIVE", "branch:version:a", "branch:version"] {
                _ = try await service.putItem(
                    .init(tableName: "sealed-branch-keys", item: Self.branchKey("k", type, enc: Data([1]))),
                    caller: "admin"
                )
            }
            let versions = try await service.query(
                .init(
                    tableName: "sealed-branch-keys",
                    keyConditionExpression: "#k = :k AND begins_with(#t, :v)",
                    expressionAttributeNames: ["#k": key, "#t": "type"],
                    expressionAttributeValues: [":k": .string("k"), ":v": .string("branch:version:")]
                ),
                caller: "admin"
            )
            #expect(versions.items?.compactMap { $0["type"]?.stringValue } == ["branch:version:a", "branch:version:b"])
            let statistics = try await store.statistics(of: "sealed-branch-keys")
            #expect(statistics.items == 5)
        }
    }

    @Test(arguments: TableStoreKind.all)
    func aFailedTransactionChangesNothingAndDeletingATableDropsItsItems(kind: TableStoreKind) async throws {
        try await kind.run { store, _ in
            let service = try await Self.service(store)
            let active = Self.branchKey("k", "branch:ACTIVE", enc: Data([1]))
            _ = try await service.putItem(.init(tableName: "sealed-branch-keys", item: active), caller: "admin")
            let entries = [
                DynamoDBTransactWriteItem(
                    put: .init(
                        tableName: "sealed-branch-keys",
                        item: Self.branchKey("k", "branch:version:1", enc: Data([2]))
                    )
                ),
                DynamoDBTransactWriteItem(
                    put: .init(
                        tableName: "sealed-branch-keys",
                        item: Self.branchKey("k", "branch:ACTIVE", enc: Data([2])),
                        conditionExpression: "attribute_not_exists(#k)",
                        expressionAttributeNames: ["#k": "branch-key-id"]
                    )
                ),
            ]
            let error = await #expect(throws: TableError.self) {
                try await service.transactWriteItems(.init(transactItems: entries), caller: "admin")
            }
            #expect(error?.cancellationReasons?.map(\.code) == ["None", "ConditionalCheckFailed"])
            let address = ItemAddress(
                table: "sealed-branch-keys",
                key: ItemKey(partition: Array("k".utf8), sort: Array("branch:version:1".utf8))
            )
            #expect(try await store.item(at: address) == nil)
            #expect(
                try await service.getItem(
                    .init(
                        tableName: "sealed-branch-keys",
                        key: ["branch-key-id": .string("k"), "type": .string("branch:ACTIVE")]
                    ),
                    caller: "admin"
                ).item
                    == active
            )
            // A store-level transaction whose decision throws writes nothing either.
            struct Refusal: Error {}
            await #expect(throws: Refusal.self) {
                _ = try await store.transact([address]) { _ in throw Refusal() }
            }
            #expect(try await store.item(at: address) == nil)

            _ = try await service.deleteTable(.init(tableName: "sealed-branch-keys"), caller: "admin")
            #expect(try await store.statistics(of: "sealed-branch-keys").items == 0)
            await #expect(throws: TableError.self) {
                _ = try await store.transact([address]) { _ in [.put(address, active)] }
            }
            #expect(try await store.tableNames(after: nil, limit: 10) == ["numbers"])
        }
    }

    /// Crypto-shredding rests on this: once a branch key's items are deleted, their wrapped key bytes are in neither
    /// the database file nor its log.
    @Test func deletedItemsLeaveNoBytesInTheFiles() async throws {
        try await TableStoreKind.sqlite.run { store, url in
            let url = try #require(url)
            let service = try await Self.service(store)
            let marker = Data("WRAPPED-KEY-MATERIAL-0123456789".utf8)
            let keep = Data("KEPT-KEY-MATERIAL-9876543210".utf8)
            for type in ["branch:ACTIVE", "branch:version:1", "beacon:ACTIVE"] {
                _ = try await service.putItem(
                    .init(tableName: "sealed-branch-keys", item: Self.branchKey("erased", type, enc: marker)),
                    caller: "admin"
                )
            }
            _ = try await service.putItem(
                .init(tableName: "sealed-branch-keys", item: Self.branchKey("kept", "branch:ACTIVE", enc: keep)),
                caller: "admin"
            )
            func files() throws -> Data {
                var bytes = Data()
                for suffix in ["", "-wal"] {
                    let file = URL(fileURLWithPath: url.path + suffix)
                    if FileManager.default.fileExists(atPath: file.path) { bytes += try Data(contentsOf: file) }
                }
                return bytes
            }
            // The items are written as JSON, the key base64.
            let encodedMarker = Data(marker.base64EncodedString().utf8)
            let encodedKeep = Data(keep.base64EncodedString().utf8)
            #expect(try files().range(of: encodedMarker) != nil)
            let erasure = ["branch:ACTIVE", "branch:version:1", "beacon:ACTIVE"].map { type in
                DynamoDBTransactWriteItem(
                    delete: .init(
                        tableName: "sealed-branch-keys",
                        key: ["branch-key-id": .string("erased"), "type": .string(type)]
                    )
                )
            }
            _ = try await service.transactWriteItems(.init(transactItems: erasure), caller: "admin")
            let after = try files()
            #expect(after.range(of: encodedMarker) == nil)
            #expect(after.range(of: encodedKeep) != nil)
        }
    }

    @Test func theFileIsPrivateAndReopens() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent(SQLiteTableStore.fileName)
            do {
                let store = try SQLiteTableStore(url: url)
                _ = try await Self.service(store)
                try store.close()
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let store = try SQLiteTableStore(url: url)
            defer { try? store.close() }
            #expect(try await store.tableNames(after: nil, limit: 10) == ["numbers", "sealed-branch-keys"])
            #expect(try await store.table(named: "numbers")?.sortKey == KeyAttribute(name: "n", type: .number))
        }
    }
}
