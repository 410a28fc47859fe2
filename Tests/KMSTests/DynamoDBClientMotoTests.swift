import Foundation
import KMS
import SealedTesting
import SigV4
import Testing

/// The DynamoDB client against moto's DynamoDB, with IAM enforcement on: table and item operations, pagination,
/// and how the service's errors map (not found, condition failures, cancelled transactions with their reasons,
/// access denied).
struct DynamoDBClientMotoTests {
    static func key(_ id: String, _ type: String) -> DynamoDBItem {
        ["pk": .string(id), "sk": .string(type)]
    }

    static func createTable(_ dynamoDB: DynamoDBClient, _ name: String) async throws -> DynamoDBTableDescription? {
        try await dynamoDB.createTable(
            DynamoDBCreateTableRequest(
                tableName: name,
                attributeDefinitions: [
                    DynamoDBAttributeDefinition(attributeName: "pk", attributeType: "S"),
                    DynamoDBAttributeDefinition(attributeName: "sk", attributeType: "S"),
                ],
                keySchema: [
                    DynamoDBKeySchemaElement(attributeName: "pk", keyType: "HASH"),
                    DynamoDBKeySchemaElement(attributeName: "sk", keyType: "RANGE"),
                ],
                billingMode: "PAY_PER_REQUEST"
            )
        ).tableDescription
    }

    @Test func tableAndItemOperations() async throws {
        guard let moto = try Moto.located() else { return }
        let dynamoDB = try moto.dynamoDB()
        let table = Moto.uniqueTable("ddb-items")
        let created = try #require(try await Self.createTable(dynamoDB, table))
        #expect(created.tableName == table)
        #expect(created.tableArn == "arn:aws:dynamodb:\(moto.region):\(moto.account):table/\(table)")
        let described = try #require(try await dynamoDB.describeTable(.init(tableName: table)).table)
        #expect(Set(described.keySchema ?? []) == Set(created.keySchema ?? []))
        #expect(described.tableStatus == "ACTIVE")
        #expect(try await dynamoDB.listTables().tableNames?.contains(table) == true)

        let blob = Data((0..<64).map { UInt8($0) })
        let item: DynamoDBItem = Self.key("a", "1").merging([
            "text": .string("ünïcødé ✓"), "number": .number("12.50"), "blob": .binary(blob), "flag": .bool(true),
            "nothing": .null, "map": .map(["inner": .list([.string("x"), .number("1")])]),
            "strings": .stringSet(["a", "b"]),
        ]) { a, _ in a }
        _ = try await dynamoDB.putItem(.init(tableName: table, item: item))
        let read = try await dynamoDB.getItem(.init(tableName: table, key: Self.key("a", "1"), consistentRead: true))
        #expect(read.item?["text"] == .string("ünïcødé ✓"))
        #expect(read.item?["blob"] == .binary(blob))
        #expect(read.item?["number"]?.numberValue.flatMap(Double.init) == 12.5)
        #expect(read.item?["flag"] == .bool(true) && read.item?["nothing"] == .null)
        #expect(read.item?["map"] == .map(["inner": .list([.string("x"), .number("1")])]))
        if case .stringSet(let strings)? = read.item?["strings"] {
            #expect(Set(strings) == ["a", "b"])
        } else {
            Issue.record("the string set came back as \(String(describing: read.item?["strings"]))")
        }
        #expect(try await dynamoDB.getItem(.init(tableName: table, key: Self.key("a", "2"))).item == nil)

        for index in 2...7 {
            _ = try await dynamoDB.putItem(.init(tableName: table, item: Self.key("a", "\(index)")))
        }
        _ = try await dynamoDB.putItem(.init(tableName: table, item: Self.key("b", "1")))
        var sortKeys: [String] = []
        var start: DynamoDBItem? = nil
        var pages = 0
        repeat {
            let page = try await dynamoDB.query(
                .init(
                    tableName: table,
                    keyConditionExpression: "#p = :p",
                    expressionAttributeNames: ["#p": "pk"],
                    expressionAttributeValues: [":p": .string("a")],
                    consistentRead: true,
                    limit: 3,
                    exclusiveStartKey: start
                )
            )
            sortKeys += (page.items ?? []).compactMap { $0["sk"]?.stringValue }
            start = page.lastEvaluatedKey
            pages += 1
        } while start != nil && pages < 10
        #expect(sortKeys == (1...7).map(String.init))
        #expect(pages >= 3)

        let deleted = try await dynamoDB.deleteItem(
            .init(tableName: table, key: Self.key("a", "1"), returnValues: "ALL_OLD")
        )
        #expect(deleted.attributes?["text"] == .string("ünïcødé ✓"))
        let again = try await dynamoDB.deleteItem(.init(tableName: table, key: Self.key("a", "1"), returnValues: "ALL_OLD"))
        #expect(again.attributes == nil || again.attributes?.isEmpty == true)
        _ = try await dynamoDB.deleteTable(.init(tableName: table))
    }

    @Test func errorsMapToDynamoDBError() async throws {
        guard let moto = try Moto.located() else { return }
        let dynamoDB = try moto.dynamoDB()
        let missing = Moto.uniqueTable("ddb-missing")
        await #expect(throws: DynamoDBError.resourceNotFound) {
            _ = try await dynamoDB.describeTable(.init(tableName: missing))
        }

        let table = Moto.uniqueTable("ddb-errors")
        _ = try await Self.createTable(dynamoDB, table)
        let notExists = "attribute_not_exists(#p)"
        _ = try await dynamoDB.putItem(
            .init(
                tableName: table,
                item: Self.key("a", "1"),
                conditionExpression: notExists,
                expressionAttributeNames: ["#p": "pk"]
            )
        )
        do {
            _ = try await dynamoDB.putItem(
                .init(
                    tableName: table,
                    item: Self.key("a", "1"),
                    conditionExpression: notExists,
                    expressionAttributeNames: ["#p": "pk"]
                )
            )
            Issue.record("a second put under attribute_not_exists succeeded")
        } catch let error as DynamoDBError {
            #expect(error.code == .conditionalCheckFailedException)
            #expect(error.isConditionFailure)
            #expect(error.statusCode == 400)
        }

        // A transaction whose second entry fails its condition: cancelled, with one reason per entry.
        do {
            _ = try await dynamoDB.transactWriteItems(
                .init(transactItems: [
                    .init(put: .init(tableName: table, item: Self.key("a", "2"))),
                    .init(
                        put: .init(
                            tableName: table,
                            item: Self.key("a", "1"),
                            conditionExpression: notExists,
                            expressionAttributeNames: ["#p": "pk"]
                        )
                    ),
                ])
            )
            Issue.record("a transaction with a failing condition succeeded")
        } catch let error as DynamoDBError {
            #expect(error.code == .transactionCanceledException)
            #expect(error.cancellationReasons.map(\.code) == ["None", "ConditionalCheckFailed"])
            #expect(error.isConditionFailure)
            #expect(error.description.contains("ConditionalCheckFailed"))
        }
        #expect(
            try await dynamoDB.getItem(.init(tableName: table, key: Self.key("a", "2"))).item == nil,
            "nothing of a cancelled transaction is written"
        )

        // The user without DynamoDB permissions: AccessDenied (moto answers in XML) as AccessDeniedException.
        let denied = try moto.dynamoDB(moto.denied)
        do {
            _ = try await denied.getItem(.init(tableName: table, key: Self.key("a", "1")))
            Issue.record("the denied user read an item")
        } catch let error as DynamoDBError {
            #expect(error == .accessDenied)
            #expect(!error.isRetryable)
        }
    }

    @Test func unreachableEndpointIsAClientError() async throws {
        let dynamoDB = try DynamoDBClient(
            region: "us-east-1",
            credentialProvider: StaticCredentialProvider(.init(accessKeyId: "AKID", secretAccessKey: "secret")),
            endpoint: URL(string: "http://127.0.0.1:1")!,
            options: ClientOptions(maxAttempts: 1, timeout: .seconds(5))
        )
        await #expect(throws: ClientError(.connectionFailed, "")) {
            _ = try await dynamoDB.listTables()
        }
    }
}
