import AuditTrail
package import Foundation
import GRDB

/// The SQL of the audit queries over a table with a row per record (the SQLite store's `audit_record`); the log's
/// block index (``AuditLogIndex``) shares its time conversion and usage rows.
package struct AuditQuerySQL {
    /// The records' table, and the table of the keys each record names.
    var table: String
    var keyTable: String

    /// `SELECT columns FROM table WHERE …` for `query`, in sequence order (descending when newest first), with its
    /// limit, and its arguments.
    func select(_ columns: String, _ query: AuditQuery) -> (String, StatementArguments) {
        var conditions = ["sequence > ?"]
        var arguments: [(any DatabaseValueConvertible)?] = [query.afterSequence]
        if let before = query.beforeSequence {
            conditions.append("sequence < ?")
            arguments.append(before)
        }
        if let key = query.key {
            // Files written before the index kept only `Record.keyIdentifier` forms also hold key ARNs.
            conditions.append("sequence IN (SELECT sequence FROM \(keyTable) WHERE key IN (?, ?))")
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
        arguments.append(max(0, query.limit))
        let sql =
            "SELECT \(columns) FROM \(table) WHERE \(conditions.joined(separator: " AND ")) ORDER BY sequence\(query.newestFirst ? " DESC" : "") LIMIT ?"
        return (sql, StatementArguments(arguments))
    }

    /// The usage report's rows for `period` (unsorted).
    func usageRows(_ db: Database, _ period: DateInterval) throws -> [UsageReport.Row] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT event_type, principal_arn,
                    SUM(event_name = 'Decrypt' AND error_code IS NULL), SUM(is_denial)
                FROM \(table)
                WHERE event_time >= ? AND event_time < ?
                    AND ((event_name = 'Decrypt' AND error_code IS NULL) OR is_denial = 1)
                GROUP BY event_type, principal_arn
                """,
            arguments: [Self.seconds(period.start), Self.seconds(period.end)]
        )
        .map(Self.usageRow)
    }

    /// A usage row from a result row of event type, principal, decrypts and denials.
    static func usageRow(_ row: Row) -> UsageReport.Row {
        UsageReport.Row(
            eventType: String.fromDatabaseValue(row[0] as DatabaseValue),
            principalARN: String.fromDatabaseValue(row[1] as DatabaseValue),
            successfulDecrypts: Int.fromDatabaseValue(row[2] as DatabaseValue) ?? 0,
            denials: Int.fromDatabaseValue(row[3] as DatabaseValue) ?? 0
        )
    }

    /// Records have whole-second times, so `t >= date` is `t >= ceil(date)` and `t < date` is `t < ceil(date)`.
    package static func seconds(_ date: Date) -> Int64 {
        let value = date.timeIntervalSince1970.rounded(.up)
        return value >= 9.2e18 ? .max : value <= -9.2e18 ? .min : Int64(value)
    }
}
