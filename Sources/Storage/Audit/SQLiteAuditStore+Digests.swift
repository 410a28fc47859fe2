public import AuditTrail
public import Foundation
import GRDB

/// The chain head and the signed digests: the `audit_digest` table, appended to in digest order.
extension SQLiteAuditStore {
    public func chainHead() async throws -> ChainHead {
        try await read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT sequence, hash FROM audit_record ORDER BY sequence DESC LIMIT 1"
                )
            else { return .empty }
            guard let hash = Self.blob(row, 1).flatMap({ ChainHash(bytes: $0) }) else {
                throw AuditStoreError(.corrupt, "The newest audit record's stored hash is not 32 bytes.")
            }
            return ChainHead(sequence: row[0], hash: hash)
        }
    }

    /// The hash of the record stored at `sequence`, computed from its bytes (not the column beside it).
    public func recordHash(at sequence: Int64) async throws -> Data? {
        try await tail(after: sequence - 1, limit: 1).first.flatMap { $0.sequence == sequence ? $0.hash.data : nil }
    }

    public func latestDigest() async throws -> SignedDigest? {
        try await read { db in
            try String.fetchOne(
                db,
                sql: "SELECT digest FROM audit_digest ORDER BY digest_sequence DESC LIMIT 1"
            )
            .map(Self.decodeDigest)
        }
    }

    public func appendDigest(_ digest: SignedDigest) async throws {
        let text = String(decoding: CanonicalJSON.encode(digest.jsonValue), as: UTF8.self)
        let url = self.url
        do {
            try await pool.write { db in
                let latest =
                    try Int64.fetchOne(db, sql: "SELECT MAX(digest_sequence) FROM audit_digest") ?? 0
                guard digest.digest.digestSequence == latest + 1 else {
                    throw AuditStoreError(
                        .digestConflict,
                        "Digest \(digest.digest.digestSequence) does not follow the latest digest (\(latest))."
                    )
                }
                try db.execute(
                    sql: "INSERT INTO audit_digest (digest_sequence, head_sequence, digest) VALUES (?, ?, ?)",
                    arguments: [digest.digest.digestSequence, digest.digest.headSequence, text]
                )
            }
        } catch let error as AuditStoreError {
            throw error
        } catch {
            throw AuditStoreError.writeFailed(url, error)
        }
    }

    public func digests() async throws -> [SignedDigest] {
        try await read { db in try Self.fetchDigests(db, fromHead: 0) }
    }

    static func fetchDigests(_ db: Database, fromHead head: Int64) throws -> [SignedDigest] {
        try String.fetchAll(
            db,
            sql: "SELECT digest FROM audit_digest WHERE head_sequence >= ? ORDER BY digest_sequence",
            arguments: [head]
        )
        .map(decodeDigest)
    }

    static func decodeDigest(_ text: String) throws -> SignedDigest {
        try SignedDigest(jsonValue: CanonicalJSON.parse(Array(text.utf8)))
    }
}
