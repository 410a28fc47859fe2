public import Foundation
public import WireShapes

/// The type of a key attribute: `S`, `N` or `B`.
public enum KeyType: String, Sendable, Hashable, Codable, CaseIterable {
    case string = "S"
    case number = "N"
    case binary = "B"
}

/// One key attribute of a table: its name and its type.
public struct KeyAttribute: Sendable, Hashable, Codable {
    public var name: String
    public var type: KeyType

    public init(name: String, type: KeyType) {
        self.name = name
        self.type = type
    }
}

/// A table as the store keeps it: name, key schema, identity and billing mode.
///
/// Stored as its JSON (a Codable record of this module), so the store need not know its fields.
public struct TableDefinition: Sendable, Hashable, Codable {
    public var name: String
    /// A UUID naming this incarnation of the table (a table deleted and created again gets another).
    public var id: String
    public var partitionKey: KeyAttribute
    public var sortKey: KeyAttribute?
    /// `PAY_PER_REQUEST` or `PROVISIONED` (accepted and echoed: nothing is metered).
    public var billingMode: String
    public var provisionedThroughput: Throughput?
    public var creationDate: Date

    /// The capacity a `PROVISIONED` table was created with.
    public struct Throughput: Sendable, Hashable, Codable {
        public var read: Int
        public var write: Int
    }

    public init(
        name: String,
        id: String,
        partitionKey: KeyAttribute,
        sortKey: KeyAttribute?,
        billingMode: String,
        provisionedThroughput: Throughput? = nil,
        creationDate: Date
    ) {
        self.name = name
        self.id = id
        self.partitionKey = partitionKey
        self.sortKey = sortKey
        self.billingMode = billingMode
        self.provisionedThroughput = provisionedThroughput
        self.creationDate = creationDate
    }

    /// The key attributes: the partition key, then the sort key when there is one.
    public var keyAttributes: [KeyAttribute] { [partitionKey] + (sortKey.map { [$0] } ?? []) }

    /// The names of the key attributes.
    public var keyNames: [String] { keyAttributes.map(\.name) }

    /// The key schema in DynamoDB's shape (`HASH`, then `RANGE`).
    public var keySchema: [DynamoDBKeySchemaElement] {
        var schema = [DynamoDBKeySchemaElement(attributeName: partitionKey.name, keyType: "HASH")]
        if let sortKey { schema.append(DynamoDBKeySchemaElement(attributeName: sortKey.name, keyType: "RANGE")) }
        return schema
    }

    /// The attribute definitions in DynamoDB's shape.
    public var attributeDefinitions: [DynamoDBAttributeDefinition] {
        keyAttributes.map { DynamoDBAttributeDefinition(attributeName: $0.name, attributeType: $0.type.rawValue) }
    }

    /// The key attributes of `item` (which holds them: it was validated).
    public func key(of item: DynamoDBItem) -> DynamoDBItem {
        var key: DynamoDBItem = [:]
        for name in keyNames { key[name] = item[name] }
        return key
    }
}
