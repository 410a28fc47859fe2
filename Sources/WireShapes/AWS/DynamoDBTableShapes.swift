public import Foundation

// The table operations of the DynamoDB subset (CreateTable, DescribeTable, DeleteTable, ListTables) and their parts.

/// `KeySchemaElement`: `KeyType` is `HASH` (partition key) or `RANGE` (sort key).
public struct DynamoDBKeySchemaElement: Codable, Sendable, Hashable {
    public var attributeName: String
    public var keyType: String

    public init(attributeName: String, keyType: String) {
        self.attributeName = attributeName
        self.keyType = keyType
    }

    enum CodingKeys: String, CodingKey {
        case attributeName = "AttributeName"
        case keyType = "KeyType"
    }
}

/// `AttributeDefinition`: `AttributeType` is `S`, `N` or `B`.
public struct DynamoDBAttributeDefinition: Codable, Sendable, Hashable {
    public var attributeName: String
    public var attributeType: String

    public init(attributeName: String, attributeType: String) {
        self.attributeName = attributeName
        self.attributeType = attributeType
    }

    enum CodingKeys: String, CodingKey {
        case attributeName = "AttributeName"
        case attributeType = "AttributeType"
    }
}

/// `ProvisionedThroughput` (accepted and echoed; the embedded store does not meter).
public struct DynamoDBProvisionedThroughput: Codable, Sendable, Hashable {
    public var readCapacityUnits: Int
    public var writeCapacityUnits: Int

    public init(readCapacityUnits: Int, writeCapacityUnits: Int) {
        self.readCapacityUnits = readCapacityUnits
        self.writeCapacityUnits = writeCapacityUnits
    }

    enum CodingKeys: String, CodingKey {
        case readCapacityUnits = "ReadCapacityUnits"
        case writeCapacityUnits = "WriteCapacityUnits"
    }
}

/// `BillingModeSummary`.
public struct DynamoDBBillingModeSummary: Codable, Sendable, Hashable {
    public var billingMode: String?

    public init(billingMode: String?) { self.billingMode = billingMode }

    enum CodingKeys: String, CodingKey { case billingMode = "BillingMode" }
}

/// `TableDescription`, the members a client of the subset reads.
public struct DynamoDBTableDescription: Codable, Sendable, Hashable {
    public var tableName: String?
    public var tableArn: String?
    public var tableId: String?
    /// `CREATING`, `ACTIVE`, `DELETING`, …
    public var tableStatus: String?
    public var keySchema: [DynamoDBKeySchemaElement]?
    public var attributeDefinitions: [DynamoDBAttributeDefinition]?
    public var creationDateTime: Date?
    public var itemCount: Int?
    public var tableSizeBytes: Int?
    public var billingModeSummary: DynamoDBBillingModeSummary?

    public init(
        tableName: String? = nil,
        tableArn: String? = nil,
        tableId: String? = nil,
        tableStatus: String? = nil,
        keySchema: [DynamoDBKeySchemaElement]? = nil,
        attributeDefinitions: [DynamoDBAttributeDefinition]? = nil,
        creationDateTime: Date? = nil,
        itemCount: Int? = nil,
        tableSizeBytes: Int? = nil,
        billingModeSummary: DynamoDBBillingModeSummary? = nil
    ) {
        self.tableName = tableName
        self.tableArn = tableArn
        self.tableId = tableId
        self.tableStatus = tableStatus
        self.keySchema = keySchema
        self.attributeDefinitions = attributeDefinitions
        self.creationDateTime = creationDateTime
        self.itemCount = itemCount
        self.tableSizeBytes = tableSizeBytes
        self.billingModeSummary = billingModeSummary
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName"
        case tableArn = "TableArn"
        case tableId = "TableId"
        case tableStatus = "TableStatus"
        case keySchema = "KeySchema"
        case attributeDefinitions = "AttributeDefinitions"
        case creationDateTime = "CreationDateTime"
        case itemCount = "ItemCount"
        case tableSizeBytes = "TableSizeBytes"
        case billingModeSummary = "BillingModeSummary"
    }
}

/// `CreateTable` input.
public struct DynamoDBCreateTableRequest: DynamoDBRequest, Hashable {
    public typealias Response = DynamoDBCreateTableResponse
    public static let operation = DynamoDBOperation.createTable

    public var tableName: String
    public var attributeDefinitions: [DynamoDBAttributeDefinition]
    public var keySchema: [DynamoDBKeySchemaElement]
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    public var billingMode: String?
    public var provisionedThroughput: DynamoDBProvisionedThroughput?

    public init(
        tableName: String,
        attributeDefinitions: [DynamoDBAttributeDefinition],
        keySchema: [DynamoDBKeySchemaElement],
        billingMode: String? = nil,
        provisionedThroughput: DynamoDBProvisionedThroughput? = nil
    ) {
        self.tableName = tableName
        self.attributeDefinitions = attributeDefinitions
        self.keySchema = keySchema
        self.billingMode = billingMode
        self.provisionedThroughput = provisionedThroughput
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName"
        case attributeDefinitions = "AttributeDefinitions"
        case keySchema = "KeySchema"
        case billingMode = "BillingMode"
        case provisionedThroughput = "ProvisionedThroughput"
    }
}

/// `CreateTable` output.
public struct DynamoDBCreateTableResponse: Codable, Sendable, Hashable {
    public var tableDescription: DynamoDBTableDescription?

    public init(tableDescription: DynamoDBTableDescription?) { self.tableDescription = tableDescription }

    enum CodingKeys: String, CodingKey { case tableDescription = "TableDescription" }
}

/// `DescribeTable` input.
public struct DynamoDBDescribeTableRequest: DynamoDBRequest, Hashable {
    public typealias Response = DynamoDBDescribeTableResponse
    public static let operation = DynamoDBOperation.describeTable

    public var tableName: String

    public init(tableName: String) { self.tableName = tableName }

    enum CodingKeys: String, CodingKey { case tableName = "TableName" }
}

/// `DescribeTable` output.
public struct DynamoDBDescribeTableResponse: Codable, Sendable, Hashable {
    public var table: DynamoDBTableDescription?

    public init(table: DynamoDBTableDescription?) { self.table = table }

    enum CodingKeys: String, CodingKey { case table = "Table" }
}

/// `DeleteTable` input.
public struct DynamoDBDeleteTableRequest: DynamoDBRequest, Hashable {
    public typealias Response = DynamoDBDeleteTableResponse
    public static let operation = DynamoDBOperation.deleteTable

    public var tableName: String

    public init(tableName: String) { self.tableName = tableName }

    enum CodingKeys: String, CodingKey { case tableName = "TableName" }
}

/// `DeleteTable` output.
public struct DynamoDBDeleteTableResponse: Codable, Sendable, Hashable {
    public var tableDescription: DynamoDBTableDescription?

    public init(tableDescription: DynamoDBTableDescription?) { self.tableDescription = tableDescription }

    enum CodingKeys: String, CodingKey { case tableDescription = "TableDescription" }
}

/// `ListTables` input.
public struct DynamoDBListTablesRequest: DynamoDBRequest, Hashable {
    public typealias Response = DynamoDBListTablesResponse
    public static let operation = DynamoDBOperation.listTables

    public var exclusiveStartTableName: String?
    public var limit: Int?

    public init(exclusiveStartTableName: String? = nil, limit: Int? = nil) {
        self.exclusiveStartTableName = exclusiveStartTableName
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case exclusiveStartTableName = "ExclusiveStartTableName"
        case limit = "Limit"
    }
}

/// `ListTables` output.
public struct DynamoDBListTablesResponse: Codable, Sendable, Hashable {
    public var tableNames: [String]?
    public var lastEvaluatedTableName: String?

    public init(tableNames: [String]?, lastEvaluatedTableName: String? = nil) {
        self.tableNames = tableNames
        self.lastEvaluatedTableName = lastEvaluatedTableName
    }

    enum CodingKeys: String, CodingKey {
        case tableNames = "TableNames"
        case lastEvaluatedTableName = "LastEvaluatedTableName"
    }
}
