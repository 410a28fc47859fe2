import AuditTrail
import Foundation
import Logging
import Synchronization

/// The indexer: stores durable records in the index behind the writer, in batches, on its own queue.
extension LogAuditStore {
    /// Indexes the records the log holds beyond the index's high-water mark (all of them for a new index); an index
    /// that claims records the log does not hold (the log was replaced or restored) is emptied and rebuilt.
    func catchUpIndex(head: Int64) throws {
        var highWater = try index.highWater()
        if highWater > head {
            try index.reset()
            highWater = 0
        }
        guard highWater < head else { return }
        let snapshot = state.withLock { $0.snapshot }
        var batch: [AuditLogEntry] = []
        let first = snapshot.segments.lastIndex { $0.firstSequence <= highWater + 1 } ?? 0
        for position in first..<snapshot.segments.count {
            let segment = snapshot.segments[position]
            let file = try AuditLogFile(segment.url, writable: false)
            _ = try AuditFrameScanner.scan(file, limit: snapshot.limit(of: position)) { frame, payload in
                let sequence = frame.header.sequence
                // A damaged frame or record is left out of the index; `verify` names it.
                guard frame.valid, sequence > highWater, let stored = try? StoredRecord(canonicalBytes: payload) else {
                    return true
                }
                batch.append(
                    AuditLogEntry(
                        sequence: sequence,
                        hash: stored.hash,
                        bytes: [],
                        columns: AuditIndexColumns(stored.record),
                        location: AuditFrameLocation(
                            segment: segment.firstSequence,
                            offset: frame.offset,
                            length: frame.header.frameLength
                        )
                    )
                )
                if batch.count >= Self.indexBatch {
                    try index.insert(batch, through: sequence)
                    batch.removeAll(keepingCapacity: true)
                }
                return true
            }
        }
        try index.insert(batch, through: head)
    }

    /// Starts the indexer unless it runs, is paused, or has nothing to do.
    func scheduleIndexing() {
        let start = state.withLock { state -> Bool in
            guard !state.indexing, !state.indexingPaused, !state.unindexed.isEmpty else { return false }
            state.indexing = true
            return true
        }
        if start { indexQueue.async { self.drainIndex() } }
    }

    /// Indexes the unindexed records, a batch per transaction, until none is left (or indexing is paused). A record
    /// leaves memory only once the transaction holding it committed, so queries always find it in one place or the
    /// other. A failed transaction leaves the records in memory for the next attempt (after the next write).
    func drainIndex() {
        while true {
            let batch = state.withLock { state -> [AuditLogEntry]? in
                guard !state.indexingPaused, !state.unindexed.isEmpty else {
                    state.indexing = false
                    return nil
                }
                return Array(state.unindexed.prefix(Self.indexBatch))
            }
            guard let batch, let last = batch.last else { return }
            do {
                try index.insert(batch, through: last.sequence)
            } catch {
                logger.error(
                    "The audit index could not be updated; queries read the log's newest records from memory",
                    metadata: ["error": "\(error)"]
                )
                state.withLock { $0.indexing = false }
                return
            }
            state.withLock { $0.unindexed.removeFirst(batch.count) }
        }
    }
}
