import AuditTrail
import Foundation
import GRDB
import SealedTesting
import Testing

@testable import Storage

/// The block index of the audit log: answers at block boundaries (closed blocks, the open block in memory, a block
/// closed by a segment roll), the term table, usage periods that cut blocks, and an index of the old layout.
@Suite struct LogAuditBlockIndexTests {
    /// The blocks of the index: first and last record, segment.
    static func blocks(_ store: LogAuditStore) throws -> [(first: Int64, last: Int64, segment: Int64)] {
        try store.index.read { db in
            try Row.fetchAll(db, sql: "SELECT first_sequence, last_sequence, segment FROM audit_block ORDER BY 1")
                .map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// Blocks of 7: 40 records are five closed blocks and an open one of five; every query, limit and lookup crosses
    /// from the index into memory.
    @Test func queriesStraddleClosedBlocksAndTheOpenBlock() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 7)
            defer { try? store.close() }
            let reference = InMemoryAuditStore()
            try await AuditReference.writeMixedRecords(1...40, store, reference)
            try await waitForAuditCondition { store.unindexedRecords == 5 }
            #expect(try store.index.highWater() == 35)
            #expect(
                try Self.blocks(store).map { [$0.first, $0.last] } == [
                    [1, 7], [8, 14], [15, 21], [22, 28], [29, 35],
                ]
            )
            try await AuditReference.expectReferenceSemantics(store, reference)
            for after in 0...40 as ClosedRange<Int64> {
                for limit in [1, 3, 7, 9] {
                    let expected = try await reference.tail(after: after, limit: limit).map(\.sequence)
                    #expect(try await store.tail(after: after, limit: limit).map(\.sequence) == expected)
                }
            }
        }
    }

    /// `close` writes the open block; the next start begins a new one after it, and both are read back.
    @Test func closeWritesTheOpenBlockAndTheNextStartGoesOn() async throws {
        try await AuditFixtures.withDirectory { directory in
            let reference = InMemoryAuditStore()
            do {
                let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 16)
                try await AuditReference.writeMixedRecords(1...20, store, reference)
                try store.close()
            }
            let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 16)
            defer { try? store.close() }
            #expect(try store.index.highWater() == 20 && store.unindexedRecords == 0)
            try await AuditReference.writeMixedRecords(21...40, store, reference)
            try await waitForAuditCondition { store.unindexedRecords == 4 }
            #expect(try Self.blocks(store).map { [$0.first, $0.last] } == [[1, 16], [17, 20], [21, 36]])
            try await AuditReference.expectReferenceSemantics(store, reference)
        }
    }

    /// A block never spans segments: with segments of about three records, every block ends where its segment does,
    /// and its frames are read from that segment.
    @Test func aBlockClosesAtASegmentRoll() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory), rollSize: 4096, blockSize: 100)
            defer { try? store.close() }
            let reference = InMemoryAuditStore()
            try await AuditReference.writeMixedRecords(1...40, store, reference)
            let segments = try AuditLogFiles.segments(in: LogFixtures.log(directory)).map(\.firstSequence)
            #expect(segments.count > 5)
            try await waitForAuditCondition { store.unindexedRecords == 41 - Int(segments.last!) }
            let blocks = try Self.blocks(store)
            #expect(blocks.map(\.first) == Array(segments.dropLast()))
            #expect(blocks.map(\.segment) == Array(segments.dropLast()))
            #expect(blocks.map { $0.last + 1 } == Array(segments.dropFirst()))
            try await AuditReference.expectReferenceSemantics(store, reference)
        }
    }

    /// One record among a hundred names another key, and one another principal: the term table names its block
    /// alone, and the query finds the record.
    @Test func aRareKeyOrPrincipalIsFoundThroughTheTermTable() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 10)
            defer { try? store.close() }
            for index in 1...100 {
                let record =
                    switch index {
                    case 57: AuditFixtures.decrypt(index, keyARN: AuditFixtures.otherKeyARN)
                    case 83: AuditFixtures.createKey(index, user: "mallory")
                    default: AuditFixtures.decrypt(index)
                    }
                try await store.record(record)
            }
            try await waitForAuditCondition { store.unindexedRecords == 0 }
            let rareKey = AuditQuery(key: "0b0b0b0b-1111-4222-8333-944445555666")
            let rarePrincipal = AuditQuery(principalARN: "arn:aws:iam::000000000000:user/mallory")
            let candidates = try store.index.read { db in
                try [rareKey, rarePrincipal, AuditQuery(eventName: "CreateKey"), AuditQuery(key: "alias/none")]
                    .map { try AuditLogIndex.candidates(db, $0).map(\.first) }
            }
            #expect(candidates == [[51], [81], [81], []])
            #expect(try await store.query(rareKey).map(\.sequence) == [57])
            #expect(try await store.query(rarePrincipal).map(\.sequence) == [83])
            #expect(try await store.query(AuditQuery(key: "alias/none")).isEmpty)
            // Every block holds the common key: all are candidates, the limit stops the reading.
            #expect(try await store.query(AuditQuery(key: AuditFixtures.keyID, limit: 12)).map(\.sequence).count == 12)
        }
    }

    /// Records whose times do not grow with their numbers, blocks of 8: every period (its ends on and between
    /// records, inside and across blocks) reports as the reference does, and so does `firstSequence(since:)`.
    @Test func usagePeriodsCutBlocksAndFirstSequenceCrossesThem() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 8)
            defer { try? store.close() }
            let reference = InMemoryAuditStore()
            var generator = SeededGenerator(seed: 22)
            for index in 1...60 {
                // Out of order within a few seconds, as concurrent requests are.
                let time = index + Int.random(in: -3...3, using: &generator)
                let record =
                    switch index % 4 {
                    case 0: AuditFixtures.decrypt(time, errorCode: "AccessDeniedException")
                    case 1: AuditFixtures.decrypt(time, eventType: "orders.placed", session: "billing")
                    default: AuditFixtures.decrypt(time)
                    }
                try await store.record(record)
                try await reference.record(record)
            }
            try await waitForAuditCondition { store.unindexedRecords == 4 }
            let t = AuditFixtures.baseTime
            var wholeBlocks = 0
            var cutBlocks = 0
            for start in stride(from: -4.0, through: 66, by: 3.5) {
                for length in [0.5, 1, 6, 9.5, 17, 40, 80] {
                    let period = DateInterval(start: t.addingTimeInterval(start), duration: length)
                    let report = try await store.usageReport(in: period)
                    #expect(report == (try await reference.usageReport(in: period)), "\(start) +\(length)")
                    let (rows, cut) = try store.index.read { db in try AuditLogIndex.usage(db, period) }
                    wholeBlocks += rows.isEmpty ? 0 : 1
                    cutBlocks += cut.count
                }
            }
            #expect(wholeBlocks > 10 && cutBlocks > 10)
            for offset in stride(from: -5.0, through: 70, by: 0.5) {
                let since = t.addingTimeInterval(offset)
                let expected = try await reference.query(AuditQuery(since: since, limit: 1)).first?.sequence
                #expect(try await store.firstSequence(since: since) == expected, "since +\(offset)")
            }
        }
    }

    /// An `index.sqlite` of the first layout (a row per record) is dropped and rebuilt as blocks at the start.
    @Test func anIndexOfTheOldLayoutIsRebuilt() async throws {
        try await AuditFixtures.withDirectory { directory in
            let reference = InMemoryAuditStore()
            do {
                let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 10)
                try await AuditReference.writeMixedRecords(1...40, store, reference)
                try store.close()
            }
            LogFixtures.deleteIndex(directory)
            let index = LogFixtures.log(directory).appendingPathComponent("index.sqlite")
            let old = try DatabaseQueue(path: index.path)
            try await old.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE index_meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
                        INSERT INTO index_meta (key, value) VALUES ('format', 1), ('highWater', 40);
                        CREATE TABLE audit_entry (sequence INTEGER PRIMARY KEY NOT NULL, hash BLOB NOT NULL,
                            segment INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL);
                        """
                )
            }
            try old.close()
            let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 10)
            defer { try? store.close() }
            #expect(try store.index.highWater() == 40 && store.unindexedRecords == 0)
            let tables = try store.index.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            }
            #expect(tables == ["audit_block", "audit_block_term", "audit_block_usage", "index_meta"])
            #expect(try Self.blocks(store).count == 4)
            try await AuditReference.expectReferenceSemantics(store, reference)
        }
    }

    /// A frame changed under a running store: a query that reads its block fails with `corrupt` (never a crash, never
    /// a wrong answer); blocks that do not hold it, and the records in memory, are still read.
    @Test func aDamagedFrameUnderAQueryIsCorrupt() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory), blockSize: 10)
            defer { try? store.close() }
            for index in 1...35 { try await store.record(AuditFixtures.decrypt(index)) }
            try await waitForAuditCondition { store.unindexedRecords == 5 }
            let segment = LogFixtures.firstSegment(directory)
            let frames = try LogFixtures.frames(segment)
            var bytes = try [UInt8](Data(contentsOf: segment))
            bytes[frames[14].offset + 40] ^= 0x01  // record 15, in the block 11–20
            try Data(bytes).write(to: segment)
            let t = AuditFixtures.baseTime
            for attempt in [
                { _ = try await store.query(AuditQuery()) },
                { _ = try await store.tail(after: 12, limit: 3) },
                { _ = try await store.recordHash(at: 12) },
                // A period that cuts the block (one that holds it whole takes its counts from the index).
                { _ = try await store.usageReport(in: DateInterval(start: t.addingTimeInterval(15), duration: 100)) },
                { _ = try await store.query(AuditQuery(since: t.addingTimeInterval(15))) },
                { _ = try await store.firstSequence(since: t.addingTimeInterval(14)) },
            ] as [() async throws -> Void] {
                let error = await #expect(throws: AuditStoreError.self) { try await attempt() }
                #expect(error?.code == .corrupt)
            }
            #expect(try await store.tail(after: 20, limit: 100).map(\.sequence) == Array(21...35))
            #expect(try await store.query(AuditQuery(limit: 10)).map(\.sequence) == Array(1...10))

            // A frame renumbered in its header (checksum recomputed) is not the record the block expects either.
            bytes = try [UInt8](Data(contentsOf: segment))
            let renumbered = LogFixtures.frame(frames[23].payload, 25)
            bytes.replaceSubrange(frames[23].offset..<(frames[23].offset + renumbered.count), with: renumbered)
            try Data(bytes).write(to: segment)
            let error = await #expect(throws: AuditStoreError.self) { try await store.tail(after: 20, limit: 5) }
            #expect(error?.code == .corrupt)
            // A segment cut short.
            try Data(bytes[..<frames[5].offset]).write(to: segment)
            let cut = await #expect(throws: AuditStoreError.self) { try await store.recordHash(at: 3) }
            #expect(cut?.code == .corrupt)
        }
    }
}
