import AuditTrail
import Crypto
import Foundation
import Testing

/// Tampering with a chain held as canonical bytes; the SQLite store's tests repeat the cases on the database file.
@Suite struct VerifierTests {
    let key = AuditSigningKey.generate()

    /// 30 records, digests at heads 10, 20 and 30.
    func chain() async throws -> (records: [[UInt8]], digests: [SignedDigest]) {
        let made = try await Samples.chain(count: 30, digestEvery: 10, key: key)
        return (made.records, made.digests)
    }

    func verify(
        _ records: [[UInt8]],
        _ digests: [SignedDigest],
        key: P256.Signing.PublicKey? = nil
    ) -> VerificationReport {
        Verifier.verify(records: records, digests: digests, publicKey: key ?? self.key.publicKey)
    }

    /// Replaces the first occurrence of `old` by `new` (same length) in a record's bytes.
    func edit(_ bytes: [UInt8], _ old: String, _ new: String) -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        let edited = Array(text.replacingOccurrences(of: old, with: new, options: [], range: text.range(of: old)).utf8)
        #expect(edited != bytes && edited.count == bytes.count)
        return edited
    }

    @Test func intactChainVerifies() async throws {
        let (records, digests) = try await chain()
        let report = verify(records, digests)
        #expect(report.isValid)
        #expect(report.recordsChecked == 30)
        #expect(report.digestsChecked == 3)
        #expect(report.firstSequence == 1 && report.lastSequence == 30)
        #expect(report.unsignedRecords == 0)
    }

    @Test func emptyChainVerifies() {
        let report = verify([], [])
        #expect(report.isValid && report.recordsChecked == 0)
    }

    @Test func changedRecordIsNamed() async throws {
        var (records, digests) = try await chain()
        records[14] = edit(records[14], "req-u15", "req-u99")
        let report = verify(records, digests)
        #expect(report.problem?.kind == .changedRecord)
        #expect(report.problem?.sequence == 15)
    }

    @Test func changedPreviousHashIsNamedAtTheRecordHoldingIt() async throws {
        var (records, digests) = try await chain()
        let hex = ChainHash.of(records[13]).hex
        let replacement = (hex.first == "0" ? "1" : "0") + hex.dropFirst()
        records[14] = edit(records[14], hex, replacement)
        let report = verify(records, digests)
        #expect(report.problem?.kind == .changedRecord)
        #expect(report.problem?.sequence == 15)
    }

    @Test func changedRecordAfterTheNewestDigestIsStillCaughtByItsSuccessor() async throws {
        let made = try await Samples.chain(count: 40, digestEvery: 30, key: key)
        var records = made.records
        records[34] = edit(records[34], "req-35", "req-36")
        let report = verify(records, made.digests)
        #expect(report.problem?.kind == .changedRecord)
        #expect(report.problem?.sequence == 35)
    }

    @Test func changedHeadOfADigestIsCaughtByTheDigest() async throws {
        var (records, digests) = try await chain()
        records[29] = edit(records[29], "req-u30", "req-u31")
        let report = verify(records, digests)
        #expect(report.problem?.kind == .forgedChain)
        #expect(report.problem?.sequence == 21)
    }

    @Test func removedRecordIsNamed() async throws {
        var (records, digests) = try await chain()
        records.remove(at: 14)
        let report = verify(records, digests)
        #expect(report.problem?.kind == .removedRecord)
        #expect(report.problem?.sequence == 15)
    }

    @Test func removedFirstRecordIsNamed() async throws {
        var (records, digests) = try await chain()
        records.removeFirst()
        let report = verify(records, digests)
        #expect(report.problem?.kind == .removedRecord)
        #expect(report.problem?.sequence == 1)
    }

    @Test func swappedRecordsAreNamed() async throws {
        var (records, digests) = try await chain()
        records.swapAt(11, 16)
        let report = verify(records, digests)
        #expect(report.problem?.kind == .reorderedRecords)
        #expect(report.problem?.sequence == 12)
    }

    @Test func insertedRecordIsNamed() async throws {
        var (records, digests) = try await chain()
        // A forged record that links to record 14 and claims number 15; the real record 15 still follows 14.
        let forged = ChainedRecordEncoder.canonicalBytes(
            of: Samples.decrypt(999),
            sequence: 15,
            previousHash: ChainHash.of(records[13])
        )
        records.insert(forged, at: 14)
        let report = verify(records, digests)
        #expect(report.problem?.kind == .insertedRecord)
        #expect(report.problem?.sequence == 15)
    }

    @Test func rewrittenChainIsCaughtByTheNextDigest() async throws {
        let (records, digests) = try await chain()
        // The forger inserts a record at 15 and renumbers and re-hashes everything after it: the chain is
        // consistent, but it no longer ends in the head the digest of record 20 signed.
        var stored = try records.map { try StoredRecord(canonicalBytes: $0) }
        stored.insert(
            StoredRecord(sequence: 0, previousHash: .genesis, hash: .genesis, record: Samples.decrypt(999)),
            at: 14
        )
        var rewritten: [[UInt8]] = []
        var previous = ChainHash.genesis
        for (index, entry) in stored.enumerated() {
            let bytes = ChainedRecordEncoder.canonicalBytes(
                of: entry.record,
                sequence: Int64(index + 1),
                previousHash: previous
            )
            rewritten.append(bytes)
            previous = ChainHash.of(bytes)
        }
        let report = verify(rewritten, digests)
        #expect(report.problem?.kind == .forgedChain)
        #expect(report.problem?.sequence == 11)
    }

    @Test func truncatedTailAfterADigestIsNamed() async throws {
        var (records, digests) = try await chain()
        records.removeLast(2)
        let report = verify(records, digests)
        #expect(report.problem?.kind == .truncatedTail)
        #expect(report.problem?.sequence == 29)
    }

    @Test func truncationOfEverythingIsNamed() async throws {
        let (_, digests) = try await chain()
        let report = verify([], digests)
        #expect(report.problem?.kind == .truncatedTail)
        #expect(report.problem?.sequence == 1)
    }

    @Test func appendedForgeryIsValidButReportedAsUnsigned() async throws {
        var (records, digests) = try await chain()
        records.append(
            ChainedRecordEncoder.canonicalBytes(
                of: Samples.decrypt(31),
                sequence: 31,
                previousHash: ChainHash.of(records[29])
            )
        )
        let report = verify(records, digests)
        #expect(report.isValid)
        #expect(report.unsignedRecords == 1)
        #expect(report.lastSignedSequence == 30)
    }

    @Test func badDigestSignatureIsNamed() async throws {
        var (records, digests) = try await chain()
        var signature = digests[1].signature
        signature[signature.count - 1] ^= 0x01
        digests[1].signature = signature
        let report = verify(records, digests)
        #expect(report.problem?.kind == .badDigestSignature)
        #expect(report.problem?.sequence == 20)
        records.removeAll()
    }

    @Test func forgedDigestWithChangedHeadFailsItsSignature() async throws {
        let (records, digests) = try await chain()
        var forged = digests
        forged[2].digest.headSequence = 29
        forged[2].digest.recordCount = 29
        forged[2].digest.headHash = ChainHash.of(records[28])
        let report = verify(Array(records.dropLast()), forged)
        #expect(report.problem?.kind == .badDigestSignature)
        #expect(report.problem?.sequence == 29)
    }

    @Test func digestsOfAnotherKeyFail() async throws {
        let (records, digests) = try await chain()
        let report = verify(records, digests, key: AuditSigningKey.generate().publicKey)
        #expect(report.problem?.kind == .badDigestSignature)
        #expect(report.problem?.sequence == 10)
    }

    @Test func removedDigestBreaksTheDigestChain() async throws {
        var (records, digests) = try await chain()
        digests.remove(at: 1)
        let report = verify(records, digests)
        #expect(report.problem?.kind == .brokenDigestChain)
        #expect(report.problem?.sequence == 30)
        records.removeAll()
    }

    @Test func malformedRecordIsNamed() async throws {
        var (records, digests) = try await chain()
        records[14] = Array(records[14].dropLast())
        let report = verify(records, digests)
        #expect(report.problem?.kind == .malformedRecord)
        #expect(report.problem?.sequence == 15)
    }

    @Test func digestSignaturesVerifyWithThePEMPublicKey() async throws {
        let (_, digests) = try await chain()
        let publicKey = try AuditSigningKey.publicKey(pem: key.publicKeyPEM)
        #expect(digests.allSatisfy { $0.isValid(for: publicKey) })
        #expect(digests[1].digest.previousSignature == digests[0].signature)
        #expect(digests[0].digest.previousSignature.isEmpty)
        #expect(digests.map(\.digest.headSequence) == [10, 20, 30])
        #expect(digests.allSatisfy { $0.digest.keyFingerprint == key.fingerprint })
        #expect(throws: AuditError(.invalidPublicKey, "")) { try AuditSigningKey.publicKey(pem: "not a key") }
    }
}
