import WireShapes

/// What a `KeyConditionExpression` selects: one partition, and optionally a range of its sort keys.
///
/// DynamoDB's rules: the partition key with `=`, and at most one condition on the sort key (`=`, `<`, `<=`, `>`,
/// `>=`, `BETWEEN`, `begins_with`), joined with `AND`; each operand pair is the key attribute and a value of the
/// key's type. `OR`, `NOT`, `<>`, `attribute_exists` and conditions on other attributes are refused.
struct KeyCondition: Sendable, Hashable {
    var partition: [UInt8]
    var sort: SortCondition?

    /// The key condition `condition` states on `table`.
    ///
    /// - Throws: ``TableError`` `ValidationException` in DynamoDB's words when it breaks the rules above.
    init(_ condition: Condition, table: TableDefinition) throws(TableError) {
        var conjuncts: [Condition] = []
        try Self.flatten(condition, into: &conjuncts)
        var partition: [UInt8]?
        var sort: SortCondition?
        for conjunct in conjuncts {
            let (name, range) = try Self.range(of: conjunct, table: table)
            if name == table.partitionKey.name {
                guard partition == nil else { throw Self.onePerKey }
                guard case .equal(let value) = range else {
                    throw TableError.validation("Query key condition not supported")
                }
                partition = value
            } else {
                guard sort == nil else { throw Self.onePerKey }
                sort = range
            }
        }
        guard let partition else {
            throw TableError.validation("Query condition missed key schema element: \(table.partitionKey.name)")
        }
        self.partition = partition
        self.sort = sort
    }

    static var onePerKey: TableError {
        .validation("KeyConditionExpressions must only contain one condition per key")
    }

    private static func flatten(_ condition: Condition, into conjuncts: inout [Condition]) throws(TableError) {
        switch condition {
        case .and(let left, let right):
            try flatten(left, into: &conjuncts)
            try flatten(right, into: &conjuncts)
        case .or: throw unsupported("OR")
        case .not: throw unsupported("NOT")
        case .exists: throw unsupported("attribute_exists")
        case .notExists: throw unsupported("attribute_not_exists")
        default: conjuncts.append(condition)
        }
    }

    private static func unsupported(_ operation: String) -> TableError {
        .validation("Invalid operator used in KeyConditionExpression: \(operation)")
    }

    /// The key attribute a conjunct is about, and the encoded range it states.
    private static func range(
        of conjunct: Condition,
        table: TableDefinition
    ) throws(TableError)
        -> (String, SortCondition)
    {
        switch conjunct {
        case .compare(.attribute(let name), let comparator, .value(let value)):
            return try compare(name, comparator, value, table)
        case .compare(.value(let value), let comparator, .attribute(let name)):
            let flipped: Condition.Comparator =
                switch comparator {
                case .less: .greater
                case .lessOrEqual: .greaterOrEqual
                case .greater: .less
                case .greaterOrEqual: .lessOrEqual
                default: comparator
                }
            return try compare(name, flipped, value, table)
        case .between(.attribute(let name), .value(let low), .value(let high)):
            let type = try keyType(name, table)
            return (name, .between(try encode(low, type), try encode(high, type)))
        case .beginsWith(.attribute(let name), .value(let prefix)):
            let type = try keyType(name, table)
            guard type != .number else {
                throw TableError.validation(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or "
                        + "function: begins_with, operand type: N"
                )
            }
            return (name, .prefix(try encode(prefix, type)))
        default:
            throw TableError.validation(
                "Invalid KeyConditionExpression: a key condition compares a key attribute with a value"
            )
        }
    }

    private static func compare(
        _ name: String,
        _ comparator: Condition.Comparator,
        _ value: DynamoDBAttributeValue,
        _ table: TableDefinition
    ) throws(TableError) -> (String, SortCondition) {
        let bytes = try encode(value, try keyType(name, table))
        switch comparator {
        case .equal: return (name, .equal(bytes))
        case .less: return (name, .less(bytes))
        case .lessOrEqual: return (name, .lessOrEqual(bytes))
        case .greater: return (name, .greater(bytes))
        case .greaterOrEqual: return (name, .greaterOrEqual(bytes))
        case .notEqual:
            throw TableError.validation("Unsupported operator on KeyConditionExpression: operator: <>")
        }
    }

    private static func keyType(_ name: String, _ table: TableDefinition) throws(TableError) -> KeyType {
        guard let attribute = table.keyAttributes.first(where: { $0.name == name }) else {
            throw TableError.validation("Query key condition not supported")
        }
        return attribute.type
    }

    private static func encode(_ value: DynamoDBAttributeValue, _ type: KeyType) throws(TableError) -> [UInt8] {
        guard let bytes = ItemKey.encode(value, as: type) else {
            throw TableError.invalidParameter("Condition parameter type does not match schema type")
        }
        return bytes
    }
}
