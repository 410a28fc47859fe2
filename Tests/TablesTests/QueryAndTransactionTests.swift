import Foundation
import Testing
import WireShapes

@testable import Tables

/// Queries (order, direction, pagination) and TransactWriteItems (all or nothing, cancellation reasons, limits).
struct QueryAndTransactionTests {
    func query(
        _ fixture: TableFixture,
        table: String = "numbers",
        _ expression: String = "pk = :p",
        values: DynamoDBItem = [":p": .string("a")],
        names: [String: String]? = nil,
        limit: Int? = nil,
        forward: Bool? = nil,
        start: DynamoDBItem? = nil
    ) async throws -> DynamoDBQueryResponse {
        try await fixture.service.query(
            DynamoDBQueryRequest(
                tableName: table,
                keyConditionExpression: expression,
                expressionAttributeNames: names,
                expressionAttributeValues: values,
                limit: limit,
                exclusiveStartKey: start,
                scanIndexForward: forward
            ),
            caller: "admin"
        )
    }

    func fillNumbers(_ fixture: TableFixture) async throws -> [String] {
        let numbers = ["10", "-3", "2.5", "100", "0", "-20", "1E2", "9"]  // 1E2 replaces 100: one key
        for number in numbers {
            try await fixture.put(["pk": .string("a"), "n": .number(number)], table: "numbers")
            try await fixture.put(["pk": .string("b"), "n": .number(number)], table: "numbers")
        }
        return ["-20", "-3", "0", "2.5", "9", "10", "1E2"]
    }

    @Test func numbersSortNumericallyInBothDirections() async throws {
        let fixture = try await TableFixture()
        let ascending = try await fillNumbers(fixture)
        let forward = try await query(fixture)
        #expect(forward.items?.compactMap { $0["n"]?.numberValue } == ascending)
        #expect(forward.count == 7 && forward.lastEvaluatedKey == nil)
        let backward = try await query(fixture, forward: false)
        #expect(backward.items?.compactMap { $0["n"]?.numberValue } == ascending.reversed())
        let range = try await query(
            fixture,
            "pk = :p AND n BETWEEN :lo AND :hi",
            values: [":p": .string("a"), ":lo": .number("0"), ":hi": .number("10")]
        )
        #expect(range.items?.compactMap { $0["n"]?.numberValue } == ["0", "2.5", "9", "10"])
        let below = try await query(fixture, "pk = :p AND n < :v", values: [":p": .string("a"), ":v": .number("0")])
        #expect(below.items?.compactMap { $0["n"]?.numberValue } == ["-20", "-3"])
    }

    @Test func stringsSortByUTF8BytesAndBeginsWithNarrows() async throws {
        let fixture = try await TableFixture()
        let types = [
            "branch:version:b", "beacon:ACTIVE", "branch:ACTIVE", "branch:version:a", "Z", "\u{E9}", "e\u{301}",
        ]
        for type in types { try await fixture.put(TableFixture.branchKey("k", type)) }
        let all = try await query(
            fixture,
            table: "keys",
            "#b = :k",
            values: [":k": .string("k")],
            names: ["#b": "branch-key-id"]
        )
        .items?.compactMap { $0["type"]?.stringValue }
        // Byte order: "Z" (0x5A) < "b…" < "e\u{301}" (0x65 0xCC 0x81) < "\u{E9}" (0xC3 0xA9): two keys, though
        // Swift's `==` holds them equal.
        #expect(all == types.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        let versions = try await fixture.service.query(
            .init(
                tableName: "keys",
                keyConditionExpression: "#b = :k AND begins_with(#t, :v)",
                expressionAttributeNames: ["#b": "branch-key-id", "#t": "type"],
                expressionAttributeValues: [":k": .string("k"), ":v": .string("branch:version:")]
            ),
            caller: "admin"
        )
        #expect(versions.items?.compactMap { $0["type"]?.stringValue } == ["branch:version:a", "branch:version:b"])
    }

    @Test func pagesFollowLastEvaluatedKey() async throws {
        let fixture = try await TableFixture()
        let ascending = try await fillNumbers(fixture)
        for forward in [true, false] {
            var seen: [String] = []
            var start: DynamoDBItem?
            var pages = 0
            repeat {
                let page = try await query(fixture, limit: 3, forward: forward, start: start)
                seen += page.items?.compactMap { $0["n"]?.numberValue } ?? []
                start = page.lastEvaluatedKey
                if let start { #expect(Set(start.keys) == ["pk", "n"]) }
                pages += 1
            } while start != nil && pages < 10
            #expect(seen == (forward ? ascending : ascending.reversed()))
            // 7 items by 3: two full pages (each naming its last key) and a last one of 1.
            #expect(pages == 3)
        }
        let outside = await #expect(throws: TableError.self) {
            try await query(fixture, start: ["pk": .string("b"), "n": .number("1")])
        }
        #expect(
            outside?.message == "The provided starting key is outside query boundaries based on provided conditions"
        )
        let invalid = await #expect(throws: TableError.self) { try await query(fixture, start: ["pk": .string("a")]) }
        #expect(invalid?.message.hasPrefix("The provided starting key is invalid") == true)
        let zero = await #expect(throws: TableError.self) { try await query(fixture, limit: 0) }
        #expect(zero?.code == .validation)
    }

    static func put(_ item: DynamoDBItem, condition: String? = nil) -> DynamoDBTransactWriteItem {
        DynamoDBTransactWriteItem(
            put: .init(
                tableName: "keys",
                item: item,
                conditionExpression: condition,
                expressionAttributeNames: condition == nil ? nil : ["#b": "branch-key-id"]
            )
        )
    }

    @Test func transactionsAreAllOrNothingWithAReasonPerEntry() async throws {
        let fixture = try await TableFixture()
        try await fixture.put(TableFixture.branchKey("k", "branch:ACTIVE", enc: 1))
        let transaction = DynamoDBTransactWriteItemsRequest(transactItems: [
            Self.put(TableFixture.branchKey("k", "branch:version:2", enc: 2), condition: "attribute_not_exists(#b)"),
            Self.put(TableFixture.branchKey("k", "branch:ACTIVE", enc: 2), condition: "attribute_not_exists(#b)"),
            DynamoDBTransactWriteItem(delete: .init(tableName: "keys", key: TableFixture.key("k", "x"))),
        ])
        let error = await #expect(throws: TableError.self) {
            try await fixture.service.transactWriteItems(transaction, caller: "admin")
        }
        #expect(error?.code == .transactionCanceled)
        #expect(error?.cancellationReasons?.map(\.code) == ["None", "ConditionalCheckFailed", "None"])
        #expect(error?.message.hasSuffix("[None, ConditionalCheckFailed, None]") == true)
        // The first entry's put did not happen.
        #expect(try await fixture.get(TableFixture.key("k", "branch:version:2")) == nil)
        #expect(try await fixture.get(TableFixture.key("k", "branch:ACTIVE"))?["enc"] == .binary(Data([1])))

        let rotation = DynamoDBTransactWriteItemsRequest(transactItems: [
            Self.put(TableFixture.branchKey("k", "branch:version:2", enc: 2), condition: "attribute_not_exists(#b)"),
            Self.put(TableFixture.branchKey("k", "branch:ACTIVE", enc: 2), condition: "attribute_exists(#b)"),
            DynamoDBTransactWriteItem(
                conditionCheck: .init(
                    tableName: "numbers",
                    key: ["pk": .string("none"), "n": .number("1")],
                    conditionExpression: "attribute_not_exists(pk)"
                )
            ),
        ])
        _ = try await fixture.service.transactWriteItems(rotation, caller: "admin")
        #expect(try await fixture.get(TableFixture.key("k", "branch:version:2"))?["enc"] == .binary(Data([2])))
        #expect(try await fixture.get(TableFixture.key("k", "branch:ACTIVE"))?["enc"] == .binary(Data([2])))
    }

    @Test func transactionShapesAreChecked() async throws {
        let fixture = try await TableFixture()
        let item = TableFixture.branchKey("k", "t")
        let cases: [([DynamoDBTransactWriteItem], String)] = [
            ([], "Member must have length greater than or equal to 1"),
            (Array(repeating: Self.put(item), count: 101), "Member must have length less than or equal to 100"),
            ([Self.put(item), Self.put(item)], "Transaction request cannot include multiple operations on one item"),
            (
                [
                    DynamoDBTransactWriteItem(
                        put: .init(tableName: "keys", item: item),
                        delete: .init(tableName: "keys", key: TableFixture.key("k", "t"))
                    )
                ],
                "TransactItems can only contain one of Check, Put, Update or Delete"
            ),
            (
                [DynamoDBTransactWriteItem(put: .init(tableName: "missing", item: item))],
                "Requested resource not found: Table: missing not found"
            ),
        ]
        for (entries, message) in cases {
            let error = await #expect(throws: TableError.self) {
                try await fixture.service.transactWriteItems(.init(transactItems: entries), caller: "admin")
            }
            #expect(error?.message.hasSuffix(message) == true, "\(message): \(String(describing: error))")
        }
        let update = try JSONDecoder().decode(DynamoDBTransactWriteItem.self, from: Data(#"{"Update": {}}"#.utf8))
        let refused = await #expect(throws: TableError.self) {
            try await fixture.service.transactWriteItems(.init(transactItems: [update]), caller: "admin")
        }
        #expect(refused?.message.contains("Update is not supported") == true)
        // 100 distinct entries are fine.
        let hundred = (0..<100).map { Self.put(TableFixture.branchKey("k", "v\($0)")) }
        _ = try await fixture.service.transactWriteItems(.init(transactItems: hundred), caller: "admin")
    }

    @Test func eachEntryIsAuthorizedAsItsOwnAction() async throws {
        let fixture = try await TableFixture(authorizer: TestAuthorizer(allowed: ["writer": ["dynamodb:PutItem"]]))
        let puts = DynamoDBTransactWriteItemsRequest(transactItems: [Self.put(TableFixture.branchKey("k", "t"))])
        _ = try await fixture.service.transactWriteItems(puts, caller: "writer")
        let withDelete = DynamoDBTransactWriteItemsRequest(transactItems: [
            Self.put(TableFixture.branchKey("k", "u")),
            DynamoDBTransactWriteItem(delete: .init(tableName: "keys", key: TableFixture.key("k", "t"))),
        ])
        let denied = await #expect(throws: TableError.self) {
            try await fixture.service.transactWriteItems(withDelete, caller: "writer")
        }
        #expect(denied?.code == .accessDenied)
        #expect(denied?.message.contains("dynamodb:DeleteItem") == true)
        #expect(try await fixture.get(TableFixture.key("k", "u")) == nil)
    }

    @Test func aClientRequestTokenMakesARetryANoOp() async throws {
        let fixture = try await TableFixture()
        let create = DynamoDBTransactWriteItemsRequest(
            transactItems: [Self.put(TableFixture.branchKey("k", "t"), condition: "attribute_not_exists(#b)")],
            clientRequestToken: "token-1"
        )
        _ = try await fixture.service.transactWriteItems(create, caller: "admin")
        // The retry of a transaction that succeeded succeeds, though its condition no longer holds.
        _ = try await fixture.service.transactWriteItems(create, caller: "admin")
        var other = create
        other.transactItems = [Self.put(TableFixture.branchKey("k", "u"))]
        let mismatch = await #expect(throws: TableError.self) {
            try await fixture.service.transactWriteItems(other, caller: "admin")
        }
        #expect(mismatch?.code == .idempotentParameterMismatch)
        // Ten minutes later the token is forgotten: the condition decides again.
        fixture.clock.advance(by: 601)
        let late = await #expect(throws: TableError.self) {
            try await fixture.service.transactWriteItems(create, caller: "admin")
        }
        #expect(late?.code == .transactionCanceled)
    }
}
