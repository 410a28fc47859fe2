import WireShapes

/// The `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request, and which of them its expressions
/// used: DynamoDB refuses a placeholder an expression names but the request does not define, and one the request
/// defines but no expression uses.
struct Placeholders: Sendable {
    let names: [String: String]
    let values: DynamoDBItem
    private(set) var usedNames: Set<String> = []
    private(set) var usedValues: Set<String> = []

    /// Checks the maps as DynamoDB does before any expression is read.
    ///
    /// - Parameters:
    ///   - hasExpression: Whether the request has an expression at all (else defining placeholders is an error).
    /// - Throws: ``TableError`` `ValidationException` for maps given without an expression, empty maps, keys that do
    ///   not start with `#` (names) or `:` (values), or invalid values.
    init(names: [String: String]?, values: DynamoDBItem?, hasExpression: Bool) throws(TableError) {
        if let names {
            guard hasExpression else {
                throw .validation("ExpressionAttributeNames can only be specified when using expressions")
            }
            guard !names.isEmpty else { throw .validation("ExpressionAttributeNames must not be empty") }
            for key in names.keys where !Self.isPlaceholder(key, mark: "#") {
                throw .validation("ExpressionAttributeNames contains invalid key: Syntax error; key: \"\(key)\"")
            }
        }
        if let values {
            guard hasExpression else {
                throw .validation("ExpressionAttributeValues can only be specified when using expressions")
            }
            guard !values.isEmpty else { throw .validation("ExpressionAttributeValues must not be empty") }
            for key in values.keys where !Self.isPlaceholder(key, mark: ":") {
                throw .validation("ExpressionAttributeValues contains invalid key: Syntax error; key: \"\(key)\"")
            }
            try ItemRules.validateValues(values)
        }
        self.names = names ?? [:]
        self.values = values ?? [:]
    }

    /// The attribute name `#reference` stands for.
    mutating func name(_ reference: String, in expression: ExpressionKind) throws(TableError) -> String {
        guard let name = names[reference] else {
            throw .validation(
                "Invalid \(expression.rawValue): An expression attribute name used in the document path is not "
                    + "defined; attribute name: \(reference)"
            )
        }
        usedNames.insert(reference)
        return name
    }

    /// The value `:reference` stands for.
    mutating func value(
        _ reference: String,
        in expression: ExpressionKind
    ) throws(TableError)
        -> DynamoDBAttributeValue
    {
        guard let value = values[reference] else {
            throw .validation(
                "Invalid \(expression.rawValue): An expression attribute value used in expression is not defined; "
                    + "attribute value: \(reference)"
            )
        }
        usedValues.insert(reference)
        return value
    }

    /// Refuses placeholders no expression of the request used.
    func requireAllUsed() throws(TableError) {
        let unusedNames = Set(names.keys).subtracting(usedNames)
        if !unusedNames.isEmpty {
            throw .validation(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: "
                    + "{\(unusedNames.sorted().joined(separator: ", "))}"
            )
        }
        let unusedValues = Set(values.keys).subtracting(usedValues)
        if !unusedValues.isEmpty {
            throw .validation(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: "
                    + "{\(unusedValues.sorted().joined(separator: ", "))}"
            )
        }
    }

    static func isPlaceholder(_ key: String, mark: Character) -> Bool {
        key.count > 1 && key.first == mark
            && key.dropFirst().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

/// Which expression a message is about, in DynamoDB's words.
enum ExpressionKind: String, Sendable {
    case condition = "ConditionExpression"
    case keyCondition = "KeyConditionExpression"
    case projection = "ProjectionExpression"
}
