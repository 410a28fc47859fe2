import AuditTrail
import Foundation
import GRDB
import GRDBSQLite

/// Where a record's frame is in the log.
struct AuditFrameLocation: Sendable, Hashable {
    /// The segment's first sequence number (its name).
    var segment: Int64
    /// The frame's offset in the segment.
    var offset: Int
    /// The frame's length, header included.
    var length: Int
}

/// A durable record: what the indexer stores, and what queries read while it is not indexed yet.
struct AuditLogEntry: Sendable {
    var sequence: Int64
    var hash: ChainHash
    /// The canonical bytes (the frame's payload).
    var bytes: [UInt8]
    var columns: AuditIndexColumns
    var location: AuditFrameLocation
}

/// The query index of the audit log (`DIR/audit/index.sqlite`): the queryable columns of each record, its hash and
/// where its frame is — not the record's bytes, which stay in the log.
///
/// Derived data: written in batches (one transaction each) from records already durable in the log, with
/// `synchronous = NORMAL` (a crash of the machine may lose the newest batches, which the next start indexes again from
/// the log, from the high-water mark the index keeps: the newest sequence number it holds). A file that cannot be
/// used as an index is deleted and rebuilt, and deleting it is always safe.
final class AuditLogIndex: Sendable {
    static let formatVersion: Int64 = 1
    let url: URL
    let pool: DatabasePool

    /// Opens the index at `url`, creating it (or recreating it when it is not a usable index of this format).
    init(url: URL) throws {
        self.url = url
        do {
            pool = try Self.openPool(url)
        } catch {
            // Derived data: start again from nothing.
            for suffix in ["", "-wal", "-shm"] { unlink(url.path + suffix) }
            do {
                pool = try Self.openPool(url)
            } catch {
                throw AuditStoreError.unavailable(url, error)
            }
        }
    }

    private static func openPool(_ url: URL) throws -> DatabasePool {
        try FileSystem.ensurePrivateFile(url)
        var configuration = Configuration()
        configuration.label = "sealed-audit-index"
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: url.path, configuration: configuration)
        do {
            try pool.write { db in
                try db.execute(sql: schema)
                let format = try Int64.fetchOne(db, sql: "SELECT value FROM index_meta WHERE key = 'format'")
                if format == nil {
                    try db.execute(
                        sql: "INSERT INTO index_meta (key, value) VALUES ('format', ?), ('highWater', 0)",
                        arguments: [formatVersion]
                    )
                } else if format != formatVersion {
                    throw AuditStoreError(.incompatibleVersion, "The audit index has format \(format!).")
                }
            }
        } catch {
            try? pool.close()
            throw error
        }
        return pool
    }

    private static let schema = """
        CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS audit_entry (
            sequence INTEGER PRIMARY KEY NOT NULL,
            hash BLOB NOT NULL,
            segment INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            length INTEGER NOT NULL,
            event_time INTEGER NOT NULL,
            event_name TEXT NOT NULL,
            principal_arn TEXT,
            issuer_arn TEXT,
            event_type TEXT,
            error_code TEXT,
            is_denial INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS audit_entry_by_time ON audit_entry (event_time);
        CREATE INDEX IF NOT EXISTS audit_entry_by_principal ON audit_entry (principal_arn, sequence);
        CREATE INDEX IF NOT EXISTS audit_entry_by_issuer ON audit_entry (issuer_arn, sequence)
            WHERE issuer_arn IS NOT NULL;
        CREATE INDEX IF NOT EXISTS audit_entry_by_event_type ON audit_entry (event_type, sequence);
        CREATE INDEX IF NOT EXISTS audit_entry_errors ON audit_entry (sequence) WHERE error_code IS NOT NULL;
        CREATE TABLE IF NOT EXISTS audit_entry_key (
            key TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            PRIMARY KEY (key, sequence)
        ) WITHOUT ROWID;
        """

    func close() throws {
        do { try pool.close() } catch { throw AuditStoreError.unavailable(url, error) }
    }

    /// The newest sequence number indexed (every record up to it is in the index, or was damaged in the log).
    func highWater() throws -> Int64 {
        try read { db in try Self.highWater(db) }
    }

    static func highWater(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM index_meta WHERE key = 'highWater'") ?? 0
    }

    /// Empties the index (the log was replaced or cut before its high-water mark).
    func reset() throws {
        try write { db in
            try db.execute(sql: "DELETE FROM audit_entry; DELETE FROM audit_entry_key;")
            try db.execute(sql: "UPDATE index_meta SET value = 0 WHERE key = 'highWater'")
        }
    }

    /// Indexes `entries` (in sequence order, after the high-water mark) in one transaction; the high-water mark becomes
    /// `through` (at least the last entry's number: damaged records skipped by a catch-up count as passed).
    func insert(_ entries: [AuditLogEntry], through: Int64) throws {
        try write { db in
            let insert = try AuditIndexInsert(db)
            for entry in entries { try insert.insert(entry) }
            try db.execute(
                sql: "UPDATE index_meta SET value = max(value, ?) WHERE key = 'highWater'",
                arguments: [through]
            )
        }
    }

    /// Runs `body` on a snapshot; errors other than the store's are `databaseUnavailable`.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as AuditStoreError {
            throw error
        } catch {
            throw AuditStoreError.unavailable(url, error)
        }
    }

    private func write(_ body: (Database) throws -> Void) throws {
        do {
            try pool.write(body)
        } catch let error as AuditStoreError {
            throw error
        } catch {
            throw AuditStoreError.unavailable(url, error)
        }
    }

    /// Reads the locations of a query's rows: `sequence, segment, offset, length` in its first four columns.
    static func locations(
        _ db: Database,
        _ sql: String,
        _ arguments: StatementArguments
    ) throws
        -> [(Int64, AuditFrameLocation)]
    {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            (row[0], AuditFrameLocation(segment: row[1], offset: row[2], length: row[3]))
        }
    }
}

/// The inserts of one index entry, bound with SQLite's C API (see ``AuditRecordInsert``: the indexer runs for every
/// record the server writes).
private struct AuditIndexInsert {
    static let entrySQL = """
        INSERT OR REPLACE INTO audit_entry (sequence, hash, segment, offset, length, event_time, event_name,
            principal_arn, issuer_arn, event_type, error_code, is_denial)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let keySQL = "INSERT OR IGNORE INTO audit_entry_key (key, sequence) VALUES (?, ?)"

    private let entry: Statement
    private let key: Statement
    private let connection: SQLiteConnection?

    init(_ db: Database) throws {
        entry = try db.cachedStatement(sql: Self.entrySQL)
        key = try db.cachedStatement(sql: Self.keySQL)
        connection = db.sqliteConnection
    }

    func insert(_ value: AuditLogEntry) throws {
        let statement = entry.sqliteStatement
        let sql = Self.entrySQL
        sqlite3_reset(statement)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        let columns = value.columns
        try check(sqlite3_bind_int64(statement, 1, value.sequence), sql)
        try check(value.hash.withUnsafeBytes { sqlite3_bind_blob(statement, 2, $0.baseAddress, 32, transient) }, sql)
        try check(sqlite3_bind_int64(statement, 3, value.location.segment), sql)
        try check(sqlite3_bind_int64(statement, 4, Int64(value.location.offset)), sql)
        try check(sqlite3_bind_int64(statement, 5, Int64(value.location.length)), sql)
        try check(sqlite3_bind_int64(statement, 6, columns.eventTime), sql)
        try AuditRecordInsert.bindText(columns.eventName, statement, 7, sql, connection)
        try AuditRecordInsert.bindText(columns.principalARN, statement, 8, sql, connection)
        try AuditRecordInsert.bindText(columns.issuerARN, statement, 9, sql, connection)
        try AuditRecordInsert.bindText(columns.eventType, statement, 10, sql, connection)
        try AuditRecordInsert.bindText(columns.errorCode, statement, 11, sql, connection)
        try check(sqlite3_bind_int64(statement, 12, columns.isDenial ? 1 : 0), sql)
        try check(sqlite3_step(statement), sql, expecting: SQLITE_DONE)
        for identifier in columns.keys {
            let statement = key.sqliteStatement
            sqlite3_reset(statement)
            defer { sqlite3_reset(statement) }
            try AuditRecordInsert.bindText(identifier, statement, 1, Self.keySQL, connection)
            try check(sqlite3_bind_int64(statement, 2, value.sequence), Self.keySQL)
            try check(sqlite3_step(statement), Self.keySQL, expecting: SQLITE_DONE)
        }
    }

    private func check(_ code: Int32, _ sql: String, expecting expected: Int32 = SQLITE_OK) throws {
        try AuditRecordInsert.check(code, sql, connection, expecting: expected)
    }
}
