import AuditTrail
import Crypto
import Foundation
import GRDB
import Storage
import Synchronization
import Testing

/// Holds SQLite's write lock on the audit file from a second connection, as another process could.
final class AuditWriteLockHolder {
    private let queue: DatabaseQueue

    init(_ file: URL) throws {
        var configuration = Configuration()
        // The transaction deliberately stays open between the two accesses.
        configuration.allowsUnsafeTransactions = true
        queue = try DatabaseQueue(path: file.path, configuration: configuration)
        try queue.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
    }

    func release() throws {
        try queue.inDatabase { db in try db.execute(sql: "ROLLBACK") }
        try queue.close()
    }
}

@Suite struct SQLiteAuditGroupCommitTests {
    let key = AuditSigningKey.generate()

    @Test func twoHundredConcurrentWritersGetConsecutiveSequenceNumbersAndAValidChain() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try SQLiteAuditStore(at: directory.appendingPathComponent("audit.sqlite"))
            defer { try? store.close() }
            let records = (1...200).map { AuditFixtures.decrypt($0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for record in records { group.addTask { try await store.record(record) } }
                try await group.waitForAll()
            }
            let stored = try await store.tail(after: 0, limit: 1000)
            #expect(stored.map(\.sequence) == Array(1...200))
            #expect(Set(stored.map(\.record.eventID)) == Set(records.map(\.eventID)))
            let statistics = store.commitStatistics
            #expect(statistics.committedRecords == 200 && statistics.pendingRecords == 0)
            #expect(statistics.transactions <= 200)
            try await AuditFixtures.digestService(store, key).signIfNeeded()
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 200 && report.digestsChecked == 1)
        }
    }

    @Test func writersQueuedBehindABusyCommitShareOneTransaction() async throws {
        try await AuditFixtures.withDirectory { directory in
            let file = directory.appendingPathComponent("audit.sqlite")
            let commits = CommitLog()
            let store = try SQLiteAuditStore(at: file, busyTimeout: 60, onCommit: { commits.append($0) })
            defer { try? store.close() }
            let lock = try AuditWriteLockHolder(file)
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The first writer starts a batch, which waits for the lock; the next 49 queue behind it.
                group.addTask { try await store.record(AuditFixtures.decrypt(1)) }
                try await waitForAuditCondition { store.commitStatistics.transactions == 1 }
                for index in 2...50 {
                    group.addTask { try await store.record(AuditFixtures.decrypt(index)) }
                }
                try await waitForAuditCondition { store.commitStatistics.pendingRecords == 49 }
                try lock.release()
                try await group.waitForAll()
            }
            let statistics = store.commitStatistics
            #expect(statistics.transactions == 2)
            #expect(statistics.committedRecords == 50)
            // The observer saw both transactions, in order, each with its duration.
            #expect(commits.all.map(\.records) == [1, 49])
            #expect(commits.all.allSatisfy { $0.succeeded })
            #expect(try #require(commits.all.first).duration > .zero)
            #expect(try await store.tail(after: 0, limit: 100).map(\.sequence) == Array(1...50))
            #expect(try await store.verify(publicKey: key.publicKey).isValid)
        }
    }

    /// Records 3 to 5 queue while record 2's batch waits for the write lock; once it commits, the next batch starts
    /// no sooner than the interval after it began and takes all three. Everything is queued before the lock is
    /// released, so the batches do not depend on how fast this task is scheduled (under a loaded test run the
    /// release can come later than the interval; the next batch then starts at once, still at least the interval
    /// after record 2's began).
    @Test func aBatchQueuedBehindACommitStartsTheCommitIntervalAfterItWithEverythingQueued() async throws {
        try await AuditFixtures.withDirectory { directory in
            let file = directory.appendingPathComponent("audit.sqlite")
            let commits = CommitLog()
            let interval = Duration.seconds(2)
            let store = try SQLiteAuditStore(
                at: file,
                busyTimeout: 60,
                commitInterval: interval,
                onCommit: { commits.append($0) }
            )
            defer { try? store.close() }
            // A record that finds the writer idle is written at once: the interval is not waited.
            try await store.record(AuditFixtures.decrypt(1))
            let lock = try AuditWriteLockHolder(file)
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Record 2's batch waits for the lock; record 3 queues behind it.
                group.addTask { try await store.record(AuditFixtures.decrypt(2)) }
                try await waitForAuditCondition { store.commitStatistics.transactions == 2 }
                for index in 3...5 {
                    group.addTask { try await store.record(AuditFixtures.decrypt(index)) }
                }
                try await waitForAuditCondition { store.commitStatistics.pendingRecords == 3 }
                try lock.release()
                // Record 2 commits; the batch of 3, 4 and 5 waits out the interval.
                try await group.waitForAll()
            }
            let all = commits.all
            #expect(all.map(\.records) == [1, 1, 3])
            #expect(all.allSatisfy { $0.succeeded })
            if all.count == 3 { #expect(all[2].started - all[1].started >= interval) }
            #expect(try await store.tail(after: 0, limit: 10).map(\.sequence) == Array(1...5))
            #expect(try await store.verify(publicKey: key.publicKey).isValid)
        }
    }

    @Test func aFailingStoreAcknowledgesNothingAndTheChainVerifiesAfterRecovery() async throws {
        try await AuditFixtures.withDirectory { directory in
            let file = directory.appendingPathComponent("audit.sqlite")
            let commits = CommitLog()
            let store = try SQLiteAuditStore(at: file, busyTimeout: 0.2, onCommit: { commits.append($0) })
            defer { try? store.close() }
            for index in 1...3 { try await store.record(AuditFixtures.decrypt(index)) }
            try await AuditFixtures.digestService(store, key).signIfNeeded()

            let lock = try AuditWriteLockHolder(file)
            let outcomes = await withTaskGroup(of: (any Error)?.self) { group in
                for index in 4...13 {
                    group.addTask {
                        do {
                            try await store.record(AuditFixtures.decrypt(index))
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.count == 10)
            #expect(outcomes.allSatisfy { ($0 as? AuditStoreError)?.code == .writeFailed })
            // Every refused record was in a transaction the observer saw fail.
            let failed = commits.all.filter { !$0.succeeded }
            #expect(!failed.isEmpty && failed.map(\.records).reduce(0, +) == 10)
            try lock.release()

            #expect(
                try await store.tail(after: 0, limit: 100).map(\.record.requestID) == [
                    "req-1", "req-2", "req-3",
                ]
            )
            try await store.record(AuditFixtures.decrypt(14))
            let records = try await store.tail(after: 0, limit: 100)
            #expect(records.map(\.sequence) == [1, 2, 3, 4])
            #expect(records.last?.record.requestID == "req-14")
            try await AuditFixtures.digestService(store, key).signIfNeeded()
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 4 && report.digestsChecked == 2)
        }
    }

    @Test func anInsertSQLiteRefusesFailsItsBatchWhichLeavesNothingBehind() async throws {
        try await AuditFixtures.withDirectory { directory in
            let file = directory.appendingPathComponent("audit.sqlite")
            let store = try SQLiteAuditStore(at: file)
            defer { try? store.close() }
            for index in 1...2 { try await store.record(AuditFixtures.decrypt(index)) }
            // Another writer takes number 3 behind the store's back: the store's next insert breaks the primary key.
            try AuditFixtures.tamper(file) { db in
                try db.execute(
                    sql: """
                        INSERT INTO audit_record (sequence, previous_hash, hash, event_time, event_name, is_denial, record)
                        VALUES (3, zeroblob(32), zeroblob(32), 0, 'Forged', 0, '{}')
                        """
                )
            }
            let error = await #expect(throws: AuditStoreError.self) {
                try await store.record(AuditFixtures.decrypt(3))
            }
            #expect(error?.code == .writeFailed)
            #expect(error?.message.contains("UNIQUE constraint failed: audit_record.sequence") == true)
            let reader = try DatabaseQueue(path: file.path)
            defer { try? reader.close() }
            let rows = try await reader.read { db in
                (
                    try String.fetchAll(db, sql: "SELECT event_name FROM audit_record ORDER BY sequence"),
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_record_key WHERE sequence = 3")
                )
            }
            #expect(rows.0 == ["Decrypt", "Decrypt", "Forged"])
            #expect(rows.1 == 0)
            // The next batch reads the head from the file and goes on after the forged row, which verify names.
            try await store.record(AuditFixtures.decrypt(4))
            #expect(try await store.tail(after: 3, limit: 10).map(\.record.requestID) == ["req-4"])
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.problem?.sequence == 3)
        }
    }

    @Test func aClosedStoreThrows() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try SQLiteAuditStore(at: directory.appendingPathComponent("audit.sqlite"))
            try await store.record(AuditFixtures.decrypt(1))
            try store.close()
            await #expect(throws: AuditStoreError.self) {
                try await store.record(AuditFixtures.decrypt(2))
            }
            await #expect(throws: AuditStoreError.self) { try await store.tail(after: 0, limit: 10) }
        }
    }

    @Test func aFileThatIsNotADatabaseIsATypedError() async throws {
        try await AuditFixtures.withDirectory { directory in
            let file = directory.appendingPathComponent("audit.sqlite")
            try Data("not a database, just text that is long enough to have a header".utf8).write(
                to: file
            )
            #expect(throws: AuditStoreError(.databaseUnavailable, "")) { try SQLiteAuditStore(at: file) }
        }
    }
}

/// What a store's commit observer was told, in order.
final class CommitLog: Sendable {
    private let commits = Mutex<[SQLiteAuditStore.Commit]>([])

    func append(_ commit: SQLiteAuditStore.Commit) { commits.withLock { $0.append(commit) } }

    var all: [SQLiteAuditStore.Commit] { commits.withLock { $0 } }
}

/// Polls `condition` every 5 ms until it holds; fails the test after 20 s (a liveness bound, not a speed check).
func waitForAuditCondition(_ condition: () -> Bool) async throws {
    for _ in 0..<4000 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("condition never held")
    throw CancellationError()
}
