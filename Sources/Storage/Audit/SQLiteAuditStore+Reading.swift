public import AuditTrail
public import Foundation
import GRDB

/// Reads on snapshots: the records after a sequence number, queries on the indexed columns, usage reports.
extension SQLiteAuditStore {
    /// Runs `body` on a snapshot; an error other than the store's or the trail's is `databaseUnavailable`.
    func read<T: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws
        -> T
    {
        do {
            return try await pool.read(body)
        } catch let error as AuditStoreError {
            throw error
        } catch let error as AuditError {
            throw error
        } catch {
            throw AuditStoreError.unavailable(url, error)
        }
    }

    private static let recordColumns = "sequence, record"

    /// Whether a column holds bytes (a blob or text); GRDB's typed accessors trap on other values, and a tampered
    /// file may hold anything.
    static func isBytes(_ row: Row, _ index: Int) -> Bool {
        switch (row[index] as DatabaseValue).storage {
        case .blob, .string: true
        default: false
        }
    }

    /// A column's bytes, or `nil` when it holds something else.
    static func blob(_ row: Row, _ index: Int) -> Data? {
        isBytes(row, index) ? Data.fromDatabaseValue(row[index] as DatabaseValue) : nil
    }

    private static func decode(_ row: Row) throws -> StoredRecord {
        let sequence: Int64 = row[0]
        guard let data = blob(row, 1) else {
            throw AuditStoreError(.corrupt, "The audit record stored as \(sequence) is not JSON bytes.")
        }
        let stored = try StoredRecord(canonicalBytes: data)
        guard stored.sequence == sequence else {
            throw AuditStoreError(
                .corrupt,
                "The audit record stored as \(sequence) names sequence \(stored.sequence)."
            )
        }
        return stored
    }

    public func tail(after sequence: Int64, limit: Int) async throws -> [StoredRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT \(Self.recordColumns) FROM audit_record WHERE sequence > ? ORDER BY sequence LIMIT ?",
                arguments: [sequence, max(0, limit)]
            )
            .map(Self.decode)
        }
    }

    static let querySQL = AuditQuerySQL(table: "audit_record", keyTable: "audit_record_key")

    public func query(_ query: AuditQuery) async throws -> [StoredRecord] {
        let (sql, statementArguments) = Self.querySQL.select(Self.recordColumns, query)
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: statementArguments).map(Self.decode)
        }
    }

    static func seconds(_ date: Date) -> Int64 { AuditQuerySQL.seconds(date) }

    public func usageReport(in period: DateInterval) async throws -> UsageReport {
        let rows = try await read { db in try Self.querySQL.usageRows(db, period) }
        return UsageReport(period: period, rows: rows.sorted(by: UsageReport.order))
    }
}
