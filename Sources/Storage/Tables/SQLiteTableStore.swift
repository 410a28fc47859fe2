public import Foundation
import GRDB
public import Tables
public import WireShapes

/// The platform's ``Tables/TableStore``: DynamoDB tables of the embedded table service in an SQLite file of their own,
/// `DIR/tables.sqlite`.
///
/// **Why a file of its own.** The keystore's items are what crypto-shredding destroys: erasing a subject deletes its
/// branch key items, and the wrapped keys must then be gone from disk, not merely unlinked. This database runs with
/// `PRAGMA secure_delete = ON` (SQLite overwrites deleted content with zeros), and after every commit that deleted
/// something it checkpoints its log with `TRUNCATE`, so no old page image holding a deleted item stays in the
/// `-wal` file either. Doing that on `sealed.sqlite` would tax every key and identity write; here it costs one
/// checkpoint per erasure. The file is also independent of `sealed.sqlite`'s format version.
///
/// **Tables.** `ddb_table` (one row per table: name and its ``Tables/TableDefinition`` as JSON) and `ddb_item`
/// (`WITHOUT ROWID`, primary key `(table_name, partition_key, sort_key)`: the keys' order-preserving encodings as
/// `BLOB`s, which SQLite compares with `memcmp`, so a query reads the index in DynamoDB's order; the item as its JSON
/// with sorted members). Deleting a table deletes its items (`ON DELETE CASCADE`).
///
/// **Durability and atomicity.** WAL with `synchronous = FULL`: a write returns after its commit is on disk. Every
/// write is one SQLite transaction in which the items a request names are read, its conditions decided and its
/// writes applied (``transact(_:_:)``), so a `TransactWriteItems` is all or nothing and no other write slips between
/// a condition and the write it guards.
public final class SQLiteTableStore: TableStore {
    public static let fileName = "tables.sqlite"

    /// Where the database file is.
    public let url: URL
    private let pool: DatabasePool

    /// Opens (creating if absent, with mode 0600) the database at `url` and creates its tables.
    ///
    /// - Throws: ``StorageError`` `databaseUnavailable` when SQLite cannot open or migrate it; `fileSystem` when the
    ///   file cannot be made private.
    public init(url: URL) throws {
        try FileSystem.ensurePrivateFile(url)
        var configuration = Configuration()
        configuration.label = "tables"
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: url.path, configuration: configuration)
        } catch {
            throw SQLiteDatabase.unavailable(url, error)
        }
        do {
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Self.migrator.migrate(pool)
        } catch {
            try? pool.close()
            throw SQLiteDatabase.unavailable(url, error)
        }
        self.url = url
        self.pool = pool
    }

    /// Closes the database; the store must not be used afterwards.
    public func close() throws {
        do {
            try pool.close()
        } catch {
            throw SQLiteDatabase.unavailable(url, error)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-tables") { db in
            try db.execute(
                sql: """
                    CREATE TABLE ddb_table (name TEXT PRIMARY KEY NOT NULL, document BLOB NOT NULL);
                    CREATE TABLE ddb_item (
                        table_name TEXT NOT NULL REFERENCES ddb_table (name) ON DELETE CASCADE,
                        partition_key BLOB NOT NULL,
                        sort_key BLOB NOT NULL,
                        document BLOB NOT NULL,
                        PRIMARY KEY (table_name, partition_key, sort_key)
                    ) WITHOUT ROWID;
                    """
            )
        }
        return migrator
    }

    // MARK: - Tables

    public func create(_ table: Tables.TableDefinition) async throws {
        let document = try Self.encode(table)
        try await write { db in
            guard
                try !Bool.fetchOne(
                    db,
                    sql: "SELECT EXISTS (SELECT 1 FROM ddb_table WHERE name = ?)",
                    arguments: [table.name]
                )!
            else { throw TableError(.resourceInUse, "Table already exists: \(table.name)") }
            try db.execute(
                sql: "INSERT INTO ddb_table (name, document) VALUES (?, ?)",
                arguments: [table.name, document]
            )
        }
    }

    public func table(named name: String) async throws -> Tables.TableDefinition? {
        let document = try await read { db in
            try Data.fetchOne(db, sql: "SELECT document FROM ddb_table WHERE name = ?", arguments: [name])
        }
        return try document.map { try decoded(Tables.TableDefinition.self, $0) }
    }

    public func tableNames(after: String?, limit: Int) async throws -> [String] {
        try await read { db in
            if let after {
                return try String.fetchAll(
                    db,
                    sql: "SELECT name FROM ddb_table WHERE name > ? ORDER BY name LIMIT ?",
                    arguments: [after, limit]
                )
            }
            return try String.fetchAll(db, sql: "SELECT name FROM ddb_table ORDER BY name LIMIT ?", arguments: [limit])
        }
    }

    public func delete(table name: String) async throws -> Tables.TableDefinition? {
        let document = try await write { db -> Data? in
            let document = try Data.fetchOne(
                db,
                sql: "SELECT document FROM ddb_table WHERE name = ?",
                arguments: [name]
            )
            try db.execute(sql: "DELETE FROM ddb_table WHERE name = ?", arguments: [name])
            return document
        }
        guard let document else { return nil }
        await truncateLog()
        return try decoded(Tables.TableDefinition.self, document)
    }

    public func statistics(of table: String) async throws -> (items: Int, bytes: Int) {
        try await read { db in
            let row = try Row.fetchOne(
                db,
                sql:
                    """
                    SELECT count(*) AS items, coalesce(sum(length(document)), 0) AS bytes
                    FROM ddb_item WHERE table_name = ?
                    """,
                arguments: [table]
            )
            return (row?["items"] ?? 0, row?["bytes"] ?? 0)
        }
    }

    // MARK: - Items

    public func item(at address: ItemAddress) async throws -> DynamoDBItem? {
        let document = try await read { db in try Self.document(at: address, db) }
        return try document.map { try decoded(DynamoDBItem.self, $0) }
    }

    public func query(_ query: KeyQuery) async throws -> [DynamoDBItem] {
        var sql = "SELECT document FROM ddb_item WHERE table_name = ? AND partition_key = ?"
        var arguments: StatementArguments = [query.table, Data(query.partition)]
        switch query.sort {
        case nil: break
        case .equal(let value):
            sql += " AND sort_key = ?"
            arguments += [Data(value)]
        case .less(let value):
            sql += " AND sort_key < ?"
            arguments += [Data(value)]
        case .lessOrEqual(let value):
            sql += " AND sort_key <= ?"
            arguments += [Data(value)]
        case .greater(let value):
            sql += " AND sort_key > ?"
            arguments += [Data(value)]
        case .greaterOrEqual(let value):
            sql += " AND sort_key >= ?"
            arguments += [Data(value)]
        case .between(let low, let high):
            sql += " AND sort_key >= ? AND sort_key <= ?"
            arguments += [Data(low), Data(high)]
        case .prefix(let value):
            // The range starts at the prefix; substr on a BLOB counts bytes.
            sql += " AND sort_key >= ? AND substr(sort_key, 1, ?) = ?"
            arguments += [Data(value), value.count, Data(value)]
        }
        if let after = query.after {
            sql += query.forward ? " AND sort_key > ?" : " AND sort_key < ?"
            arguments += [Data(after)]
        }
        sql += query.forward ? " ORDER BY sort_key ASC LIMIT ?" : " ORDER BY sort_key DESC LIMIT ?"
        arguments += [query.limit]
        let finalSQL = sql
        let finalArguments = arguments
        let documents = try await read { db in try Data.fetchAll(db, sql: finalSQL, arguments: finalArguments) }
        return try documents.map { try decoded(DynamoDBItem.self, $0) }
    }

    public func transact(
        _ addresses: [ItemAddress],
        _ decide: @escaping @Sendable ([DynamoDBItem?]) throws -> [ItemWrite]
    ) async throws -> [DynamoDBItem?] {
        let (current, deleted) = try await write { db -> ([DynamoDBItem?], Bool) in
            var current: [DynamoDBItem?] = []
            for address in addresses {
                guard
                    try Bool.fetchOne(
                        db,
                        sql: "SELECT EXISTS (SELECT 1 FROM ddb_table WHERE name = ?)",
                        arguments: [address.table]
                    )!
                else {
                    throw TableError(
                        .resourceNotFound,
                        "Requested resource not found: Table: \(address.table) not found"
                    )
                }
                current.append(try Self.document(at: address, db).map { try Self.decode(DynamoDBItem.self, $0) })
            }
            var deleted = false
            for write in try decide(current) {
                switch write {
                case .put(let address, let item):
                    try db.execute(
                        sql: """
                            INSERT OR REPLACE INTO ddb_item (table_name, partition_key, sort_key, document)
                            VALUES (?, ?, ?, ?)
                            """,
                        arguments: [
                            address.table, Data(address.key.partition), Data(address.key.sort), try Self.encode(item),
                        ]
                    )
                case .delete(let address):
                    try db.execute(
                        sql: "DELETE FROM ddb_item WHERE table_name = ? AND partition_key = ? AND sort_key = ?",
                        arguments: [address.table, Data(address.key.partition), Data(address.key.sort)]
                    )
                    deleted = deleted || db.changesCount > 0
                }
            }
            return (current, deleted)
        }
        if deleted { await truncateLog() }
        return current
    }

    // MARK: - SQLite

    private static func document(at address: ItemAddress, _ db: Database) throws -> Data? {
        try Data.fetchOne(
            db,
            sql: "SELECT document FROM ddb_item WHERE table_name = ? AND partition_key = ? AND sort_key = ?",
            arguments: [address.table, Data(address.key.partition), Data(address.key.sort)]
        )
    }

    /// Copies the log into the database file (where `secure_delete` zeroed the deleted content) and truncates it, so
    /// no page image of a deleted item is left in the `-wal` file.
    ///
    /// Best effort: the deletion has committed whatever happens here. A checkpoint that cannot finish (a reader still
    /// on an older snapshot past the busy timeout) leaves the log to the next one.
    private func truncateLog() async {
        _ = try? await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await perform { pool in try await pool.read(body) }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await perform { pool in try await pool.write(body) }
    }

    /// Runs `body` on the pool; SQLite's errors and rows that do not decode become ``StorageError``s, anything else
    /// (a ``Tables/TableError``, what a transaction's decision throws) passes through.
    private func perform<T>(_ body: (DatabasePool) async throws -> T) async throws -> T {
        do {
            return try await body(pool)
        } catch let error as DatabaseError {
            throw SQLiteDatabase.unavailable(url, error)
        } catch let error as DecodingError {
            throw SQLiteDatabase.unavailable(url, error)
        }
    }

    private static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }

    /// A stored document decoded; one that does not decode (the file was altered) is a ``StorageError``.
    private func decoded<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try Self.decode(type, data)
        } catch {
            throw SQLiteDatabase.unavailable(url, error)
        }
    }
}
