import AuditTrail
import Foundation
import Testing

@testable import Storage

/// What a forger with write access to `DIR/audit/` (but not to the audit signing key) can do to the log, and what
/// `verify` reports: every tamper test of `SQLiteAuditTamperingTests`, on frames. The log holds 30 records with
/// digests at heads 10, 20 and 30.
@Suite struct LogAuditTamperingTests {
    let key = AuditSigningKey.generate()

    /// Populates a log, lets `change` rewrite the first segment's frames (given as their bytes), and verifies.
    func tampered(_ change: (inout [LogFixtures.Frame]) throws -> [[UInt8]]) async throws -> VerificationReport {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, key: key)
            let segment = LogFixtures.firstSegment(directory)
            var frames = try LogFixtures.frames(segment)
            try LogFixtures.write(try change(&frames), to: segment)
            return try await LogFixtures.verify(directory, key)
        }
    }

    /// Frame `sequence` (1-based) of `frames`.
    static func at(_ frames: [LogFixtures.Frame], _ sequence: Int64) -> LogFixtures.Frame { frames[Int(sequence - 1)] }

    @Test func untouchedLogVerifies() async throws {
        let report = try await tampered { frames in frames.map(\.bytes) }
        #expect(report.isValid)
        #expect(report.recordsChecked == 30 && report.digestsChecked == 3 && report.unsignedRecords == 0)
    }

    @Test func oneChangedPayloadByteIsNamedByTheFrameChecksum() async throws {
        let report = try await tampered { frames in
            var bytes = frames.map(\.bytes)
            let frame = Self.at(frames, 14)
            bytes[13] =
                Array(frame.bytes[..<AuditFrame.headerSize]) + LogFixtures.edit(frame.payload, "req-14", "req-41")
            return bytes
        }
        #expect(report.problem?.kind == .changedRecord)
        #expect(report.problem?.sequence == 14)
        #expect(report.problem?.detail.contains("checksum") == true)
    }

    @Test func aChangedRecordWithARecomputedChecksumIsNamedByTheChain() async throws {
        let report = try await tampered { frames in
            var bytes = frames.map(\.bytes)
            bytes[13] = LogFixtures.frame(LogFixtures.edit(Self.at(frames, 14).payload, "Decrypt", "Encrypt"), 14)
            return bytes
        }
        #expect(report.problem?.kind == .changedRecord)
        #expect(report.problem?.sequence == 14)
    }

    @Test func aDeletedFrameIsNamed() async throws {
        let report = try await tampered { frames in frames.filter { $0.sequence != 15 }.map(\.bytes) }
        #expect(report.problem?.kind == .removedRecord)
        #expect(report.problem?.sequence == 15)
    }

    @Test func swappedFramesAreNamed() async throws {
        let report = try await tampered { frames in
            var bytes = frames.map(\.bytes)
            bytes.swapAt(11, 16)
            return bytes
        }
        #expect(report.problem?.kind == .reorderedRecords)
        #expect(report.problem?.sequence == 12)
    }

    @Test func aFrameRenumberedInItsHeaderIsNamed() async throws {
        let report = try await tampered { frames in
            var bytes = frames.map(\.bytes)
            bytes[11] = LogFixtures.frame(Self.at(frames, 12).payload, 13)
            return bytes
        }
        #expect(report.problem?.kind == .reorderedRecords)
        #expect(report.problem?.sequence == 13)
    }

    @Test func anInsertedForgedFrameIsNamed() async throws {
        let report = try await tampered { frames in
            let forged = ChainedRecordEncoder.canonicalBytes(
                of: AuditFixtures.decrypt(999),
                sequence: 15,
                previousHash: ChainHash.of(Self.at(frames, 14).payload)
            )
            var bytes = frames.map(\.bytes)
            bytes.insert(LogFixtures.frame(forged, 15), at: 14)
            return bytes
        }
        #expect(report.problem?.kind == .insertedRecord)
        #expect(report.problem?.sequence == 15)
    }

    @Test func anInsertedFrameWithTheWholeChainRecomputedIsCaughtByTheDigest() async throws {
        let report = try await tampered { frames in
            var bytes = Array(frames.prefix(14).map(\.bytes))
            var previous = ChainHash.of(Self.at(frames, 14).payload)
            let records =
                [AuditFixtures.decrypt(999)]
                + (try frames.dropFirst(14).map { try StoredRecord(canonicalBytes: $0.payload).record })
            for (offset, record) in records.enumerated() {
                let sequence = Int64(15 + offset)
                let canonical = ChainedRecordEncoder.canonicalBytes(
                    of: record,
                    sequence: sequence,
                    previousHash: previous
                )
                bytes.append(LogFixtures.frame(canonical, sequence))
                previous = ChainHash.of(canonical)
            }
            return bytes
        }
        #expect(report.problem?.kind == .forgedChain)
        #expect(report.problem?.sequence == 11)
    }

    @Test func anAppendedForgedFrameVerifiesButIsReportedUnsignedAndAForgedDigestFails() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, key: key)
            let segment = LogFixtures.firstSegment(directory)
            let frames = try LogFixtures.frames(segment)
            let forged = ChainedRecordEncoder.canonicalBytes(
                of: AuditFixtures.decrypt(31),
                sequence: 31,
                previousHash: ChainHash.of(frames[29].payload)
            )
            try LogFixtures.write(frames.map(\.bytes) + [LogFixtures.frame(forged, 31)], to: segment)
            let report = try await LogFixtures.verify(directory, key)
            #expect(report.isValid)
            #expect(report.unsignedRecords == 1 && report.lastSignedSequence == 30)

            // A digest the forger signs with a key of their own to cover it fails.
            let digests = try LogFixtures.frames(LogFixtures.digestsFile(directory))
            let third = try SignedDigest(jsonValue: CanonicalJSON.parse(digests[2].payload))
            let digest = try AuditSigningKey.generate().sign(
                Digest(
                    digestSequence: 4,
                    head: ChainHead(sequence: 31, hash: ChainHash.of(forged)),
                    time: Date(),
                    previousSignature: third.signature,
                    keyFingerprint: key.fingerprint
                )
            )
            try LogFixtures.write(
                digests.map(\.bytes) + [LogFixtures.frame(CanonicalJSON.encode(digest.jsonValue), 4)],
                to: LogFixtures.digestsFile(directory)
            )
            let forgedReport = try await LogFixtures.verify(directory, key)
            #expect(forgedReport.problem?.kind == .badDigestSignature)
            #expect(forgedReport.problem?.sequence == 31)
        }
    }

    @Test func bytesThatAreNotAFrameAreAProblemNotACrash() async throws {
        let report = try await tampered { frames in
            var bytes = frames.map(\.bytes)
            bytes[8] = Array(repeating: 0x7B, count: bytes[8].count)
            return bytes
        }
        #expect(report.problem?.kind == .malformedRecord)
        #expect(report.problem?.sequence == 9)
    }

    @Test func aTailCutAfterASignedDigestIsNamed() async throws {
        let report = try await tampered { frames in frames.prefix(27).map(\.bytes) }
        #expect(report.problem?.kind == .truncatedTail)
        #expect(report.problem?.sequence == 28)
    }

    /// Rewrites `digests.log` through `change` and verifies (with the digest kept outside the log, when given).
    func tamperedDigests(
        anchor: Bool = false,
        _ change: ([LogFixtures.Frame]) throws -> [[UInt8]]
    ) async throws -> VerificationReport {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, key: key)
            let file = LogFixtures.digestsFile(directory)
            let frames = try LogFixtures.frames(file)
            let kept = try SignedDigest(jsonValue: CanonicalJSON.parse(frames[frames.count - 1].payload))
            try LogFixtures.write(try change(frames), to: file)
            return try await LogFixtures.verify(directory, key, anchor: anchor ? kept : nil)
        }
    }

    @Test func anAlteredDigestIsNamedWithOrWithoutItsChecksumRecomputed() async throws {
        for recompute in [true, false] {
            let report = try await tamperedDigests { frames in
                var bytes = frames.map(\.bytes)
                let edited = LogFixtures.edit(frames[1].payload, "\"headSequence\":20", "\"headSequence\":21")
                bytes[1] =
                    recompute
                    ? LogFixtures.frame(edited, 2) : Array(frames[1].bytes.prefix(AuditFrame.headerSize)) + edited
                return bytes
            }
            #expect(report.problem?.kind == .badDigestSignature, "recomputed: \(recompute)")
            #expect(report.problem?.sequence == 21, "recomputed: \(recompute)")
        }
    }

    @Test func aDeletedDigestIsNamed() async throws {
        let report = try await tamperedDigests { frames in [frames[0].bytes, frames[2].bytes] }
        #expect(report.problem?.kind == .brokenDigestChain)
        #expect(report.problem?.sequence == 30)
    }

    /// `digests.log` rolled back to an older copy: the records after its newest digest verify as an intact but
    /// unsigned chain, and the digest kept in `audit-head.json` names the rollback.
    @Test func aRolledBackDigestLogIsCaughtByTheKeptDigest() async throws {
        let alone = try await tamperedDigests { frames in frames.prefix(2).map(\.bytes) }
        #expect(alone.isValid && alone.lastSignedSequence == 20 && alone.unsignedRecords == 10)
        let anchored = try await tamperedDigests(anchor: true) { frames in frames.prefix(2).map(\.bytes) }
        #expect(anchored.problem?.kind == .brokenDigestChain)
        #expect(anchored.problem?.sequence == 30)
    }

    @Test func aTailAndItsDigestsCutTogetherIsNotDetectableWithoutAnOutsideCopy() async throws {
        // Documented limit, as for the SQLite store: an outside copy of the newest digest is what catches it.
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, key: key)
            let segment = LogFixtures.firstSegment(directory)
            try LogFixtures.write(try LogFixtures.frames(segment).prefix(20).map(\.bytes), to: segment)
            let digests = LogFixtures.digestsFile(directory)
            try LogFixtures.write(try LogFixtures.frames(digests).prefix(2).map(\.bytes), to: digests)
            let report = try await LogFixtures.verify(directory, key)
            #expect(report.isValid)
            #expect(report.lastSequence == 20 && report.lastSignedSequence == 20)
        }
    }

    @Test func aDeletedSegmentIsNamedAtItsFirstRecord() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, key: key, rollSize: 4096)
            let segments = try AuditLogFiles.segments(in: LogFixtures.log(directory))
            #expect(segments.count > 3)
            try FileManager.default.removeItem(at: segments[2].url)
            let report = try await LogFixtures.verify(directory, key)
            #expect(report.problem?.kind == .removedRecord)
            #expect(report.problem?.sequence == segments[2].firstSequence)
        }
    }

    @Test func overlappingSegmentsAreNamed() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, key: key, rollSize: 4096)
            let segments = try AuditLogFiles.segments(in: LogFixtures.log(directory))
            // A copy of the third segment filed as starting one record earlier.
            let copy = LogFixtures.log(directory).appendingPathComponent(
                AuditLogFiles.segmentName(firstSequence: segments[2].firstSequence - 1)
            )
            try FileManager.default.copyItem(at: segments[2].url, to: copy)
            let report = try await LogFixtures.verify(directory, key)
            #expect(report.problem?.kind == .reorderedRecords)
            #expect(report.problem?.sequence == segments[2].firstSequence - 1)
        }
    }
}

/// The store's own verify reads only synced frames, so a damaged newest frame is a change, not a torn write; the
/// read-only verify beside a writer (or before recovery) cannot tell it from an unfinished write and leaves it out.
@Suite struct LogAuditLiveTamperingTests {
    let key = AuditSigningKey.generate()

    @Test func theNewestFrameChangedUnderARunningStoreIsNamed() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            for index in 1...5 { try await store.record(AuditFixtures.decrypt(index)) }
            let segment = LogFixtures.firstSegment(directory)
            var bytes = try [UInt8](Data(contentsOf: segment))
            bytes[LogFixtures.framesEnd(bytes) - 5] ^= 0x01
            try Data(bytes).write(to: segment)
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.problem?.kind == .changedRecord)
            #expect(report.problem?.sequence == 5)
            let readOnly = try LogAuditStore.verify(directory: LogFixtures.log(directory), publicKey: key.publicKey)
            #expect(readOnly.isValid && readOnly.lastSequence == 4)
        }
    }
}

@Suite struct LogAuditExportTests {
    let key = AuditSigningKey.generate()

    @Test func exportsVerifyAndEditedExportsFail() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, key: key, rollSize: 8192)
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            let export = directory.appendingPathComponent("export.json")
            let summary = try await store.export(to: export, publicKey: key.publicKey)
            #expect(summary == Export.Summary(records: 30, digests: 3, firstSequence: 1, lastSequence: 30))
            let publicKey = try AuditSigningKey.publicKey(pem: key.publicKeyPEM)
            let report = try Export.verify(fileAt: export, publicKey: publicKey)
            #expect(report.isValid && report.recordsChecked == 30 && report.digestsChecked == 3)

            let since = try await store.firstSequence(since: AuditFixtures.baseTime.addingTimeInterval(12.5))
            #expect(since == 13)
            let suffix = directory.appendingPathComponent("since.json")
            let partial = try await store.export(to: suffix, fromSequence: since!, publicKey: key.publicKey)
            #expect(partial == Export.Summary(records: 20, digests: 3, firstSequence: 11, lastSequence: 30))
            let suffixReport = try Export.verify(fileAt: suffix, publicKey: publicKey)
            #expect(suffixReport.isValid && suffixReport.firstSequence == 11 && suffixReport.digestsChecked == 3)

            var text = try String(contentsOf: suffix, encoding: .utf8)
            text = text.replacingOccurrences(of: "\"10.0.0.22\"", with: "\"10.0.0.99\"")
            try Data(text.utf8).write(to: suffix)
            let edited = try Export.verify(fileAt: suffix, publicKey: publicKey)
            #expect(edited.problem?.kind == .changedRecord)
            #expect(edited.problem?.sequence == 22)
        }
    }

    @Test func aDamagedFrameFailsTheExportAndLeavesNoFile() async throws {
        try await AuditFixtures.withDirectory { directory in
            try await LogFixtures.populate(directory, key: key)
            let segment = LogFixtures.firstSegment(directory)
            var bytes = try [UInt8](Data(contentsOf: segment))
            let frame = try LogFixtures.frames(segment)[4]
            bytes[frame.offset + AuditFrame.headerSize + 10] ^= 0x01
            try Data(bytes).write(to: segment)
            let store = try LogAuditStore(directory: LogFixtures.log(directory))
            defer { try? store.close() }
            let export = directory.appendingPathComponent("export.json")
            let error = await #expect(throws: AuditStoreError.self) {
                try await store.export(to: export, publicKey: key.publicKey)
            }
            #expect(error?.code == .corrupt)
            #expect(!FileManager.default.fileExists(atPath: export.path))
        }
    }
}
