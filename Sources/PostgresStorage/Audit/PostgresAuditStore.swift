public import AuditTrail
public import Crypto
package import Foundation
public import Logging
import NIOCore
import PostgresNIO
public import Storage
import Synchronization

/// The audit trail in PostgreSQL: **one** hash chain however many `sealed serve` replicas append to it.
///
/// **Writes** use group commit per replica, as ``Storage/LogAuditStore`` does: concurrent ``record(_:)`` calls queue
/// their (already encoded) records and wait; the first to find no batch being written starts one, and the records
/// queued while it commits go into the next. One batch is one transaction: it locks the one-row `audit_head`
/// (`SELECT … FOR UPDATE`, at `READ COMMITTED`, so a replica waiting for the lock then reads the head the other
/// committed), and only then takes the queued records (at most 512): what queued while another replica held the head
/// goes into this batch, so replicas contending for the head still commit full batches (two replicas append as many
/// records per second as one). It links them after that head (``AuditTrail/ChainHead/linking(_:)``), inserts them
/// with their index columns and key entries in one statement (arrays bound as parameters and `unnest`ed), moves the
/// head, and commits. Batches of all replicas are thereby serialized in the database: sequence numbers are
/// consecutive and every record carries the hash of the one before it, whichever replica wrote either.
///
/// **Acknowledgement.** No caller is answered before the `COMMIT` of its batch returned; PostgreSQL's
/// `synchronous_commit` (on by default) makes that commit durable (and, with synchronous standbys, replicated)
/// first. A batch that fails after taking its records (the connection lost, the server stopped, the backend
/// terminated) rolls back whole and fails exactly its callers with `writeFailed`; the head is untouched, so the next
/// batch continues the chain. A batch that fails before taking them (a pooled connection the server had closed, a
/// failed `BEGIN`) wrote nothing and runs again, up to three times while its time lasts. When the connection breaks
/// while `COMMIT` is in flight the outcome is unknown: the callers are refused, and the records may still be in the
/// chain, so the trail may hold the record of an operation that was reported as failed (never the reverse).
///
/// **Bounded.** A batch waits at most the database's ``PostgresDatabase/connectionWait`` for a connection, and is not
/// tried again after such a wait. A batch that has not committed within ``batchTimeout`` (30 s by default: a
/// connection the server ended whose query never returns) is given up: its callers (the records it took, or those
/// waiting for it) are refused as unreachable (the server answers 503), and the next batch goes on (on another
/// connection; the head's lock keeps the chain one whatever the abandoned transaction does, and an abandoned batch
/// that had not taken its records takes none).
///
/// **Commit interval.** When records queued up while a batch of at least ``intervalMinimumBatch`` records committed,
/// the next batch starts no sooner than ``commitInterval`` after that one began: under load, fuller transactions for at
/// most that much latency; a lone record is written at once. (The audit log in a data directory waits a shorter
/// interval after every batch: its sync is far cheaper than a transaction here.)
///
/// **Reads** run on the pool: single statements, or several on one snapshot (`REPEATABLE READ`), as in verification
/// and exports, which page through the records in sequence order (never the whole trail in memory).
public final class PostgresAuditStore: AuditStore, Sendable, CustomStringConvertible {
    /// The default of ``commitInterval``.
    public static let defaultCommitInterval = Duration.milliseconds(1)
    /// The default of ``intervalMinimumBatch``.
    public static let defaultIntervalMinimumBatch = 32
    /// The most records one transaction takes.
    static let maximumBatch = 512
    /// How many times a batch that failed before it took its records runs.
    static let maximumTries = 3
    /// The default of ``batchTimeout``.
    public static let defaultBatchTimeout = Duration.seconds(30)

    public let database: PostgresDatabase
    /// How soon after a batch began the next one may begin (see the type's discussion).
    public let commitInterval: Duration
    /// The fewest records a batch holds for the next one to wait ``commitInterval``.
    public let intervalMinimumBatch: Int
    /// How long a batch may take before its callers are refused (see the type's discussion).
    public let batchTimeout: Duration
    private let state = Mutex(GroupCommit())
    private let onCommit: (@Sendable (AuditCommit) -> Void)?

    /// A store over `database` (migrated: ``PostgresDatabase/withDatabase(_:maximumConnections:logger:_:)``).
    ///
    /// - Parameters:
    ///   - batchTimeout: how long a batch may take before its callers are refused.
    ///   - onCommit: called after each batch, committed or not; it must return quickly.
    public init(
        database: PostgresDatabase,
        commitInterval: Duration = PostgresAuditStore.defaultCommitInterval,
        intervalMinimumBatch: Int = PostgresAuditStore.defaultIntervalMinimumBatch,
        batchTimeout: Duration = PostgresAuditStore.defaultBatchTimeout,
        onCommit: (@Sendable (AuditCommit) -> Void)? = nil
    ) {
        self.database = database
        self.commitInterval = commitInterval
        self.intervalMinimumBatch = max(1, intervalMinimumBatch)
        self.batchTimeout = batchTimeout
        self.onCommit = onCommit
    }

    public var description: String { "PostgresAuditStore(\(database.url))" }

    /// The audit trail of `database` and its signing key (created on the first start of any replica; see
    /// ``signingKey(in:rootKey:)``): what ``Storage/DataDirectory/openAuditTrail(commitInterval:logger:onCommit:)``
    /// gives for a data directory.
    ///
    /// - Throws: ``AuditTrail/AuditError`` `unsealFailed` when the stored key does not open under `rootKey`;
    ///   ``Storage/AuditStoreError`` `databaseUnavailable`.
    public static func openTrail(
        database: PostgresDatabase,
        rootKey: SymmetricKey,
        commitInterval: Duration = PostgresAuditStore.defaultCommitInterval,
        logger: Logger = Logger(label: "sealed.audit"),
        onCommit: (@Sendable (AuditCommit) -> Void)? = nil
    ) async throws -> (store: PostgresAuditStore, signingKey: AuditSigningKey) {
        let key = try await signingKey(in: database, rootKey: rootKey)
        logger.debug("Opened the audit trail in PostgreSQL", metadata: ["signingKey": "\(key.fingerprint)"])
        return (PostgresAuditStore(database: database, commitInterval: commitInterval, onCommit: onCommit), key)
    }

    /// Writes what is queued; every later ``record(_:)`` throws. Returns once no batch is being written (call it
    /// before the database's scope ends).
    public func close() async {
        await withCheckedContinuation { (closed: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                state.closed = true
                guard state.writing else { return true }
                state.closeWaiters.append(closed)
                return false
            }
            if idle { closed.resume() }
        }
    }

    // MARK: The signing key

    /// The audit signing key kept in `database`, sealed under `rootKey`; created when there is none.
    ///
    /// Exactly one key is kept however many replicas start at once: each inserts its candidate only if the table is
    /// empty, in a serializable transaction that then reads the row that won (a transaction that raced another
    /// fails and runs again, finding the other's key).
    ///
    /// - Throws: ``AuditTrail/AuditError`` `unsealFailed` when the stored key does not open under `rootKey` (another
    ///   root key, or an altered row).
    public static func signingKey(
        in database: PostgresDatabase,
        rootKey: SymmetricKey
    ) async throws
        -> AuditSigningKey
    {
        if let sealed = try await reading({ try await storedSigningKey(database) }) {
            return try AuditSigningKey(sealed: sealed, rootKey: rootKey)
        }
        let candidate = try AuditSigningKey.generate().sealed(under: rootKey)
        let sealed = try await importSigningKey(sealed: candidate, in: database)
        return try AuditSigningKey(sealed: sealed, rootKey: rootKey)
    }

    /// Keeps `sealed` (a key sealed by ``AuditTrail/AuditSigningKey/sealed(under:)``) as the database's signing key
    /// unless it has one; returns the sealed key kept (`sealed`, or the one already there).
    package static func importSigningKey(sealed: Data, in database: PostgresDatabase) async throws -> Data {
        let kept = try await writing {
            try await database.transaction { connection in
                try await connection.run(
                    "INSERT INTO audit_signing_key (sealed) VALUES (\(sealed)) ON CONFLICT (only_row) DO NOTHING"
                )
                return try await connection.run("SELECT sealed FROM audit_signing_key").first?.decode(Data.self)
            }
        }
        guard let kept else { throw AuditStoreError(.corrupt, "The audit signing key was not kept in PostgreSQL.") }
        return kept
    }

    private static func storedSigningKey(_ database: PostgresDatabase) async throws -> Data? {
        try await database.query("SELECT sealed FROM audit_signing_key").first?.decode(Data.self)
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
        var closed = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var transactions = 0
        var committedRecords = 0
        /// The number of the batch being written, and the records it took once it held the chain head (`nil` before).
        var attempt = 0
        var taken: [Pending]?

        /// The records of batch `attempt`, taken from the queue when it first asks (it then holds the head, so what
        /// queued while it waited for the lock goes in too); `nil` once the writer gave that batch up.
        mutating func take(for attempt: Int) -> [Pending]? {
            guard attempt == self.attempt else { return nil }
            if taken == nil { taken = takeBatch() }
            return taken
        }

        /// Gives up the current attempt when it failed before taking any record (so nothing of it can have been
        /// written, and running the batch again is safe); false when it took its records.
        mutating func abandonUntaken() -> Bool {
            guard taken == nil else { return false }
            attempt += 1
            return true
        }

        /// Ends the current batch: its records, to be answered (those queued now when it failed before taking any,
        /// since they were waiting for it); a stuck transaction of it can take nothing any more.
        mutating func settle() -> [Pending] {
            attempt += 1
            defer { taken = nil }
            return taken ?? takeBatch()
        }

        mutating func takeBatch() -> [Pending] {
            transactions += 1
            let count = min(queue.count, PostgresAuditStore.maximumBatch)
            defer { queue.removeFirst(count) }
            return Array(queue.prefix(count))
        }
    }

    /// How the group commit went so far (for metrics: records per transaction).
    public var commitStatistics: AuditCommitStatistics {
        state.withLock {
            AuditCommitStatistics(
                pendingRecords: $0.queue.count,
                transactions: $0.transactions,
                committedRecords: $0.committedRecords
            )
        }
    }

    /// Appends `record` to the chain; returns once the transaction holding it committed (see the type's discussion).
    ///
    /// - Throws: ``Storage/AuditStoreError`` `writeFailed` when the batch holding the record could not be committed
    ///   (or the store is closed); the operation it records must then fail.
    public func record(_ record: AuditTrail.Record) async throws {
        let prepared = ChainedRecordEncoder.prepare(record)
        let columns = AuditIndexColumns(record)
        let result = await withCheckedContinuation { (caller: CheckedContinuation<Result<Void, any Error>, Never>) in
            let start = state.withLock { state -> Bool? in
                guard !state.closed else { return nil }
                state.queue.append(Pending(prepared: prepared, columns: columns, caller: caller))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            switch start {
            case nil:
                caller.resume(returning: .failure(AuditStoreError(.writeFailed, "The audit trail is closed.")))
            case true?:
                // Not tied to any caller's task: a cancelled caller cannot abort a batch holding others' records.
                Task { await self.writeQueued() }
            case false?:
                break
            }
        }
        try result.get()
    }

    /// Writes batches until nothing is queued, answering each batch's callers when it committed or failed.
    private func writeQueued() async {
        var notBefore: ContinuousClock.Instant?
        while true {
            if let notBefore { try? await Task.sleep(until: notBefore, clock: .continuous) }
            let started = ContinuousClock.now
            let deadline = started + batchTimeout
            var outcome: Result<Void, any Error>
            var tries = 0
            var tried: Duration
            repeat {
                tries += 1
                let began = ContinuousClock.now
                outcome = await appendWithinTimeout(attempt: state.withLock { $0.attempt }, until: deadline)
                tried = .now - began
                // A batch that failed before it took its records (a pooled connection the server had closed, a failed
                // BEGIN) wrote nothing: it runs again, on another connection, while time is left; not when it waited
                // the pool's whole connection wait (the pool has none to give, and another try would wait as long).
            } while (try? outcome.get()) == nil && tries < Self.maximumTries && .now < deadline
                && tried < database.connectionWait && state.withLock({ $0.abandonUntaken() })
            let batch = state.withLock { $0.settle() }
            let succeeded = (try? outcome.get()) != nil
            onCommit?(
                AuditCommit(records: batch.count, started: started, duration: .now - started, succeeded: succeeded)
            )
            let (more, closeWaiters) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                if succeeded { state.committedRecords += batch.count }
                guard state.queue.isEmpty else { return (true, []) }
                state.writing = false
                defer { state.closeWaiters = [] }
                return (false, state.closeWaiters)
            }
            for pending in batch { pending.caller.resume(returning: outcome) }
            for waiter in closeWaiters { waiter.resume() }
            guard more else { return }
            notBefore = batch.count >= intervalMinimumBatch ? started + commitInterval : nil
        }
    }

    /// The batch's transaction raced against ``batchTimeout``: a query on a connection the server ended can stay
    /// pending even after the connection closed, and one stuck batch must not stop this replica's audit trail. The
    /// two run as unstructured tasks raced through a stream (a task group would wait for the stuck one).
    private func appendWithinTimeout(
        attempt: Int,
        until deadline: ContinuousClock.Instant
    ) async -> Result<Void, any Error> {
        let (outcomes, continuation) = AsyncStream.makeStream(of: Result<Void, any Error>.self)
        let work = Task {
            do {
                try await self.append {
                    guard let batch = self.state.withLock({ $0.take(for: attempt) }) else {
                        throw AuditStoreError(.writeFailed, "The audit batch was given up before it took its records.")
                    }
                    return batch.map { Linking(prepared: $0.prepared, columns: $0.columns, expected: nil) }
                }
                continuation.yield(.success(()))
            } catch {
                continuation.yield(.failure(Self.mapped(error, .writeFailed, "The audit records could not be written")))
            }
        }
        let timeout = batchTimeout
        let timer = Task {
            try await Task.sleep(until: deadline, clock: .continuous)
            continuation.yield(
                .failure(
                    AuditStoreError(
                        .writeFailed,
                        "The audit records could not be written: PostgreSQL did not commit their batch within \(timeout).",
                        isUnreachable: true
                    )
                )
            )
        }
        var iterator = outcomes.makeAsyncIterator()
        let first = await iterator.next() ?? .failure(AuditStoreError(.writeFailed, "The audit batch was abandoned."))
        continuation.finish()
        timer.cancel()
        work.cancel()
        return first
    }

    /// A record to link after the head, with its index columns, and for an import the place it must take.
    private struct Linking: Sendable {
        var prepared: ChainedRecordEncoder.Prepared
        var columns: AuditIndexColumns
        var expected: ChainHead?
    }

    /// Appends records of another store's chain (`sealed admin migrate`), in one transaction, after checking that each
    /// is linked here to the same bytes: the same sequence number and hash as it had there (so the chain and the
    /// digests that sign it carry over unchanged).
    ///
    /// - Throws: ``Storage/AuditStoreError`` `corrupt` when a record would not be copied byte for byte (nothing of the
    ///   call is written); `writeFailed`.
    package func importRecords(_ records: [StoredRecord]) async throws {
        try await Self.writing {
            let records = records.map {
                Linking(
                    prepared: ChainedRecordEncoder.prepare($0.record),
                    columns: AuditIndexColumns($0.record),
                    expected: ChainHead(sequence: $0.sequence, hash: $0.hash)
                )
            }
            try await append { records }
        }
    }

    /// One batch in one transaction: lock the head, then take the records (`take`), link them after it, insert
    /// them, move the head.
    private func append(taking take: () throws -> [Linking]) async throws {
        try await database.transaction(.readCommitted) { connection in
            var head = try await Self.lockedHead(connection)
            let records = try take()
            var rows = BatchRows(capacity: records.count)
            for record in records {
                let (bytes, linked) = head.linking(record.prepared)
                if let expected = record.expected, expected != linked {
                    throw AuditStoreError(
                        .corrupt,
                        "Audit record \(expected.sequence) would not be copied byte for byte (it would become record "
                            + "\(linked.sequence) with another hash); nothing of its batch was copied."
                    )
                }
                rows.append(sequence: linked.sequence, previous: head.hash, hash: linked.hash, record.columns, bytes)
                head = linked
            }
            try await connection.run(rows.insert(movingHeadTo: head))
        }
    }

    /// The chain head, locked until the transaction ends.
    private static func lockedHead(_ connection: PostgresConnection) async throws -> ChainHead {
        try head(from: try await connection.run(LockHead()))
    }

    private struct LockHead: PreparedQuery {
        static let name = "sealed_audit_lock_head"
        static let sql = "SELECT sequence, hash FROM audit_head FOR UPDATE"

        func makeBindings() -> PostgresBindings { PostgresBindings() }
    }

    /// The head from the `audit_head` row.
    static func head(from rows: [PostgresRow]) throws -> ChainHead {
        guard let row = rows.first else {
            throw AuditStoreError(.corrupt, "The audit chain's head row is missing from PostgreSQL.")
        }
        let (sequence, hash) = try row.decode((Int64, Data).self)
        guard let hash = ChainHash(bytes: hash) else {
            throw AuditStoreError(.corrupt, "The audit chain's stored head hash is not 32 bytes.")
        }
        return ChainHead(sequence: sequence, hash: hash)
    }

    // MARK: Errors

    /// Runs a read; PostgreSQL's failures become ``Storage/AuditStoreError`` `databaseUnavailable`.
    static func reading<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw mapped(error, .databaseUnavailable, "The audit trail could not be read")
        }
    }

    /// Runs a write; PostgreSQL's failures become ``Storage/AuditStoreError`` `writeFailed`.
    static func writing<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw mapped(error, .writeFailed, "The audit trail could not be written")
        }
    }

    /// The store's and the trail's errors unchanged; the database's (``Storage/StorageError``, whose message names the
    /// server's reason and never a bound value) as `code`, marked unreachable when PostgreSQL could not be reached.
    static func mapped(_ error: any Error, _ code: AuditStoreError.Code, _ what: String) -> any Error {
        switch error {
        case is AuditStoreError, is AuditError: error
        case let error as StorageError:
            AuditStoreError(
                code,
                "\(what): \(error.message)",
                isUnreachable: error.isUnreachable
            )
        case let error as PSQLError:
            AuditStoreError(
                code,
                "\(what): PostgreSQL failed (\(error.code)).",
                isUnreachable: PostgresDatabase.isUnreachable(error)
            )
        default: AuditStoreError(code, "\(what): \(type(of: error)).")
        }
    }
}

/// The columns of a batch's records as arrays, inserted by one statement (`unnest`) with their key entries, and the
/// head moved in the same statement.
private struct BatchRows {
    var sequences: [Int64] = []
    var previousHashes: [ByteBuffer] = []
    var hashes: [ByteBuffer] = []
    var eventTimes: [Int64] = []
    var eventNames: [String] = []
    var principals: [String?] = []
    var issuers: [String?] = []
    var eventTypes: [String?] = []
    var errorCodes: [String?] = []
    var denials: [Bool] = []
    var records: [ByteBuffer] = []
    var keys: [String] = []
    var keySequences: [Int64] = []

    init(capacity: Int) {
        sequences.reserveCapacity(capacity)
        records.reserveCapacity(capacity)
    }

    mutating func append(
        sequence: Int64,
        previous: ChainHash,
        hash: ChainHash,
        _ columns: AuditIndexColumns,
        _ bytes: [UInt8]
    ) {
        sequences.append(sequence)
        previousHashes.append(ByteBuffer(bytes: previous.bytes))
        hashes.append(ByteBuffer(bytes: hash.bytes))
        eventTimes.append(columns.eventTime)
        eventNames.append(columns.eventName)
        principals.append(columns.principalARN)
        issuers.append(columns.issuerARN)
        eventTypes.append(columns.eventType)
        errorCodes.append(columns.errorCode)
        denials.append(columns.isDenial)
        records.append(ByteBuffer(bytes: bytes))
        for key in Set(columns.keys) {
            keys.append(key)
            keySequences.append(sequence)
        }
    }

    /// The statement that inserts the rows and moves the head to `head`.
    func insert(movingHeadTo head: ChainHead) -> Insert { Insert(rows: self, head: head) }

    /// One prepared statement for every batch: data-modifying CTEs run whole or not at all, with the head's update.
    struct Insert: PreparedQuery {
        static let name = "sealed_audit_insert"
        static let sql = """
            WITH inserted_records AS (
                INSERT INTO audit_record (sequence, previous_hash, hash, event_time, event_name, principal_arn,
                    issuer_arn, event_type, error_code, is_denial, record)
                SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bigint[], $5::text[], $6::text[],
                    $7::text[], $8::text[], $9::text[], $10::boolean[], $11::bytea[])
            ), inserted_keys AS (
                INSERT INTO audit_record_key (key, sequence)
                SELECT * FROM unnest($12::text[], $13::bigint[])
            )
            UPDATE audit_head SET sequence = $14, hash = $15
            """
        var rows: BatchRows
        var head: ChainHead

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 15)
            bindings.append(rows.sequences)
            bindings.append(rows.previousHashes)
            bindings.append(rows.hashes)
            bindings.append(rows.eventTimes)
            bindings.append(rows.eventNames)
            bindings.append(NullableTextArray(rows.principals))
            bindings.append(NullableTextArray(rows.issuers))
            bindings.append(NullableTextArray(rows.eventTypes))
            bindings.append(NullableTextArray(rows.errorCodes))
            bindings.append(rows.denials)
            bindings.append(rows.records)
            bindings.append(rows.keys)
            bindings.append(rows.keySequences)
            bindings.append(head.sequence)
            bindings.append(ByteBuffer(bytes: head.hash.bytes))
            return bindings
        }
    }
}
