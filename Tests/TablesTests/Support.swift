import Foundation
import Synchronization
import Tables
import WireShapes

/// Allows what its table says, per principal: `["alice": ["dynamodb:GetItem"]]`; `admin` may do everything.
struct TestAuthorizer: TableAuthorizer {
    var allowed: [String: Set<String>] = [:]

    func isAllowed(_ principal: String, _ action: String, on resource: String) async -> Bool {
        principal == "admin" || allowed[principal]?.contains(action) == true
    }
}

/// A table service over an in-memory store, with a keystore-shaped table `keys` (`branch-key-id` S, `type` S) and a
/// numbered table `numbers` (`pk` S, `n` N).
final class TableFixture: Sendable {
    let service: TableService
    let store = InMemoryTableStore()
    let clock = ManualClock()

    init(authorizer: TestAuthorizer = TestAuthorizer()) async throws {
        let clock = self.clock
        service = TableService(
            configuration: .init(region: "us-east-1", accountID: "000000000000"),
            store: store,
            authorizer: authorizer,
            now: { clock.now }
        )
        _ = try await service.createTable(Self.keystoreTable("keys"), caller: "admin")
        _ = try await service.createTable(
            DynamoDBCreateTableRequest(
                tableName: "numbers",
                attributeDefinitions: [
                    .init(attributeName: "pk", attributeType: "S"), .init(attributeName: "n", attributeType: "N"),
                ],
                keySchema: [.init(attributeName: "pk", keyType: "HASH"), .init(attributeName: "n", keyType: "RANGE")],
                billingMode: "PAY_PER_REQUEST"
            ),
            caller: "admin"
        )
    }

    static func keystoreTable(_ name: String) -> DynamoDBCreateTableRequest {
        DynamoDBCreateTableRequest(
            tableName: name,
            attributeDefinitions: [
                .init(attributeName: "branch-key-id", attributeType: "S"),
                .init(attributeName: "type", attributeType: "S"),
            ],
            keySchema: [
                .init(attributeName: "branch-key-id", keyType: "HASH"), .init(attributeName: "type", keyType: "RANGE"),
            ],
            billingMode: "PAY_PER_REQUEST"
        )
    }

    static func branchKey(_ id: String, _ type: String, enc: UInt8 = 1) -> DynamoDBItem {
        [
            "branch-key-id": .string(id), "type": .string(type), "enc": .binary(Data([enc])),
            "hierarchy-version": .number("1"),
        ]
    }

    static func key(_ id: String, _ type: String) -> DynamoDBItem {
        ["branch-key-id": .string(id), "type": .string(type)]
    }

    func put(
        _ item: DynamoDBItem,
        table: String = "keys",
        condition: String? = nil,
        names: [String: String]? = nil
    )
        async throws
    {
        _ = try await service.putItem(
            DynamoDBPutItemRequest(
                tableName: table,
                item: item,
                conditionExpression: condition,
                expressionAttributeNames: names
            ),
            caller: "admin"
        )
    }

    func get(_ key: DynamoDBItem, table: String = "keys") async throws -> DynamoDBItem? {
        try await service.getItem(DynamoDBGetItemRequest(tableName: table, key: key), caller: "admin").item
    }
}

/// A wall clock a test moves by hand.
final class ManualClock: Sendable {
    private let date = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

    var now: Date { date.withLock { $0 } }

    func advance(by seconds: TimeInterval) { date.withLock { $0 += seconds } }
}
