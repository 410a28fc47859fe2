import AuditTrail
import Foundation
import Logging
import Synchronization

/// The indexer: summarises closed blocks of durable records into the index behind the writer, on its own queue.
extension LogAuditStore {
    /// Indexes the records the log holds beyond the index's high-water mark (all of them for a new index) in blocks,
    /// and keeps the open block's records in memory; an index that claims records the log does not hold (the log was
    /// replaced or restored) is emptied and rebuilt.
    func catchUpIndex(head: Int64) throws {
        var highWater = try index.highWater()
        if highWater > head {
            try index.reset()
            highWater = 0
        }
        guard highWater < head else { return }
        let snapshot = state.withLock { $0.snapshot }
        var pending: [AuditLogEntry] = []
        let first = snapshot.segments.lastIndex { $0.firstSequence <= highWater + 1 } ?? 0
        for position in first..<snapshot.segments.count {
            let segment = snapshot.segments[position]
            let file = try AuditLogFile(segment.url, writable: false)
            _ = try AuditFrameScanner.scan(file, limit: snapshot.limit(of: position)) { frame, payload in
                let sequence = frame.header.sequence
                // A damaged frame or record is left out of the index (the block before it ends there); `verify`
                // names it.
                guard frame.valid, sequence > highWater, let stored = try? StoredRecord(canonicalBytes: payload) else {
                    return true
                }
                pending.append(
                    AuditLogEntry(
                        sequence: sequence,
                        hash: stored.hash,
                        bytes: Array(payload),
                        columns: AuditIndexColumns(stored.record),
                        location: AuditFrameLocation(
                            segment: segment.firstSequence,
                            offset: frame.offset,
                            length: frame.header.frameLength
                        )
                    )
                )
                try indexClosedBlocks(&pending)
                return true
            }
        }
        // What follows a gap (a damaged record) starts a block of its own; only the open block stays in memory.
        while let length = AuditLogBlock.blockLength(pending[...], maximum: blockSize, closing: true),
            length < pending.count
        {
            try index.insert(AuditLogBlock(pending[..<length]))
            pending.removeFirst(length)
        }
        state.withLock { $0.unindexed = pending }
    }

    /// Writes the closed blocks at the front of `pending` to the index and removes their records.
    private func indexClosedBlocks(_ pending: inout [AuditLogEntry]) throws {
        while let length = AuditLogBlock.blockLength(pending[...], maximum: blockSize, closing: false) {
            try index.insert(AuditLogBlock(pending[..<length]))
            pending.removeFirst(length)
        }
    }

    /// Starts the indexer unless it runs, is paused, or no block is closed.
    func scheduleIndexing() {
        let blockSize = self.blockSize
        let start = state.withLock { state -> Bool in
            guard !state.indexing, !state.indexingPaused,
                AuditLogBlock.mayClose(state.unindexed, maximum: blockSize)
            else { return false }
            state.indexing = true
            return true
        }
        if start { indexQueue.async { self.drainIndex() } }
    }

    /// Writes the closed blocks of the records in memory to the index, one transaction each, until none is left (or
    /// indexing is paused); `closing` closes the open block too. A record leaves memory only once the transaction
    /// holding its block committed, so queries always find it in one place or the other. A failed transaction leaves
    /// the records in memory for the next attempt (after the next write).
    func drainIndex(closing: Bool = false) {
        let blockSize = self.blockSize
        while true {
            let entries = state.withLock { state -> [AuditLogEntry]? in
                guard !state.indexingPaused,
                    let length = AuditLogBlock.blockLength(state.unindexed[...], maximum: blockSize, closing: closing)
                else {
                    state.indexing = false
                    return nil
                }
                return Array(state.unindexed[..<length])
            }
            guard let entries else { return }
            // Summarised outside the lock: the writer takes it after every batch.
            let block = AuditLogBlock(entries[...])
            do {
                try index.insert(block)
            } catch {
                logger.error(
                    "The audit index could not be updated; queries read the log's newest records from memory",
                    metadata: ["error": "\(error)"]
                )
                state.withLock { $0.indexing = false }
                return
            }
            state.withLock { $0.unindexed.removeFirst(block.count) }
        }
    }
}
