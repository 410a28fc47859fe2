public import AuditTrail
public import Foundation
import GRDB
import Synchronization

/// Queries: the blocks the index names up to its high-water mark, read from the log, then the durable records not in
/// a block yet, in sequence order.
extension LogAuditStore {
    /// Runs `body` on an index snapshot, off Swift's cooperative threads (it reads the log); `body` gets the snapshot,
    /// a reader of the log's blocks, and the records beyond the snapshot's high-water mark (taken from memory before the
    /// snapshot, so every record acknowledged before the call is in one or the other).
    private func lookUp<T: Sendable>(
        _ body: @escaping @Sendable (Database, AuditBlockReader, [AuditLogEntry]) throws -> T
    ) async throws -> T {
        let memory = try openState { $0.unindexed }
        let (index, reader) = (self.index, AuditBlockReader(directory: directory))
        return try await Self.offThePool {
            try index.read { db in
                let highWater = try AuditLogIndex.highWater(db)
                return try body(db, reader, memory.filter { $0.sequence > highWater })
            }
        }
    }

    public func tail(after sequence: Int64, limit: Int) async throws -> [StoredRecord] {
        try await query(AuditQuery(afterSequence: sequence, limit: limit))
    }

    public func query(_ query: AuditQuery) async throws -> [StoredRecord] {
        let limit = max(0, query.limit)
        guard limit > 0 else { return [] }
        return try await lookUp { db, reader, unindexed in
            var found: [StoredRecord] = []
            /// Takes `stored` if it matches; whether the answer is full.
            func take(_ stored: StoredRecord) -> Bool {
                if query.matches(stored) { found.append(stored) }
                return found.count == limit
            }
            let blocks = try AuditLogIndex.candidates(db, query)
            let memory = unindexed.filter {
                $0.sequence > query.afterSequence && $0.sequence < query.beforeSequence ?? .max
            }
            if query.newestFirst {
                // The records in memory are the newest: they come first, then the blocks, newest first.
                for entry in memory.reversed() {
                    if take(try StoredRecord(canonicalBytes: entry.bytes)) { return found }
                }
                for block in blocks {
                    for stored in try reader.records(block).reversed() {
                        if take(stored) { return found }
                    }
                }
            } else {
                for block in blocks {
                    for stored in try reader.records(block) {
                        if take(stored) { return found }
                    }
                }
                for entry in memory {
                    if take(try StoredRecord(canonicalBytes: entry.bytes)) { return found }
                }
            }
            return found
        }
    }

    public func usageReport(in period: DateInterval) async throws -> UsageReport {
        try await lookUp { db, reader, unindexed in
            let (rows, boundary) = try AuditLogIndex.usage(db, period)
            var records: [AuditTrail.Record] = []
            for block in boundary { records += try reader.records(block).map(\.record) }
            for entry in unindexed { records.append(try StoredRecord(canonicalBytes: entry.bytes).record) }
            let counted = UsageReport(period: period, records: records)
            var merged: [UsageKey: UsageReport.Row] = [:]
            for row in rows + counted.rows {
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
    }

    /// The sequence number of the first record at or after `date`, or `nil` when there is none.
    public func firstSequence(since date: Date) async throws -> Int64? {
        try await lookUp { db, reader, unindexed in
            if let block = try AuditLogIndex.firstBlock(db, since: date),
                let found = try reader.records(block).first(where: { $0.record.eventTime >= date })
            {
                return found.sequence
            }
            for entry in unindexed where try StoredRecord(canonicalBytes: entry.bytes).record.eventTime >= date {
                return entry.sequence
            }
            return nil
        }
    }

    public func chainHead() async throws -> ChainHead {
        try openState { $0.head }
    }

    /// The hash of the record stored at `sequence`: computed from its bytes in the log, or, for the records in memory,
    /// when they were written.
    public func recordHash(at sequence: Int64) async throws -> Data? {
        try await lookUp { db, reader, unindexed in
            if let entry = unindexed.first(where: { $0.sequence == sequence }) { return entry.hash.data }
            guard let block = try AuditLogIndex.block(db, holding: sequence) else { return nil }
            return try reader.records(block).first { $0.sequence == sequence }?.hash.data
        }
    }
}

/// Reads a block's frames from the log with one read, checking each: a whole frame, its checksum, its number the
/// next of the block's, its record's number the frame's, and nothing after the last.
struct AuditBlockReader: Sendable {
    var directory: URL

    /// The block's records, in sequence order.
    ///
    /// - Throws: ``AuditStoreError`` `corrupt` when the log does not hold the block's frames as the index describes
    ///   them (`sealed audit verify` names the problem); `logUnavailable` when the segment cannot be read.
    func records(_ block: AuditLogIndex.BlockRange) throws -> [StoredRecord] {
        let name = AuditLogFiles.segmentName(firstSequence: block.location.segment)
        let file = try AuditLogFile(directory.appendingPathComponent(name), writable: false)
        let bytes = try file.read(block.location.length, at: block.location.offset)
        return try bytes.withUnsafeBytes { bytes in
            var records: [StoredRecord] = []
            records.reserveCapacity(Int(block.last - block.first + 1))
            var position = 0
            var expected = block.first
            while expected <= block.last {
                guard case .frame(let header, valid: true) = AuditFrame.read(bytes, at: position),
                    header.sequence == expected
                else {
                    throw Self.damaged(expected, name, block.location.offset + position)
                }
                let payload = UnsafeRawBufferPointer(
                    rebasing: bytes[(position + AuditFrame.headerSize)..<(position + header.frameLength)]
                )
                guard let stored = try? StoredRecord(canonicalBytes: payload), stored.sequence == expected else {
                    throw Self.damaged(expected, name, block.location.offset + position)
                }
                records.append(stored)
                position += header.frameLength
                expected += 1
            }
            guard position == bytes.count, bytes.count == block.location.length else {
                throw Self.damaged(block.last, name, block.location.offset + position)
            }
            return records
        }
    }

    private static func damaged(_ sequence: Int64, _ segment: String, _ offset: Int) -> AuditStoreError {
        AuditStoreError(
            .corrupt,
            "The frame of audit record \(sequence) in \(segment) at offset \(offset) is damaged or not where the index "
                + "says; run `sealed audit verify`."
        )
    }
}

private struct UsageKey: Hashable {
    var eventType: String?
    var principalARN: String?
}
