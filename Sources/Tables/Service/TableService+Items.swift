public import WireShapes

extension TableService {
    /// The most items one `Query` page returns without a `Limit`, besides DynamoDB's 1 MB.
    static let maximumPageItems = 1000
    /// DynamoDB's page size: a page ends after the item that reaches 1 MB.
    static let maximumPageBytes = 1_048_576

    /// `GetItem`: the item with the given key, projected on `ProjectionExpression`'s attributes when given.
    /// `ConsistentRead` is accepted: every read is consistent.
    public func getItem(_ request: DynamoDBGetItemRequest, caller: String) async throws -> DynamoDBGetItemResponse {
        let name = try tableName(request.tableName)
        var placeholders = try Placeholders(
            names: request.expressionAttributeNames,
            values: nil,
            hasExpression: request.projectionExpression != nil
        )
        let projection = try request.projectionExpression.map { text throws(TableError) in
            try ExpressionParser.projection(text, &placeholders)
        }
        try placeholders.requireAllUsed()
        try await authorize(caller, .getItem, name)
        let table = try await existingTable(name)
        let address = try Self.address(ofKey: request.key, in: table)
        guard let item = try await store.item(at: address) else { return DynamoDBGetItemResponse(item: nil) }
        guard let projection else { return DynamoDBGetItemResponse(item: item) }
        return DynamoDBGetItemResponse(item: item.filter { projection.contains($0.key) })
    }

    /// `PutItem`: stores the item, replacing the one with its key, when `ConditionExpression` (if any) holds for the
    /// item there now; returns that item with `ReturnValues` `ALL_OLD`.
    public func putItem(_ request: DynamoDBPutItemRequest, caller: String) async throws -> DynamoDBPutItemResponse {
        _ = try ItemRules.validate(request.item)
        let item = request.item
        let old = try await conditionalWrite(
            .putItem,
            table: request.tableName,
            condition: (
                request.conditionExpression, request.expressionAttributeNames, request.expressionAttributeValues
            ),
            returnValues: request.returnValues,
            caller: caller,
            address: { table throws(TableError) in try Self.address(ofItem: item, in: table) },
            write: { .put($0, item) }
        )
        return DynamoDBPutItemResponse(attributes: old)
    }

    /// `DeleteItem`: removes the item with the key, when `ConditionExpression` (if any) holds for it; returns it with
    /// `ReturnValues` `ALL_OLD`. Deleting an item that is not there succeeds (unless the condition says otherwise).
    public func deleteItem(
        _ request: DynamoDBDeleteItemRequest,
        caller: String
    ) async throws
        -> DynamoDBDeleteItemResponse
    {
        let key = request.key
        let old = try await conditionalWrite(
            .deleteItem,
            table: request.tableName,
            condition: (
                request.conditionExpression, request.expressionAttributeNames, request.expressionAttributeValues
            ),
            returnValues: request.returnValues,
            caller: caller,
            address: { table throws(TableError) in try Self.address(ofKey: key, in: table) },
            write: { .delete($0) }
        )
        return DynamoDBDeleteItemResponse(attributes: old)
    }

    /// One write of `PutItem` or `DeleteItem`: checks the request, authorizes `operation`, then, in one store
    /// transaction, checks the condition against the item there and writes; returns the old item when `ReturnValues`
    /// is `ALL_OLD`.
    private func conditionalWrite(
        _ operation: DynamoDBOperation,
        table requested: String,
        condition text: (expression: String?, names: [String: String]?, values: DynamoDBItem?),
        returnValues: String?,
        caller: String,
        address: (TableDefinition) throws(TableError) -> ItemAddress,
        write: @escaping @Sendable (ItemAddress) -> ItemWrite
    ) async throws -> DynamoDBItem? {
        let name = try tableName(requested)
        let condition = try Self.condition(text.expression, names: text.names, values: text.values)
        let returnOld = try Self.returnsOld(returnValues)
        try await authorize(caller, operation, name)
        let address = try address(try await existingTable(name))
        let old = try await store.transact([address]) { current throws in
            guard condition?.isSatisfied(by: current[0]) ?? true else { throw TableError.conditionFailed }
            return [write(address)]
        }
        return returnOld ? old[0] : nil
    }

    /// `Query`: the items of one partition in sort key order (`ScanIndexForward`), narrowed by the sort key
    /// condition, a page at a time: `Limit` items at most (and 1 MB), `LastEvaluatedKey` when the page stopped
    /// there, `ExclusiveStartKey` to go on.
    public func query(_ request: DynamoDBQueryRequest, caller: String) async throws -> DynamoDBQueryResponse {
        let name = try tableName(request.tableName)
        var placeholders = try Placeholders(
            names: request.expressionAttributeNames,
            values: request.expressionAttributeValues,
            hasExpression: true
        )
        let parsed = try ExpressionParser.condition(request.keyConditionExpression, .keyCondition, &placeholders)
        try placeholders.requireAllUsed()
        if let limit = request.limit, limit < 1 {
            throw TableError.constraint("limit", "\(limit)", "Member must have value greater than or equal to 1")
        }
        try await authorize(caller, .query, name)
        let table = try await existingTable(name)
        let keyCondition = try KeyCondition(parsed, table: table)
        let forward = request.scanIndexForward ?? true
        var after: [UInt8]?
        if let start = request.exclusiveStartKey {
            let address: ItemAddress
            do {
                address = try Self.address(ofKey: start, in: table)
            } catch {
                throw TableError.validation("The provided starting key is invalid: \(error.message)")
            }
            guard address.key.partition == keyCondition.partition,
                keyCondition.sort?.matches(address.key.sort) ?? true
            else {
                throw TableError.validation(
                    "The provided starting key is outside query boundaries based on provided conditions"
                )
            }
            after = address.key.sort
        }
        let limit = min(request.limit ?? Self.maximumPageItems, Self.maximumPageItems)
        let found = try await store.query(
            KeyQuery(
                table: name,
                partition: keyCondition.partition,
                sort: keyCondition.sort,
                forward: forward,
                after: after,
                limit: limit
            )
        )
        var items: [DynamoDBItem] = []
        var bytes = 0
        for item in found {
            items.append(item)
            bytes += (try? ItemRules.validate(item)) ?? 0
            if bytes >= Self.maximumPageBytes { break }
        }
        // DynamoDB names the last key whenever the page stopped at its limit, whether more items follow or not.
        let stopped = items.count == limit || items.count < found.count
        return DynamoDBQueryResponse(
            items: items,
            count: items.count,
            scannedCount: items.count,
            lastEvaluatedKey: stopped ? items.last.map(table.key(of:)) : nil
        )
    }

    // MARK: - Keys, conditions, return values

    /// The address of a `Key` parameter, which holds exactly the table's key attributes, each of its type.
    static func address(ofKey key: DynamoDBItem, in table: TableDefinition) throws(TableError) -> ItemAddress {
        guard key.count == table.keyAttributes.count else { throw .keyMismatch }
        return try address(of: key, in: table) { _, _ throws(TableError) in throw .keyMismatch }
    }

    /// The address of an item, which holds the table's key attributes, each of its type.
    static func address(ofItem item: DynamoDBItem, in table: TableDefinition) throws(TableError) -> ItemAddress {
        try address(of: item, in: table) { attribute, value throws(TableError) in
            guard let value else { throw .invalidParameter("Missing the key \(attribute.name) in the item") }
            throw .invalidParameter(
                "Type mismatch for key \(attribute.name) expected: \(attribute.type.rawValue) actual: \(value.typeName)"
            )
        }
    }

    private static func address(
        of attributes: DynamoDBItem,
        in table: TableDefinition,
        mismatch: (KeyAttribute, DynamoDBAttributeValue?) throws(TableError) -> Never
    ) throws(TableError) -> ItemAddress {
        var encoded: [[UInt8]] = []
        for (index, attribute) in table.keyAttributes.enumerated() {
            guard let value = attributes[attribute.name] else { try mismatch(attribute, nil) }
            if case .number(let text) = value, attribute.type == .number {
                do { _ = try NumberEncoding.parse(text) } catch { throw error.error }
            }
            guard let bytes = ItemKey.encode(value, as: attribute.type) else { try mismatch(attribute, value) }
            guard !bytes.isEmpty else {
                throw .validation(
                    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
                        + "contain an empty \(attribute.type == .string ? "string" : "binary") value. Key: "
                        + attribute.name
                )
            }
            let limit = index == 0 ? ItemRules.maximumPartitionKeySize : ItemRules.maximumSortKeySize
            guard bytes.count <= limit || attribute.type == .number else {
                throw .validation(
                    "One or more parameter values were invalid: Size of \(index == 0 ? "hashkey" : "rangekey") has "
                        + "exceeded the maximum size limit of \(limit) bytes"
                )
            }
            encoded.append(bytes)
        }
        return ItemAddress(
            table: table.name,
            key: ItemKey(partition: encoded[0], sort: encoded.count > 1 ? encoded[1] : [])
        )
    }

    /// The condition of a write, placeholders resolved and all used; `nil` without an expression.
    static func condition(
        _ text: String?,
        names: [String: String]?,
        values: DynamoDBItem?
    ) throws(TableError)
        -> Condition?
    {
        var placeholders = try Placeholders(names: names, values: values, hasExpression: text != nil)
        let condition = try text.map { text throws(TableError) in
            try ExpressionParser.condition(text, .condition, &placeholders)
        }
        try placeholders.requireAllUsed()
        return condition
    }

    /// Whether `ReturnValues` asks for the old item: `NONE` (the default) or `ALL_OLD`.
    static func returnsOld(_ returnValues: String?) throws(TableError) -> Bool {
        switch returnValues ?? "NONE" {
        case "NONE": return false
        case "ALL_OLD": return true
        default: throw .validation("Return values set to invalid value")
        }
    }
}
