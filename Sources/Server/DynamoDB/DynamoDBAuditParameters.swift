package import AuditTrail
import Foundation
package import WireShapes

/// The `requestParameters` of a DynamoDB call's audit record, and the tables it names.
///
/// Items of the branch keystore hold wrapped branch keys (`enc`), so a record keeps **no attribute value but a key's**:
/// the key of every item read or written (`key`), the names of a written item's attributes (`itemAttributes`), the
/// expressions as written, the names of `ExpressionAttributeNames` with what they stand for, and, of
/// `ExpressionAttributeValues`, only the placeholders (`:name`) — except in a `Query`, whose values are key values
/// (a key condition names key attributes only). Keys are S, N or B values in DynamoDB's JSON (`{"S": "…"}`).
package enum DynamoDBAuditParameters {
    /// The operations that change nothing: one record each, no intent record (CloudTrail's `readOnly`).
    package static let readOnlyOperations: Set<DynamoDBOperation> = [.describeTable, .listTables, .getItem, .query]

    /// What a record says of a request.
    package struct Described: Sendable {
        package var parameters: JSONValue
        /// The tables the request names, each once, in order.
        package var tables: [String]
    }

    /// The parameters of `request`; `keyNames` gives a table's key attribute names (`nil` for an unknown table, whose
    /// written items then show their attribute names only).
    package static func describe(
        _ request: some DynamoDBRequest,
        keyNames: (String) async -> [String]?
    ) async -> Described {
        var described = Described(parameters: .object(JSONObject()), tables: [])
        var members = JSONObject()
        switch request {
        case let request as DynamoDBCreateTableRequest:
            members["tableName"] = .string(request.tableName)
            members["keySchema"] = .array(
                request.keySchema.map {
                    .object(["attributeName": .string($0.attributeName), "keyType": .string($0.keyType)])
                }
            )
            members["attributeDefinitions"] = .array(
                request.attributeDefinitions.map {
                    .object(["attributeName": .string($0.attributeName), "attributeType": .string($0.attributeType)])
                }
            )
            if let mode = request.billingMode { members["billingMode"] = .string(mode) }
            described.tables = [request.tableName]
        case let request as DynamoDBDescribeTableRequest:
            members["tableName"] = .string(request.tableName)
            described.tables = [request.tableName]
        case let request as DynamoDBDeleteTableRequest:
            members["tableName"] = .string(request.tableName)
            described.tables = [request.tableName]
        case let request as DynamoDBListTablesRequest:
            if let start = request.exclusiveStartTableName { members["exclusiveStartTableName"] = .string(start) }
            if let limit = request.limit { members["limit"] = .number(JSONNumber(limit)) }
        case let request as DynamoDBGetItemRequest:
            members = get(request)
            described.tables = [request.tableName]
        case let request as DynamoDBPutItemRequest:
            members = put(request, keyNames: await keyNames(request.tableName))
            described.tables = [request.tableName]
        case let request as DynamoDBDeleteItemRequest:
            members = delete(request)
            described.tables = [request.tableName]
        case let request as DynamoDBQueryRequest:
            members = query(request)
            described.tables = [request.tableName]
        case let request as DynamoDBTransactWriteItemsRequest:
            var entries: [JSONValue] = []
            for entry in request.transactItems {
                if let put = entry.put {
                    entries.append(.object(["put": .object(self.put(put, keyNames: await keyNames(put.tableName)))]))
                    described.tables.append(put.tableName)
                } else if let delete = entry.delete {
                    entries.append(.object(["delete": .object(self.delete(delete))]))
                    described.tables.append(delete.tableName)
                } else if let check = entry.conditionCheck {
                    let checked = condition(
                        table: check.tableName,
                        key: check.key,
                        expression: check.conditionExpression,
                        names: check.expressionAttributeNames,
                        values: check.expressionAttributeValues
                    )
                    entries.append(.object(["conditionCheck": .object(checked)]))
                    described.tables.append(check.tableName)
                } else {
                    entries.append(.object(["update": .object([:])]))
                }
            }
            members["transactItems"] = .array(entries)
            if let token = request.clientRequestToken { members["clientRequestToken"] = .string(token) }
        default:
            break
        }
        var seen: Set<String> = []
        described.tables = described.tables.filter { seen.insert($0).inserted }
        described.parameters = .object(members)
        return described
    }

    static func get(_ request: DynamoDBGetItemRequest) -> JSONObject {
        var members: JSONObject = ["tableName": .string(request.tableName), "key": keyValue(request.key)]
        if let consistent = request.consistentRead { members["consistentRead"] = .bool(consistent) }
        if let projection = request.projectionExpression { members["projectionExpression"] = .string(projection) }
        if let names = request.expressionAttributeNames { members["expressionAttributeNames"] = nameMap(names) }
        return members
    }

    static func put(_ request: DynamoDBPutItemRequest, keyNames: [String]?) -> JSONObject {
        var members = condition(
            table: request.tableName,
            key: keyNames.map { names in request.item.filter { names.contains($0.key) } },
            expression: request.conditionExpression,
            names: request.expressionAttributeNames,
            values: request.expressionAttributeValues
        )
        members["itemAttributes"] = .array(request.item.keys.sorted().map(JSONValue.string))
        if let returnValues = request.returnValues { members["returnValues"] = .string(returnValues) }
        return members
    }

    static func delete(_ request: DynamoDBDeleteItemRequest) -> JSONObject {
        var members = condition(
            table: request.tableName,
            key: request.key,
            expression: request.conditionExpression,
            names: request.expressionAttributeNames,
            values: request.expressionAttributeValues
        )
        if let returnValues = request.returnValues { members["returnValues"] = .string(returnValues) }
        return members
    }

    static func query(_ request: DynamoDBQueryRequest) -> JSONObject {
        var members: JSONObject = [
            "tableName": .string(request.tableName),
            "keyConditionExpression": .string(request.keyConditionExpression),
        ]
        if let names = request.expressionAttributeNames { members["expressionAttributeNames"] = nameMap(names) }
        if let values = request.expressionAttributeValues { members["expressionAttributeValues"] = keyValue(values) }
        if let limit = request.limit { members["limit"] = .number(JSONNumber(limit)) }
        if let forward = request.scanIndexForward { members["scanIndexForward"] = .bool(forward) }
        if let consistent = request.consistentRead { members["consistentRead"] = .bool(consistent) }
        if let start = request.exclusiveStartKey { members["exclusiveStartKey"] = keyValue(start) }
        return members
    }

    /// A write's or check's table, key and condition; of the condition's values only their placeholders.
    static func condition(
        table: String,
        key: DynamoDBItem?,
        expression: String?,
        names: [String: String]?,
        values: DynamoDBItem?
    ) -> JSONObject {
        var members: JSONObject = ["tableName": .string(table)]
        if let key { members["key"] = keyValue(key) }
        if let expression { members["conditionExpression"] = .string(expression) }
        if let names { members["expressionAttributeNames"] = nameMap(names) }
        if let values { members["expressionAttributeValues"] = .array(values.keys.sorted().map(JSONValue.string)) }
        return members
    }

    static func nameMap(_ names: [String: String]) -> JSONValue {
        .object(
            JSONObject(
                names.sorted { $0.key < $1.key }.map { JSONObject.Member(key: $0.key, value: .string($0.value)) }
            )
        )
    }

    /// Key values in DynamoDB's JSON: `S`, `N` and `B` (base64) as sent; a value of another type (no key has one)
    /// shows its type only.
    static func keyValue(_ attributes: DynamoDBItem) -> JSONValue {
        .object(
            JSONObject(
                attributes.sorted { $0.key < $1.key }.map { name, value in
                    let shown: JSONValue =
                        switch value {
                        case .string(let text): .object(["S": .string(text)])
                        case .number(let text): .object(["N": .string(text)])
                        case .binary(let bytes): .object(["B": .string(bytes.base64EncodedString())])
                        default: .object(["type": .string(value.typeName)])
                        }
                    return JSONObject.Member(key: name, value: shown)
                }
            )
        )
    }
}
