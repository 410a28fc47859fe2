public import AuditTrail
public import Crypto
public import Foundation
import GRDB

/// Verification of the whole chain and its digests, and exports, each from one snapshot.
extension SQLiteAuditStore {
    /// Verifies the whole chain and every digest against `publicKey`, on one snapshot, streaming the rows.
    ///
    /// Besides the chain (see ``Verifier``), each row's stored sequence number and hash must match its record bytes.
    /// - Throws: ``AuditStoreError`` `databaseUnavailable` when the database cannot be read. Problems with the
    ///   records or digests are not errors: they are the report's ``VerificationReport/problem``.
    ///
    /// - Parameters:
    ///   - anchor: the newest digest as kept outside the store (``FileDigestAnchor``), which must be among the
    ///     store's digests; `nil` when there is none.
    ///   - unsignedLimit: how old a record no digest covers may be (``AuditTrail/Verifier/UnsignedLimit``, measured
    ///     at now by default); `nil` does not check.
    public func verify(
        publicKey: P256.Signing.PublicKey,
        anchor: SignedDigest? = nil,
        unsignedLimit: Verifier.UnsignedLimit? = nil
    ) async throws -> VerificationReport {
        try await read { db in
            try Self.verify(db, publicKey: publicKey, anchor: anchor, unsignedLimit: unsignedLimit)
        }
    }

    /// ``verify(publicKey:anchor:unsignedLimit:)`` on the calling thread (the migration to the log runs at open).
    package func verifyNow(publicKey: P256.Signing.PublicKey, anchor: SignedDigest?) throws -> VerificationReport {
        do {
            return try pool.read { db in try Self.verify(db, publicKey: publicKey, anchor: anchor, unsignedLimit: nil) }
        } catch let error as AuditStoreError {
            throw error
        } catch {
            throw AuditStoreError.unavailable(url, error)
        }
    }

    /// Calls `body` with each record's sequence number and canonical bytes, in order, on one snapshot, then returns
    /// the digests (the migration's source).
    package func copyNow(_ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws -> [SignedDigest] {
        do {
            return try pool.read { db in
                let rows = try Row.fetchCursor(db, sql: "SELECT sequence, record FROM audit_record ORDER BY sequence")
                while let row = try rows.next() {
                    let sequence: Int64 = row[0]
                    guard Self.isBytes(row, 1) else {
                        throw AuditStoreError(.corrupt, "The audit record stored as \(sequence) is not JSON bytes.")
                    }
                    try row.withUnsafeData(atIndex: 1) { data in
                        try (data ?? Data()).withUnsafeBytes { try body(sequence, $0) }
                    }
                }
                return try Self.fetchDigests(db, fromHead: 0)
            }
        } catch let error as AuditStoreError {
            throw error
        } catch {
            throw AuditStoreError.unavailable(url, error)
        }
    }

    private static func verify(
        _ db: Database,
        publicKey: P256.Signing.PublicKey,
        anchor: SignedDigest?,
        unsignedLimit: Verifier.UnsignedLimit?
    ) throws -> VerificationReport {
        // Digests that do not even parse are a forgery of the digest table.
        let digestTexts = try Row.fetchAll(
            db,
            sql:
                "SELECT digest_sequence, head_sequence, digest FROM audit_digest ORDER BY digest_sequence"
        )
        var digests: [SignedDigest] = []
        var digestProblem: VerificationProblem?
        for row in digestTexts {
            guard let text = String.fromDatabaseValue(row[2] as DatabaseValue),
                let digest = try? Self.decodeDigest(text)
            else {
                digestProblem = VerificationProblem(
                    .badDigestSignature,
                    sequence: Int64.fromDatabaseValue(row[1] as DatabaseValue) ?? 0,
                    "Digest \(row[0] as Int64) is not a well-formed signed digest."
                )
                break
            }
            digests.append(digest)
        }
        var verifier = Verifier(
            publicKey: publicKey,
            digests: digests,
            start: .genesis,
            unsignedLimit: unsignedLimit
        )
        if let anchor { verifier.requireDigest(anchor, publicKey: publicKey) }
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT sequence, hash, record FROM audit_record ORDER BY sequence"
        )
        while let row = try rows.next() {
            let sequence: Int64 = row[0]
            let hash = Self.blob(row, 1).flatMap { ChainHash(bytes: $0) }
            // A forged row may hold anything; a value that is not bytes is checked as an empty record.
            let wantsMore =
                Self.isBytes(row, 2)
                ? try row.withUnsafeData(atIndex: 2) { bytes in
                    verifier.check(bytes ?? Data(), storedSequence: sequence, storedHash: hash ?? .genesis)
                }
                : verifier.check(Data(), storedSequence: sequence, storedHash: hash ?? .genesis)
            guard wantsMore else { break }
        }
        var report = verifier.finish()
        if let digestProblem, report.problem.map({ digestProblem.sequence < $0.sequence }) ?? true {
            report.problem = digestProblem
        }
        return report
    }

    /// The sequence number of the first record at or after `date`, or `nil` when there is none.
    public func firstSequence(since date: Date) async throws -> Int64? {
        try await read { db in
            try Int64.fetchOne(
                db,
                sql: "SELECT MIN(sequence) FROM audit_record WHERE event_time >= ?",
                arguments: [Self.seconds(date)]
            )
        }
    }

    /// Writes an export (see ``AuditTrail/Export``) of the records from `sequence` on, with the digests that cover
    /// them, from one snapshot. A later start is moved back to just after the newest digest's head before it (record
    /// 1 when there is none), so the export carries the digest that vouches for its start.
    ///
    /// - Parameters:
    ///   - publicKey: named in the export by its fingerprint (the verifier still needs the key itself).
    /// - Throws: ``AuditStoreError`` `databaseUnavailable`; ``AuditError`` `fileSystem`. No file is left behind.
    public func export(
        to file: URL,
        fromSequence sequence: Int64 = 1,
        publicKey: P256.Signing.PublicKey?
    )
        async throws -> Export.Summary
    {
        let asked = max(1, sequence)
        return try await read { db in
            let anchor =
                try Int64.fetchOne(
                    db,
                    sql: "SELECT MAX(head_sequence) FROM audit_digest WHERE head_sequence < ?",
                    arguments: [asked]
                ) ?? 0
            let first = anchor + 1
            let digests = try Self.fetchDigests(db, fromHead: first - 1)
            var writer = try Export.Writer(
                to: file,
                publicKey: publicKey,
                digests: digests,
                firstSequence: first
            )
            do {
                let rows = try Row.fetchCursor(
                    db,
                    sql: "SELECT sequence, record FROM audit_record WHERE sequence >= ? ORDER BY sequence",
                    arguments: [first]
                )
                while let row = try rows.next() {
                    let sequence: Int64 = row[0]
                    guard Self.isBytes(row, 1) else {
                        throw AuditStoreError(.corrupt, "The audit record stored as \(sequence) is not JSON bytes.")
                    }
                    try row.withUnsafeData(atIndex: 1) { bytes in
                        try writer.append(canonicalBytes: bytes ?? Data(), sequence: sequence)
                    }
                }
            } catch {
                writer.discard()
                throw error
            }
            return try writer.finish()
        }
    }
}
