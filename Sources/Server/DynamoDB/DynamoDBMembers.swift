import AuditTrail
import Tables
import WireShapes

/// The request members each DynamoDB operation of the subset reads, checked before the body is decoded.
///
/// Decoding a shape skips members it does not know, and a skipped member can change what a call means: a `Query`
/// with an `IndexName` or a `FilterExpression`, a `PutItem` with the legacy `Expected` conditions, an entry's
/// `ReturnValuesOnConditionCheckFailure`. So a member that is not in the operation's list is a
/// `ValidationException` naming it, rather than ignored. `ReturnConsumedCapacity` and `ReturnItemCollectionMetrics`
/// only ask for more output, which is not metered here: they are accepted and answer nothing.
enum DynamoDBMembers {
    static let reportOnly: Set<String> = ["ReturnConsumedCapacity", "ReturnItemCollectionMetrics"]
    static let conditional: Set<String> = [
        "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues",
    ]

    static let allowed: [DynamoDBOperation: Set<String>] = [
        .createTable: ["TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput"],
        .describeTable: ["TableName"],
        .deleteTable: ["TableName"],
        .listTables: ["ExclusiveStartTableName", "Limit"],
        .getItem: ["TableName", "Key", "ConsistentRead", "ProjectionExpression", "ExpressionAttributeNames"],
        .putItem: conditional.union(["TableName", "Item", "ReturnValues"]),
        .deleteItem: conditional.union(["TableName", "Key", "ReturnValues"]),
        .query: [
            "TableName", "KeyConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues",
            "ConsistentRead", "Limit", "ExclusiveStartKey", "ScanIndexForward",
        ],
        .transactWriteItems: ["TransactItems", "ClientRequestToken"],
    ]

    /// The members of a transaction entry's `Put`, `Delete` and `ConditionCheck`.
    static let entryMembers: [String: Set<String>] = [
        "Put": conditional.union(["TableName", "Item"]),
        "Delete": conditional.union(["TableName", "Key"]),
        "ConditionCheck": conditional.union(["TableName", "Key"]),
    ]

    /// Refuses a member `operation` does not read (at the top, and in each transaction entry).
    static func check(_ body: JSONValue, of operation: DynamoDBOperation) throws(TableError) {
        guard case .object(let members) = body, let allowed = allowed[operation] else { return }
        for member in members.keys where !allowed.contains(member) && !reportOnly.contains(member) {
            throw unsupported(member, operation.rawValue)
        }
        guard operation == .transactWriteItems, case .array(let entries)? = body["TransactItems"] else { return }
        for entry in entries {
            guard case .object(let kinds) = entry else { continue }
            for kind in kinds {
                // `Update` is refused by name by the service; other kinds by ``check``.
                guard kind.key != "Update" else { continue }
                guard let allowed = entryMembers[kind.key] else { throw unsupported(kind.key, "TransactItems") }
                guard case .object(let fields) = kind.value else { continue }
                for field in fields.keys where !allowed.contains(field) {
                    // Only the default is served: nothing is returned for a failed condition but its reason.
                    if field == "ReturnValuesOnConditionCheckFailure", fields[field]?.stringValue == "NONE" { continue }
                    throw unsupported(field, "TransactItems.\(kind.key)")
                }
            }
        }
    }

    static func unsupported(_ member: String, _ place: String) -> TableError {
        TableError(.validation, "The parameter \(member) of \(place) is not supported by this server")
    }
}
