import AuditTrail
import Foundation
import SealedTesting
import Testing

@testable import Storage

/// The audit log's contract: what `SQLiteAuditStoreTests` holds the SQLite store to, the index behind the log (lag,
/// rebuild) and segments.
@Suite struct LogAuditStoreTests {
    let key = AuditSigningKey.generate()

    @Test func recordsChainAndReadBack() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            #expect(try await store.chainHead() == .empty)
            let written = (1...5).map { AuditFixtures.decrypt($0) }
            for record in written { try await store.record(record) }
            let records = try await store.tail(after: 2, limit: 2)
            #expect(records.map(\.sequence) == [3, 4])
            #expect(records.map(\.record) == Array(written[2...3]))
            #expect(records[1].previousHash == records[0].hash)
            let head = try await store.chainHead()
            #expect(head.sequence == 5)
            #expect(try await store.tail(after: 4, limit: 10).first?.hash == head.hash)
            #expect(try await store.recordHash(at: 5) == head.hash.data)
            #expect(try await store.recordHash(at: 6) == nil)
            #expect(try await store.verify(publicKey: key.publicKey).isValid)
            // The frames hold exactly the canonical bytes the hash chain is computed over.
            let payloads = try LogFixtures.payloads(directory)
            #expect(payloads.count == 5 && ChainHash.of(payloads[4]) == head.hash)
        }
    }

    @Test func filesArePrivate() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, count: 3, digestEvery: 3, key: key)
            #expect(try permissions(LogFixtures.log(directory)) == 0o700)
            for name in ["segment-00000000000000000001.log", "digests.log", "index.sqlite"] {
                #expect(try permissions(LogFixtures.log(directory).appendingPathComponent(name)) == 0o600, "\(name)")
            }
        }
    }

    @Test func reopenedStoreContinuesTheChain() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, count: 10, digestEvery: 5, key: key)
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            #expect(try await store.chainHead().sequence == 10)
            #expect(try await store.digests().map(\.digest.headSequence) == [5, 10])
            try await store.record(AuditFixtures.decrypt(11))
            try await AuditFixtures.digestService(store, key).signIfNeeded()
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 11 && report.digestsChecked == 3)
        }
    }

    @Test func aDigestThatDoesNotFollowIsAConflict() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            try await store.record(AuditFixtures.decrypt(1))
            let signed = try #require(try await AuditFixtures.digestService(store, key).signIfNeeded())
            let error = await #expect(throws: AuditStoreError.self) { try await store.appendDigest(signed) }
            #expect(error?.code == .digestConflict)
            #expect(try await store.latestDigest() == signed)
        }
    }

    @Test func queriesMatchTheReferenceSemantics() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 10)
            defer { try? store.close() }
            let reference = InMemoryAuditStore()
            try await AuditReference.writeMixedRecords(1...40, store, reference)
            try await waitForAuditCondition { store.unindexedRecords == 0 }
            try await AuditReference.expectReferenceSemantics(store, reference)
        }
    }

    /// The index lags: records 21 to 40 are acknowledged but not indexed; every query still sees them, merged with
    /// the indexed ones in sequence order, the limit applied after merging.
    @Test func queriesSeeRecordsTheIndexHasNotReached() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 10)
            defer { try? store.close() }
            let reference = InMemoryAuditStore()
            try await AuditReference.writeMixedRecords(1...20, store, reference)
            try await waitForAuditCondition { store.unindexedRecords == 0 }
            store.pauseIndexing()
            try await AuditReference.writeMixedRecords(21...40, store, reference)
            #expect(store.unindexedRecords == 20)
            #expect(try store.index.highWater() == 20)
            try await AuditReference.expectReferenceSemantics(store, reference)

            // Nothing indexed at all.
            store.resumeIndexing()
            try await waitForAuditCondition { store.unindexedRecords == 0 }
            #expect(try store.index.highWater() == 40)
            try await AuditReference.expectReferenceSemantics(store, reference)
        }
    }

    @Test func queriesSeeEverythingWhenNothingIsIndexedYet() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            store.pauseIndexing()
            let reference = InMemoryAuditStore()
            try await AuditReference.writeMixedRecords(1...40, store, reference)
            #expect(store.unindexedRecords == 40)
            try await AuditReference.expectReferenceSemantics(store, reference)
        }
    }

    /// The index is derived: deleted, it is rebuilt from the log at the next open; a stale one catches up.
    @Test func theIndexIsRebuiltFromTheLog() async throws {
        try await AuditFixtures.withDirectory { directory in
            let reference = InMemoryAuditStore()
            do {
                let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 10)
                try await AuditReference.writeMixedRecords(1...40, store, reference)
                try store.close()
            }
            LogFixtures.deleteIndex(directory)
            let index = LogFixtures.log(directory).appendingPathComponent("index.sqlite")
            let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 10)
            defer { try? store.close() }
            #expect(FileManager.default.fileExists(atPath: index.path))
            #expect(try store.index.highWater() == 40 && store.unindexedRecords == 0)
            try await AuditReference.expectReferenceSemantics(store, reference)
        }
    }

    @Test func anIndexThatIsNotADatabaseIsReplaced() async throws {
        try await AuditFixtures.withDirectory { directory in
            let reference = InMemoryAuditStore()
            do {
                let store = try LogAuditStore(directory: LogFixtures.log(directory))
                try await AuditReference.writeMixedRecords(1...40, store, reference)
                try store.close()
            }
            let index = LogFixtures.log(directory).appendingPathComponent("index.sqlite")
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index.path + suffix) }
            try Data(repeating: 0x41, count: 8192).write(to: index)
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            try await AuditReference.expectReferenceSemantics(store, reference)
        }
    }

    /// A small roll size: many segments, named by their first record; reads, verify and reopening cross them.
    @Test func segmentsRollAtTheirSize() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, count: 30, digestEvery: 10, key: key, rollSize: 4096)
            let segments = try AuditLogFiles.segments(in: LogFixtures.log(directory))
            #expect(segments.count > 5)
            var next: Int64 = 1
            for segment in segments {
                #expect(segment.firstSequence == next)
                let frames = try LogFixtures.frames(segment.url)
                #expect(frames.first?.sequence == segment.firstSequence)
                let size = try #require(frames.last.map { $0.offset + $0.bytes.count })
                // A segment is started when the next batch would take the current one past the size.
                #expect(size <= 4096 || frames.count == 1)
                next = (frames.last?.sequence ?? next) + 1
            }
            #expect(next == 31)
            let store = try LogAuditStore(directory: LogFixtures.log(directory), rollSize: 4096)
            defer { try? store.close() }
            #expect(try await store.tail(after: 0, limit: 100).map(\.sequence) == Array(1...30))
            try await store.record(AuditFixtures.decrypt(31))
            try await AuditFixtures.digestService(store, key).signIfNeeded()
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 31 && report.digestsChecked == 4)
        }
    }
}
