public import WireShapes

/// Where an item lives in a table: its key attributes encoded as bytes that compare as DynamoDB orders them.
///
/// `S` values are their UTF-8 bytes (DynamoDB orders strings by their UTF-8 bytes), `B` values their bytes, `N` values
/// the order-preserving encoding of ``NumberEncoding``: a store compares the bytes with `memcmp` (SQLite's `BLOB`
/// order) and gets DynamoDB's order, and two spellings of one number (`1`, `1.0`, `10E-1`) are one key. A table
/// without a sort key has the empty ``sort``.
public struct ItemKey: Sendable, Hashable {
    public var partition: [UInt8]
    public var sort: [UInt8]

    public init(partition: [UInt8], sort: [UInt8]) {
        self.partition = partition
        self.sort = sort
    }

    /// The encoding of one key value of type `type`; `nil` when the value is not of that type or not a valid number.
    static func encode(_ value: DynamoDBAttributeValue, as type: KeyType) -> [UInt8]? {
        switch (type, value) {
        case (.string, .string(let text)): Array(text.utf8)
        case (.binary, .binary(let bytes)): Array(bytes)
        case (.number, .number(let text)): NumberEncoding.encode(text)
        default: nil
        }
    }
}

/// An item of a table, addressed: what a transaction reads and writes.
public struct ItemAddress: Sendable, Hashable {
    public var table: String
    public var key: ItemKey

    public init(table: String, key: ItemKey) {
        self.table = table
        self.key = key
    }
}

/// One write of a transaction.
public enum ItemWrite: Sendable, Hashable {
    /// Stores `item` at `address`, replacing what is there.
    case put(ItemAddress, DynamoDBItem)
    /// Removes the item at `address`, if any.
    case delete(ItemAddress)
}

/// The sort-key part of a query, on encoded sort keys.
public enum SortCondition: Sendable, Hashable {
    case equal([UInt8])
    case less([UInt8])
    case lessOrEqual([UInt8])
    case greater([UInt8])
    case greaterOrEqual([UInt8])
    case between([UInt8], [UInt8])
    case prefix([UInt8])

    /// Whether an encoded sort key satisfies the condition.
    public func matches(_ sort: [UInt8]) -> Bool {
        switch self {
        case .equal(let value): sort == value
        case .less(let value): sort.lexicographicallyPrecedes(value)
        case .lessOrEqual(let value): !value.lexicographicallyPrecedes(sort)
        case .greater(let value): value.lexicographicallyPrecedes(sort)
        case .greaterOrEqual(let value): !sort.lexicographicallyPrecedes(value)
        case .between(let low, let high): !sort.lexicographicallyPrecedes(low) && !high.lexicographicallyPrecedes(sort)
        case .prefix(let value): sort.starts(with: value)
        }
    }
}

/// A page of one partition's items, as a store reads it.
public struct KeyQuery: Sendable, Hashable {
    public var table: String
    public var partition: [UInt8]
    public var sort: SortCondition?
    /// Ascending sort key order (`ScanIndexForward`, the default) or descending.
    public var forward: Bool
    /// The items start after (or, descending, before) this encoded sort key: the page follows the previous one.
    public var after: [UInt8]?
    /// The most items to return.
    public var limit: Int

    public init(
        table: String,
        partition: [UInt8],
        sort: SortCondition? = nil,
        forward: Bool = true,
        after: [UInt8]? = nil,
        limit: Int
    ) {
        self.table = table
        self.partition = partition
        self.sort = sort
        self.forward = forward
        self.after = after
        self.limit = limit
    }
}
