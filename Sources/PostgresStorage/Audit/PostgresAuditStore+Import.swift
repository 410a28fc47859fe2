package import AuditTrail
package import Crypto
import Storage

/// Copying another store's trail into an empty database (`sealed admin migrate`).
extension PostgresAuditStore {
    /// Copies every record of `source`, a page at a time, each checked to keep its sequence number and hash (its exact
    /// bytes, see ``importRecords(_:)``), then every signed digest, and verifies the copy against `publicKey`.
    ///
    /// - Returns: the copy's verification (the caller compares it with the source's).
    /// - Throws: ``Storage/AuditStoreError`` `writeFailed` when this trail is not empty (nothing is written);
    ///   `corrupt` when a record would not be copied byte for byte; the source's errors.
    package func importTrail(
        from source: some AuditStore,
        publicKey: P256.Signing.PublicKey,
        pageSize: Int = 500
    ) async throws -> VerificationReport {
        guard try await chainHead() == .empty, try await latestDigest() == nil else {
            throw AuditStoreError(
                .writeFailed,
                "The audit trail in PostgreSQL is not empty; a trail is copied only into an empty database."
            )
        }
        var last: Int64 = 0
        while case let page = try await source.tail(after: last, limit: pageSize), let end = page.last {
            try await importRecords(page)
            last = end.sequence
        }
        for digest in try await source.digests() { try await appendDigest(digest) }
        return try await verify(publicKey: publicKey)
    }
}
