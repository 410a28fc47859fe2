import Foundation
import Testing
import WireShapes

@testable import Tables

/// The condition expression parser and evaluator: each operator, placeholders, precedence and DynamoDB's errors.
struct ExpressionTests {
    static let item: DynamoDBItem = [
        "branch-key-id": .string("key-1"),
        "type": .string("branch:version:abc"),
        "hierarchy-version": .number("1"),
        "enc": .binary(Data([1, 2, 3])),
        "flag": .bool(true),
    ]

    func parse(
        _ text: String,
        names: [String: String]? = nil,
        values: DynamoDBItem? = nil
    ) throws(TableError) -> Condition {
        var placeholders = try Placeholders(names: names, values: values, hasExpression: true)
        let condition = try ExpressionParser.condition(text, .condition, &placeholders)
        try placeholders.requireAllUsed()
        return condition
    }

    func holds(
        _ text: String,
        names: [String: String]? = nil,
        values: DynamoDBItem? = nil,
        on item: DynamoDBItem? = item
    )
        throws -> Bool
    {
        try parse(text, names: names, values: values).isSatisfied(by: item)
    }

    @Test func existenceFunctionsWithNamePlaceholders() throws {
        let names = ["#b": "branch-key-id"]
        #expect(try holds("attribute_exists(#b)", names: names))
        #expect(try !holds("attribute_not_exists(#b)", names: names))
        #expect(try holds("attribute_not_exists(#b)", names: names, on: nil))
        #expect(try !holds("attribute_exists(#b)", names: names, on: nil))
        #expect(try holds("attribute_not_exists(missing)"))
    }

    @Test(arguments: [
        ("#v = :one", true), ("#v <> :one", false), ("#v < :two", true), ("#v <= :one", true),
        ("#v > :one", false), ("#v >= :one", true), (":one = #v", true), ("#v BETWEEN :one AND :two", true),
        ("#v between :two and :two", false),
    ])
    func comparisonsOnNumbers(expression: String, expected: Bool) throws {
        let values: DynamoDBItem = [":one": .number("1.0"), ":two": .number("2")]
        var placeholders = try Placeholders(names: ["#v": "hierarchy-version"], values: values, hasExpression: true)
        let condition = try ExpressionParser.condition(expression, .condition, &placeholders)
        #expect(condition.isSatisfied(by: Self.item) == expected)
    }

    @Test func stringsCompareByUTF8BytesAndBeginsWith() throws {
        let names = ["#t": "type"]
        #expect(try holds("begins_with(#t, :p)", names: names, values: [":p": .string("branch:version:")]))
        #expect(try !holds("begins_with(#t, :p)", names: names, values: [":p": .string("beacon:")]))
        #expect(try holds("#t < :z", names: names, values: [":z": .string("c")]))
        // "é" precomposed and decomposed are equal for Swift's ==, not for DynamoDB.
        let item: DynamoDBItem = ["name": .string("\u{E9}")]
        #expect(try !holds("name = :n", values: [":n": .string("e\u{301}")], on: item))
        #expect(try holds("name = :n", values: [":n": .string("\u{E9}")], on: item))
    }

    @Test func missingAttributesAndMismatchedTypes() throws {
        #expect(try !holds("missing = :v", values: [":v": .string("x")]))
        #expect(try holds("missing <> :v", values: [":v": .string("x")]))
        // A number never equals a string of the same digits; ordering across types is false.
        #expect(try !holds("#v = :v", names: ["#v": "hierarchy-version"], values: [":v": .string("1")]))
        #expect(try !holds("#v < :v", names: ["#v": "hierarchy-version"], values: [":v": .string("9")]))
        #expect(try holds("enc = :e", values: [":e": .binary(Data([1, 2, 3]))]))
    }

    @Test func precedenceIsNotThenAndThenOr() throws {
        let values: DynamoDBItem = [":t": .bool(true), ":f": .bool(false)]
        // flag = :f OR flag = :t AND flag = :f  ==  false OR (true AND false)  ==  false
        #expect(try !holds("flag = :f OR flag = :t AND flag = :f", values: values))
        #expect(try holds("(flag = :f OR flag = :t) AND NOT flag = :f", values: values))
        #expect(try holds("NOT NOT flag = :t", values: [":t": .bool(true)]))
    }

    @Test func undefinedAndUnusedPlaceholdersAreValidationErrors() {
        let undefinedName = #expect(throws: TableError.self) { try parse("attribute_exists(#b)") }
        #expect(undefinedName?.message.contains("attribute name: #b") == true)
        let undefinedValue = #expect(throws: TableError.self) { try parse("a = :v") }
        #expect(undefinedValue?.message.contains("attribute value: :v") == true)
        let unusedName = #expect(throws: TableError.self) {
            try parse("attribute_exists(a)", names: ["#unused": "x"])
        }
        #expect(
            unusedName?.message == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"
        )
        let unusedValue = #expect(throws: TableError.self) {
            try parse("attribute_exists(a)", values: [":unused": .string("x")])
        }
        #expect(unusedValue?.code == .validation)
        #expect(throws: TableError.self) {
            _ = try Placeholders(names: ["#a": "a"], values: nil, hasExpression: false)
        }
        #expect(throws: TableError.self) { _ = try Placeholders(names: [:], values: nil, hasExpression: true) }
        #expect(throws: TableError.self) { _ = try Placeholders(names: ["a": "a"], values: nil, hasExpression: true) }
    }

    @Test(arguments: [
        "", "a =", "a = :v)", "(a = :v", "size(a) > :v", "a.b = :v", "a[0] = :v", "a = :v OR", "a ! :v",
        "attribute_exists(:v)", "a BETWEEN :v", "a < :bool", "a BETWEEN :two AND :one",
    ])
    func malformedExpressionsAreRefused(expression: String) {
        let values: DynamoDBItem = [
            ":v": .string("x"), ":bool": .bool(true), ":one": .number("1"), ":two": .number("2"),
        ]
        let error = #expect(throws: TableError.self) {
            var placeholders = try Placeholders(names: nil, values: values, hasExpression: true)
            _ = try ExpressionParser.condition(expression, .condition, &placeholders)
        }
        #expect(error?.code == .validation)
        #expect(error?.message.hasPrefix("Invalid ConditionExpression") == true)
    }

    @Test func keyConditionsNameThePartitionAndOneSortCondition() throws {
        let table = TableDefinition(
            name: "t",
            id: "id",
            partitionKey: KeyAttribute(name: "pk", type: .string),
            sortKey: KeyAttribute(name: "sk", type: .number),
            billingMode: "PAY_PER_REQUEST",
            creationDate: .init(timeIntervalSince1970: 0)
        )
        func key(_ text: String, _ values: DynamoDBItem) throws(TableError) -> KeyCondition {
            var placeholders = try Placeholders(names: nil, values: values, hasExpression: true)
            return try KeyCondition(ExpressionParser.condition(text, .keyCondition, &placeholders), table: table)
        }
        let p: DynamoDBItem = [":p": .string("a"), ":n": .number("5"), ":m": .number("7")]
        let partitionOnly = try key("pk = :p", [":p": .string("a")])
        #expect(partitionOnly.partition == Array("a".utf8) && partitionOnly.sort == nil)
        let between = try key("sk BETWEEN :n AND :m AND pk = :p", p)
        #expect(between.sort == .between(NumberEncoding.encode("5")!, NumberEncoding.encode("7")!))
        #expect(
            try key(":n < sk AND pk = :p", [":p": .string("a"), ":n": .number("5")]).sort
                == .greater(NumberEncoding.encode("5")!)
        )
        let refused: [(String, DynamoDBItem, String)] = [
            ("sk = :n", [":n": .number("5")], "Query condition missed key schema element: pk"),
            ("pk = :p OR pk = :p", [":p": .string("a")], "Invalid operator used in KeyConditionExpression: OR"),
            ("pk <> :p", [":p": .string("a")], "Unsupported operator on KeyConditionExpression: operator: <>"),
            ("pk < :p", [":p": .string("a")], "Query key condition not supported"),
            (
                "pk = :p AND sk = :n AND sk = :n", [":p": .string("a"), ":n": .number("5")],
                "KeyConditionExpressions must only contain one condition per key"
            ),
            (
                "pk = :n", [":n": .number("5")],
                "One or more parameter values were invalid: Condition parameter type does not match schema type"
            ),
            (
                "pk = :p AND begins_with(sk, :p)", [":p": .string("a")],
                "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
            ),
            ("pk = :p AND other = :p", [":p": .string("a")], "Query key condition not supported"),
        ]
        for (text, values, message) in refused {
            let error = #expect(throws: TableError.self, "\(text)") { try key(text, values) }
            #expect(error?.message == message, "\(text)")
        }
    }
}
