import AuditTrail
import Foundation
import Testing

@testable import Storage

/// The log's group commit: one write and one sync per batch, every caller of a failed batch refused.
@Suite struct LogAuditGroupCommitTests {
    let key = AuditSigningKey.generate()

    @Test func twoHundredConcurrentWritersGetConsecutiveSequenceNumbersAndAValidChain() async throws {
        try await AuditFixtures.withDirectory { directory in
            let commits = CommitLog()
            let store = try LogAuditStore(directory: LogFixtures.log(directory), onCommit: { commits.append($0) })
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
            #expect(commits.all.count == statistics.transactions)
            #expect(commits.all.map(\.records).reduce(0, +) == 200 && commits.all.allSatisfy(\.succeeded))
            // The frames are contiguous, one per record, in the order of their sequence numbers.
            #expect(try LogFixtures.frames(LogFixtures.firstSegment(directory)).map(\.sequence) == Array(1...200))
            try await AuditFixtures.digestService(store, key).signIfNeeded()
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 200 && report.digestsChecked == 1)
        }
    }

    /// Batches fail after writing half their bytes (as a full disk fails a write): no caller is acknowledged, the
    /// segment is cut back to its synced length, and the next record continues the chain.
    @Test func aFailedBatchAcknowledgesNothingAndLeavesNothingBehind() async throws {
        try await AuditFixtures.withDirectory { directory in
            let commits = CommitLog()
            let store = try LogAuditStore(directory: LogFixtures.log(directory), onCommit: { commits.append($0) })
            defer { try? store.close() }
            for index in 1...3 { try await store.record(AuditFixtures.decrypt(index)) }
            try await AuditFixtures.digestService(store, key).signIfNeeded()
            let segment = LogFixtures.firstSegment(directory)
            let synced = try Data(contentsOf: segment)

            store.injectWriteFailures(1000)
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
            store.injectWriteFailures(0)
            #expect(outcomes.count == 10)
            #expect(outcomes.allSatisfy { ($0 as? AuditStoreError)?.code == .writeFailed })
            let failed = commits.all.filter { !$0.succeeded }
            #expect(!failed.isEmpty && failed.map(\.records).reduce(0, +) == 10)
            // Cut back to the synced frames (the preallocated zeros after them too).
            #expect(try [UInt8](Data(contentsOf: segment)) == Array(synced.prefix(LogFixtures.framesEnd([UInt8](synced)))))
            #expect(try await store.chainHead().sequence == 3)

            try await store.record(AuditFixtures.decrypt(14))
            let records = try await store.tail(after: 0, limit: 100)
            #expect(records.map(\.sequence) == [1, 2, 3, 4])
            #expect(records.last?.record.requestID == "req-14")
            try await AuditFixtures.digestService(store, key).signIfNeeded()
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 4 && report.digestsChecked == 2)
        }
    }

    /// A batch that starts a new segment and fails leaves the new segment empty; the next batch writes into it.
    @Test func aFailedBatchThatRolledLeavesAnEmptySegmentTheNextBatchFills() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory), rollSize: 1500)
            defer { try? store.close() }
            try await store.record(AuditFixtures.decrypt(1))
            store.injectWriteFailures(1)
            await #expect(throws: AuditStoreError.self) { try await store.record(AuditFixtures.decrypt(2)) }
            try await store.record(AuditFixtures.decrypt(3))
            let segments = try AuditLogFiles.segments(in: LogFixtures.log(directory))
            #expect(segments.map(\.firstSequence) == [1, 2])
            #expect(try LogFixtures.frames(segments[1].url).map(\.sequence) == [2])
            #expect(try await store.tail(after: 0, limit: 10).map(\.record.requestID) == ["req-1", "req-3"])
            #expect(try await store.verify(publicKey: key.publicKey).isValid)
        }
    }

    /// Records 3 to 5 queue while record 2's batch is being written; the next batch starts no sooner than the
    /// interval after it began and takes all three (as `SQLiteAuditGroupCommitTests` holds the SQLite store to).
    @Test func aBatchQueuedBehindAWriteStartsTheCommitIntervalAfterItWithEverythingQueued() async throws {
        try await AuditFixtures.withDirectory { directory in
            let commits = CommitLog()
            let interval = Duration.seconds(2)
            let store = try LogAuditStore(
                directory: LogFixtures.log(directory),
                commitInterval: interval,
                onCommit: { commits.append($0) }
            )
            defer { try? store.close() }
            // A record that finds the writer idle is written at once: the interval is not waited.
            try await store.record(AuditFixtures.decrypt(1))
            let gate = DispatchSemaphore(value: 0)
            store.holdNextBatch(until: gate)
            try await withThrowingTaskGroup(of: Void.self) { group in
                // A wait that fails must still let the writer go, or the group's tasks (and the test) never end.
                var opened = false
                defer { if !opened { gate.signal() } }
                group.addTask { try await store.record(AuditFixtures.decrypt(2)) }
                try await waitForAuditCondition { store.commitStatistics.transactions == 2 }
                for index in 3...5 {
                    group.addTask { try await store.record(AuditFixtures.decrypt(index)) }
                }
                try await waitForAuditCondition { store.commitStatistics.pendingRecords == 3 }
                gate.signal()
                opened = true
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

    @Test func aClosedStoreThrows() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            try await store.record(AuditFixtures.decrypt(1))
            try store.close()
            await #expect(throws: AuditStoreError.self) { try await store.record(AuditFixtures.decrypt(2)) }
            await #expect(throws: AuditStoreError.self) { try await store.tail(after: 0, limit: 10) }
            await #expect(throws: AuditStoreError.self) { try await store.verify(publicKey: key.publicKey) }
        }
    }

    /// What was acknowledged before `close` is indexed by the time it returns.
    @Test func closeIndexesWhatIsDurable() async throws {
        try await AuditFixtures.withDirectory { directory in
            do {
                let store = try LogAuditStore(directory: LogFixtures.log(directory))
                store.pauseIndexing()
                for index in 1...5 { try await store.record(AuditFixtures.decrypt(index)) }
                try store.close()
            }
            let index = try AuditLogIndex(url: LogFixtures.log(directory).appendingPathComponent("index.sqlite"))
            defer { try? index.close() }
            #expect(try index.highWater() == 5)
        }
    }
}
