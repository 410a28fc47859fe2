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

    public func query(_ query: AuditQuery) async throws -> [StoredRecord] {
        var conditions = ["sequence > ?"]
        var arguments: [(any DatabaseValueConvertible)?] = [query.afterSequence]
        if let key = query.key {
            // Files written before the index kept only `Record.keyIdentifier` forms also hold key ARNs.
            conditions.append("sequence IN (SELECT sequence FROM audit_record_key WHERE key IN (?, ?))")
            arguments.append(contentsOf: [Record.keyIdentifier(key), key])
        }
        if let principal = query.principalARN {
            conditions.append("(principal_arn = ? OR issuer_arn = ?)")
            arguments.append(contentsOf: [principal, principal])
        }
        if let eventType = query.eventType {
            conditions.append("event_type = ?")
            arguments.append(eventType)
        }
        if let eventName = query.eventName {
            conditions.append("event_name = ?")
            arguments.append(eventName)
        }
        if let since = query.since {
            conditions.append("event_time >= ?")
            arguments.append(Self.seconds(since))
        }
        if let until = query.until {
            conditions.append("event_time < ?")
            arguments.append(Self.seconds(until))
        }
        if query.errorsOnly { conditions.append("error_code IS NOT NULL") }
        let sql =
            "SELECT \(Self.recordColumns) FROM audit_record WHERE \(conditions.joined(separator: " AND ")) "
            + "ORDER BY sequence LIMIT ?"
        arguments.append(max(0, query.limit))
        let statementArguments = StatementArguments(arguments)
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: statementArguments).map(Self.decode)
        }
    }

    /// Records have whole-second times, so `t >= date` is `t >= ceil(date)` and `t < date` is `t < ceil(date)`.
    static func seconds(_ date: Date) -> Int64 {
        let value = date.timeIntervalSince1970.rounded(.up)
        return value >= 9.2e18 ? .max : value <= -9.2e18 ? .min : Int64(value)
    }

    public func usageReport(in period: DateInterval) async throws -> UsageReport {
        let rows = try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT event_type, principal_arn,
                        SUM(event_name = 'Decrypt' AND error_code IS NULL), SUM(is_denial)
                    FROM audit_record
                    WHERE event_time >= ? AND event_time < ?
                        AND ((event_name = 'Decrypt' AND error_code IS NULL) OR is_denial = 1)
                    GROUP BY event_type, principal_arn
                    """,
                arguments: [Self.seconds(period.start), Self.seconds(period.end)]
            )
            .map { row in
                UsageReport.Row(
                    eventType: String.fromDatabaseValue(row[0] as DatabaseValue),
                    principalARN: String.fromDatabaseValue(row[1] as DatabaseValue),
                    successfulDecrypts: Int.fromDatabaseValue(row[2] as DatabaseValue) ?? 0,
                    denials: Int.fromDatabaseValue(row[3] as DatabaseValue) ?? 0
                )
            }
        }
        return UsageReport(period: period, rows: rows.sorted(by: UsageReport.order))
    }
}
