public import AuditTrail
public import Foundation
import GRDB
import Synchronization

/// Queries: the index up to its high-water mark, then the durable records not indexed yet, merged in sequence order.
extension LogAuditStore {
    /// Runs `body` on an index snapshot; returns its result, the snapshot's high-water mark, and the records beyond it
    /// (taken from memory before the snapshot, so every record acknowledged before the call is in one or the other).
    private func lookUp<T: Sendable>(
        _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> (T, highWater: Int64, unindexed: [AuditLogEntry]) {
        let memory = try state.withLock { state in
            guard !state.closed else { throw AuditStoreError(.logUnavailable, "The audit log is closed.") }
            return state.unindexed
        }
        let url = index.url
        let (value, highWater): (T, Int64)
        do {
            (value, highWater) = try await index.pool.read { db in (try body(db), try AuditLogIndex.highWater(db)) }
        } catch let error as AuditStoreError {
            throw error
        } catch {
            throw AuditStoreError.unavailable(url, error)
        }
        return (value, highWater, memory.filter { $0.sequence > highWater })
    }

    /// Reads the records at `locations` from the log, checking each frame.
    func records(at locations: [(Int64, AuditFrameLocation)]) throws -> [StoredRecord] {
        var files: [Int64: AuditLogFile] = [:]
        return try locations.map { sequence, location in
            let file = try files[location.segment] ?? AuditLogFile(segmentURL(location.segment), writable: false)
            files[location.segment] = file
            let frame = try file.read(location.length, at: location.offset)
            return try frame.withUnsafeBytes { bytes in
                guard case .frame(let header, valid: true) = AuditFrame.read(bytes, at: 0),
                    header.frameLength == bytes.count, header.sequence == sequence
                else {
                    throw AuditStoreError(
                        .corrupt,
                        "The frame of audit record \(sequence) in \(file.url.lastPathComponent) at offset "
                            + "\(location.offset) is damaged; run `sealed audit verify`."
                    )
                }
                return try StoredRecord(
                    canonicalBytes: UnsafeRawBufferPointer(rebasing: bytes[AuditFrame.headerSize...])
                )
            }
        }
    }

    func segmentURL(_ firstSequence: Int64) -> URL {
        directory.appendingPathComponent(AuditLogFiles.segmentName(firstSequence: firstSequence))
    }

    private static let locationColumns = "sequence, segment, offset, length"

    public func tail(after sequence: Int64, limit: Int) async throws -> [StoredRecord] {
        let limit = max(0, limit)
        let (locations, _, unindexed) = try await lookUp { db in
            try AuditLogIndex.locations(
                db,
                "SELECT \(Self.locationColumns) FROM audit_entry WHERE sequence > ? ORDER BY sequence LIMIT ?",
                [sequence, limit]
            )
        }
        var found = try records(at: locations)
        for entry in unindexed where found.count < limit && entry.sequence > sequence {
            found.append(try StoredRecord(canonicalBytes: entry.bytes))
        }
        return found
    }

    private static let querySQL = AuditQuerySQL(table: "audit_entry", keyTable: "audit_entry_key")

    public func query(_ query: AuditQuery) async throws -> [StoredRecord] {
        let limit = max(0, query.limit)
        let (sql, statementArguments) = Self.querySQL.select(Self.locationColumns, query)
        let (locations, _, unindexed) = try await lookUp { db in
            try AuditLogIndex.locations(db, sql, statementArguments)
        }
        var found = try records(at: locations)
        for entry in unindexed where found.count < limit && entry.sequence > query.afterSequence {
            let stored = try StoredRecord(canonicalBytes: entry.bytes)
            if query.matches(stored) { found.append(stored) }
        }
        return found
    }

    public func usageReport(in period: DateInterval) async throws -> UsageReport {
        let (rows, _, unindexed) = try await lookUp { db in try Self.querySQL.usageRows(db, period) }
        let recent = UsageReport(
            period: period,
            records: try unindexed.map { try StoredRecord(canonicalBytes: $0.bytes).record }
        )
        var merged: [UsageKey: UsageReport.Row] = [:]
        for row in rows + recent.rows {
            let key = UsageKey(eventType: row.eventType, principalARN: row.principalARN)
            if var existing = merged[key] {
                existing.successfulDecrypts += row.successfulDecrypts
                existing.denials += row.denials
                merged[key] = existing
            } else {
                merged[key] = row
            }
        }
        return UsageReport(period: period, rows: merged.values.sorted(by: UsageReport.order))
    }

    /// The sequence number of the first record at or after `date`, or `nil` when there is none.
    public func firstSequence(since date: Date) async throws -> Int64? {
        let (indexed, _, unindexed) = try await lookUp { db in
            try Int64.fetchOne(
                db,
                sql: "SELECT MIN(sequence) FROM audit_entry WHERE event_time >= ?",
                arguments: [AuditQuerySQL.seconds(date)]
            )
        }
        if let indexed { return indexed }
        for entry in unindexed where try StoredRecord(canonicalBytes: entry.bytes).record.eventTime >= date {
            return entry.sequence
        }
        return nil
    }

    public func chainHead() async throws -> ChainHead {
        try state.withLock { state in
            guard !state.closed else { throw AuditStoreError(.logUnavailable, "The audit log is closed.") }
            return state.head
        }
    }

    /// The hash of the record stored at `sequence`, computed from its bytes in the log.
    public func recordHash(at sequence: Int64) async throws -> Data? {
        let (locations, _, unindexed) = try await lookUp { db in
            try AuditLogIndex.locations(
                db,
                "SELECT \(Self.locationColumns) FROM audit_entry WHERE sequence = ?",
                [sequence]
            )
        }
        if let entry = unindexed.first(where: { $0.sequence == sequence }) { return ChainHash.of(entry.bytes).data }
        return try records(at: locations).first?.hash.data
    }
}

private struct UsageKey: Hashable {
    var eventType: String?
    var principalARN: String?
}
