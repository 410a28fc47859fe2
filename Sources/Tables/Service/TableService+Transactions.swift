import Foundation
public import WireShapes

extension TableService {
    /// DynamoDB's bounds on a transaction: 1 to 100 entries.
    static let maximumTransactionItems = 100
    /// How long a `ClientRequestToken` makes a repeated transaction a no-op (DynamoDB: ten minutes).
    static let idempotencyWindow: Double = 600
    /// The most tokens remembered at once.
    static let maximumRememberedTokens = 10_000

    /// One checked entry of a transaction: where it acts, what it must find there, what it writes.
    struct Entry: Sendable {
        var address: ItemAddress
        var condition: Condition?
        var write: ItemWrite?
    }

    /// `TransactWriteItems`: `Put`, `Delete` and `ConditionCheck` entries (at most 100, on distinct items, in any
    /// tables) applied all together or not at all.
    ///
    /// Each entry is authorized as its own action (`dynamodb:PutItem`, `dynamodb:DeleteItem`,
    /// `dynamodb:ConditionCheckItem`) on its table, as DynamoDB does. When a condition fails nothing is written and the
    /// `TransactionCanceledException` carries one reason per entry: `ConditionalCheckFailed` for those whose condition
    /// failed, `None` for the others. `Update` entries are not in the subset and are refused. A `ClientRequestToken`
    /// seen with the same request in the last ten minutes makes the call succeed again without writing; with another
    /// request it is an `IdempotentParameterMismatchException`.
    public func transactWriteItems(
        _ request: DynamoDBTransactWriteItemsRequest,
        caller: String
    ) async throws
        -> DynamoDBTransactWriteItemsResponse
    {
        let count = request.transactItems.count
        guard (1...Self.maximumTransactionItems).contains(count) else {
            throw TableError.constraint(
                "transactItems",
                "\(count) items",
                count < 1
                    ? "Member must have length greater than or equal to 1"
                    : "Member must have length less than or equal to \(Self.maximumTransactionItems)"
            )
        }
        if let token = request.clientRequestToken {
            guard (1...36).contains(token.utf8.count) else {
                throw TableError.constraint("clientRequestToken", token, "Member must have length between 1 and 36")
            }
            if try isRepeat(of: request, token: token) { return DynamoDBTransactWriteItemsResponse() }
        }
        var checked: [(table: String, action: String, entry: DynamoDBTransactWriteItem)] = []
        for entry in request.transactItems {
            checked.append(try Self.shape(of: entry, tableName: { text throws(TableError) in try tableName(text) }))
        }
        for item in checked { try await authorize(caller, item.action, resource: tableARN(item.table)) }
        var entries: [Entry] = []
        for item in checked {
            let table = try await existingTable(item.table)
            entries.append(try Self.entry(item.entry, in: table))
        }
        guard Set(entries.map(\.address)).count == entries.count else {
            throw TableError.validation("Transaction request cannot include multiple operations on one item")
        }
        let planned = entries
        _ = try await store.transact(planned.map(\.address)) { current throws in
            let failed = zip(planned, current).map { entry, item in !(entry.condition?.isSatisfied(by: item) ?? true) }
            guard !failed.contains(true) else {
                let reasons = failed.map { failed in
                    failed
                        ? DynamoDBCancellationReason(
                            code: "ConditionalCheckFailed",
                            message: "The conditional request failed"
                        )
                        : DynamoDBCancellationReason(code: "None")
                }
                throw TableError(
                    .transactionCanceled,
                    "Transaction cancelled, please refer cancellation reasons for specific reasons ["
                        + reasons.map { $0.code ?? "None" }.joined(separator: ", ") + "]",
                    cancellationReasons: reasons
                )
            }
            return planned.compactMap(\.write)
        }
        if let token = request.clientRequestToken { remember(request, token: token) }
        return DynamoDBTransactWriteItemsResponse()
    }

    /// The table, the IAM action and the entry of one transaction entry, checked for its shape.
    static func shape(
        of entry: DynamoDBTransactWriteItem,
        tableName: (String) throws(TableError) -> String
    ) throws(TableError) -> (table: String, action: String, entry: DynamoDBTransactWriteItem) {
        if entry.isUpdate {
            throw .validation(
                "TransactWriteItems: Update is not supported by this server; use Put, Delete or ConditionCheck"
            )
        }
        let present = [entry.put != nil, entry.delete != nil, entry.conditionCheck != nil].filter { $0 }.count
        guard present == 1 else {
            throw .validation(
                "TransactItems can only contain one of Check, Put, Update or Delete"
            )
        }
        if let put = entry.put {
            _ = try ItemRules.validate(put.item)
            return (try tableName(put.tableName), "PutItem", entry)
        }
        if let delete = entry.delete { return (try tableName(delete.tableName), "DeleteItem", entry) }
        return (try tableName(entry.conditionCheck!.tableName), "ConditionCheckItem", entry)
    }

    /// The address, condition and write of one entry on its table.
    static func entry(_ entry: DynamoDBTransactWriteItem, in table: TableDefinition) throws(TableError) -> Entry {
        if let put = entry.put {
            try requireNoReturnValues(put.returnValues)
            let address = try address(ofItem: put.item, in: table)
            let condition = try condition(
                put.conditionExpression,
                names: put.expressionAttributeNames,
                values: put.expressionAttributeValues
            )
            return Entry(address: address, condition: condition, write: .put(address, put.item))
        }
        if let delete = entry.delete {
            try requireNoReturnValues(delete.returnValues)
            let address = try address(ofKey: delete.key, in: table)
            let condition = try condition(
                delete.conditionExpression,
                names: delete.expressionAttributeNames,
                values: delete.expressionAttributeValues
            )
            return Entry(address: address, condition: condition, write: .delete(address))
        }
        let check = entry.conditionCheck!
        let address = try address(ofKey: check.key, in: table)
        let condition = try condition(
            check.conditionExpression,
            names: check.expressionAttributeNames,
            values: check.expressionAttributeValues
        )
        return Entry(address: address, condition: condition, write: nil)
    }

    /// A transaction's `Put` and `Delete` have no `ReturnValues` (only `ReturnValuesOnConditionCheckFailure`).
    static func requireNoReturnValues(_ returnValues: String?) throws(TableError) {
        guard returnValues == nil || returnValues == "NONE" else {
            throw .validation("ReturnValues is not supported in TransactWriteItems")
        }
    }

    // MARK: - Idempotency

    /// Whether `request` repeats a transaction that completed with `token` within the window.
    func isRepeat(of request: DynamoDBTransactWriteItemsRequest, token: String) throws(TableError) -> Bool {
        guard let completed = completedTransactions[token],
            now().timeIntervalSince(completed.date) < Self.idempotencyWindow
        else { return false }
        guard completed.request == request else {
            throw TableError(
                .idempotentParameterMismatch,
                "The request uses the same client token as a previous, but non-identical request."
            )
        }
        return true
    }

    /// Remembers a completed transaction's token; expired tokens are dropped when the memory is full (and all of them
    /// when that is not enough: a retry then runs its conditions again).
    func remember(_ request: DynamoDBTransactWriteItemsRequest, token: String) {
        let date = now()
        if completedTransactions.count >= Self.maximumRememberedTokens {
            completedTransactions = completedTransactions.filter {
                date.timeIntervalSince($0.value.date) < Self.idempotencyWindow
            }
            if completedTransactions.count >= Self.maximumRememberedTokens {
                completedTransactions.removeAll(keepingCapacity: true)
            }
        }
        completedTransactions[token] = (request, date)
    }
}
