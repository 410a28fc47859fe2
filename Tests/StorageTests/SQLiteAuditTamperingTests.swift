import Storage
import AuditTrail
import Crypto
import Foundation
import GRDB
import Testing

/// What a forger with write access to `audit.sqlite` (but not to the audit signing key) can do, and what
/// `verify` reports. The store holds 30 records with digests at heads 10, 20 and 30.
@Suite struct SQLiteAuditTamperingTests {
    let key = AuditSigningKey.generate()

    func tampered(
        _ change: (Database) throws -> Void
    ) async throws -> VerificationReport {
        try await AuditFixtures.withDirectory { directory in
            let file = try await AuditFixtures.populate(directory, key: key)
            try AuditFixtures.tamper(file, change)
            return try await AuditFixtures.verify(file, key)
        }
    }

    /// Replaces `old` by `new` (same length) in record `sequence`'s JSON; with `rehash`, also stores the new hash.
    static func editRecord(
        _ db: Database,
        _ sequence: Int64,
        _ old: String,
        _ new: String,
        rehash: Bool
    ) throws {
        let bytes = try AuditFixtures.recordBytes(db, sequence)
        let text = String(decoding: bytes, as: UTF8.self)
        let edited = Data(
            text.replacingOccurrences(of: old, with: new, options: [], range: text.range(of: old)).utf8
        )
        #expect(edited.count == bytes.count && edited != Data(bytes))
        try db.execute(
            sql: "UPDATE audit_record SET record = ? WHERE sequence = ?",
            arguments: [edited, sequence]
        )
        if rehash {
            try db.execute(
                sql: "UPDATE audit_record SET hash = ? WHERE sequence = ?",
                arguments: [ChainHash.of(edited).data, sequence]
            )
        }
    }

    @Test func untouchedStoreVerifies() async throws {
        let report = try await tampered { _ in }
        #expect(report.isValid)
        #expect(
            report.recordsChecked == 30 && report.digestsChecked == 3 && report.unsignedRecords == 0
        )
    }

    @Test func oneChangedByteIsNamed() async throws {
        let report = try await tampered { db in
            try Self.editRecord(db, 14, "req-14", "req-41", rehash: false)
        }
        #expect(report.problem?.kind == .changedRecord)
        #expect(report.problem?.sequence == 14)
    }

    @Test func changedRecordWithRecomputedStoredHashIsNamed() async throws {
        let report = try await tampered { db in
            try Self.editRecord(db, 14, "Decrypt", "Encrypt", rehash: true)
        }
        #expect(report.problem?.kind == .changedRecord)
        #expect(report.problem?.sequence == 14)
    }

    @Test func deletedRowIsNamed() async throws {
        let report = try await tampered { db in
            try db.execute(sql: "DELETE FROM audit_record WHERE sequence = 15")
        }
        #expect(report.problem?.kind == .removedRecord)
        #expect(report.problem?.sequence == 15)
    }

    @Test func swappedRowContentsAreNamed() async throws {
        let report = try await tampered { db in
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT sequence, previous_hash, hash, record FROM audit_record WHERE sequence IN (12, 17)"
            )
            for (row, other) in [(rows[0], rows[1]), (rows[1], rows[0])] {
                try db.execute(
                    sql: "UPDATE audit_record SET previous_hash = ?, hash = ?, record = ? WHERE sequence = ?",
                    arguments: [
                        other["previous_hash"] as Data, other["hash"] as Data, other["record"] as Data,
                        row["sequence"] as Int64,
                    ]
                )
            }
        }
        #expect(report.problem?.kind == .reorderedRecords)
        #expect(report.problem?.sequence == 12)
    }

    /// Moves rows at and after `sequence` one place up, as a forger making room for an insertion.
    static func makeRoom(_ db: Database, at sequence: Int64) throws {
        try db.execute(
            sql: "UPDATE audit_record SET sequence = -sequence WHERE sequence >= ?",
            arguments: [sequence]
        )
        try db.execute(sql: "UPDATE audit_record SET sequence = 1 - sequence WHERE sequence < 0")
    }

    static func insertRow(
        _ db: Database,
        _ bytes: [UInt8],
        at sequence: Int64,
        previous: ChainHash
    )
        throws
    {
        try db.execute(
            sql: """
                INSERT INTO audit_record (sequence, previous_hash, hash, event_time, event_name, is_denial, record)
                VALUES (?, ?, ?, 0, 'Decrypt', 0, ?)
                """,
            arguments: [sequence, previous.data, ChainHash.of(bytes).data, Data(bytes)]
        )
    }

    @Test func insertedForgedRowIsNamed() async throws {
        let report = try await tampered { db in
            let previous = ChainHash.of(try AuditFixtures.recordBytes(db, 14))
            let forged = ChainedRecordEncoder.canonicalBytes(
                of: AuditFixtures.decrypt(999),
                sequence: 15,
                previousHash: previous
            )
            try Self.makeRoom(db, at: 15)
            try Self.insertRow(db, forged, at: 15, previous: previous)
        }
        #expect(report.problem?.kind == .insertedRecord)
        #expect(report.problem?.sequence == 15)
    }

    @Test func insertedRowWithTheWholeChainRecomputedIsCaughtByTheDigest() async throws {
        let report = try await tampered { db in
            try Self.makeRoom(db, at: 15)
            try Self.insertRow(db, [], at: 15, previous: .genesis)
            // Re-chain everything from 15 on, as a forger who knows the format (but not the signing key) would.
            var previous = ChainHash.of(try AuditFixtures.recordBytes(db, 14))
            for sequence in Int64(15)...31 {
                let record =
                    sequence == 15
                    ? AuditFixtures.decrypt(999)
                    : try StoredRecord(canonicalBytes: AuditFixtures.recordBytes(db, sequence)).record
                let bytes = ChainedRecordEncoder.canonicalBytes(
                    of: record,
                    sequence: sequence,
                    previousHash: previous
                )
                try db.execute(
                    sql: "UPDATE audit_record SET record = ?, hash = ?, previous_hash = ? WHERE sequence = ?",
                    arguments: [Data(bytes), ChainHash.of(bytes).data, previous.data, sequence]
                )
                previous = ChainHash.of(bytes)
            }
        }
        #expect(report.problem?.kind == .forgedChain)
        #expect(report.problem?.sequence == 11)
    }

    @Test func appendedForgedRowVerifiesButIsReportedUnsigned() async throws {
        try await AuditFixtures.withDirectory { directory in
            let file = try await AuditFixtures.populate(directory, key: key)
            try AuditFixtures.tamper(file) { db in
                let previous = ChainHash.of(try AuditFixtures.recordBytes(db, 30))
                let forged = ChainedRecordEncoder.canonicalBytes(
                    of: AuditFixtures.decrypt(31),
                    sequence: 31,
                    previousHash: previous
                )
                try Self.insertRow(db, forged, at: 31, previous: previous)
            }
            // The chain is intact, so the forgery is only visible as a record no digest covers yet.
            let report = try await AuditFixtures.verify(file, key)
            #expect(report.isValid)
            #expect(report.unsignedRecords == 1 && report.lastSignedSequence == 30)

            // A digest the forger signs with a key of their own to cover it fails.
            try AuditFixtures.tamper(file) { db in
                let store = try SignedDigest(
                    jsonValue: CanonicalJSON.parse(
                        Array(
                            try String.fetchOne(
                                db,
                                sql: "SELECT digest FROM audit_digest WHERE digest_sequence = 3"
                            )!.utf8
                        )
                    )
                )
                let forger = AuditSigningKey.generate()
                let digest = try forger.sign(
                    Digest(
                        digestSequence: 4,
                        head: ChainHead(
                            sequence: 31,
                            hash: ChainHash.of(try AuditFixtures.recordBytes(db, 31))
                        ),
                        time: Date(),
                        previousSignature: store.signature,
                        keyFingerprint: key.fingerprint
                    )
                )
                try db.execute(
                    sql:
                        "INSERT INTO audit_digest (digest_sequence, head_sequence, digest) VALUES (4, 31, ?)",
                    arguments: [String(decoding: CanonicalJSON.encode(digest.jsonValue), as: UTF8.self)]
                )
            }
            let forged = try await AuditFixtures.verify(file, key)
            #expect(forged.problem?.kind == .badDigestSignature)
            #expect(forged.problem?.sequence == 31)
        }
    }

    @Test func rowsHoldingValuesOfTheWrongTypeAreProblemsNotCrashes() async throws {
        let report = try await tampered { db in
            try db.execute(sql: "UPDATE audit_record SET record = 42, hash = 3 WHERE sequence = 9")
            try db.execute(sql: "UPDATE audit_digest SET digest = 7 WHERE digest_sequence = 3")
        }
        #expect(report.problem?.kind == .malformedRecord)
        #expect(report.problem?.sequence == 9)
        let digestOnly = try await tampered { db in
            try db.execute(sql: "UPDATE audit_digest SET digest = x'00ff' WHERE digest_sequence = 2")
        }
        #expect(digestOnly.problem?.kind == .badDigestSignature)
        #expect(digestOnly.problem?.sequence == 20)
    }

    @Test func tailCutAfterASignedDigestIsNamed() async throws {
        let report = try await tampered { db in
            try db.execute(sql: "DELETE FROM audit_record WHERE sequence > 27")
        }
        #expect(report.problem?.kind == .truncatedTail)
        #expect(report.problem?.sequence == 28)
    }

    @Test func alteredDigestIsNamed() async throws {
        let report = try await tampered { db in
            try db.execute(
                sql:
                    "UPDATE audit_digest SET digest = replace(digest, '\"headSequence\":20', '\"headSequence\":21') "
                    + "WHERE digest_sequence = 2"
            )
        }
        #expect(report.problem?.kind == .badDigestSignature)
        #expect(report.problem?.sequence == 21)
    }

    @Test func deletedDigestIsNamed() async throws {
        let report = try await tampered { db in
            try db.execute(sql: "DELETE FROM audit_digest WHERE digest_sequence = 2")
        }
        #expect(report.problem?.kind == .brokenDigestChain)
        #expect(report.problem?.sequence == 30)
    }

    @Test func tailAndItsDigestsCutTogetherIsNotDetectableWithoutAnOutsideCopy() async throws {
        // Documented limit: removing the newest records together with the digests that cover them leaves a shorter
        // chain that verifies; an outside copy of the newest digest (or its head hash) is what catches it.
        let report = try await tampered { db in
            try db.execute(sql: "DELETE FROM audit_record WHERE sequence > 20")
            try db.execute(sql: "DELETE FROM audit_digest WHERE digest_sequence = 3")
        }
        #expect(report.isValid)
        #expect(report.lastSequence == 20 && report.lastSignedSequence == 20)
    }
}

@Suite struct SQLiteAuditExportTests {
    let key = AuditSigningKey.generate()

    @Test func exportsVerifyAndEditedExportsFail() async throws {
        try await AuditFixtures.withDirectory { directory in
            let file = try await AuditFixtures.populate(directory, key: key)
            let store = try SQLiteAuditStore(at: file)
            defer { try? store.close() }
            let export = directory.appendingPathComponent("export.json")
            let summary = try await store.export(to: export, publicKey: key.publicKey)
            #expect(
                summary == Export.Summary(records: 30, digests: 3, firstSequence: 1, lastSequence: 30)
            )
            let publicKey = try AuditSigningKey.publicKey(pem: key.publicKeyPEM)
            let report = try Export.verify(fileAt: export, publicKey: publicKey)
            #expect(report.isValid && report.recordsChecked == 30 && report.digestsChecked == 3)

            // --since: a suffix, with the digests that cover it.
            let since = try await store.firstSequence(
                since: AuditFixtures.baseTime.addingTimeInterval(12.5)
            )
            #expect(since == 13)
            let suffix = directory.appendingPathComponent("since.json")
            let partial = try await store.export(
                to: suffix,
                fromSequence: since!,
                publicKey: key.publicKey
            )
            // It starts right after the digest at record 10 and carries it, which vouches for its start.
            #expect(
                partial == Export.Summary(records: 20, digests: 3, firstSequence: 11, lastSequence: 30)
            )
            let suffixReport = try Export.verify(fileAt: suffix, publicKey: publicKey)
            #expect(
                suffixReport.isValid && suffixReport.firstSequence == 11 && suffixReport.digestsChecked == 3
            )

            var text = try String(contentsOf: suffix, encoding: .utf8)
            text = text.replacingOccurrences(of: "\"10.0.0.22\"", with: "\"10.0.0.99\"")
            try Data(text.utf8).write(to: suffix)
            let edited = try Export.verify(fileAt: suffix, publicKey: publicKey)
            #expect(edited.problem?.kind == .changedRecord)
            #expect(edited.problem?.sequence == 22)
        }
    }
}
