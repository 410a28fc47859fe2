import Synchronization
public import WireShapes

/// A ``TableStore`` in memory, under one lock: for tests and the in-memory platform.
public final class InMemoryTableStore: TableStore {
    private struct Table {
        var definition: TableDefinition
        var items: [ItemKey: DynamoDBItem] = [:]
    }

    private let tables = Mutex<[String: Table]>([:])

    public init() {}

    public func create(_ table: TableDefinition) async throws {
        try tables.withLock { tables throws(TableError) in
            guard tables[table.name] == nil else {
                throw TableError(.resourceInUse, "Table already exists: \(table.name)")
            }
            tables[table.name] = Table(definition: table)
        }
    }

    public func table(named name: String) async throws -> TableDefinition? {
        tables.withLock { $0[name]?.definition }
    }

    public func tableNames(after: String?, limit: Int) async throws -> [String] {
        let names = tables.withLock { Array($0.keys) }
        let sorted = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard let after else { return Array(sorted.prefix(limit)) }
        return Array(sorted.filter { after.utf8.lexicographicallyPrecedes($0.utf8) }.prefix(limit))
    }

    public func delete(table name: String) async throws -> TableDefinition? {
        tables.withLock { $0.removeValue(forKey: name)?.definition }
    }

    public func statistics(of table: String) async throws -> (items: Int, bytes: Int) {
        tables.withLock { tables in
            let items = tables[table]?.items.values ?? [:].values
            return (items.count, items.reduce(0) { $0 + ((try? ItemRules.validate($1)) ?? 0) })
        }
    }

    public func item(at address: ItemAddress) async throws -> DynamoDBItem? {
        tables.withLock { $0[address.table]?.items[address.key] }
    }

    public func query(_ query: KeyQuery) async throws -> [DynamoDBItem] {
        tables.withLock { tables in
            guard let table = tables[query.table] else { return [] }
            var page = table.items.filter { key, _ in
                key.partition == query.partition && (query.sort?.matches(key.sort) ?? true)
                    && (query.after.map { after in
                        query.forward
                            ? after.lexicographicallyPrecedes(key.sort) : key.sort.lexicographicallyPrecedes(after)
                    } ?? true)
            }
            .sorted { $0.key.sort.lexicographicallyPrecedes($1.key.sort) }
            if !query.forward { page.reverse() }
            return page.prefix(query.limit).map(\.value)
        }
    }

    public func transact(
        _ addresses: [ItemAddress],
        _ decide: @escaping @Sendable ([DynamoDBItem?]) throws -> [ItemWrite]
    ) async throws -> [DynamoDBItem?] {
        try tables.withLock { tables in
            for address in addresses where tables[address.table] == nil {
                throw TableError.tableNotFound(address.table)
            }
            let current = addresses.map { tables[$0.table]?.items[$0.key] }
            let writes = try decide(current)
            for write in writes {
                switch write {
                case .put(let address, let item): tables[address.table]?.items[address.key] = item
                case .delete(let address): tables[address.table]?.items[address.key] = nil
                }
            }
            return current
        }
    }
}
