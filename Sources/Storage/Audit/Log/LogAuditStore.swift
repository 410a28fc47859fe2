public import AuditTrail
public import Foundation
public import Logging
import SealedSupport
import Synchronization

/// The audit trail as an append-only log (`DIR/audit/`): segment files of checksummed frames, one per record
/// (``AuditFrame``), a digest log, and a query index derived from them.
///
/// **Files.** `segment-<first sequence, 20 digits>.log`: the records in sequence order; a new segment starts when a
/// batch would take the newest past ``rollSize`` (64 MiB by default). `digests.log`: the signed digests, framed the
/// same way (the sequence number is the digest's). `index.sqlite`: the query index (``AuditLogIndex``), derived from
/// the log, deletable, rebuilt at start. Files 0600, the directory 0700.
///
/// **Writes** use group commit as ``SQLiteAuditStore`` does: a queue, one writer, the observer, and the
/// ``commitInterval`` (200 µs by default): when records queued up while a batch was written, the next batch starts no
/// sooner than the interval after that one began, so it takes in more of them; a record that finds the writer idle is
/// written at once. Measured under wrk (`docs/performance.md`): with syncs as cheap as preallocation makes them, a
/// 200 µs interval after every batch gave 2–14 % more audited Decrypts at 16 connections in alternated runs (3.4–3.8
/// records per sync instead of 2.2) and no fewer at 64 than the earlier rule (1 ms, after batches of 32 or more only).
/// A batch is: its records chained and framed into one buffer, one `write` at the end of the newest segment, one
/// `fdatasync`, and only then is every caller of the batch acknowledged. The I/O runs on the store's own serial queue,
/// never on Swift's cooperative threads. A failed write or sync fails the whole batch: the segment is cut
/// back to its synced length and none of the batch's callers is acknowledged (if even the cut fails, the store refuses
/// every later write until it is reopened, when recovery cuts the tail). Durable records are then handed to the
/// indexer. A batch holds at most ``maximumBatch`` records and ``maximumBatchBytes`` bytes of frames (a record larger
/// than that is a batch of its own).
///
/// **Preallocation.** The newest segment is kept ``preallocation`` bytes of zeros ahead of its frames: when a batch
/// reaches the zeros' end, the next ``preallocation`` bytes of zeros (1 MiB by default) are written behind it, with its
/// sync. Preallocation is an optimisation only: when the zeros cannot be written (a full disk), they are cut off again
/// and the batch goes on without them, failing only if its own frames cannot be written. Overwriting zeros already in
/// the file leaves its size and block map alone, so a batch's `fdatasync` writes only its data pages and not a journal
/// commit as well: 93–100 µs and 38–40 µs of system CPU per sync on this project's machine instead of 162–169 µs and
/// 65 µs (`docs/performance.md`), the reason PostgreSQL zero-fills its WAL segments. The zeros are cut off when a
/// segment is closed (at a roll, and at ``close()``); after a crash recovery treats them as the free end of the
/// segment (``AuditLogRecovery``). Readers never see them: they read up to the synced length.
///
/// **Reads.** The index is written behind the log, a block of ``blockSize`` records at a time, on its own queue
/// (``AuditLogIndex``, ``AuditLogBlock``); the records of the newest, open block (and of blocks not written yet) are
/// kept in memory until their block is in the index. ``tail(after:limit:)``, ``query(_:)``, ``usageReport(in:)``,
/// ``recordHash(at:)`` and ``firstSequence(since:)`` read the blocks the index names up to its high-water mark from
/// the log (every frame's checksum and number checked) and the records in memory beyond it, so they see every
/// acknowledged record. ``verify(publicKey:anchor:unsignedLimit:)`` and exports read the log itself, never the index.
///
/// **Recovery** at open: see ``AuditLogRecovery``. The index then catches up from its high-water mark by reading the
/// log (all of it when `index.sqlite` was deleted) before the store is returned.
public final class LogAuditStore: AuditStore, Sendable {
    /// The default of ``rollSize``: 64 MiB.
    public static let defaultRollSize = 64 << 20
    /// The default of ``commitInterval``.
    public static let defaultCommitInterval = Duration.microseconds(200)
    /// The most records one batch takes.
    static let maximumBatch = 512
    /// The default of ``blockSize``.
    public static let defaultBlockSize = 512
    /// The most bytes of frames a batch of several records holds (a larger record is a batch of its own): a torn batch
    /// of several frames (a crash during its write) is therefore at most this long, which recovery relies on
    /// (``AuditLogRecovery``).
    static let maximumBatchBytes = 1 << 20
    /// The default of ``preallocation``.
    public static let defaultPreallocation = 1 << 20

    /// The log's directory, `DIR/audit`.
    public let directory: URL
    /// The size past which a new segment is started.
    public let rollSize: Int
    /// How soon after a batch began the next one may begin when records queued up while it was written.
    public let commitInterval: Duration
    /// The most records an index block holds (a block also ends where a segment does, and at ``close()``).
    public let blockSize: Int
    /// How many bytes of zeros are kept ahead of the newest segment's frames (0: none; see the type's discussion).
    public let preallocation: Int
    let state: Mutex<LogState>
    let writer: Mutex<SegmentWriter>
    let digestWriter: Mutex<AuditLogFile>
    let index: AuditLogIndex
    private let onCommit: (@Sendable (AuditCommit) -> Void)?
    private let writerQueue = DispatchQueue(label: "sealed-audit-log-writer")
    let indexQueue = DispatchQueue(label: "sealed-audit-log-index")
    let logger: Logger

    /// Opens (creating if absent) the log in `directory`: recovery, then the index's catch-up.
    ///
    /// - Parameters:
    ///   - rollSize: the size past which a new segment is started.
    ///   - commitInterval: see the type's discussion.
    ///   - blockSize: the most records an index block holds (at least 1).
    ///   - preallocation: how many bytes of zeros to keep ahead of the newest segment's frames (0: none).
    ///   - logger: where recovery's warnings go.
    ///   - onCommit: called on the writer after each batch, written or not; it must return quickly.
    /// - Throws: ``AuditStoreError``: `signedRecordDamaged` (nothing changed), `logUnavailable`,
    ///   `databaseUnavailable` (the index), `writeFailed` (recovery could not cut a torn tail).
    public init(
        directory: URL,
        rollSize: Int = LogAuditStore.defaultRollSize,
        commitInterval: Duration = LogAuditStore.defaultCommitInterval,
        blockSize: Int = LogAuditStore.defaultBlockSize,
        preallocation: Int = LogAuditStore.defaultPreallocation,
        logger: Logger = Logger(label: "sealed.audit"),
        onCommit: (@Sendable (AuditCommit) -> Void)? = nil
    ) throws {
        self.directory = directory
        self.rollSize = rollSize
        self.commitInterval = commitInterval
        self.blockSize = max(1, blockSize)
        self.preallocation = max(0, preallocation)
        self.onCommit = onCommit
        self.logger = logger
        let opening = try AuditLogRecovery.open(directory, logger: logger)
        let active = opening.segments[opening.segments.count - 1]
        writer = Mutex(
            try SegmentWriter(
                file: AuditLogFile(active.url, writable: true),
                segment: active,
                length: opening.activeLength,
                preallocation: self.preallocation
            )
        )
        digestWriter = Mutex(
            try AuditLogFile(directory.appendingPathComponent(AuditLogFiles.digestsFileName), writable: true)
        )
        state = Mutex(LogState(opening: opening))
        index = try AuditLogIndex(url: directory.appendingPathComponent(AuditLogFiles.indexFileName))
        try catchUpIndex(head: opening.head.sequence)
    }

    /// Writes what is queued, indexes what is durable (the open block too), and closes the files; every later call
    /// throws.
    public func close() throws {
        let alreadyClosed = state.withLock { state in
            defer { state.closed = true }
            return state.closed
        }
        guard !alreadyClosed else { return }
        // Each batch schedules the next from the writer queue; nothing new can queue now.
        while state.withLock({ $0.writing }) { writerQueue.sync {} }
        do {
            try writer.withLock { try $0.cutPreallocation() }
        } catch {
            logger.warning(
                "Could not cut the audit log's preallocated zeros at close; the next start treats them as free space",
                metadata: ["error": "\(error)"]
            )
        }
        state.withLock { $0.indexingPaused = false }
        indexQueue.sync { self.drainIndex(closing: true) }
        try index.close()
    }

    // MARK: Writing (group commit)

    /// Appends `record` to the chain; returns once the batch holding it is synced (see the type's discussion).
    ///
    /// - Throws: ``AuditStoreError`` `writeFailed` when the batch holding the record could not be written and synced;
    ///   the record is then not in the chain.
    public func record(_ record: AuditTrail.Record) async throws {
        let pending = LogState.Pending(
            prepared: ChainedRecordEncoder.prepare(record),
            columns: AuditIndexColumns(record)
        )
        let result = await withCheckedContinuation { (caller: CheckedContinuation<Result<Void, any Error>, Never>) in
            let start = state.withLock { state -> Bool? in
                guard !state.closed else { return nil }
                state.queue.append((pending, caller))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            switch start {
            case nil: caller.resume(returning: .failure(AuditStoreError(.writeFailed, "The audit log is closed.")))
            case true?: writeQueued(notBefore: nil)
            case false?: break
            }
        }
        try result.get()
    }

    /// How the group commit went so far (for metrics: records per batch).
    public var commitStatistics: AuditCommitStatistics {
        state.withLock {
            AuditCommitStatistics(
                pendingRecords: $0.queue.count,
                transactions: $0.transactions,
                committedRecords: $0.committedRecords
            )
        }
    }

    /// Writes a batch of the queued records on the writer queue, answers its callers, and goes on with the records
    /// queued meanwhile, no sooner than ``commitInterval`` after this batch began.
    private func writeQueued(notBefore: ContinuousClock.Instant?) {
        writerQueue.async {
            if let notBefore {
                while case let wait = notBefore - .now, wait > .zero {
                    Thread.sleep(forTimeInterval: wait.timeInterval)
                }
            }
            let (batch, head, failure, hold) = self.state.withLock { state in
                (state.takeBatch(), state.head, state.takeInjectedFailure(), state.takeHold())
            }
            let started = ContinuousClock.now
            hold?.wait()
            let result = Result { try self.append(batch.map(\.0), after: head, failing: failure) }
            self.onCommit?(
                AuditCommit(
                    records: batch.count,
                    started: started,
                    duration: .now - started,
                    succeeded: result.isSuccess
                )
            )
            let more = self.state.withLock { state -> Bool in
                if case .success(let written) = result { state.committed(written) }
                guard !state.queue.isEmpty else {
                    state.writing = false
                    return false
                }
                return true
            }
            let outcome = result.map { _ in () }
            for (_, caller) in batch { caller.resume(returning: outcome) }
            if result.isSuccess { self.scheduleIndexing() }
            if more { self.writeQueued(notBefore: started + self.commitInterval) }
        }
    }

    /// Chains and frames a batch after `head`, writes it with one `write` and one `fdatasync`, and returns its entries.
    private func append(
        _ batch: [LogState.Pending],
        after head: ChainHead,
        failing injected: InjectedWriteFailure?
    ) throws -> LogState.Written {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(batch.count * 1200)
        var entries: [AuditLogEntry] = []
        entries.reserveCapacity(batch.count)
        var head = head
        for pending in batch {
            let (bytes, next) = head.linking(pending.prepared)
            let offset = buffer.count
            bytes.withUnsafeBytes { AuditFrame.append(payload: $0, sequence: next.sequence, to: &buffer) }
            entries.append(
                AuditLogEntry(
                    sequence: next.sequence,
                    hash: next.hash,
                    bytes: bytes,
                    columns: pending.columns,
                    location: AuditFrameLocation(segment: 0, offset: offset, length: buffer.count - offset)
                )
            )
            head = next
        }
        let rollSize = self.rollSize
        let directory = self.directory
        let (segment, offset, length) = try writer.withLock { writer in
            try writer.append(
                buffer,
                firstSequence: entries[0].sequence,
                rollSize: rollSize,
                directory: directory,
                failing: injected
            )
        }
        for index in entries.indices {
            entries[index].location.segment = segment.firstSequence
            entries[index].location.offset += offset
        }
        return LogState.Written(entries: entries, head: head, segment: segment, activeLength: length)
    }

    // MARK: Test hooks

    /// Makes the next `count` batches fail after writing half their bytes, as a full disk or an I/O error would (the
    /// failure path's truncation and refusals run for real).
    package func injectWriteFailures(_ count: Int) {
        state.withLock { $0.injectedFailures = count }
    }

    /// Makes each of the next `count` batches, should it reach the end of the zeros, fail to preallocate after writing
    /// half of them, as a full disk would (the batch's own frames are written).
    package func injectPreallocationFailures(_ count: Int) {
        state.withLock { $0.injectedPreallocationFailures = count }
    }

    /// Makes the next batch wait, once it took its records, until `gate` is signalled, as a slow disk would.
    package func holdNextBatch(until gate: DispatchSemaphore) {
        state.withLock { $0.hold = gate }
    }

    /// Stops the indexer after its current block (records stay in memory, queries still see them).
    package func pauseIndexing() {
        state.withLock { $0.indexingPaused = true }
    }

    /// Lets the indexer go on.
    package func resumeIndexing() {
        state.withLock { $0.indexingPaused = false }
        scheduleIndexing()
    }

    /// Where the newest segment's frames end, and its file (preallocated zeros between the two).
    package var newestSegmentExtent: (frames: Int, file: Int) { writer.withLock { ($0.length, $0.allocated) } }

    /// Acknowledged records not in the index yet: the open block's, and those of blocks not written yet.
    package var unindexedRecords: Int { state.withLock { $0.unindexed.count } }
}

/// The store's shared state: the group commit's queue, the chain head, the segments readers may read, and the
/// durable records not in the index's blocks yet.
struct LogState: Sendable {
    /// A record waiting for its batch (already encoded, with its index columns).
    struct Pending: Sendable {
        var prepared: ChainedRecordEncoder.Prepared
        var columns: AuditIndexColumns
    }

    /// What a written batch changed.
    struct Written: Sendable {
        var entries: [AuditLogEntry]
        var head: ChainHead
        /// The segment written to (a new one when the batch started it, or an earlier failed batch did).
        var segment: AuditSegment
        var activeLength: Int
    }

    var queue: [(Pending, CheckedContinuation<Result<Void, any Error>, Never>)] = []
    var writing = false
    var transactions = 0
    var committedRecords = 0
    var head: ChainHead
    var segments: [AuditSegment]
    /// The newest segment's synced length: readers read no further.
    var activeLength: Int
    var digests: [SignedDigest]
    var digestsLength: Int
    /// Durable records after the index's high-water mark, in sequence order: the open block, after any closed
    /// blocks the indexer has not written yet.
    var unindexed: [AuditLogEntry] = []
    var indexing = false
    var indexingPaused = false
    var closed = false
    var injectedFailures = 0
    var injectedPreallocationFailures = 0
    var hold: DispatchSemaphore?

    init(opening: AuditLogOpening) {
        head = opening.head
        segments = opening.segments
        activeLength = opening.activeLength
        digests = opening.digests
        digestsLength = opening.digestsLength
    }

    mutating func takeBatch() -> [(Pending, CheckedContinuation<Result<Void, any Error>, Never>)] {
        transactions += 1
        var count = 0
        var bytes = 0
        for (pending, _) in queue.prefix(LogAuditStore.maximumBatch) {
            let next = AuditFrame.headerSize + pending.prepared.linkedLengthBound
            if count > 0, bytes + next > LogAuditStore.maximumBatchBytes { break }
            bytes += next
            count += 1
        }
        let batch = Array(queue.prefix(count))
        queue.removeFirst(count)
        return batch
    }

    mutating func takeInjectedFailure() -> InjectedWriteFailure? {
        if injectedFailures > 0 {
            injectedFailures -= 1
            return .write
        }
        if injectedPreallocationFailures > 0 {
            injectedPreallocationFailures -= 1
            return .preallocation
        }
        return nil
    }

    mutating func takeHold() -> DispatchSemaphore? {
        defer { hold = nil }
        return hold
    }

    mutating func committed(_ written: Written) {
        head = written.head
        committedRecords += written.entries.count
        if segments.last != written.segment { segments.append(written.segment) }
        activeLength = written.activeLength
        unindexed.append(contentsOf: written.entries)
    }

    /// What readers of the log itself may read: the segments, and how much of the newest.
    var snapshot: AuditLogSnapshot {
        AuditLogSnapshot(
            segments: segments,
            activeLength: activeLength,
            digestsLength: digestsLength,
            mayEndTorn: false
        )
    }
}

/// The durable part of the log at one moment.
struct AuditLogSnapshot: Sendable {
    var segments: [AuditSegment]
    var activeLength: Int
    var digestsLength: Int
    /// Whether the newest segment may end in a torn or unfinished frame that is not a problem: read without the
    /// store (beside a writer, or after a crash before recovery). The store's own snapshot ends at synced frames.
    var mayEndTorn: Bool

    /// How much of `segment` may be read: all of an older one, the synced length of the newest.
    func limit(of index: Int) -> Int? { index == segments.count - 1 ? activeLength : nil }
}

/// The newest segment, open for appending; used on the writer queue only.
struct SegmentWriter {
    var file: AuditLogFile
    var segment: AuditSegment
    /// The synced length: the end of the frames.
    var length: Int
    /// How many bytes of zeros to keep ahead of the frames (0: none; see ``LogAuditStore``'s discussion).
    let preallocation: Int
    /// The file's length: the frames, then zeros up to here.
    var allocated: Int
    /// Set when a failed batch could not be cut off: every later write is refused until the store is reopened.
    var broken = false

    /// The writer of `file`, whose frames end at `length` (zeros may follow them).
    init(file: AuditLogFile, segment: AuditSegment, length: Int, preallocation: Int) throws {
        self.file = file
        self.segment = segment
        self.length = length
        self.preallocation = preallocation
        allocated = max(length, try file.length())
    }

    /// Zeros, written from here ahead of the frames (a larger preallocation in several writes).
    private static let zeros = [UInt8](repeating: 0, count: LogAuditStore.defaultPreallocation)

    /// Cuts the zeros after the frames off the file, and syncs it (a segment no longer written to ends at its last
    /// frame).
    mutating func cutPreallocation() throws {
        guard allocated > length else { return }
        try file.truncate(to: length)
        try file.sync()
        allocated = length
    }

    /// Writes `buffer` (a batch's frames, the first at `firstSequence`) at the end, starting a new segment first when
    /// the newest is not empty and the batch would take it past `rollSize`; syncs. On failure, cuts the segment back
    /// to its synced length and throws. Returns the segment written to, the batch's offset in it and the segment's new
    /// length.
    mutating func append(
        _ buffer: [UInt8],
        firstSequence: Int64,
        rollSize: Int,
        directory: URL,
        failing injected: InjectedWriteFailure?
    ) throws -> (AuditSegment, Int, Int) {
        guard !broken else {
            throw AuditStoreError(
                .writeFailed,
                "An earlier failed write to \(file.url.path) could not be undone; reopen the audit log to recover."
            )
        }
        if length > 0, length + buffer.count > rollSize {
            try cutPreallocation()
            let next = AuditSegment(
                firstSequence: firstSequence,
                url: directory.appendingPathComponent(AuditLogFiles.segmentName(firstSequence: firstSequence))
            )
            let nextFile = try AuditLogFile(next.url, writable: true)
            try nextFile.truncate(to: 0)
            try nextFile.sync()
            try AuditLogFile.syncDirectory(of: next.url)
            (file, segment, length, allocated) = (nextFile, next, 0, 0)
        }
        do {
            try buffer.withUnsafeBytes { bytes in
                if injected == .write {
                    try file.write(UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count / 2)]), at: length)
                    throw AuditStoreError(.writeFailed, "Could not write \(file.url.path): an injected failure.")
                }
                try file.write(bytes, at: length)
            }
            let end = length + buffer.count
            if end > allocated { try preallocate(after: end, failing: injected == .preallocation) }
            try file.sync()
        } catch {
            do {
                try file.truncate(to: length)
                allocated = length
            } catch {
                broken = true
            }
            throw error
        }
        let offset = length
        length += buffer.count
        return (segment, offset, length)
    }

    /// Writes ``preallocation`` bytes of zeros from `end` (the end of the frames just written); when that fails, cuts
    /// the file back to `end` and goes on without them.
    private mutating func preallocate(after end: Int, failing injected: Bool) throws {
        let count = injected ? preallocation / 2 : preallocation
        do {
            var done = 0
            while done < count {
                let chunk = min(count - done, Self.zeros.count)
                try Self.zeros.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[..<chunk]), at: end + done) }
                done += chunk
            }
            if injected { throw AuditStoreError(.writeFailed, "Could not write \(file.url.path): an injected failure.") }
            allocated = end + count
        } catch {
            try file.truncate(to: end)
            allocated = end
        }
    }
}

/// A failure a test makes the writer meet (``LogAuditStore/injectWriteFailures(_:)``,
/// ``LogAuditStore/injectPreallocationFailures(_:)``).
enum InjectedWriteFailure: Sendable {
    /// The batch's write fails halfway.
    case write
    /// The preallocation's write fails halfway.
    case preallocation
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
