public import Crypto
public import Foundation

/// An ``AuditStore`` in memory, for tests and for servers run without a data directory.
///
/// It keeps each record's canonical bytes, so it can be verified and exported exactly like the SQLite store.
public actor InMemoryAuditStore: AuditStore {
    private var entries: [(stored: StoredRecord, bytes: [UInt8])] = []
    private var signed: [SignedDigest] = []
    private var failure: (any Error)?

    public init() {}

    /// Makes every following ``record(_:)`` throw `error` (`nil` heals the store), to test that operations fail
    /// when their audit record cannot be written.
    public func setFailure(_ error: (any Error)?) { failure = error }

    public func record(_ record: Record) async throws {
        if let failure { throw failure }
        let head = entries.last.map { ChainHead(sequence: $0.stored.sequence, hash: $0.stored.hash) } ?? .empty
        let (bytes, next) = head.linking(ChainedRecordEncoder.prepare(record))
        let stored = StoredRecord(sequence: next.sequence, previousHash: head.hash, hash: next.hash, record: record)
        entries.append((stored, bytes))
    }

    public func chainHead() async throws -> ChainHead {
        entries.last.map { ChainHead(sequence: $0.stored.sequence, hash: $0.stored.hash) } ?? .empty
    }

    public func latestDigest() async throws -> SignedDigest? { signed.last }

    public func recordHash(at sequence: Int64) async throws -> Data? {
        guard sequence >= 1, sequence <= entries.count else { return nil }
        return entries[Int(sequence - 1)].stored.hash.data
    }

    /// Replaces the record at `sequence` and recomputes every later hash, and keeps only the digests `keeping`
    /// selects: a consistent forgery, for tests of what catches one.
    public func forge(
        _ sequence: Int64,
        as record: Record,
        keepingDigests keeping: @Sendable (SignedDigest) -> Bool
    ) {
        var head = entries.prefix(Int(sequence - 1)).last.map {
            ChainHead(sequence: $0.stored.sequence, hash: $0.stored.hash)
        } ?? .empty
        for index in Int(sequence - 1)..<entries.count {
            let content = index == Int(sequence - 1) ? record : entries[index].stored.record
            let (bytes, next) = head.linking(ChainedRecordEncoder.prepare(content))
            entries[index] = (
                StoredRecord(sequence: next.sequence, previousHash: head.hash, hash: next.hash, record: content), bytes
            )
            head = next
        }
        signed = signed.filter(keeping)
    }

    public func appendDigest(_ digest: SignedDigest) async throws {
        guard digest.digest.digestSequence == (signed.last?.digest.digestSequence ?? 0) + 1 else {
            throw AuditError(.digestConflict, "Digest \(digest.digest.digestSequence) does not follow the latest.")
        }
        signed.append(digest)
    }

    public func digests() async throws -> [SignedDigest] { signed }

    public func tail(after sequence: Int64, limit: Int) async throws -> [StoredRecord] {
        Array(entries.lazy.map(\.stored).filter { $0.sequence > sequence }.prefix(max(0, limit)))
    }

    public func query(_ query: AuditQuery) async throws -> [StoredRecord] {
        let records = entries.lazy.map(\.stored)
        if query.newestFirst { return Array(records.reversed().filter(query.matches).prefix(max(0, query.limit))) }
        return Array(records.filter(query.matches).prefix(max(0, query.limit)))
    }

    public func usageReport(in period: DateInterval) async throws -> UsageReport {
        UsageReport(period: period, records: entries.map(\.stored.record))
    }

    /// The canonical bytes of every record, in order.
    public func canonicalRecords() -> [[UInt8]] { entries.map(\.bytes) }

    /// Verifies the whole chain and the digests.
    public func verify(
        publicKey: P256.Signing.PublicKey,
        unsignedLimit: Verifier.UnsignedLimit? = nil
    ) -> VerificationReport {
        Verifier.verify(records: entries.map(\.bytes), digests: signed, publicKey: publicKey, unsignedLimit: unsignedLimit)
    }

    /// Writes an export of the records from `sequence` on (see ``Export``).
    public func export(
        to url: URL,
        fromSequence sequence: Int64 = 1,
        publicKey: P256.Signing.PublicKey?
    ) throws
        -> Export.Summary
    {
        // Starts right after the newest digest's head before `sequence` (see ``Export``).
        let asked = max(1, sequence)
        let first = (signed.last { $0.digest.headSequence < asked }?.digest.headSequence ?? 0) + 1
        let digests = signed.filter { $0.digest.headSequence >= first - 1 }
        var writer = try Export.Writer(to: url, publicKey: publicKey, digests: digests, firstSequence: first)
        do {
            for entry in entries where entry.stored.sequence >= first {
                try writer.append(canonicalBytes: entry.bytes, sequence: entry.stored.sequence)
            }
        } catch {
            writer.discard()
            throw error
        }
        return try writer.finish()
    }
}
