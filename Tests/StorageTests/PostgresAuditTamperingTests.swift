import AuditTrail
import Foundation
import PostgresNIO
import PostgresStorage
import Storage
import Testing

/// What a forger with the database's credentials (but not the audit signing key) can do with SQL, and what `verify`
/// reports: the cases of the SQLite store's suite. The trail holds 30 records with digests at heads 10, 20 and 30.
@Suite struct PostgresAuditTamperingTests {
    let key = AuditSigningKey.generate()

    func tampered(
        anchor useAnchor: Bool = false,
        _ change: (PostgresDatabase) async throws -> Void
    ) async throws -> VerificationReport? {
        var report: VerificationReport?
        try await PostgresAuditFixtures.withDatabase { database in
            let store = PostgresAuditStore(database: database)
            try await PostgresAuditFixtures.populate(store, key: key)
            let anchor = try await store.latestDigest()
            try await change(database)
            report = try await store.verify(publicKey: key.publicKey, anchor: useAnchor ? anchor : nil)
        }
        return report
    }

    @Test func untouchedTrailVerifies() async throws {
        guard let report = try await tampered({ _ in }) else { return }
        #expect(report.isValid && report.recordsChecked == 30 && report.digestsChecked == 3)
        #expect(report.unsignedRecords == 0)
    }

    @Test func oneChangedByteIsNamed() async throws {
        guard
            let report = try await tampered({ database in
                let edited = try await PostgresAuditFixtures.edited(14, "req-14", "req-41", database)
                try await PostgresAuditFixtures.replaceRecord(14, with: edited, database)
            })
        else { return }
        #expect(report.problem?.kind == .changedRecord && report.problem?.sequence == 14)
    }

    @Test func changedRecordWithRecomputedStoredHashIsNamed() async throws {
        guard
            let report = try await tampered({ database in
                let edited = try await PostgresAuditFixtures.edited(14, "Decrypt", "Encrypt", database)
                try await PostgresAuditFixtures.replaceRecord(14, with: edited, rehash: true, database)
            })
        else { return }
        #expect(report.problem?.kind == .changedRecord && report.problem?.sequence == 14)
    }

    @Test func deletedRecordIsNamed() async throws {
        guard
            let report = try await tampered({ database in
                try await PostgresAuditFixtures.execute("DELETE FROM audit_record WHERE sequence = 15", database)
            })
        else { return }
        #expect(report.problem?.kind == .removedRecord && report.problem?.sequence == 15)
    }

    @Test func swappedRecordsAreNamed() async throws {
        guard
            let report = try await tampered({ database in
                try await PostgresAuditFixtures.execute(
                    """
                    UPDATE audit_record AS target
                    SET previous_hash = source.previous_hash, hash = source.hash, record = source.record
                    FROM audit_record AS source
                    WHERE (target.sequence, source.sequence) IN ((12, 17), (17, 12))
                    """,
                    database
                )
            })
        else { return }
        #expect(report.problem?.kind == .reorderedRecords && report.problem?.sequence == 12)
    }

    @Test func insertedForgedRecordIsNamed() async throws {
        guard
            let report = try await tampered({ database in
                let previous = ChainHash.of(try await PostgresAuditFixtures.recordBytes(14, database))
                let forged = Data(
                    ChainedRecordEncoder.canonicalBytes(
                        of: AuditFixtures.decrypt(999),
                        sequence: 15,
                        previousHash: previous
                    )
                )
                // Make room at 15 (through negative numbers: the key is checked row by row).
                try await PostgresAuditFixtures.execute(
                    "UPDATE audit_record SET sequence = -sequence WHERE sequence >= 15",
                    database
                )
                try await PostgresAuditFixtures.execute(
                    "UPDATE audit_record SET sequence = 1 - sequence WHERE sequence < 0",
                    database
                )
                try await database.query(
                    """
                    INSERT INTO audit_record (sequence, previous_hash, hash, event_time, event_name, is_denial, record)
                    VALUES (15, \(previous.data), \(ChainHash.of(forged).data), 0, 'Decrypt', false, \(forged))
                    """
                )
            })
        else { return }
        #expect(report.problem?.kind == .insertedRecord && report.problem?.sequence == 15)
    }

    @Test func tailCutAfterASignedDigestIsNamed() async throws {
        guard
            let report = try await tampered({ database in
                try await PostgresAuditFixtures.execute("DELETE FROM audit_record WHERE sequence > 27", database)
            })
        else { return }
        #expect(report.problem?.kind == .truncatedTail && report.problem?.sequence == 28)
    }

    @Test func alteredDigestIsNamed() async throws {
        guard
            let report = try await tampered({ database in
                try await PostgresAuditFixtures.execute(
                    """
                    UPDATE audit_digest SET digest = convert_to(replace(convert_from(digest, 'UTF8'),
                        '"headSequence":20', '"headSequence":21'), 'UTF8')
                    WHERE digest_sequence = 2
                    """,
                    database
                )
            })
        else { return }
        #expect(report.problem?.kind == .badDigestSignature && report.problem?.sequence == 21)
    }

    @Test func deletedDigestIsNamed() async throws {
        guard
            let report = try await tampered({ database in
                try await PostgresAuditFixtures.execute("DELETE FROM audit_digest WHERE digest_sequence = 2", database)
            })
        else { return }
        #expect(report.problem?.kind == .brokenDigestChain && report.problem?.sequence == 30)
    }

    /// Cutting the newest records with the digests that cover them leaves a shorter chain that verifies by itself;
    /// the newest digest kept outside the database (the anchor) catches it.
    @Test func tailAndItsDigestsCutTogetherAreCaughtByTheAnchor() async throws {
        let cut: (PostgresDatabase) async throws -> Void = { database in
            try await PostgresAuditFixtures.execute("DELETE FROM audit_record WHERE sequence > 20", database)
            try await PostgresAuditFixtures.execute("DELETE FROM audit_digest WHERE digest_sequence = 3", database)
        }
        guard let alone = try await tampered(cut), let anchored = try await tampered(anchor: true, cut) else { return }
        #expect(alone.isValid && alone.lastSequence == 20)
        #expect(!anchored.isValid)
    }
}
