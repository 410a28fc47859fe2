public import AuditTrail
public import Foundation
import NIOCore
import PostgresNIO
import Storage

/// Reads: the records after a sequence number, queries on the indexed columns, usage reports, the head, digests.
extension PostgresAuditStore {
    public func tail(after sequence: Int64, limit: Int) async throws -> [StoredRecord] {
        try await Self.reading {
            try await database.query(
                """
                SELECT sequence, record FROM audit_record WHERE sequence > \(sequence) ORDER BY sequence
                LIMIT \(Int64(max(0, limit)))
                """
            )
            .map(Self.decodeRecord)
        }
    }

    public func query(_ query: AuditQuery) async throws -> [StoredRecord] {
        try await Self.reading {
            try await database.query(try Self.select(query)).map(Self.decodeRecord)
        }
    }

    /// `SELECT sequence, record` of the records matching `query` (the conditions of ``AuditTrail/AuditQuery``, each
    /// on an indexed column), in its order, with its limit; every value bound.
    static func select(_ query: AuditQuery) throws -> PostgresQuery {
        var bindings = PostgresBindings()
        var conditions: [String] = []
        func condition(_ sql: String, _ values: [any PostgresThrowingDynamicTypeEncodable]) throws {
            var sql = sql
            for value in values {
                try bindings.append(value)
                sql = sql.replacingOccurrences(of: "?", with: "$\(bindings.count)", range: sql.range(of: "?"))
            }
            conditions.append(sql)
        }
        try condition("sequence > ?", [query.afterSequence])
        if let before = query.beforeSequence { try condition("sequence < ?", [before]) }
        if let key = query.key {
            // A key's id and its ARN find the same records: entries are kept in `Record.keyIdentifier`'s normal form.
            try condition(
                "sequence IN (SELECT sequence FROM audit_record_key WHERE key IN (?, ?))",
                [Record.keyIdentifier(key), key]
            )
        }
        if let principal = query.principalARN {
            try condition("(principal_arn = ? OR issuer_arn = ?)", [principal, principal])
        }
        if let eventType = query.eventType { try condition("event_type = ?", [eventType]) }
        if let eventName = query.eventName { try condition("event_name = ?", [eventName]) }
        if let since = query.since { try condition("event_time >= ?", [AuditQuerySQL.seconds(since)]) }
        if let until = query.until { try condition("event_time < ?", [AuditQuerySQL.seconds(until)]) }
        if query.errorsOnly { conditions.append("error_code IS NOT NULL") }
        bindings.append(Int64(max(0, query.limit)))
        let sql =
            "SELECT sequence, record FROM audit_record WHERE \(conditions.joined(separator: " AND ")) "
            + "ORDER BY sequence\(query.newestFirst ? " DESC" : "") LIMIT $\(bindings.count)"
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    public func usageReport(in period: DateInterval) async throws -> UsageReport {
        let rows = try await Self.reading {
            try await database.query(
                """
                SELECT event_type, principal_arn,
                    count(*) FILTER (WHERE event_name = 'Decrypt' AND error_code IS NULL), count(*) FILTER (WHERE is_denial)
                FROM audit_record
                WHERE event_time >= \(AuditQuerySQL.seconds(period.start))
                    AND event_time < \(AuditQuerySQL.seconds(period.end))
                    AND ((event_name = 'Decrypt' AND error_code IS NULL) OR is_denial)
                GROUP BY event_type, principal_arn
                """
            )
            .map { row in
                let (eventType, principal, decrypts, denials) = try row.decode((String?, String?, Int, Int).self)
                return UsageReport.Row(
                    eventType: eventType,
                    principalARN: principal,
                    successfulDecrypts: decrypts,
                    denials: denials
                )
            }
        }
        return UsageReport(period: period, rows: rows.sorted(by: UsageReport.order))
    }

    /// The sequence number of the first record at or after `date`, or `nil` when there is none.
    public func firstSequence(since date: Date) async throws -> Int64? {
        try await Self.reading {
            try await database.query(
                "SELECT min(sequence) FROM audit_record WHERE event_time >= \(AuditQuerySQL.seconds(date))"
            )
            .first?.decode(Int64?.self)
        }
    }

    /// A record from its row: its canonical bytes, which must name the row's sequence number.
    static func decodeRecord(_ row: PostgresRow) throws -> StoredRecord {
        let (sequence, bytes) = try row.decode((Int64, Data).self)
        let stored = try StoredRecord(canonicalBytes: bytes)
        guard stored.sequence == sequence else {
            throw AuditStoreError(.corrupt, "The audit record stored as \(sequence) names sequence \(stored.sequence).")
        }
        return stored
    }

    // MARK: The head and the digests

    /// The head the next batch links to (the `audit_head` row every append moves).
    public func chainHead() async throws -> ChainHead {
        try await Self.reading {
            try Self.head(from: try await database.query("SELECT sequence, hash FROM audit_head"))
        }
    }

    /// The hash of the record stored at `sequence`, computed from its bytes (not the column beside it).
    public func recordHash(at sequence: Int64) async throws -> Data? {
        try await Self.reading {
            try await database.query("SELECT sequence, record FROM audit_record WHERE sequence = \(sequence)")
                .first.map { try Self.decodeRecord($0).hash.data }
        }
    }

    public func latestDigest() async throws -> SignedDigest? {
        try await Self.reading {
            try await database.query("SELECT digest FROM audit_digest ORDER BY digest_sequence DESC LIMIT 1")
                .first.map { try Self.decodeDigest(try $0.decode(Data.self)) }
        }
    }

    /// Stores `digest` if it follows the latest one. One statement: two replicas appending the same digest number at
    /// once conflict on its key, and the one that lost inserts nothing.
    ///
    /// - Throws: ``Storage/AuditStoreError`` `digestConflict` when it does not follow.
    public func appendDigest(_ digest: SignedDigest) async throws {
        let number = digest.digest.digestSequence
        let text = ByteBuffer(bytes: CanonicalJSON.encode(digest.jsonValue))
        let inserted = try await Self.writing {
            try await database.query(
                """
                INSERT INTO audit_digest (digest_sequence, head_sequence, digest)
                SELECT \(number), \(digest.digest.headSequence), \(text)
                WHERE (SELECT coalesce(max(digest_sequence), 0) FROM audit_digest) = \(number - 1)
                ON CONFLICT (digest_sequence) DO NOTHING
                RETURNING digest_sequence
                """
            )
        }
        guard inserted.isEmpty else { return }
        let latest = try await latestDigest()?.digest.digestSequence ?? 0
        throw AuditStoreError(.digestConflict, "Digest \(number) does not follow the latest digest (\(latest)).")
    }

    public func digests() async throws -> [SignedDigest] {
        try await Self.reading {
            try await database.withConnection { connection in try await Self.digests(fromHead: 0, connection) }
        }
    }

    /// The digests whose head is at or after `head`, in order.
    static func digests(fromHead head: Int64, _ connection: PostgresConnection) async throws -> [SignedDigest] {
        try await connection.run(
            "SELECT digest FROM audit_digest WHERE head_sequence >= \(head) ORDER BY digest_sequence"
        )
        .map { try decodeDigest(try $0.decode(Data.self)) }
    }

    static func decodeDigest(_ bytes: Data) throws -> SignedDigest {
        try SignedDigest(jsonValue: CanonicalJSON.parse(bytes))
    }
}
