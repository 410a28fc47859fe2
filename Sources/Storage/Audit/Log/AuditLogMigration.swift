import AuditTrail
import Crypto
import Foundation
import Logging
import SealedSupport

/// Moves an `audit.sqlite` trail to the log at open, verified before and after, with one rename as the commit point.
///
/// 1. The old trail is verified with the signing key's public key (and the digest kept in `audit-head.json`); when it
///    does not verify, opening is refused (``AuditStoreError/Code/migrationRefused``) and nothing is changed.
/// 2. Its records (their canonical bytes, unchanged) and digests are written as frames into `audit.migrating/`, synced.
/// 3. That log is verified, and must end in the same head (sequence number and hash) with the same digests.
/// 4. `audit.migrating/` is renamed to `audit/`: the commit point. A crash before it leaves the old trail in charge;
///    the next start removes the leftover directory and migrates again.
/// 5. `audit.sqlite` is renamed to `audit.sqlite.migrated` (kept: it may be deleted once the log verifies and a newer
///    digest than its last has been signed — or kept as a copy).
enum AuditLogMigration {
    static let migratingDirectoryName = "audit.migrating"

    static func migrateIfNeeded(
        from database: URL,
        to log: URL,
        publicKey: P256.Signing.PublicKey,
        anchor: SignedDigest?,
        logger: Logger
    ) throws {
        let temporary = log.deletingLastPathComponent().appendingPathComponent(migratingDirectoryName)
        if FileSystem.exists(temporary) { try remove(temporary) }
        guard FileSystem.exists(database), !FileSystem.exists(log) else { return }
        let source = try SQLiteAuditStore(at: database)
        defer { try? source.close() }
        let before = try source.verifyNow(publicKey: publicKey, anchor: anchor)
        guard before.isValid else {
            throw AuditStoreError(
                .migrationRefused,
                "\(database.path) does not verify, so it was not moved to the audit log: \(before). Nothing was "
                    + "changed; run `sealed audit verify --data-dir` and restore the trail from a copy."
            )
        }
        do {
            try FileSystem.ensureDirectory(temporary)
            let (head, digests) = try copy(source, into: temporary)
            try check(temporary, head: head, digests: digests, publicKey: publicKey, anchor: anchor)
        } catch {
            try? remove(temporary)
            if let error = error as? AuditStoreError, error.code == .migrationRefused { throw error }
            throw AuditStoreError(
                .migrationRefused,
                "\(database.path) could not be moved to the audit log: \(error). Nothing was changed."
            )
        }
        // The commit point.
        try rename(temporary, log)
        let migrated = FileSystem.databaseFiles(database.appendingPathExtension("migrated"))
        for (file, kept) in zip(FileSystem.databaseFiles(database), migrated) where FileSystem.exists(file) {
            try rename(file, kept)
        }
        logger.notice(
            "The audit trail was moved from SQLite to the append-only log, verified before and after",
            metadata: [
                "records": "\(before.lastSequence ?? 0)", "digests": "\(before.digestsChecked)",
                "log": "\(log.path)", "kept": "\(database.path).migrated",
            ]
        )
    }

    /// Writes the old trail's records and digests as frames into `directory`, synced; returns its head and digests.
    private static func copy(_ source: SQLiteAuditStore, into directory: URL) throws -> (ChainHead, [SignedDigest]) {
        let first = directory.appendingPathComponent(AuditLogFiles.segmentName(firstSequence: 1))
        var writer = try SegmentWriter(
            file: AuditLogFile(first, writable: true),
            segment: AuditSegment(firstSequence: 1, url: first),
            length: 0,
            preallocation: 0
        )
        var buffer: [UInt8] = []
        var bufferFirst: Int64 = 1
        var head = ChainHead.empty
        func flush() throws {
            guard !buffer.isEmpty else { return }
            _ = try writer.append(
                buffer,
                firstSequence: bufferFirst,
                rollSize: LogAuditStore.defaultRollSize,
                directory: directory,
                failing: nil
            )
            buffer.removeAll(keepingCapacity: true)
        }
        let digests = try source.copyNow { sequence, bytes in
            if buffer.isEmpty { bufferFirst = sequence }
            AuditFrame.append(payload: bytes, sequence: sequence, to: &buffer)
            head = ChainHead(sequence: sequence, hash: ChainHash.of(bytes))
            if buffer.count >= 1 << 20 { try flush() }
        }
        try flush()
        var frames: [UInt8] = []
        for digest in digests {
            CanonicalJSON.encode(digest.jsonValue).withUnsafeBytes {
                AuditFrame.append(payload: $0, sequence: digest.digest.digestSequence, to: &frames)
            }
        }
        let digestsFile = try AuditLogFile(
            directory.appendingPathComponent(AuditLogFiles.digestsFileName),
            writable: true
        )
        try frames.withUnsafeBytes { try digestsFile.write($0, at: 0) }
        try digestsFile.sync()
        try AuditLogFile.syncDirectory(of: first)
        return (head, digests)
    }

    /// Verifies the new log and compares it with the old trail.
    private static func check(
        _ directory: URL,
        head: ChainHead,
        digests: [SignedDigest],
        publicKey: P256.Signing.PublicKey,
        anchor: SignedDigest?
    ) throws {
        let report = try LogAuditStore.verify(directory: directory, publicKey: publicKey, anchor: anchor)
        let store = try LogAuditStore(directory: directory)
        defer { try? store.close() }
        let (newHead, newDigests) = try store.openState { ($0.head, $0.digests) }
        guard report.isValid, newHead == head, newDigests == digests else {
            throw AuditStoreError(
                .migrationRefused,
                "The audit log written from the SQLite trail does not match it (\(report); head \(newHead.sequence) "
                    + "against \(head.sequence)). Nothing was changed."
            )
        }
    }

    private static func rename(_ from: URL, _ to: URL) throws {
        do {
            try FileManager.default.moveItem(at: from, to: to)
            try AuditLogFile.syncDirectory(of: to)
        } catch let error as AuditStoreError {
            throw error
        } catch {
            throw AuditStoreError(.writeFailed, "Could not rename \(from.path) to \(to.lastPathComponent).")
        }
    }

    private static func remove(_ url: URL) throws {
        do {
            try FileManager.default.removeItem(at: url)
        } catch {
            throw AuditStoreError(.writeFailed, "Could not remove \(url.path), left by an interrupted migration.")
        }
    }
}
