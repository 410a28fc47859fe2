import AuditTrail
import Foundation
import SealedTesting
import Testing

@testable import Storage

/// The zeros the writer keeps ahead of the newest segment's frames (`LogAuditStore`'s preallocation): what the files
/// hold while the store runs, after a close and after a crash, and how recovery tells them from a torn write.
@Suite struct LogAuditPreallocationTests {
    let key = AuditSigningKey.generate()

    /// A copy of the log in `source` as a crash would leave it: its files read while the store that writes them is
    /// open (every record synced, zeros after the frames).
    static func crashCopy(of source: URL, into directory: URL) throws {
        try FileManager.default.createDirectory(at: LogFixtures.log(directory), withIntermediateDirectories: false)
        for file in [LogFixtures.firstSegment(source), LogFixtures.digestsFile(source)] {
            try Data(contentsOf: file).write(to: LogFixtures.log(directory).appendingPathComponent(file.lastPathComponent))
        }
    }

    /// Writes `bytes` then `zeros` zero bytes as the first segment of `directory`, with `digests` as its digest log.
    static func write(_ bytes: [UInt8], zeros: Int, digests: Data, in directory: URL) throws {
        try FileManager.default.createDirectory(at: LogFixtures.log(directory), withIntermediateDirectories: false)
        try Data(bytes + [UInt8](repeating: 0, count: zeros)).write(to: LogFixtures.firstSegment(directory))
        try digests.write(to: LogFixtures.digestsFile(directory))
    }

    @Test func theNewestSegmentKeepsZerosAheadOfItsFramesAndCloseCutsThem() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            for index in 1...3 { try await store.record(AuditFixtures.decrypt(index)) }
            let (length, allocated) = store.newestSegmentExtent
            let bytes = try [UInt8](Data(contentsOf: LogFixtures.firstSegment(directory)))
            #expect(allocated > length)
            #expect(bytes.count == allocated)
            #expect(LogFixtures.framesEnd(bytes) == length)
            try store.close()
            let closed = try LogFixtures.frames(LogFixtures.firstSegment(directory))
            #expect(closed.map(\.sequence) == [1, 2, 3])
            #expect(try Data(contentsOf: LogFixtures.firstSegment(directory)).count == length)
        }
    }

    /// The first batch writes `preallocation` bytes of zeros behind its frames (none with 0), the ones after it fill
    /// them.
    @Test(arguments: [0, 8192, LogAuditStore.defaultPreallocation])
    func theFirstBatchPreallocatesWhatTheStoreIsToldTo(preallocation: Int) async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory), preallocation: preallocation)
            defer { try? store.close() }
            try await store.record(AuditFixtures.decrypt(1))
            let first = store.newestSegmentExtent
            #expect(first.file == first.frames + preallocation)
            try await store.record(AuditFixtures.decrypt(2))
            let second = store.newestSegmentExtent
            #expect(second.file == (preallocation == 0 ? second.frames : first.file))
            #expect(try Data(contentsOf: LogFixtures.firstSegment(directory)).count == second.file)
        }
    }

    /// Zeros that cannot be written (a full disk) are cut off again and the batch is written without them; the next
    /// batch preallocates again.
    @Test func aFailedPreallocationLosesNothing() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            store.injectPreallocationFailures(1)
            try await store.record(AuditFixtures.decrypt(1))
            let first = store.newestSegmentExtent
            #expect(first.file == first.frames)
            #expect(try Data(contentsOf: LogFixtures.firstSegment(directory)).count == first.frames)
            try await store.record(AuditFixtures.decrypt(2))
            let second = store.newestSegmentExtent
            #expect(second.file > second.frames)
            #expect(try LogFixtures.frames(LogFixtures.firstSegment(directory)).map(\.sequence) == [1, 2])
            #expect(try await store.verify(publicKey: key.publicKey).isValid)
        }
    }

    /// After a crash the zeros are the segment's free end: the log opens at its last record, nothing is quarantined,
    /// the next record follows the last frame directly, and both verifications pass (the read-only one also before
    /// the store opened the log).
    @Test func zerosLeftByACrashAreFreeSpaceNotATornWrite() async throws {
        try await AuditFixtures.withDirectory { source in
            let store = try LogAuditStore(directory: LogFixtures.log(source))
            defer { try? store.close() }
            let service = AuditFixtures.digestService(store, key)
            for index in 1...5 { try await store.record(AuditFixtures.decrypt(index)) }
            try await service.signIfNeeded()
            try await AuditFixtures.withDirectory { directory in
                try Self.crashCopy(of: source, into: directory)
                let crashed = try [UInt8](Data(contentsOf: LogFixtures.firstSegment(directory)))
                #expect(crashed.count > LogFixtures.framesEnd(crashed))
                let readOnly = try LogAuditStore.verify(directory: LogFixtures.log(directory), publicKey: key.publicKey)
                #expect(readOnly.isValid && readOnly.recordsChecked == 5)
                let reopened = try LogAuditStore(directory: LogFixtures.log(directory))
                #expect(try await reopened.chainHead().sequence == 5)
                #expect(try LogAuditRecoveryTests.quarantined(directory).isEmpty)
                #expect(try Data(contentsOf: LogFixtures.firstSegment(directory)).count == crashed.count)
                try await reopened.record(AuditFixtures.decrypt(6))
                try reopened.close()
                let frames = try LogFixtures.frames(LogFixtures.firstSegment(directory))
                #expect(frames.map(\.sequence) == [1, 2, 3, 4, 5, 6])
                #expect(Array(frames.prefix(5).flatMap(\.bytes)) == Array(crashed[..<LogFixtures.framesEnd(crashed)]))
                let report = try await LogFixtures.verify(directory, key)
                #expect(report.isValid && report.recordsChecked == 6 && report.digestsChecked == 1)
            }
        }
    }

    /// A crash at every byte of the last frame, written over preallocated zeros: the frame's start and zeros after
    /// it. Each time the log opens at the previous record, the quarantine holds the torn bytes (up to the last that
    /// is not zero), the chain goes on, and verify passes.
    @Test func aTornLastFrameOverZerosIsCutAtEveryByte() async throws {
        try await AuditFixtures.withDirectory { source in
            try await LogFixtures.populate(source, count: 5, digestEvery: 4, key: key)
            let segmentBytes = try [UInt8](Data(contentsOf: LogFixtures.firstSegment(source)))
            let digests = try Data(contentsOf: LogFixtures.digestsFile(source))
            let last = try LogFixtures.frames(LogFixtures.firstSegment(source))[4]
            for cut in last.offset..<(last.offset + last.bytes.count) {
                try await AuditFixtures.withDirectory { directory in
                    try Self.write(Array(segmentBytes[..<cut]), zeros: 8192, digests: digests, in: directory)
                    // Little preallocation: this opens hundreds of stores.
                    let store = try LogAuditStore(directory: LogFixtures.log(directory), preallocation: 4096)
                    defer { try? store.close() }
                    #expect(try await store.chainHead().sequence == 4, "cut at \(cut)")
                    #expect(store.newestSegmentExtent.frames == last.offset, "cut at \(cut)")
                    let torn = Array(segmentBytes[last.offset..<cut])
                    let quarantine = try LogAuditRecoveryTests.quarantined(directory)
                    if LogFixtures.framesEnd(torn) == 0 {
                        #expect(quarantine.isEmpty, "nothing but zeros after record 4 at \(cut)")
                    } else {
                        #expect(quarantine.count == 1, "cut at \(cut)")
                        if let file = quarantine.first {
                            #expect(try [UInt8](Data(contentsOf: file)) == Array(torn[..<LogFixtures.framesEnd(torn)]))
                        }
                    }
                    try await store.record(AuditFixtures.decrypt(50))
                    try await AuditFixtures.digestService(store, key).signIfNeeded()
                    let report = try await store.verify(publicKey: key.publicKey)
                    #expect(report.isValid && report.recordsChecked == 5 && report.digestsChecked == 2, "cut at \(cut)")
                }
            }
        }
    }

    /// Zeroes the whole 512-byte sectors between the start of record 4 and the start of record 6 of the closed log in
    /// `directory` (the pages of a torn batch 4–6 that never reached the disk, record 6's whole); returns the bytes and
    /// the first record they damage.
    static func loseSectors(in directory: URL) throws -> (bytes: [UInt8], firstDamaged: LogFixtures.Frame) {
        var bytes = try [UInt8](Data(contentsOf: LogFixtures.firstSegment(directory)))
        let frames = try LogFixtures.frames(LogFixtures.firstSegment(directory))
        let sectors = Array(stride(from: (frames[3].offset + 511) / 512 * 512, to: frames[5].offset - 511, by: 512))
        try #require(!sectors.isEmpty, "records 4 and 5 span a whole sector")
        for sector in sectors { bytes.replaceSubrange(sector..<(sector + 512), with: repeatElement(0, count: 512)) }
        let firstDamaged = try #require(frames.first { $0.offset + $0.bytes.count > sectors[0] })
        return (bytes, firstDamaged)
    }

    /// Over zeros a crash can leave a later page of the last batch written and an earlier one not: records 4 and 5
    /// lost a sector, record 6 survived whole. The stretch from the first damaged record on is a torn write: cut and
    /// quarantined, and the chain goes on from the record before it.
    @Test func aTornBatchWhoseLaterPageSurvivedIsCut() async throws {
        try await AuditFixtures.withDirectory { source in
            try await LogFixtures.populate(source, count: 6, digestEvery: 10, key: key)
            let (bytes, damaged) = try Self.loseSectors(in: source)
            try await AuditFixtures.withDirectory { directory in
                try Self.write(bytes, zeros: 4096, digests: Data(), in: directory)
                let store = try LogAuditStore(directory: LogFixtures.log(directory))
                defer { try? store.close() }
                #expect(try await store.chainHead().sequence == damaged.sequence - 1)
                let quarantine = try LogAuditRecoveryTests.quarantined(directory)
                #expect(quarantine.count == 1)
                if let file = quarantine.first {
                    #expect(try [UInt8](Data(contentsOf: file)) == Array(bytes[damaged.offset...]))
                }
                #expect(try Data(contentsOf: LogFixtures.firstSegment(directory)).count == damaged.offset)
                try await store.record(AuditFixtures.decrypt(40))
                let report = try await store.verify(publicKey: key.publicKey)
                #expect(report.isValid && report.recordsChecked == Int(damaged.sequence))
            }
        }
    }

    /// A crash while the last batch (records 4–8) was written over zeros, 300 times, with a seeded random choice of
    /// the batch's 512-byte sectors that never reached the disk. A lost sector holds what it held before the batch: the
    /// frames before it (in the batch's first sector) and zeros. Each time the log opens at the record before the
    /// first damaged one (at record 8 when none is), the writer continues there, and the chain verifies.
    @Test func aTornBatchWithAnyLostSectorsOpensBeforeItsFirstDamagedRecord() async throws {
        try await AuditFixtures.withDirectory { source in
            try await LogFixtures.populate(source, count: 8, digestEvery: 10, key: key)
            let original = try [UInt8](Data(contentsOf: LogFixtures.firstSegment(source)))
            let frames = try LogFixtures.frames(LogFixtures.firstSegment(source))
            let batchStart = frames[3].offset
            let sectors = Array(stride(from: batchStart / 512 * 512, to: original.count, by: 512))
            var generator = SeededGenerator(seed: 25)
            var outcomes: Set<Int64> = []
            for trial in 0..<300 {
                var bytes = original
                for sector in sectors where Int.random(in: 0..<4, using: &generator) == 0 {
                    let lost = max(sector, batchStart)..<min(sector + 512, bytes.count)
                    bytes.replaceSubrange(lost, with: repeatElement(0, count: lost.count))
                }
                let damaged = frames.first { !bytes[$0.offset..<($0.offset + $0.bytes.count)].elementsEqual($0.bytes) }
                let head = (damaged?.sequence ?? 9) - 1
                outcomes.insert(head)
                try await AuditFixtures.withDirectory { directory in
                    try Self.write(bytes, zeros: 4096, digests: Data(), in: directory)
                    // Little preallocation: this opens hundreds of stores.
                    let store = try LogAuditStore(directory: LogFixtures.log(directory), preallocation: 4096)
                    defer { try? store.close() }
                    #expect(try await store.chainHead().sequence == head, "trial \(trial)")
                    #expect(store.newestSegmentExtent.frames == (damaged?.offset ?? original.count), "trial \(trial)")
                    try await store.record(AuditFixtures.decrypt(50))
                    let report = try await store.verify(publicKey: key.publicKey)
                    #expect(report.isValid && report.recordsChecked == Int(head) + 1, "trial \(trial)")
                }
            }
            // The trials reached every outcome: each record of the batch first damaged, and none.
            #expect(outcomes == Set(3...8))
        }
    }

    /// The same loss where a signed digest covers record 6: the records were acknowledged, so it is damage, not a
    /// torn write. The open is refused and nothing changes.
    @Test func aLostSectorUnderASignedDigestRefusesTheOpen() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, count: 6, digestEvery: 6, key: key)
            let (bytes, _) = try Self.loseSectors(in: directory)
            let segment = LogFixtures.firstSegment(directory)
            try Data(bytes).write(to: segment)
            let error = #expect(throws: AuditStoreError.self) { try LogAuditStore(directory: LogFixtures.log(directory)) }
            #expect(error?.code == .signedRecordDamaged)
            #expect(try [UInt8](Data(contentsOf: segment)) == bytes)
            #expect(try LogAuditRecoveryTests.quarantined(directory).isEmpty)
        }
    }

    /// A batch of several records holds at most `maximumBatchBytes` of frames, the bound recovery relies on: three
    /// records of 350–500 KiB queued behind a held write go as a batch of two and a batch of one.
    @Test func aBatchOfSeveralRecordsHoldsAtMostTheBatchBytes() async throws {
        try await AuditFixtures.withDirectory { directory in
            let commits = CommitLog()
            let store = try LogAuditStore(
                directory: LogFixtures.log(directory),
                commitInterval: .zero,
                onCommit: { commits.append($0) }
            )
            defer { try? store.close() }
            let large = String(repeating: "x", count: 120_000)
            let gate = DispatchSemaphore(value: 0)
            store.holdNextBatch(until: gate)
            try await withThrowingTaskGroup(of: Void.self) { group in
                var opened = false
                defer { if !opened { gate.signal() } }
                group.addTask { try await store.record(AuditFixtures.decrypt(1)) }
                try await waitForAuditCondition { store.commitStatistics.transactions == 1 }
                for index in 2...4 {
                    group.addTask { try await store.record(AuditFixtures.decrypt(index, eventType: large)) }
                }
                try await waitForAuditCondition { store.commitStatistics.pendingRecords == 3 }
                gate.signal()
                opened = true
                try await group.waitForAll()
            }
            let frames = try LogFixtures.frames(LogFixtures.firstSegment(directory))
            for frame in frames.dropFirst() {
                try #require((350 << 10)...(500 << 10) ~= frame.bytes.count, "a large record's frame: \(frame.bytes.count)")
            }
            #expect(commits.all.map(\.records) == [1, 2, 1])
        }
    }

    /// A sector of zeros further from the end than one batch can reach is not a torn write (every later record was
    /// acknowledged): nothing is cut, the log opens at its real head, and verify names the damage.
    @Test func aZeroedSectorFurtherBackThanABatchIsNeverCut() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            var count = 0
            while store.newestSegmentExtent.frames <= LogAuditStore.maximumBatchBytes + 4096 {
                count += 1
                try await store.record(AuditFixtures.decrypt(count))
            }
            try store.close()
            let segment = LogFixtures.firstSegment(directory)
            var bytes = try [UInt8](Data(contentsOf: segment))
            let second = try LogFixtures.frames(segment)[1]
            let sector = (second.offset + 511) / 512 * 512
            bytes.replaceSubrange(sector..<(sector + 512), with: repeatElement(0, count: 512))
            try Data(bytes).write(to: segment)
            let reopened = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? reopened.close() }
            #expect(try await reopened.chainHead().sequence == Int64(count))
            #expect(try LogAuditRecoveryTests.quarantined(directory).isEmpty)
            #expect(try [UInt8](Data(contentsOf: segment)) == bytes)
            let report = try await reopened.verify(publicKey: key.publicKey)
            #expect(report.problem.map { [.changedRecord, .malformedRecord].contains($0.kind) } == true)
            #expect(report.problem?.sequence == 2)
        }
    }

    /// A segment that is rolled over ends at its last frame: its zeros are cut before the next segment starts.
    @Test func aRolledSegmentEndsAtItsLastFrame() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory), rollSize: 4096)
            defer { try? store.close() }
            for index in 1...12 { try await store.record(AuditFixtures.decrypt(index)) }
            let segments = try AuditLogFiles.segments(in: LogFixtures.log(directory))
            try #require(segments.count >= 2)
            for segment in segments.dropLast() {
                let frames = try LogFixtures.frames(segment.url)
                #expect(frames.first?.sequence == segment.firstSequence)
                #expect(frames.last.map { $0.offset + $0.bytes.count } == (try Data(contentsOf: segment.url).count))
            }
            let newest = try [UInt8](Data(contentsOf: segments[segments.count - 1].url))
            #expect(newest.count > LogFixtures.framesEnd(newest))
            #expect(try LogFixtures.frames(segments[segments.count - 1].url).first?.sequence == segments.last?.firstSequence)
        }
    }
}
