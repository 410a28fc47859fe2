public import AuditTrail
public import Crypto
public import Foundation
import PostgresNIO
import Storage

/// Verification of the whole chain and its digests, and exports: each on one snapshot, reading the records a page at
/// a time in sequence order.
extension PostgresAuditStore {
    /// How many records one page of a verification or an export reads.
    static let pageSize: Int64 = 1000

    /// Verifies the whole chain and every digest against `publicKey`, on one snapshot, a page of records at a time.
    ///
    /// Besides the chain (see ``AuditTrail/Verifier``), each row's stored sequence number and hash must match its
    /// record bytes.
    ///
    /// - Parameters:
    ///   - anchor: the newest digest as kept outside the store, which must be among the store's digests; `nil` when
    ///     there is none.
    ///   - unsignedLimit: how old a record no digest covers may be; `nil` does not check.
    /// - Throws: ``Storage/AuditStoreError`` `databaseUnavailable` when the database cannot be read. Problems with
    ///   the records or digests are not errors: they are the report's ``AuditTrail/VerificationReport/problem``.
    public func verify(
        publicKey: P256.Signing.PublicKey,
        anchor: SignedDigest? = nil,
        unsignedLimit: Verifier.UnsignedLimit? = nil
    ) async throws -> VerificationReport {
        try await Self.reading {
            try await database.snapshot { connection in
                try await Self.verify(connection, publicKey: publicKey, anchor: anchor, unsignedLimit: unsignedLimit)
            }
        }
    }

    private static func verify(
        _ connection: PostgresConnection,
        publicKey: P256.Signing.PublicKey,
        anchor: SignedDigest?,
        unsignedLimit: Verifier.UnsignedLimit?
    ) async throws -> VerificationReport {
        // Digests that do not even parse are a forgery of the digest table.
        var digests: [SignedDigest] = []
        var digestProblem: VerificationProblem?
        let digestRows = try await connection.run(
            "SELECT digest_sequence, head_sequence, digest FROM audit_digest ORDER BY digest_sequence"
        )
        for row in digestRows {
            let (number, head, bytes) = try row.decode((Int64, Int64, Data).self)
            guard let digest = try? decodeDigest(bytes) else {
                digestProblem = VerificationProblem(
                    .badDigestSignature,
                    sequence: head,
                    "Digest \(number) is not a well-formed signed digest."
                )
                break
            }
            digests.append(digest)
        }
        var verifier = Verifier(publicKey: publicKey, digests: digests, start: .genesis, unsignedLimit: unsignedLimit)
        if let anchor { verifier.requireDigest(anchor, publicKey: publicKey) }
        try await forEachRecord(from: 1, withHashes: true, connection) { sequence, storedHash, bytes in
            verifier.check(bytes, storedSequence: sequence, storedHash: storedHash.flatMap(ChainHash.init) ?? .genesis)
        }
        var report = verifier.finish()
        if let digestProblem, report.problem.map({ digestProblem.sequence < $0.sequence }) ?? true {
            report.problem = digestProblem
        }
        return report
    }

    /// Calls `body` with each record's sequence number, stored hash (when asked) and canonical bytes, in sequence
    /// order from `first`, a page at a time, until it returns false.
    static func forEachRecord(
        from first: Int64,
        withHashes: Bool,
        _ connection: PostgresConnection,
        _ body: (Int64, Data?, Data) throws -> Bool
    ) async throws {
        var after = first - 1
        while true {
            let rows =
                withHashes
                ? try await connection.run(
                    """
                    SELECT sequence, hash, record FROM audit_record WHERE sequence > \(after)
                    ORDER BY sequence LIMIT \(pageSize)
                    """
                )
                : try await connection.run(
                    """
                    SELECT sequence, NULL::bytea, record FROM audit_record WHERE sequence > \(after)
                    ORDER BY sequence LIMIT \(pageSize)
                    """
                )
            for row in rows {
                let (sequence, hash, bytes) = try row.decode((Int64, Data?, Data).self)
                guard try body(sequence, hash, bytes) else { return }
                after = sequence
            }
            guard Int64(rows.count) == pageSize else { return }
        }
    }

    /// Writes an export (see ``AuditTrail/Export``, the file `sealed audit export` writes) of the records from
    /// `sequence` on, with the digests that cover them, from one snapshot. A later start is moved back to just after
    /// the newest digest's head before it (record 1 when there is none), so the export carries the digest that
    /// vouches for its start.
    ///
    /// - Parameter publicKey: named in the export by its fingerprint (the verifier still needs the key itself).
    /// - Throws: ``Storage/AuditStoreError`` `databaseUnavailable`; ``AuditTrail/AuditError`` `fileSystem`. No file
    ///   is left behind.
    public func export(
        to file: URL,
        fromSequence sequence: Int64 = 1,
        publicKey: P256.Signing.PublicKey?
    ) async throws -> Export.Summary {
        let asked = max(1, sequence)
        return try await Self.reading {
            try await database.snapshot { connection in
                let anchor =
                    try await connection.run(
                        "SELECT max(head_sequence) FROM audit_digest WHERE head_sequence < \(asked)"
                    )
                    .first?.decode(Int64?.self) ?? 0
                let first = anchor + 1
                let digests = try await Self.digests(fromHead: anchor, connection)
                var writer = try Export.Writer(to: file, publicKey: publicKey, digests: digests, firstSequence: first)
                do {
                    try await Self.forEachRecord(from: first, withHashes: false, connection) { sequence, _, bytes in
                        try writer.append(canonicalBytes: bytes, sequence: sequence)
                        return true
                    }
                } catch {
                    writer.discard()
                    throw error
                }
                return try writer.finish()
            }
        }
    }
}
