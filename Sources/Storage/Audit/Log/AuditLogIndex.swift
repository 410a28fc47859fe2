import AuditTrail
import Foundation
import GRDB
import GRDBSQLite

/// Where a record's frame (or a block's frames) is in the log.
struct AuditFrameLocation: Sendable, Hashable {
    /// The segment's first sequence number (its name).
    var segment: Int64
    /// The frame's offset in the segment.
    var offset: Int
    /// The frame's length, header included (for a block: all its frames').
    var length: Int
}

/// A durable record not in a closed block yet: what queries read from memory, and what the indexer summarises.
struct AuditLogEntry: Sendable {
    var sequence: Int64
    var hash: ChainHash
    /// The canonical bytes (the frame's payload).
    var bytes: [UInt8]
    var columns: AuditIndexColumns
    var location: AuditFrameLocation
}

/// The query index of the audit log (`DIR/audit/index.sqlite`): a row per closed block of records
/// (``AuditLogBlock``: its numbers, times, byte range, usage counts) and a row per term a block names, not a row per
/// record; the records' bytes stay in the log, and a query reads the blocks that may hold what it wants.
///
/// Derived data: a block is written in one transaction once its records are durable in the log, with
/// `synchronous = NORMAL` (a crash of the machine may lose the newest blocks, which the next start builds again from
/// the log, after the high-water mark the index keeps: the last record of its newest block). A file that cannot be
/// used as an index, or holds an index of another format, is deleted and rebuilt; deleting it is always safe.
final class AuditLogIndex: Sendable {
    /// The layout's version: 1 was a row per record, 2 a row per block.
    static let formatVersion: Int64 = 2
    let url: URL
    let pool: DatabasePool

    /// Opens the index at `url`, creating it (or recreating it when it is not a usable index of this format).
    init(url: URL) throws {
        self.url = url
        do {
            pool = try Self.openPool(url)
        } catch {
            // Derived data: start again from nothing.
            for file in FileSystem.databaseFiles(url) { unlink(file.path) }
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
                if try db.tableExists("index_meta") {
                    let format = try Int64.fetchOne(db, sql: "SELECT value FROM index_meta WHERE key = 'format'")
                    guard format == formatVersion else {
                        throw AuditStoreError(.incompatibleVersion, "The audit index has format \(format ?? 0).")
                    }
                } else {
                    try db.execute(sql: schema)
                    try db.execute(
                        sql: "INSERT INTO index_meta (key, value) VALUES ('format', ?), ('highWater', 0)",
                        arguments: [formatVersion]
                    )
                }
            }
        } catch {
            try? pool.close()
            throw error
        }
        return pool
    }

    /// `audit_block_usage` holds a block's nonzero usage rows; NULL is a record without an event type or principal.
    private static let schema = """
        CREATE TABLE index_meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
        CREATE TABLE audit_block (
            first_sequence INTEGER PRIMARY KEY NOT NULL,
            last_sequence INTEGER NOT NULL,
            min_time INTEGER NOT NULL,
            max_time INTEGER NOT NULL,
            segment INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            length INTEGER NOT NULL
        );
        CREATE TABLE audit_block_term (
            term INTEGER NOT NULL,
            block INTEGER NOT NULL,
            PRIMARY KEY (term, block)
        ) WITHOUT ROWID;
        CREATE TABLE audit_block_usage (
            block INTEGER NOT NULL,
            event_type TEXT,
            principal_arn TEXT,
            decrypts INTEGER NOT NULL,
            denials INTEGER NOT NULL
        );
        CREATE INDEX audit_block_usage_by_block ON audit_block_usage (block);
        """

    func close() throws {
        do { try pool.close() } catch { throw AuditStoreError.unavailable(url, error) }
    }

    /// The newest sequence number indexed: the last record of the newest block.
    func highWater() throws -> Int64 {
        try read { db in try Self.highWater(db) }
    }

    static func highWater(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM index_meta WHERE key = 'highWater'") ?? 0
    }

    /// Empties the index (the log was replaced or cut before its high-water mark).
    func reset() throws {
        try write { db in
            try db.execute(sql: "DELETE FROM audit_block; DELETE FROM audit_block_term; DELETE FROM audit_block_usage;")
            try db.execute(sql: "UPDATE index_meta SET value = 0 WHERE key = 'highWater'")
        }
    }

    /// Stores `block` (after the high-water mark) in one transaction; the high-water mark becomes its last record.
    func insert(_ block: AuditLogBlock) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO audit_block
                        (first_sequence, last_sequence, min_time, max_time, segment, offset, length)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    block.first, block.last, block.minTime, block.maxTime, block.location.segment,
                    block.location.offset, block.location.length,
                ]
            )
            try Self.insertTerms(block, db)
            try Self.insertUsage(block, db)
            try db.execute(
                sql: "UPDATE index_meta SET value = max(value, ?) WHERE key = 'highWater'",
                arguments: [block.last]
            )
        }
    }

    private static let termSQL = "INSERT OR IGNORE INTO audit_block_term (term, block) VALUES (?, ?)"

    /// The block's term rows, bound with SQLite's C API (a block may name hundreds of principals; see
    /// ``AuditRecordInsert``).
    private static func insertTerms(_ block: AuditLogBlock, _ db: Database) throws {
        let statement = try db.cachedStatement(sql: termSQL).sqliteStatement
        let connection = db.sqliteConnection
        defer { sqlite3_reset(statement) }
        for term in block.terms.sorted() {
            sqlite3_reset(statement)
            try AuditRecordInsert.check(sqlite3_bind_int64(statement, 1, Int64(bitPattern: term)), termSQL, connection)
            try AuditRecordInsert.check(sqlite3_bind_int64(statement, 2, block.first), termSQL, connection)
            try AuditRecordInsert.check(sqlite3_step(statement), termSQL, connection, expecting: SQLITE_DONE)
        }
    }

    private static let usageSQL =
        "INSERT INTO audit_block_usage (block, event_type, principal_arn, decrypts, denials) VALUES (?, ?, ?, ?, ?)"

    /// The block's usage rows, bound with SQLite's C API like its terms.
    private static func insertUsage(_ block: AuditLogBlock, _ db: Database) throws {
        let statement = try db.cachedStatement(sql: usageSQL).sqliteStatement
        let connection = db.sqliteConnection
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for row in block.usage {
            sqlite3_reset(statement)
            try AuditRecordInsert.check(sqlite3_bind_int64(statement, 1, block.first), usageSQL, connection)
            try AuditRecordInsert.bindText(row.eventType, statement, 2, usageSQL, connection)
            try AuditRecordInsert.bindText(row.principalARN, statement, 3, usageSQL, connection)
            try AuditRecordInsert.check(
                sqlite3_bind_int64(statement, 4, Int64(row.successfulDecrypts)),
                usageSQL,
                connection
            )
            try AuditRecordInsert.check(sqlite3_bind_int64(statement, 5, Int64(row.denials)), usageSQL, connection)
            try AuditRecordInsert.check(sqlite3_step(statement), usageSQL, connection, expecting: SQLITE_DONE)
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
}

/// The index's queries, each run on one snapshot.
extension AuditLogIndex {
    /// A block as queries read it: its numbers and where its frames are.
    struct BlockRange: Sendable, Hashable {
        var first: Int64
        var last: Int64
        var location: AuditFrameLocation
    }

    private static let rangeColumns = "first_sequence, last_sequence, segment, offset, length"

    private static func ranges(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> [BlockRange] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            BlockRange(
                first: row[0],
                last: row[1],
                location: AuditFrameLocation(segment: row[2], offset: row[3], length: row[4])
            )
        }
    }

    /// The blocks that may hold a record matching `query`, in sequence order (descending when it is newest first):
    /// after its `afterSequence` and before its `beforeSequence`, overlapping its times, holding every term it names.
    static func candidates(_ db: Database, _ query: AuditQuery) throws -> [BlockRange] {
        var conditions = ["last_sequence > ?"]
        var arguments: [(any DatabaseValueConvertible)?] = [query.afterSequence]
        if let before = query.beforeSequence {
            conditions.append("first_sequence < ?")
            arguments.append(before)
        }
        if let since = query.since {
            conditions.append("max_time >= ?")
            arguments.append(AuditQuerySQL.seconds(since))
        }
        if let until = query.until {
            conditions.append("min_time < ?")
            arguments.append(AuditQuerySQL.seconds(until))
        }
        for term in AuditLogTerm.required(by: query) {
            conditions.append("first_sequence IN (SELECT block FROM audit_block_term WHERE term = ?)")
            arguments.append(Int64(bitPattern: term))
        }
        return try ranges(
            db,
            "SELECT \(rangeColumns) FROM audit_block WHERE \(conditions.joined(separator: " AND ")) "
                + "ORDER BY first_sequence\(query.newestFirst ? " DESC" : "")",
            StatementArguments(arguments)
        )
    }

    /// The block holding `sequence`, if any.
    static func block(_ db: Database, holding sequence: Int64) throws -> BlockRange? {
        try ranges(
            db,
            "SELECT \(rangeColumns) FROM audit_block WHERE first_sequence <= ? AND last_sequence >= ? "
                + "ORDER BY first_sequence DESC LIMIT 1",
            [sequence, sequence]
        ).first
    }

    /// The usage of `period`: the summed rows of the blocks entirely inside it (unsorted, one per event type and
    /// principal), and the blocks that overlap it only in part, whose records the caller counts.
    static func usage(_ db: Database, _ period: DateInterval) throws -> ([UsageReport.Row], [BlockRange]) {
        let (start, end) = (AuditQuerySQL.seconds(period.start), AuditQuerySQL.seconds(period.end))
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT u.event_type, u.principal_arn, SUM(u.decrypts), SUM(u.denials)
                FROM audit_block b JOIN audit_block_usage u ON u.block = b.first_sequence
                WHERE b.min_time >= ? AND b.max_time < ?
                GROUP BY u.event_type, u.principal_arn
                """,
            arguments: [start, end]
        )
        .map(AuditQuerySQL.usageRow)
        let boundary = try ranges(
            db,
            "SELECT \(rangeColumns) FROM audit_block WHERE max_time >= ? AND min_time < ? "
                + "AND NOT (min_time >= ? AND max_time < ?) ORDER BY first_sequence",
            [start, end, start, end]
        )
        return (rows, boundary)
    }

    /// The first block with a record at or after `date`.
    static func firstBlock(_ db: Database, since date: Date) throws -> BlockRange? {
        try ranges(
            db,
            "SELECT \(rangeColumns) FROM audit_block WHERE max_time >= ? ORDER BY first_sequence LIMIT 1",
            [AuditQuerySQL.seconds(date)]
        ).first
    }
}
