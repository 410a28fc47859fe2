public import AuditTrail
public import Foundation
import GRDB
import SealedSupport
import Synchronization

/// The audit trail in its own SQLite file (`audit.sqlite` in the server's data directory), opened as a GRDB
/// `DatabasePool` in WAL mode.
///
/// **Writes** use group commit: concurrent ``record(_:)`` calls queue their (already encoded) records and wait; the
/// first to find no batch being written starts one with everything queued, appended to the chain in one transaction
/// on GRDB's writer queue. When it commits (or fails), every caller of the batch gets the outcome, and the records
/// queued meanwhile go into the next batch, started right there on the writer queue. So a burst of calls costs one
/// transaction and one `fsync`, while no call returns before the transaction holding its record committed, and
/// every caller of a failed batch gets the error.
///
/// **Commit interval.** A commit costs the same `fsync`, WAL pages and thread wake-ups whether it holds one record or
/// ten. When records queued up while a batch committed, calls are arriving faster than commits end, and the next
/// batch starts no sooner than ``commitInterval`` (1 ms by default) after the previous one began, taking in what
/// arrived meanwhile: under load, fuller commits and less CPU per record (at 64 connections 6–12 % less per audited
/// Decrypt and 5–12 % more of them, `docs/performance.md`) for at most that much more latency. A record that finds
/// the writer idle is written at once, so a lone call never waits for the interval.
///
/// **Durability.** `synchronous = FULL`: in WAL mode SQLite then syncs the WAL at every commit, so a committed record
/// survives power loss and OS crashes. With `NORMAL` (GRDB's default for WAL) a commit is only written to the WAL,
/// which survives a crash of the process but not of the machine: a call could be acknowledged and its record lost,
/// breaking "durable before acknowledged". Group commit pays one sync per batch, not per record.
///
/// **Reads** (``tail(after:limit:)``, ``query(_:)``, ``usageReport(in:)``, ``verify(publicKey:)``, exports) run on
/// snapshots, concurrently with writes. The columns beside each record (time, principal, event type, keys…) are
/// derived from it for the queries' indexes; ``verify(publicKey:)`` checks only the record bytes, the hashes and
/// the digests.
public final class SQLiteAuditStore: AuditStore, Sendable {
    /// The file's schema version (`PRAGMA user_version` is not used: the audit file is ours alone).
    public static let formatVersion = 1

    /// The most records one transaction takes.
    static let maximumBatch = 512

    /// The default of ``commitInterval``.
    public static let defaultCommitInterval = Duration.milliseconds(1)

    /// What one group commit did: told to the store's observer after each transaction (for metrics).
    public typealias Commit = AuditCommit

    /// Where the database file is.
    public let url: URL
    let pool: DatabasePool
    private let state = Mutex(GroupCommit())
    private let onCommit: (@Sendable (Commit) -> Void)?
    /// How soon after a batch began the next one may begin when records queued up while it committed (see the
    /// type's discussion).
    public let commitInterval: Duration

    /// Opens (creating if absent) the audit database at `url`.
    ///
    /// - Parameters:
    ///   - busyTimeout: how long a write waits for another connection's lock before failing.
    ///   - commitInterval: how soon after a batch began the next one may begin when records queued up while it
    ///     committed.
    ///   - onCommit: called on the writer after each group commit, committed or not; it must return quickly.
    /// - Throws: ``AuditStoreError`` `databaseUnavailable` when SQLite cannot open or migrate the file,
    ///   `incompatibleVersion` when it holds an audit trail of another format.
    public init(
        at url: URL,
        busyTimeout: TimeInterval = 10,
        commitInterval: Duration = SQLiteAuditStore.defaultCommitInterval,
        onCommit: (@Sendable (Commit) -> Void)? = nil
    ) throws {
        self.url = url
        self.commitInterval = commitInterval
        self.onCommit = onCommit
        var configuration = Configuration()
        configuration.label = "sealed-audit"
        configuration.busyMode = .timeout(busyTimeout)
        do {
            pool = try DatabasePool(path: url.path, configuration: configuration)
        } catch {
            throw AuditStoreError.unavailable(url, error)
        }
        do {
            // See the type's discussion: the WAL is synced at every commit. Set on the pool's single writer connection
            // after GRDB's WAL setup, which chooses NORMAL.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Self.migrator.migrate(pool)
            let version = try pool.read { db in
                try String.fetchOne(db, sql: "SELECT value FROM audit_meta WHERE key = 'format'")
            }
            guard version == String(Self.formatVersion) else {
                try? pool.close()
                throw AuditStoreError(
                    .incompatibleVersion,
                    "The audit database \(url.path) has format \(version ?? "?"); this program reads "
                        + "\(Self.formatVersion). It was left unchanged."
                )
            }
        } catch let error as AuditStoreError {
            throw error
        } catch {
            try? pool.close()
            throw AuditStoreError.unavailable(url, error)
        }
    }

    /// Closes the database; every later call throws.
    public func close() throws {
        do {
            try pool.close()
        } catch {
            throw AuditStoreError.unavailable(url, error)
        }
    }

    /// The synchronous mode SQLite reports for the writer (2 is `FULL`).
    func synchronousMode() async throws -> Int {
        try await pool.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("audit-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                    INSERT INTO audit_meta (key, value) VALUES ('format', '1');
                    CREATE TABLE audit_record (
                        sequence INTEGER PRIMARY KEY NOT NULL,
                        previous_hash BLOB NOT NULL,
                        hash BLOB NOT NULL,
                        event_time INTEGER NOT NULL,
                        event_name TEXT NOT NULL,
                        principal_arn TEXT,
                        issuer_arn TEXT,
                        event_type TEXT,
                        error_code TEXT,
                        is_denial INTEGER NOT NULL,
                        record BLOB NOT NULL
                    );
                    CREATE INDEX audit_record_by_time ON audit_record (event_time);
                    CREATE INDEX audit_record_by_principal ON audit_record (principal_arn, sequence);
                    CREATE INDEX audit_record_by_issuer ON audit_record (issuer_arn, sequence)
                        WHERE issuer_arn IS NOT NULL;
                    CREATE INDEX audit_record_by_event_type ON audit_record (event_type, sequence);
                    CREATE INDEX audit_record_by_event_name ON audit_record (event_name, sequence);
                    CREATE INDEX audit_record_errors ON audit_record (sequence) WHERE error_code IS NOT NULL;
                    CREATE TABLE audit_record_key (
                        key TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        PRIMARY KEY (key, sequence)
                    ) WITHOUT ROWID;
                    CREATE TABLE audit_digest (
                        digest_sequence INTEGER PRIMARY KEY NOT NULL,
                        head_sequence INTEGER NOT NULL,
                        digest TEXT NOT NULL
                    );
                    """
            )
        }
        // The event-name index cost every write more than it saved the rare query by operation alone (which scans in
        // sequence order and stops at its limit); a record indexes only the normal form of each key it names.
        migrator.registerMigration("audit-v2-leaner-indexes") { db in
            try db.execute(sql: "DROP INDEX audit_record_by_event_name")
        }
        return migrator
    }

    // MARK: Writing (group commit)

    /// A record waiting for its batch, with its caller.
    struct Pending: Sendable {
        var prepared: ChainedRecordEncoder.Prepared
        var columns: AuditIndexColumns
        var caller: CheckedContinuation<Result<Void, any Error>, Never>
    }

    struct GroupCommit {
        var queue: [Pending] = []
        /// Whether a batch is being written; while true, a queued record is sure to be taken by the next batch.
        var writing = false
        var transactions = 0
        var committedRecords = 0
        /// The chain head after the last committed batch; `nil` until the first and after a failed one, when the
        /// next batch reads it from the file. The store is the file's only writer (the data directory is locked).
        var head: ChainHead?

        /// Takes the oldest queued records, at most ``SQLiteAuditStore/maximumBatch``, for a new transaction.
        mutating func takeBatch() -> [Pending] {
            transactions += 1
            let count = min(queue.count, SQLiteAuditStore.maximumBatch)
            let batch = Array(queue.prefix(count))
            queue.removeFirst(count)
            return batch
        }
    }

    /// How the group commit went so far.
    public typealias CommitStatistics = AuditCommitStatistics

    /// How the group commit went so far (for metrics: records per transaction).
    public var commitStatistics: CommitStatistics {
        state.withLock {
            CommitStatistics(
                pendingRecords: $0.queue.count,
                transactions: $0.transactions,
                committedRecords: $0.committedRecords
            )
        }
    }

    /// Appends `record` to the chain; returns once the transaction holding it committed (see the type's discussion).
    ///
    /// - Throws: ``AuditStoreError`` `writeFailed` when the batch holding the record could not be committed; the
    ///   record is then not in the chain.
    public func record(_ record: AuditTrail.Record) async throws {
        let prepared = ChainedRecordEncoder.prepare(record)
        let columns = AuditIndexColumns(record)
        let result = await withCheckedContinuation { (caller: CheckedContinuation<Result<Void, any Error>, Never>) in
            let start = state.withLock { state -> Bool in
                state.queue.append(Pending(prepared: prepared, columns: columns, caller: caller))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if start { writeQueued(notBefore: nil) }
        }
        try result.get()
    }

    /// Appends the queued records in one transaction on GRDB's writer queue, answers their callers, and goes on with
    /// the records queued meanwhile straight from the writer queue (no task is woken just to start the next batch).
    /// One batch per GRDB write, so digests and other writes interleave under a steady load. Not tied to any caller's
    /// task: a cancelled caller cannot abort a batch that holds other callers' records.
    ///
    /// A batch that follows another (records were queued while it committed) starts no sooner than
    /// ``commitInterval`` after that one started (see the type's discussion); a record that finds the writer idle
    /// is written at once.
    private func writeQueued(notBefore: ContinuousClock.Instant?) {
        let url = self.url
        pool.asyncWriteWithoutTransaction { db in
            if let notBefore {
                while case let wait = notBefore - .now, wait > .zero {
                    Thread.sleep(forTimeInterval: wait.timeInterval)
                }
            }
            let (batch, head) = self.state.withLock { ($0.takeBatch(), $0.head) }
            let started = ContinuousClock.now
            let result = Result { try Self.appendInTransaction(batch, after: head, db) }
            let newHead = try? result.get()
            self.onCommit?(
                Commit(records: batch.count, started: started, duration: .now - started, succeeded: newHead != nil)
            )
            let outcome = result.map { _ in () }.mapError { AuditStoreError.writeFailed(url, $0) as any Error }
            let more = self.state.withLock { state -> Bool in
                state.head = newHead
                if newHead != nil { state.committedRecords += batch.count }
                guard !state.queue.isEmpty else {
                    state.writing = false
                    return false
                }
                return true
            }
            for pending in batch { pending.caller.resume(returning: outcome) }
            if more { self.writeQueued(notBefore: started + self.commitInterval) }
        }
    }

    /// Appends a batch in one `IMMEDIATE` transaction, rolled back when any part fails, and returns the new chain
    /// head. The transaction statements are prepared once per connection (GRDB's `inTransaction` compiles `BEGIN`
    /// anew for every transaction).
    private static func appendInTransaction(
        _ batch: [Pending],
        after knownHead: ChainHead?,
        _ db: Database
    ) throws -> ChainHead {
        try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
        do {
            let head = try append(batch, after: knownHead ?? storedHead(db), db)
            try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
            return head
        } catch {
            if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK TRANSACTION") }
            throw error
        }
    }

    /// The head of the chain as the file holds it.
    private static func storedHead(_ db: Database) throws -> ChainHead {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT sequence, hash FROM audit_record ORDER BY sequence DESC LIMIT 1")
            )
        else { return .empty }
        guard let hash = Self.blob(row, 1).flatMap({ ChainHash(bytes: $0) }) else {
            throw AuditStoreError(.corrupt, "The newest audit record's stored hash is not 32 bytes.")
        }
        return ChainHead(sequence: row[0], hash: hash)
    }

    /// Appends a batch after `head`; returns the new head.
    private static func append(_ batch: [Pending], after head: ChainHead, _ db: Database) throws -> ChainHead {
        var head = head
        let inserts = try AuditRecordInsert(db)
        for pending in batch {
            let (bytes, next) = head.linking(pending.prepared)
            try inserts.insert(
                sequence: next.sequence,
                previousHash: head.hash,
                hash: next.hash,
                columns: pending.columns,
                bytes: bytes
            )
            head = next
        }
        return head
    }
}

/// The columns derived from a record for the queries' indexes.
package struct AuditIndexColumns: Sendable {
    package var eventTime: Int64
    package var eventName: String
    package var principalARN: String?
    package var issuerARN: String?
    package var eventType: String?
    package var errorCode: String?
    package var isDenial: Bool
    package var keys: [String]

    package init(_ record: AuditTrail.Record) {
        eventTime = Int64(record.eventTime.timeIntervalSince1970)
        eventName = record.eventName
        principalARN = record.userIdentity.arn
        issuerARN = record.userIdentity.sessionContext?.sessionIssuer?.arn
        eventType = record.contextEventType
        errorCode = record.errorCode
        isDenial = record.isDenial
        keys = record.keyIdentifiers
    }
}
