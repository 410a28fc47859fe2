public import WireShapes

extension TableService {
    /// Performs any request of the subset as `caller`: the one place that maps an operation's input shape to the
    /// method serving it (the HTTP route and the platform's in-process keystore client both call it).
    ///
    /// - Throws: ``TableError`` as the operation's method does; `UnknownOperationException` for a shape of the
    ///   DynamoDB API the subset does not serve.
    public func perform<Request: DynamoDBRequest>(_ request: Request, caller: String) async throws -> Request.Response {
        let response: any Sendable
        switch request {
        case let request as DynamoDBGetItemRequest: response = try await getItem(request, caller: caller)
        case let request as DynamoDBPutItemRequest: response = try await putItem(request, caller: caller)
        case let request as DynamoDBDeleteItemRequest: response = try await deleteItem(request, caller: caller)
        case let request as DynamoDBQueryRequest: response = try await query(request, caller: caller)
        case let request as DynamoDBTransactWriteItemsRequest:
            response = try await transactWriteItems(request, caller: caller)
        case let request as DynamoDBDescribeTableRequest: response = try await describeTable(request, caller: caller)
        case let request as DynamoDBCreateTableRequest: response = try await createTable(request, caller: caller)
        case let request as DynamoDBDeleteTableRequest: response = try await deleteTable(request, caller: caller)
        case let request as DynamoDBListTablesRequest: response = try await listTables(request, caller: caller)
        default: throw TableError(.unknownOperation, "\(Request.operation) is not served")
        }
        guard let typed = response as? Request.Response else {
            throw TableError(.internalServerError, "\(Request.operation) answered another shape")
        }
        return typed
    }
}
