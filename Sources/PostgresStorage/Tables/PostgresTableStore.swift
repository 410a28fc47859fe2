import Foundation
import NIOCore
import PostgresNIO
public import Tables
public import WireShapes

/// The platform's ``Tables/TableStore`` in PostgreSQL: the DynamoDB tables of the embedded table service (the branch
/// keystore's), shared by every replica.
///
/// **Tables.** `ddb_table` (one row per table: its ``Tables/TableDefinition`` as JSON) and `ddb_item` (primary key
/// `(table_name, partition_key, sort_key)`: the keys' order-preserving encodings as `bytea`, which PostgreSQL
/// compares byte by byte, so a query reads the index in DynamoDB's order; the item as JSON with sorted members).
/// Deleting a table deletes its items (`ON DELETE CASCADE`).
///
/// **Atomicity.** ``transact(_:_:)`` reads the items a request names, decides and writes in one serializable
/// transaction: a `TransactWriteItems` is all or nothing, and no write of another replica slips between a condition
/// and the write it guards (the loser of a race is run again and decides on what the winner wrote).
///
/// **Erasure.** Unlike the SQLite store (`secure_delete` and a truncated log after every deletion), PostgreSQL does
/// not overwrite a deleted row: its bytes stay in the table's pages until they are reused, in the write-ahead log
/// until it is recycled, and in backups and replicas. Crypto-shredding a subject on this back end removes its branch
/// key items from every query at once, but "gone from disk" then depends on the database's own retention (VACUUM,
/// WAL recycling, backup expiry), which the operator controls.
public struct PostgresTableStore: TableStore, CustomStringConvertible {
    public let database: PostgresDatabase

    public init(database: PostgresDatabase) { self.database = database }

    public var description: String { "PostgresTableStore(\(database.url))" }

    // MARK: - Tables

    public func create(_ table: Tables.TableDefinition) async throws {
        let document = try Documents.encode(table)
        let inserted = try await database.query(
            try """
            INSERT INTO ddb_table (name, document) VALUES (\(table.name), \(document))
            ON CONFLICT (name) DO NOTHING RETURNING name
            """
        )
        guard !inserted.isEmpty else { throw TableError(.resourceInUse, "Table already exists: \(table.name)") }
    }

    public func table(named name: String) async throws -> Tables.TableDefinition? {
        try await database.query("SELECT document FROM ddb_table WHERE name = \(name)").first.map {
            try Documents.decode(Tables.TableDefinition.self, try $0.decode(Data.self))
        }
    }

    public func tableNames(after: String?, limit: Int) async throws -> [String] {
        try await database.query(
            "SELECT name FROM ddb_table WHERE \(after)::text IS NULL OR name > \(after) ORDER BY name LIMIT \(limit)"
        ).map { try $0.decode(String.self) }
    }

    public func delete(table name: String) async throws -> Tables.TableDefinition? {
        try await database.query("DELETE FROM ddb_table WHERE name = \(name) RETURNING document").first.map {
            try Documents.decode(Tables.TableDefinition.self, try $0.decode(Data.self))
        }
    }

    public func statistics(of table: String) async throws -> (items: Int, bytes: Int) {
        let rows = try await database.query(
            """
            SELECT count(*), coalesce(sum(length(document)), 0)::bigint FROM ddb_item WHERE table_name = \(table)
            """
        )
        guard let row = rows.first else { return (0, 0) }
        let (items, bytes) = try row.decode((Int, Int).self)
        return (items, bytes)
    }

    // MARK: - Items

    public func item(at address: ItemAddress) async throws -> DynamoDBItem? {
        try await database.withConnection { connection in try await Self.item(at: address, on: connection) }
    }

    public func query(_ query: KeyQuery) async throws -> [DynamoDBItem] {
        var bindings = PostgresBindings()
        /// `value` bound as the next parameter; its placeholder.
        func bind(_ value: [UInt8]) -> String {
            bindings.append(ByteBuffer(bytes: value))
            return "$\(bindings.count)"
        }
        bindings.append(query.table)
        var sql = "SELECT document FROM ddb_item WHERE table_name = $1 AND partition_key = \(bind(query.partition))"
        switch query.sort {
        case nil: break
        case .equal(let value): sql += " AND sort_key = \(bind(value))"
        case .less(let value): sql += " AND sort_key < \(bind(value))"
        case .lessOrEqual(let value): sql += " AND sort_key <= \(bind(value))"
        case .greater(let value): sql += " AND sort_key > \(bind(value))"
        case .greaterOrEqual(let value): sql += " AND sort_key >= \(bind(value))"
        case .between(let low, let high): sql += " AND sort_key >= \(bind(low)) AND sort_key <= \(bind(high))"
        case .prefix(let value):
            // The range starts at the prefix; substring of a bytea counts bytes.
            let placeholder = bind(value)
            sql += " AND sort_key >= \(placeholder) AND substring(sort_key from 1 for \(value.count)) = \(placeholder)"
        }
        if let after = query.after {
            sql += query.forward ? " AND sort_key > \(bind(after))" : " AND sort_key < \(bind(after))"
        }
        bindings.append(query.limit)
        sql += (query.forward ? " ORDER BY sort_key ASC" : " ORDER BY sort_key DESC") + " LIMIT $\(bindings.count)"
        // Only placeholders and this function's constant text are in `sql`; every value is bound.
        return try await database.query(PostgresQuery(unsafeSQL: sql, binds: bindings)).map {
            try Documents.decode(DynamoDBItem.self, try $0.decode(Data.self))
        }
    }

    public func transact(
        _ addresses: [ItemAddress],
        _ decide: @escaping @Sendable ([DynamoDBItem?]) throws -> [ItemWrite]
    ) async throws -> [DynamoDBItem?] {
        try await database.transaction { connection in
            var current: [DynamoDBItem?] = []
            for address in addresses {
                let exists = try await connection.run("SELECT 1 FROM ddb_table WHERE name = \(address.table)")
                guard !exists.isEmpty else {
                    throw TableError(
                        .resourceNotFound,
                        "Requested resource not found: Table: \(address.table) not found"
                    )
                }
                current.append(try await Self.item(at: address, on: connection))
            }
            for write in try decide(current) {
                switch write {
                case .put(let address, let item):
                    try await connection.run(
                        try """
                        INSERT INTO ddb_item (table_name, partition_key, sort_key, document)
                        VALUES (\(address.table), \(ByteBuffer(bytes: address.key.partition)),
                            \(ByteBuffer(bytes: address.key.sort)), \(try Documents.encode(item)))
                        ON CONFLICT (table_name, partition_key, sort_key) DO UPDATE SET document = excluded.document
                        """
                    )
                case .delete(let address):
                    try await connection.run(
                        """
                        DELETE FROM ddb_item WHERE table_name = \(address.table)
                            AND partition_key = \(ByteBuffer(bytes: address.key.partition))
                            AND sort_key = \(ByteBuffer(bytes: address.key.sort))
                        """
                    )
                }
            }
            return current
        }
    }

    // MARK: - Helpers

    private static func item(
        at address: ItemAddress,
        on connection: PostgresConnection
    ) async throws
        -> DynamoDBItem?
    {
        let rows = try await connection.run(
            """
            SELECT document FROM ddb_item WHERE table_name = \(address.table)
                AND partition_key = \(ByteBuffer(bytes: address.key.partition))
                AND sort_key = \(ByteBuffer(bytes: address.key.sort))
            """
        )
        return try rows.first.map { try Documents.decode(DynamoDBItem.self, try $0.decode(Data.self)) }
    }
}
