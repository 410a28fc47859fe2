public import WireShapes

/// Where the table service keeps tables and items. `Storage.SQLiteTableStore` is the platform's; ``InMemoryTableStore``
/// serves tests and the in-memory platform.
///
/// Items are kept whole (their canonical JSON, in SQLite) under their encoded key (``ItemKey``), whose bytes order
/// them as DynamoDB does. Every write goes through ``transact(_:_:)``, which reads the items a request names, lets the
/// service decide on them (conditions) and applies its writes in one transaction: all or nothing, with nothing changed
/// in between.
public protocol TableStore: Sendable {
    /// Adds a table.
    ///
    /// - Throws: ``TableError`` `ResourceInUseException` when a table of that name exists.
    func create(_ table: TableDefinition) async throws
    /// The table named `name`, if any.
    func table(named name: String) async throws -> TableDefinition?
    /// Up to `limit` table names in ascending order, after `after` when given.
    func tableNames(after: String?, limit: Int) async throws -> [String]
    /// Removes a table and all its items; returns it, or `nil` when there was none.
    func delete(table name: String) async throws -> TableDefinition?
    /// How many items a table holds and their size in bytes (of their stored form).
    func statistics(of table: String) async throws -> (items: Int, bytes: Int)
    /// The item at `address`, if any.
    func item(at address: ItemAddress) async throws -> DynamoDBItem?
    /// A page of one partition's items in sort key order.
    func query(_ query: KeyQuery) async throws -> [DynamoDBItem]
    /// Reads the items at `addresses` (`nil` where there is none), passes them to `decide` and applies the writes it
    /// returns, all in one transaction; when `decide` throws nothing is written and the error is rethrown.
    ///
    /// - Returns: The items read (before the writes).
    /// - Throws: ``TableError`` `ResourceNotFoundException` when a table of `addresses` does not exist; what
    ///   `decide` throws.
    func transact(
        _ addresses: [ItemAddress],
        _ decide: @escaping @Sendable ([DynamoDBItem?]) throws -> [ItemWrite]
    ) async throws -> [DynamoDBItem?]
}
