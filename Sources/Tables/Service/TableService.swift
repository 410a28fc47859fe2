public import Foundation
import SealedSupport
public import WireShapes

/// The DynamoDB subset the platform serves for branch keystore tables: tables with a partition key and an optional
/// sort key, their items, conditional writes, queries and all-or-nothing transactions.
///
/// Each operation takes the DynamoDB request shape and the caller's principal ARN and returns the response shape; it
/// throws a ``TableError`` whose code is DynamoDB's. The order of checks is DynamoDB's: the request's shape
/// (`ValidationException`), then authorization (`AccessDeniedException`, for `dynamodb:<Operation>` on the table's
/// ARN, `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`), then the table (`ResourceNotFoundException`), then the
/// conditions (`ConditionalCheckFailedException`, `TransactionCanceledException`).
///
/// Tables are `ACTIVE` as soon as they are created; capacity is accepted and echoed, never metered. The items of a
/// table live in a ``TableStore``, whose transactions make each write (and each `TransactWriteItems`) atomic with its
/// conditions.
public actor TableService {
    /// The region and account of the tables' ARNs (the key service's).
    public struct Configuration: Sendable, Hashable {
        public var region: String
        public var accountID: String

        public init(region: String, accountID: String) {
            self.region = region
            self.accountID = accountID
        }
    }

    public nonisolated let configuration: Configuration
    let store: any TableStore
    let authorizer: any TableAuthorizer
    let now: @Sendable () -> Date
    /// Recently completed transactions by client request token (DynamoDB honours a token for ten minutes).
    var completedTransactions: [String: (request: DynamoDBTransactWriteItemsRequest, date: Date)] = [:]

    public init(
        configuration: Configuration,
        store: any TableStore,
        authorizer: any TableAuthorizer,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.store = store
        self.authorizer = authorizer
        self.now = now
    }

    /// `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`.
    public nonisolated func tableARN(_ name: String) -> String {
        "arn:aws:dynamodb:\(configuration.region):\(configuration.accountID):table/\(name)"
    }

    /// The key attribute names of a table (for audit records, which keep key values only); `nil` when there is none.
    public func keyNames(of table: String) async -> [String]? {
        guard let name = try? tableName(table) else { return nil }
        return try? await store.table(named: name)?.keyNames
    }

    // MARK: - Tables

    /// `CreateTable`: a table with a partition key and an optional sort key, `ACTIVE` at once.
    public func createTable(
        _ request: DynamoDBCreateTableRequest,
        caller: String
    ) async throws
        -> DynamoDBCreateTableResponse
    {
        let name = try tableName(request.tableName)
        let (partitionKey, sortKey) = try Self.keySchema(request.keySchema, request.attributeDefinitions)
        let throughput = try Self.billing(request.billingMode, request.provisionedThroughput)
        try await authorize(caller, .createTable, name)
        let definition = TableDefinition(
            name: name,
            id: UUID.random().lowercasedString,
            partitionKey: partitionKey,
            sortKey: sortKey,
            billingMode: throughput == nil ? "PAY_PER_REQUEST" : "PROVISIONED",
            provisionedThroughput: throughput,
            creationDate: now()
        )
        try await store.create(definition)
        return DynamoDBCreateTableResponse(tableDescription: description(of: definition, status: "ACTIVE"))
    }

    /// `DescribeTable`.
    public func describeTable(
        _ request: DynamoDBDescribeTableRequest,
        caller: String
    ) async throws
        -> DynamoDBDescribeTableResponse
    {
        let name = try tableName(request.tableName)
        try await authorize(caller, .describeTable, name)
        let table = try await existingTable(name)
        let statistics = try await store.statistics(of: name)
        return DynamoDBDescribeTableResponse(
            table: description(of: table, status: "ACTIVE", items: statistics.items, bytes: statistics.bytes)
        )
    }

    /// `DeleteTable`: the table and every item in it.
    public func deleteTable(
        _ request: DynamoDBDeleteTableRequest,
        caller: String
    ) async throws
        -> DynamoDBDeleteTableResponse
    {
        let name = try tableName(request.tableName)
        try await authorize(caller, .deleteTable, name)
        guard let table = try await store.delete(table: name) else { throw TableError.tableNotFound(name) }
        return DynamoDBDeleteTableResponse(tableDescription: description(of: table, status: "DELETING"))
    }

    /// `ListTables`: names in ascending order, `Limit` (1 to 100, default 100) at a time.
    public func listTables(
        _ request: DynamoDBListTablesRequest,
        caller: String
    ) async throws
        -> DynamoDBListTablesResponse
    {
        let limit = request.limit ?? 100
        guard (1...100).contains(limit) else {
            throw TableError.constraint(
                "limit",
                "\(limit)",
                limit < 1
                    ? "Member must have value greater than or equal to 1"
                    : "Member must have value less than or equal to 100"
            )
        }
        if let start = request.exclusiveStartTableName { _ = try tableName(start, member: "exclusiveStartTableName") }
        try await authorize(caller, .listTables, resource: "*")
        let names = try await store.tableNames(after: request.exclusiveStartTableName, limit: limit + 1)
        let page = Array(names.prefix(limit))
        return DynamoDBListTablesResponse(
            tableNames: page,
            lastEvaluatedTableName: names.count > limit ? page.last : nil
        )
    }

    // MARK: - Checks shared by the operations

    /// Asks the authorizer; a refusal is DynamoDB's `AccessDeniedException`.
    func authorize(_ caller: String, _ operation: DynamoDBOperation, _ table: String) async throws(TableError) {
        try await authorize(caller, operation.rawValue, resource: tableARN(table))
    }

    func authorize(_ caller: String, _ operation: DynamoDBOperation, resource: String) async throws(TableError) {
        try await authorize(caller, operation.rawValue, resource: resource)
    }

    func authorize(_ caller: String, _ action: String, resource: String) async throws(TableError) {
        let action = "dynamodb:" + action
        guard await authorizer.isAllowed(caller, action, on: resource) else {
            throw TableError(
                .accessDenied,
                "User: \(caller) is not authorized to perform: \(action) on resource: \(resource) because no "
                    + "identity-based policy allows the \(action) action"
            )
        }
    }

    func existingTable(_ name: String) async throws -> TableDefinition {
        guard let table = try await store.table(named: name) else { throw TableError.tableNotFound(name) }
        return table
    }

    /// A table name as DynamoDB takes it: `[a-zA-Z0-9_.-]{3,255}`, or the table's ARN in this region and account.
    nonisolated func tableName(_ text: String, member: String = "tableName") throws(TableError) -> String {
        let prefix = "arn:aws:dynamodb:\(configuration.region):\(configuration.accountID):table/"
        let name = text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text
        guard name.utf8.count >= 3 else {
            throw .constraint(member, text, "Member must have length greater than or equal to 3")
        }
        guard name.utf8.count <= 255 else {
            throw .constraint(member, String(text.prefix(255)), "Member must have length less than or equal to 255")
        }
        guard name.utf8.allSatisfy(Token.isTableNameByte) else {
            throw .constraint(member, text, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        }
        return name
    }

    static func keySchema(
        _ schema: [DynamoDBKeySchemaElement],
        _ definitions: [DynamoDBAttributeDefinition]
    )
        throws(TableError) -> (KeyAttribute, KeyAttribute?)
    {
        guard (1...2).contains(schema.count) else {
            throw .constraint(
                "keySchema",
                "\(schema.count) elements",
                schema.isEmpty
                    ? "Member must have length greater than or equal to 1"
                    : "Member must have length less than or equal to 2"
            )
        }
        guard schema[0].keyType == "HASH" else {
            throw .validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
        }
        if schema.count == 2 {
            guard schema[1].keyType == "RANGE" else {
                throw .validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
            }
            guard schema[0].attributeName != schema[1].attributeName else {
                throw .validation(
                    "Invalid KeySchema: Both the Hash Key and the Range Key element in the KeySchema have the same name"
                )
            }
        }
        guard definitions.count == schema.count,
            Set(definitions.map(\.attributeName)) == Set(schema.map(\.attributeName))
        else {
            throw .invalidParameter(
                "Number of attributes in KeySchema does not exactly match number of attributes defined in "
                    + "AttributeDefinitions"
            )
        }
        var attributes: [KeyAttribute] = []
        for element in schema {
            guard !element.attributeName.isEmpty, element.attributeName.utf8.count <= 255 else {
                throw .constraint(
                    "keySchema.member.attributeName",
                    element.attributeName,
                    "Member must have length between 1 and 255"
                )
            }
            let definition = definitions.first { $0.attributeName == element.attributeName }!
            guard let type = KeyType(rawValue: definition.attributeType) else {
                throw .constraint(
                    "attributeDefinitions.member.attributeType",
                    definition.attributeType,
                    "Member must satisfy enum value set: [B, N, S]"
                )
            }
            attributes.append(KeyAttribute(name: element.attributeName, type: type))
        }
        return (attributes[0], attributes.count == 2 ? attributes[1] : nil)
    }

    static func billing(
        _ mode: String?,
        _ throughput: DynamoDBProvisionedThroughput?
    ) throws(TableError)
        -> TableDefinition.Throughput?
    {
        switch mode ?? "PROVISIONED" {
        case "PAY_PER_REQUEST":
            guard throughput == nil else {
                throw .invalidParameter(
                    "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
                        + "PAY_PER_REQUEST"
                )
            }
            return nil
        case "PROVISIONED":
            guard let throughput, throughput.readCapacityUnits >= 1, throughput.writeCapacityUnits >= 1 else {
                throw .invalidParameter(
                    "ReadCapacityUnits and WriteCapacityUnits must both be specified (at least 1) when BillingMode "
                        + "is PROVISIONED"
                )
            }
            return .init(read: throughput.readCapacityUnits, write: throughput.writeCapacityUnits)
        default:
            throw .constraint(
                "billingMode",
                mode ?? "",
                "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
            )
        }
    }

    nonisolated func description(
        of table: TableDefinition,
        status: String,
        items: Int = 0,
        bytes: Int = 0
    )
        -> DynamoDBTableDescription
    {
        DynamoDBTableDescription(
            tableName: table.name,
            tableArn: tableARN(table.name),
            tableId: table.id,
            tableStatus: status,
            keySchema: table.keySchema,
            attributeDefinitions: table.attributeDefinitions,
            creationDateTime: table.creationDate,
            itemCount: items,
            tableSizeBytes: bytes,
            billingModeSummary: DynamoDBBillingModeSummary(billingMode: table.billingMode)
        )
    }
}

extension Token {
    static func isTableNameByte(_ byte: UInt8) -> Bool {
        isWordByte(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }
}
