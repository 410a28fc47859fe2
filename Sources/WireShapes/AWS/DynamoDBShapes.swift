/// A DynamoDB API operation, named as in the `X-Amz-Target: DynamoDB_20120810.<Operation>` header.
///
/// The subset a branch keystore needs (and a little more for operators): the JSON 1.0 protocol, SigV4 service
/// `dynamodb`.
public struct DynamoDBOperation: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    static let prefix = "DynamoDB_20120810."

    /// The `X-Amz-Target` header value: `DynamoDB_20120810.<Operation>`.
    public var target: String { Self.prefix + rawValue }

    /// The operation named by an `X-Amz-Target` value, or `nil` when it is not `DynamoDB_20120810.<Operation>`.
    public init?(target: String) {
        guard target.hasPrefix(Self.prefix), target.count > Self.prefix.count else { return nil }
        self.init(rawValue: String(target.dropFirst(Self.prefix.count)))
    }

    public static let createTable: DynamoDBOperation = "CreateTable"
    public static let describeTable: DynamoDBOperation = "DescribeTable"
    public static let deleteTable: DynamoDBOperation = "DeleteTable"
    public static let listTables: DynamoDBOperation = "ListTables"
    public static let getItem: DynamoDBOperation = "GetItem"
    public static let putItem: DynamoDBOperation = "PutItem"
    public static let deleteItem: DynamoDBOperation = "DeleteItem"
    public static let query: DynamoDBOperation = "Query"
    public static let transactWriteItems: DynamoDBOperation = "TransactWriteItems"
}

/// The JSON conventions of the AWS JSON 1.0 protocol DynamoDB speaks: those of ``AWSJSON`` with another content type.
public enum DynamoDBJSON {
    /// The content type of the JSON 1.0 protocol.
    public static let contentType = "application/x-amz-json-1.0"
    /// The namespace DynamoDB puts before its error codes in `__type`.
    public static let errorNamespace = "com.amazonaws.dynamodb.v20120810#"
}

/// The input shape of one DynamoDB operation, tied to its operation name and output shape.
public protocol DynamoDBRequest: Codable, Sendable {
    associatedtype Response: Codable, Sendable
    static var operation: DynamoDBOperation { get }
}

/// `GetItem` input.
public struct DynamoDBGetItemRequest: DynamoDBRequest, Hashable {
    public typealias Response = DynamoDBGetItemResponse
    public static let operation = DynamoDBOperation.getItem

    public var tableName: String
    public var key: DynamoDBItem
    public var consistentRead: Bool?
    public var projectionExpression: String?
    public var expressionAttributeNames: [String: String]?

    public init(
        tableName: String,
        key: DynamoDBItem,
        consistentRead: Bool? = nil,
        projectionExpression: String? = nil,
        expressionAttributeNames: [String: String]? = nil
    ) {
        self.tableName = tableName
        self.key = key
        self.consistentRead = consistentRead
        self.projectionExpression = projectionExpression
        self.expressionAttributeNames = expressionAttributeNames
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName"
        case key = "Key"
        case consistentRead = "ConsistentRead"
        case projectionExpression = "ProjectionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames"
    }
}

/// `GetItem` output: no `Item` when there is none.
public struct DynamoDBGetItemResponse: Codable, Sendable, Hashable {
    public var item: DynamoDBItem?

    public init(item: DynamoDBItem?) { self.item = item }

    enum CodingKeys: String, CodingKey { case item = "Item" }
}

/// `PutItem` input; also the `Put` of a `TransactWriteItems` entry.
public struct DynamoDBPutItemRequest: DynamoDBRequest, Hashable {
    public typealias Response = DynamoDBPutItemResponse
    public static let operation = DynamoDBOperation.putItem

    public var tableName: String
    public var item: DynamoDBItem
    public var conditionExpression: String?
    public var expressionAttributeNames: [String: String]?
    public var expressionAttributeValues: DynamoDBItem?
    /// `NONE` or `ALL_OLD`.
    public var returnValues: String?

    public init(
        tableName: String,
        item: DynamoDBItem,
        conditionExpression: String? = nil,
        expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: DynamoDBItem? = nil,
        returnValues: String? = nil
    ) {
        self.tableName = tableName
        self.item = item
        self.conditionExpression = conditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
        self.returnValues = returnValues
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName"
        case item = "Item"
        case conditionExpression = "ConditionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames"
        case expressionAttributeValues = "ExpressionAttributeValues"
        case returnValues = "ReturnValues"
    }
}

/// `PutItem` output: the old item when `ReturnValues` was `ALL_OLD`.
public struct DynamoDBPutItemResponse: Codable, Sendable, Hashable {
    public var attributes: DynamoDBItem?

    public init(attributes: DynamoDBItem? = nil) { self.attributes = attributes }

    enum CodingKeys: String, CodingKey { case attributes = "Attributes" }
}

/// `DeleteItem` input; also the `Delete` of a `TransactWriteItems` entry.
public struct DynamoDBDeleteItemRequest: DynamoDBRequest, Hashable {
    public typealias Response = DynamoDBDeleteItemResponse
    public static let operation = DynamoDBOperation.deleteItem

    public var tableName: String
    public var key: DynamoDBItem
    public var conditionExpression: String?
    public var expressionAttributeNames: [String: String]?
    public var expressionAttributeValues: DynamoDBItem?
    /// `NONE` or `ALL_OLD`.
    public var returnValues: String?

    public init(
        tableName: String,
        key: DynamoDBItem,
        conditionExpression: String? = nil,
        expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: DynamoDBItem? = nil,
        returnValues: String? = nil
    ) {
        self.tableName = tableName
        self.key = key
        self.conditionExpression = conditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
        self.returnValues = returnValues
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName"
        case key = "Key"
        case conditionExpression = "ConditionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames"
        case expressionAttributeValues = "ExpressionAttributeValues"
        case returnValues = "ReturnValues"
    }
}

/// `DeleteItem` output: the old item when `ReturnValues` was `ALL_OLD`.
public struct DynamoDBDeleteItemResponse: Codable, Sendable, Hashable {
    public var attributes: DynamoDBItem?

    public init(attributes: DynamoDBItem? = nil) { self.attributes = attributes }

    enum CodingKeys: String, CodingKey { case attributes = "Attributes" }
}

/// The `ConditionCheck` of a `TransactWriteItems` entry.
public struct DynamoDBConditionCheck: Codable, Sendable, Hashable {
    public var tableName: String
    public var key: DynamoDBItem
    public var conditionExpression: String
    public var expressionAttributeNames: [String: String]?
    public var expressionAttributeValues: DynamoDBItem?

    public init(
        tableName: String,
        key: DynamoDBItem,
        conditionExpression: String,
        expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: DynamoDBItem? = nil
    ) {
        self.tableName = tableName
        self.key = key
        self.conditionExpression = conditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName"
        case key = "Key"
        case conditionExpression = "ConditionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames"
        case expressionAttributeValues = "ExpressionAttributeValues"
    }
}

/// One entry of `TransactWriteItems`: exactly one of `Put`, `Delete`, `ConditionCheck` (`Update` is not in the
/// subset and is refused).
public struct DynamoDBTransactWriteItem: Codable, Sendable, Hashable {
    public var put: DynamoDBPutItemRequest?
    public var delete: DynamoDBDeleteItemRequest?
    public var conditionCheck: DynamoDBConditionCheck?
    /// Whether the entry is an `Update`, which the subset does not serve: kept so that it is refused by name.
    public var isUpdate: Bool

    public init(
        put: DynamoDBPutItemRequest? = nil,
        delete: DynamoDBDeleteItemRequest? = nil,
        conditionCheck: DynamoDBConditionCheck? = nil
    ) {
        self.put = put
        self.delete = delete
        self.conditionCheck = conditionCheck
        self.isUpdate = false
    }

    enum CodingKeys: String, CodingKey {
        case put = "Put"
        case delete = "Delete"
        case conditionCheck = "ConditionCheck"
        case update = "Update"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        put = try container.decodeIfPresent(DynamoDBPutItemRequest.self, forKey: .put)
        delete = try container.decodeIfPresent(DynamoDBDeleteItemRequest.self, forKey: .delete)
        conditionCheck = try container.decodeIfPresent(DynamoDBConditionCheck.self, forKey: .conditionCheck)
        isUpdate = container.contains(.update)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(put, forKey: .put)
        try container.encodeIfPresent(delete, forKey: .delete)
        try container.encodeIfPresent(conditionCheck, forKey: .conditionCheck)
    }
}

/// `TransactWriteItems` input: all entries succeed together or none does.
public struct DynamoDBTransactWriteItemsRequest: DynamoDBRequest, Hashable {
    public typealias Response = DynamoDBTransactWriteItemsResponse
    public static let operation = DynamoDBOperation.transactWriteItems

    public var transactItems: [DynamoDBTransactWriteItem]
    public var clientRequestToken: String?

    public init(transactItems: [DynamoDBTransactWriteItem], clientRequestToken: String? = nil) {
        self.transactItems = transactItems
        self.clientRequestToken = clientRequestToken
    }

    enum CodingKeys: String, CodingKey {
        case transactItems = "TransactItems"
        case clientRequestToken = "ClientRequestToken"
    }
}

/// `TransactWriteItems` output.
public struct DynamoDBTransactWriteItemsResponse: Codable, Sendable, Hashable {
    public init() {}
}

/// `Query` input: the items of one partition key, optionally narrowed on the sort key.
public struct DynamoDBQueryRequest: DynamoDBRequest, Hashable {
    public typealias Response = DynamoDBQueryResponse
    public static let operation = DynamoDBOperation.query

    public var tableName: String
    public var keyConditionExpression: String
    public var expressionAttributeNames: [String: String]?
    public var expressionAttributeValues: DynamoDBItem?
    public var consistentRead: Bool?
    public var limit: Int?
    public var exclusiveStartKey: DynamoDBItem?
    public var scanIndexForward: Bool?

    public init(
        tableName: String,
        keyConditionExpression: String,
        expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: DynamoDBItem? = nil,
        consistentRead: Bool? = nil,
        limit: Int? = nil,
        exclusiveStartKey: DynamoDBItem? = nil,
        scanIndexForward: Bool? = nil
    ) {
        self.tableName = tableName
        self.keyConditionExpression = keyConditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
        self.consistentRead = consistentRead
        self.limit = limit
        self.exclusiveStartKey = exclusiveStartKey
        self.scanIndexForward = scanIndexForward
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName"
        case keyConditionExpression = "KeyConditionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames"
        case expressionAttributeValues = "ExpressionAttributeValues"
        case consistentRead = "ConsistentRead"
        case limit = "Limit"
        case exclusiveStartKey = "ExclusiveStartKey"
        case scanIndexForward = "ScanIndexForward"
    }
}

/// `Query` output; `LastEvaluatedKey` is set when more items follow.
public struct DynamoDBQueryResponse: Codable, Sendable, Hashable {
    public var items: [DynamoDBItem]?
    public var count: Int?
    public var scannedCount: Int?
    public var lastEvaluatedKey: DynamoDBItem?

    public init(
        items: [DynamoDBItem]?,
        count: Int? = nil,
        scannedCount: Int? = nil,
        lastEvaluatedKey: DynamoDBItem? = nil
    ) {
        self.items = items
        self.count = count
        self.scannedCount = scannedCount
        self.lastEvaluatedKey = lastEvaluatedKey
    }

    enum CodingKeys: String, CodingKey {
        case items = "Items"
        case count = "Count"
        case scannedCount = "ScannedCount"
        case lastEvaluatedKey = "LastEvaluatedKey"
    }
}

/// Why one entry of a cancelled transaction failed: `Code` is `None` for entries that did not.
public struct DynamoDBCancellationReason: Codable, Sendable, Hashable {
    public var code: String?
    public var message: String?

    public init(code: String?, message: String? = nil) {
        self.code = code
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case code = "Code"
        case message = "Message"
    }
}

/// The JSON body of a DynamoDB error: `__type` (`com.amazonaws.dynamodb.v20120810#<Code>`), `message`, and for
/// `TransactionCanceledException` the per-entry `CancellationReasons`.
public struct DynamoDBErrorShape: Codable, Sendable, Hashable {
    public var type: String
    public var message: String?
    public var cancellationReasons: [DynamoDBCancellationReason]?

    public init(code: String, message: String?, cancellationReasons: [DynamoDBCancellationReason]? = nil) {
        self.type = DynamoDBJSON.errorNamespace + code
        self.message = message
        self.cancellationReasons = cancellationReasons
    }

    /// The error code: ``type`` without its namespace.
    public var code: String { AWSErrorShape.code(fromType: type) }

    enum CodingKeys: String, CodingKey {
        case type = "__type"
        case message
        case upperMessage = "Message"
        case cancellationReasons = "CancellationReasons"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        message =
            try container.decodeIfPresent(String.self, forKey: .message)
            ?? container.decodeIfPresent(String.self, forKey: .upperMessage)
        cancellationReasons = try container.decodeIfPresent(
            [DynamoDBCancellationReason].self,
            forKey: .cancellationReasons
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encodeIfPresent(message, forKey: .message)
        try container.encodeIfPresent(cancellationReasons, forKey: .cancellationReasons)
    }
}
