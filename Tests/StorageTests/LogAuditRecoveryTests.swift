import AuditTrail
import Foundation
import SealedTesting
import Testing

@testable import Storage

/// Recovery at open: a torn last frame is cut off (and kept in a quarantine file) when it was never acknowledged;
/// a damaged signed record refuses the open; a damaged frame that valid ones follow is never cut.
@Suite struct LogAuditRecoveryTests {
    let key = AuditSigningKey.generate()

    /// The quarantine files beside the first segment.
    static func quarantined(_ directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: LogFixtures.log(directory).path)
            .filter { $0.contains(".torn-") }
            .map { LogFixtures.log(directory).appendingPathComponent($0) }
    }

    /// A crash at every byte of the last frame: the segment cut at each length from the frame's start to its end - 1.
    /// Each time the store opens at the previous record, the quarantine file holds exactly the cut bytes up to the last
    /// that is not zero (zeros after it cannot be told from preallocated space), a new record continues the chain,
    /// and verify passes.
    @Test func aTornLastFrameIsCutAtEveryByteAndTheChainGoesOn() async throws {
        try await AuditFixtures.withDirectory { source in
            try await LogFixtures.populate(source, count: 5, digestEvery: 4, key: key)
            let segmentBytes = try [UInt8](Data(contentsOf: LogFixtures.firstSegment(source)))
            let digestBytes = try Data(contentsOf: LogFixtures.digestsFile(source))
            let frames = try LogFixtures.frames(LogFixtures.firstSegment(source))
            let last = frames[4]
            let previousHead = ChainHead(sequence: 4, hash: ChainHash.of(frames[3].payload))
            for cut in last.offset..<(last.offset + last.bytes.count) {
                try await AuditFixtures.withDirectory { directory in
                    try FileManager.default.createDirectory(
                        at: LogFixtures.log(directory),
                        withIntermediateDirectories: false
                    )
                    try Data(segmentBytes[..<cut]).write(to: LogFixtures.firstSegment(directory))
                    try digestBytes.write(to: LogFixtures.digestsFile(directory))
                    // Little preallocation: this opens a store at each of some 1,200 cuts.
                    let store = try LogAuditStore(directory: LogFixtures.log(directory), preallocation: 4096)
                    defer { try? store.close() }
                    #expect(try await store.chainHead() == previousHead, "cut at \(cut)")
                    let quarantine = try Self.quarantined(directory)
                    if cut == last.offset {
                        #expect(quarantine.isEmpty, "nothing was torn at \(cut)")
                    } else {
                        #expect(quarantine.count == 1, "cut at \(cut)")
                        if let file = quarantine.first {
                            let torn = Array(segmentBytes[last.offset..<cut])
                        #expect(try [UInt8](Data(contentsOf: file)) == Array(torn[..<LogFixtures.framesEnd(torn)]))
                            #expect(try permissions(file) == 0o600)
                        }
                    }
                    #expect(try Data(contentsOf: LogFixtures.firstSegment(directory)).count == last.offset)
                    try await store.record(AuditFixtures.decrypt(50))
                    #expect(try await store.chainHead().sequence == 5)
                    try await AuditFixtures.digestService(store, key).signIfNeeded()
                    let report = try await store.verify(publicKey: key.publicKey)
                    #expect(report.isValid && report.recordsChecked == 5 && report.digestsChecked == 2, "cut at \(cut)")
                }
            }
        }
    }

    /// A whole last frame whose checksum fails (a write torn inside the page cache) is torn too.
    @Test func aLastFrameWithABadChecksumIsTorn() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, count: 5, digestEvery: 4, key: key)
            let segment = LogFixtures.firstSegment(directory)
            var bytes = try [UInt8](Data(contentsOf: segment))
            bytes[bytes.count - 3] ^= 0x20
            try Data(bytes).write(to: segment)
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            #expect(try await store.chainHead().sequence == 4)
            #expect(try Self.quarantined(directory).count == 1)
            #expect(try await store.verify(publicKey: key.publicKey).isValid)
        }
    }

    /// The torn frame's place is at or before the newest signed digest's head: an acknowledged record is damaged.
    /// Opening is refused with a typed error and nothing is changed.
    @Test func aTornSignedRecordRefusesTheOpenAndChangesNothing() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, count: 10, digestEvery: 5, key: key)
            let segment = LogFixtures.firstSegment(directory)
            let bytes = try Data(contentsOf: segment)
            let cut = bytes.prefix(bytes.count - 40)
            try cut.write(to: segment)
            // A torn digest too, which is not cut either when the open is refused.
            let digestsFile = LogFixtures.digestsFile(directory)
            let digests = try Data(contentsOf: digestsFile) + Data([0x53, 0x4C, 0x47])
            try digests.write(to: digestsFile)
            let error = #expect(throws: AuditStoreError.self) {
                try LogAuditStore(directory: LogFixtures.log(directory))
            }
            #expect(error?.code == .signedRecordDamaged)
            #expect(error?.message.contains("record 10") == true)
            #expect(try Data(contentsOf: segment) == cut)
            #expect(try Data(contentsOf: digestsFile) == digests)
            #expect(try Self.quarantined(directory).isEmpty)
        }
    }

    /// A damaged frame that valid frames follow is not a torn write: the segment is left as it is, the store opens at
    /// the real head, and verify names the damage.
    @Test func aDamagedFrameBeforeValidOnesIsNeverCut() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, count: 5, digestEvery: 10, key: key)
            let segment = LogFixtures.firstSegment(directory)
            var bytes = try [UInt8](Data(contentsOf: segment))
            let third = try LogFixtures.frames(segment)[2]
            bytes[third.offset + 30] ^= 0x01
            try Data(bytes).write(to: segment)
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            #expect(try await store.chainHead().sequence == 5)
            #expect(try [UInt8](Data(contentsOf: segment)) == bytes)
            #expect(try Self.quarantined(directory).isEmpty)
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.problem?.kind == .changedRecord)
            #expect(report.problem?.sequence == 3)
        }
    }

    /// A torn digest (never acknowledged: a digest is synced before it is) is cut off the digest log too.
    @Test func aTornDigestIsCutOff() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, count: 10, digestEvery: 5, key: key)
            let file = LogFixtures.digestsFile(directory)
            let bytes = try Data(contentsOf: file)
            let frames = try LogFixtures.frames(file)
            try bytes.prefix(frames[1].offset + 7).write(to: file)
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            #expect(try await store.digests().count == 1)
            #expect(try Data(contentsOf: file).count == frames[1].offset)
            try await AuditFixtures.digestService(store, key).signIfNeeded()
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.digestsChecked == 2)
        }
    }
}
