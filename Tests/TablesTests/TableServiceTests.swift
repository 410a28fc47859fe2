import Foundation
import Testing
import WireShapes

@testable import Tables

/// Tables and single items: creation rules, key validation, conditional writes, authorization.
struct TableServiceTests {
    @Test func createDescribeListAndDeleteTables() async throws {
        let fixture = try await TableFixture()
        let described = try await fixture.service.describeTable(.init(tableName: "keys"), caller: "admin").table
        #expect(described?.tableArn == "arn:aws:dynamodb:us-east-1:000000000000:table/keys")
        #expect(described?.tableStatus == "ACTIVE")
        #expect(described?.keySchema?.map(\.keyType) == ["HASH", "RANGE"])
        #expect(described?.billingModeSummary?.billingMode == "PAY_PER_REQUEST")
        let again = await #expect(throws: TableError.self) {
            try await fixture.service.createTable(TableFixture.keystoreTable("keys"), caller: "admin")
        }
        #expect(again?.code == .resourceInUse)

        let first = try await fixture.service.listTables(.init(limit: 1), caller: "admin")
        #expect(first.tableNames == ["keys"])
        #expect(first.lastEvaluatedTableName == "keys")
        let rest = try await fixture.service.listTables(.init(exclusiveStartTableName: "keys"), caller: "admin")
        #expect(rest.tableNames == ["numbers"])
        #expect(rest.lastEvaluatedTableName == nil)

        try await fixture.put(TableFixture.branchKey("k", "branch:ACTIVE"))
        let deleted = try await fixture.service.deleteTable(.init(tableName: "keys"), caller: "admin")
        #expect(deleted.tableDescription?.tableStatus == "DELETING")
        let gone = await #expect(throws: TableError.self) {
            try await fixture.get(TableFixture.key("k", "branch:ACTIVE"))
        }
        #expect(gone?.code == .resourceNotFound)
        // A table of the same name starts empty.
        _ = try await fixture.service.createTable(TableFixture.keystoreTable("keys"), caller: "admin")
        #expect(try await fixture.get(TableFixture.key("k", "branch:ACTIVE")) == nil)
    }

    @Test(arguments: [
        ("ab", "Member must have length greater than or equal to 3"),
        ("has space", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
        (String(repeating: "x", count: 256), "Member must have length less than or equal to 255"),
    ])
    func tableNamesFollowDynamoDBsPattern(name: String, constraint: String) async throws {
        let fixture = try await TableFixture()
        let error = await #expect(throws: TableError.self) {
            try await fixture.service.describeTable(.init(tableName: name), caller: "admin")
        }
        #expect(error?.code == .validation)
        #expect(error?.message.hasSuffix(constraint) == true)
    }

    @Test func tableNamesMayBeTheTablesARN() async throws {
        let fixture = try await TableFixture()
        let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/keys"
        #expect(
            try await fixture.service.describeTable(.init(tableName: arn), caller: "admin").table?.tableName == "keys"
        )
    }

    @Test func keySchemasAreChecked() async throws {
        let fixture = try await TableFixture()
        func create(
            _ schema: [DynamoDBKeySchemaElement],
            _ definitions: [DynamoDBAttributeDefinition],
            billing: String? = "PAY_PER_REQUEST"
        )
            async throws
        {
            _ = try await fixture.service.createTable(
                .init(tableName: "other", attributeDefinitions: definitions, keySchema: schema, billingMode: billing),
                caller: "admin"
            )
        }
        let cases: [([DynamoDBKeySchemaElement], [DynamoDBAttributeDefinition], String?)] = [
            (
                [.init(attributeName: "a", keyType: "RANGE")], [.init(attributeName: "a", attributeType: "S")],
                "PAY_PER_REQUEST"
            ),
            (
                [.init(attributeName: "a", keyType: "HASH")], [.init(attributeName: "b", attributeType: "S")],
                "PAY_PER_REQUEST"
            ),
            (
                [.init(attributeName: "a", keyType: "HASH")], [.init(attributeName: "a", attributeType: "BOOL")],
                "PAY_PER_REQUEST"
            ),
            (
                [.init(attributeName: "a", keyType: "HASH"), .init(attributeName: "a", keyType: "RANGE")],
                [.init(attributeName: "a", attributeType: "S")], "PAY_PER_REQUEST"
            ),
            ([.init(attributeName: "a", keyType: "HASH")], [.init(attributeName: "a", attributeType: "S")], nil),
        ]
        for (schema, definitions, billing) in cases {
            let error = await #expect(throws: TableError.self) {
                try await create(schema, definitions, billing: billing)
            }
            #expect(error?.code == .validation)
        }
        let none = await #expect(throws: TableError.self) {
            try await fixture.service.describeTable(.init(tableName: "other"), caller: "admin")
        }
        #expect(none?.code == .resourceNotFound)
    }

    @Test func keysMustMatchTheSchema() async throws {
        let fixture = try await TableFixture()
        let cases: [(DynamoDBItem, String)] = [
            (["branch-key-id": .string("k")], "The provided key element does not match the schema"),
            (
                ["branch-key-id": .string("k"), "type": .number("1")],
                "The provided key element does not match the schema"
            ),
            (
                ["branch-key-id": .string("k"), "type": .string("t"), "enc": .binary(Data())],
                "The provided key element does not match the schema"
            ),
            (
                ["branch-key-id": .string(""), "type": .string("t")],
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
                    + "empty string value. Key: branch-key-id"
            ),
        ]
        for (key, message) in cases {
            let error = await #expect(throws: TableError.self) { try await fixture.get(key) }
            #expect(error?.message == message)
        }
        let missing = await #expect(throws: TableError.self) { try await fixture.put(["branch-key-id": .string("k")]) }
        #expect(missing?.message == "One or more parameter values were invalid: Missing the key type in the item")
        let mismatch = await #expect(throws: TableError.self) {
            try await fixture.put(["branch-key-id": .string("k"), "type": .bool(true)])
        }
        #expect(
            mismatch?.message
                == "One or more parameter values were invalid: Type mismatch for key type expected: S actual: BOOL"
        )
    }

    @Test func itemsOver400KBAndInvalidValuesAreRefused() async throws {
        let fixture = try await TableFixture()
        var item = TableFixture.branchKey("k", "t")
        item["big"] = .binary(Data(count: 400 * 1024))
        let big = await #expect(throws: TableError.self) { try await fixture.put(item) }
        #expect(big?.message == "Item size has exceeded the maximum allowed size")
        item["big"] = .binary(Data(count: 399 * 1024))
        try await fixture.put(item)
        for value: DynamoDBAttributeValue in [
            .number("x1"), .stringSet([]), .stringSet(["a", "a"]), .numberSet(["1", "1.0"]),
        ] {
            var item = TableFixture.branchKey("k", "t")
            item["bad"] = value
            let error = await #expect(throws: TableError.self) { try await fixture.put(item) }
            #expect(error?.code == .validation, "\(value)")
        }
    }

    @Test func conditionalPutAndDelete() async throws {
        let fixture = try await TableFixture()
        let names = ["#b": "branch-key-id"]
        try await fixture.put(
            TableFixture.branchKey("k", "branch:ACTIVE", enc: 1),
            condition: "attribute_not_exists(#b)",
            names: names
        )
        let again = await #expect(throws: TableError.self) {
            try await fixture.put(
                TableFixture.branchKey("k", "branch:ACTIVE", enc: 2),
                condition: "attribute_not_exists(#b)",
                names: names
            )
        }
        #expect(again?.code == .conditionalCheckFailed)
        #expect(again?.message == "The conditional request failed")
        #expect(try await fixture.get(TableFixture.key("k", "branch:ACTIVE"))?["enc"] == .binary(Data([1])))
        try await fixture.put(
            TableFixture.branchKey("k", "branch:ACTIVE", enc: 3),
            condition: "attribute_exists(#b)",
            names: names
        )
        #expect(try await fixture.get(TableFixture.key("k", "branch:ACTIVE"))?["enc"] == .binary(Data([3])))

        let request = DynamoDBDeleteItemRequest(
            tableName: "keys",
            key: TableFixture.key("k", "branch:ACTIVE"),
            conditionExpression: "enc = :e",
            expressionAttributeValues: [":e": .binary(Data([1]))],
            returnValues: "ALL_OLD"
        )
        let refused = await #expect(throws: TableError.self) {
            try await fixture.service.deleteItem(request, caller: "admin")
        }
        #expect(refused?.code == .conditionalCheckFailed)
        var matching = request
        matching.expressionAttributeValues = [":e": .binary(Data([3]))]
        let old = try await fixture.service.deleteItem(matching, caller: "admin").attributes
        #expect(old?["enc"] == .binary(Data([3])))
        #expect(try await fixture.get(TableFixture.key("k", "branch:ACTIVE")) == nil)
        // Deleting what is not there succeeds and returns nothing.
        #expect(
            try await fixture.service.deleteItem(
                .init(tableName: "keys", key: TableFixture.key("k", "x"), returnValues: "ALL_OLD"),
                caller: "admin"
            ).attributes == nil
        )
    }

    @Test func putReturnsTheOldItemAndGetProjects() async throws {
        let fixture = try await TableFixture()
        try await fixture.put(TableFixture.branchKey("k", "t", enc: 1))
        let replaced = try await fixture.service.putItem(
            .init(tableName: "keys", item: TableFixture.branchKey("k", "t", enc: 2), returnValues: "ALL_OLD"),
            caller: "admin"
        )
        #expect(replaced.attributes?["enc"] == .binary(Data([1])))
        let projected = try await fixture.service.getItem(
            .init(
                tableName: "keys",
                key: TableFixture.key("k", "t"),
                projectionExpression: "#t, #h",
                expressionAttributeNames: ["#t": "type", "#h": "hierarchy-version"]
            ),
            caller: "admin"
        )
        #expect(projected.item == ["type": .string("t"), "hierarchy-version": .number("1")])
        let invalid = await #expect(throws: TableError.self) {
            try await fixture.service.putItem(
                .init(tableName: "keys", item: TableFixture.branchKey("k", "t"), returnValues: "ALL_NEW"),
                caller: "admin"
            )
        }
        #expect(invalid?.code == .validation)
    }

    @Test func callersNeedTheActionOnTheTable() async throws {
        let fixture = try await TableFixture(authorizer: TestAuthorizer(allowed: ["reader": ["dynamodb:GetItem"]]))
        try await fixture.put(TableFixture.branchKey("k", "t"))
        let read = try await fixture.service.getItem(
            .init(tableName: "keys", key: TableFixture.key("k", "t")),
            caller: "reader"
        )
        #expect(read.item != nil)
        let denied = await #expect(throws: TableError.self) {
            try await fixture.service.putItem(
                .init(tableName: "keys", item: TableFixture.branchKey("k", "t")),
                caller: "reader"
            )
        }
        #expect(denied?.code == .accessDenied)
        #expect(
            denied?.message
                == "User: reader is not authorized to perform: dynamodb:PutItem on resource: "
                + "arn:aws:dynamodb:us-east-1:000000000000:table/keys because no identity-based policy allows the "
                + "dynamodb:PutItem action"
        )
        // Refused before the table is looked up: a stranger learns nothing of which tables exist.
        let stranger = await #expect(throws: TableError.self) {
            try await fixture.service.describeTable(.init(tableName: "missing"), caller: "stranger")
        }
        #expect(stranger?.code == .accessDenied)
        let list = await #expect(throws: TableError.self) {
            try await fixture.service.listTables(.init(), caller: "reader")
        }
        #expect(list?.message.contains("dynamodb:ListTables on resource: *") == true)
    }
}
