import AuditTrail
import GRDB
import GRDBSQLite

/// The inserts of one audit record (its row and its key index entries), bound straight from the record's memory
/// with SQLite's C API.
///
/// They run for every request the server answers. Through GRDB's `execute(arguments:)` each value is boxed into
/// `StatementArguments`, validated and bound through an existential: about 28,000 instructions per record, half as
/// much again as SQLite's own work for the row and its indexes (callgrind). Here the
/// statements are GRDB's cached statements, stepped directly; a failed step throws GRDB's `DatabaseError`, so the
/// transaction rolls back as it would through GRDB. Nothing is left bound after a call: no binding outlives the
/// memory it points to.
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
        sqlite3_bind_int64(statement, 1, sequence)
        previousHash.withUnsafeBytes { _ = sqlite3_bind_blob(statement, 2, $0.baseAddress, 32, transient) }
        hash.withUnsafeBytes { _ = sqlite3_bind_blob(statement, 3, $0.baseAddress, 32, transient) }
        sqlite3_bind_int64(statement, 4, columns.eventTime)
        bindText(columns.eventName, statement, 5)
        bindText(columns.principalARN, statement, 6)
        bindText(columns.issuerARN, statement, 7)
        bindText(columns.eventType, statement, 8)
        bindText(columns.errorCode, statement, 9)
        sqlite3_bind_int64(statement, 10, columns.isDenial ? 1 : 0)
        try bytes.withUnsafeBytes { bytes in
            // Static: SQLite reads the bytes during the step below, and the binding is cleared before they go.
            sqlite3_bind_blob(statement, 11, bytes.baseAddress, Int32(bytes.count), nil)
            try step(statement, sql: Self.recordSQL)
        }
        for identifier in columns.keys {
            let statement = key.sqliteStatement
            sqlite3_reset(statement)
            defer { sqlite3_reset(statement) }
            bindText(identifier, statement, 1)
            sqlite3_bind_int64(statement, 2, sequence)
            try step(statement, sql: Self.keySQL)
        }
    }

    private func bindText(_ text: String?, _ statement: SQLiteStatement, _ index: Int32) {
        guard var text else {
            sqlite3_bind_null(statement, index)
            return
        }
        text.withUTF8 { utf8 in
            _ = utf8.withMemoryRebound(to: CChar.self) {
                sqlite3_bind_text(statement, index, $0.baseAddress, Int32(utf8.count), transient)
            }
        }
    }

    private func step(_ statement: SQLiteStatement, sql: String) throws {
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: connection.map { String(cString: sqlite3_errmsg($0)) },
                sql: sql
            )
        }
    }
}

/// SQLite copies a value bound with this destructor before the bind returns.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
