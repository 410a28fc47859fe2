import AuditTrail
import GRDB
import GRDBSQLite

/// The inserts of one audit record (its row and its key index entries), bound straight from the record's memory
/// with SQLite's C API.
///
/// They run for every request the server answers. Through GRDB's `execute(arguments:)` each value is boxed into
/// `StatementArguments`, validated and bound through an existential: about 25,000 instructions per record, half of
/// SQLite's own work for the row and its indexes (callgrind). Here the statements are GRDB's cached statements, bound
/// and stepped directly; a failed bind or step throws GRDB's `DatabaseError`, so the transaction rolls back as it would
/// through GRDB. The record's bytes are bound in place and unbound before the call returns; every other value is
/// copied by SQLite as it is bound.
struct AuditRecordInsert {
    static let recordSQL = """
        INSERT INTO audit_record (sequence, previous_hash, hash, event_time, event_name, principal_arn,
            issuer_arn, event_type, error_code, is_denial, record)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let keySQL = "INSERT OR IGNORE INTO audit_record_key (key, sequence) VALUES (?, ?)"

    private let record: Statement
    private let key: Statement
    private let connection: SQLiteConnection?

    init(_ db: Database) throws {
        record = try db.cachedStatement(sql: Self.recordSQL)
        key = try db.cachedStatement(sql: Self.keySQL)
        connection = db.sqliteConnection
    }

    /// Inserts the record stored at `sequence` with its canonical `bytes` and the columns derived from it.
    func insert(
        sequence: Int64,
        previousHash: ChainHash,
        hash: ChainHash,
        columns: AuditIndexColumns,
        bytes: [UInt8]
    ) throws {
        let statement = record.sqliteStatement
        sqlite3_reset(statement)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        let sql = Self.recordSQL
        try check(sqlite3_bind_int64(statement, 1, sequence), sql)
        try check(previousHash.withUnsafeBytes { sqlite3_bind_blob(statement, 2, $0.baseAddress, 32, transient) }, sql)
        try check(hash.withUnsafeBytes { sqlite3_bind_blob(statement, 3, $0.baseAddress, 32, transient) }, sql)
        try check(sqlite3_bind_int64(statement, 4, columns.eventTime), sql)
        try bindText(columns.eventName, statement, 5, sql)
        try bindText(columns.principalARN, statement, 6, sql)
        try bindText(columns.issuerARN, statement, 7, sql)
        try bindText(columns.eventType, statement, 8, sql)
        try bindText(columns.errorCode, statement, 9, sql)
        try check(sqlite3_bind_int64(statement, 10, columns.isDenial ? 1 : 0), sql)
        try bytes.withUnsafeBytes { bytes in
            // Static: SQLite reads the bytes during the step below, and the binding is cleared before they go.
            try check(sqlite3_bind_blob64(statement, 11, bytes.baseAddress, UInt64(bytes.count), nil), sql)
            try check(sqlite3_step(statement), sql, expecting: SQLITE_DONE)
        }
        for identifier in columns.keys {
            let statement = key.sqliteStatement
            sqlite3_reset(statement)
            defer { sqlite3_reset(statement) }
            try bindText(identifier, statement, 1, Self.keySQL)
            try check(sqlite3_bind_int64(statement, 2, sequence), Self.keySQL)
            try check(sqlite3_step(statement), Self.keySQL, expecting: SQLITE_DONE)
        }
    }

    private func bindText(_ text: String?, _ statement: SQLiteStatement, _ index: Int32, _ sql: String) throws {
        try Self.bindText(text, statement, index, sql, connection)
    }

    /// Binds `text` (or NULL) to parameter `index`, copied by SQLite.
    static func bindText(
        _ text: String?,
        _ statement: SQLiteStatement,
        _ index: Int32,
        _ sql: String,
        _ connection: SQLiteConnection?
    ) throws {
        guard var text else {
            try check(sqlite3_bind_null(statement, index), sql, connection)
            return
        }
        let code = text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) {
                sqlite3_bind_text64(statement, index, $0.baseAddress, UInt64(utf8.count), transient, UInt8(SQLITE_UTF8))
            }
        }
        try check(code, sql, connection)
    }

    private func check(_ code: Int32, _ sql: String, expecting expected: Int32 = SQLITE_OK) throws {
        try Self.check(code, sql, connection, expecting: expected)
    }

    /// Throws GRDB's error for a result other than `expected`, with SQLite's message.
    static func check(
        _ code: Int32,
        _ sql: String,
        _ connection: SQLiteConnection?,
        expecting expected: Int32 = SQLITE_OK
    ) throws {
        guard code != expected else { return }
        throw DatabaseError(
            resultCode: ResultCode(rawValue: code),
            message: connection.map { String(cString: sqlite3_errmsg($0)) },
            sql: sql
        )
    }
}

/// SQLite copies a value bound with this destructor before the bind returns.
let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
