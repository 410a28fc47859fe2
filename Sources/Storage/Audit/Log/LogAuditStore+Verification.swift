public import AuditTrail
public import Crypto
public import Foundation
import SealedSupport
import Synchronization

/// The digest log, `verify` and exports.
extension LogAuditStore {
    public func latestDigest() async throws -> SignedDigest? {
        try openState { $0.digests.last }
    }

    public func digests() async throws -> [SignedDigest] {
        try openState { $0.digests }
    }

    /// Appends the digest's frame to `digests.log` and syncs it before returning.
    ///
    /// - Throws: ``AuditStoreError`` `digestConflict` when it does not follow the latest digest; `writeFailed`.
    public func appendDigest(_ digest: SignedDigest) async throws {
        let frame = AuditFrame.encode(
            payload: CanonicalJSON.encode(digest.jsonValue),
            sequence: digest.digest.digestSequence
        )
        try await Self.offThePool {
            try self.digestWriter.withLock { file in
                let (latest, length) = try self.openState {
                    ($0.digests.last?.digest.digestSequence ?? 0, $0.digestsLength)
                }
                guard digest.digest.digestSequence == latest + 1 else {
                    throw AuditStoreError(
                        .digestConflict,
                        "Digest \(digest.digest.digestSequence) does not follow the latest digest (\(latest))."
                    )
                }
                do {
                    try frame.withUnsafeBytes { try file.write($0, at: length) }
                    try file.sync()
                } catch {
                    try? file.truncate(to: length)
                    throw error
                }
                self.state.withLock {
                    $0.digests.append(digest)
                    $0.digestsLength = length + frame.count
                }
            }
        }
    }

    /// Verifies the whole chain and every digest against `publicKey`, reading the log itself (not the index):
    /// the durable records at the call, streaming.
    ///
    /// Besides the chain (see ``Verifier``), every frame's checksum is checked (a failing one is
    /// ``AuditTrail/VerificationProblem/Kind/changedRecord`` at its record), each frame's sequence number must be its
    /// record's, and the segments must follow each other without gap (a segment removed:
    /// ``AuditTrail/VerificationProblem/Kind/removedRecord``) or overlap.
    ///
    /// - Parameters:
    ///   - anchor: the newest digest as kept outside the store (``FileDigestAnchor``), which must be among the
    ///     store's digests; `nil` when there is none.
    ///   - unsignedLimit: how old a record no digest covers may be; `nil` does not check.
    /// - Throws: ``AuditStoreError`` `logUnavailable` when a file cannot be read. Problems with the records or digests
    ///   are the report's ``VerificationReport/problem``.
    public func verify(
        publicKey: P256.Signing.PublicKey,
        anchor: SignedDigest? = nil,
        unsignedLimit: Verifier.UnsignedLimit? = nil
    ) async throws -> VerificationReport {
        let snapshot = try openState { $0.snapshot }
        let directory = self.directory
        return try await Self.offThePool {
            try AuditLogReader.verify(
                directory,
                snapshot,
                publicKey: publicKey,
                anchor: anchor,
                unsignedLimit: unsignedLimit
            )
        }
    }

    /// Verifies the log in `directory` without opening it as a store: nothing is written (no recovery, no index), so
    /// it may run beside a server that writes the log. A torn or unfinished last frame of the newest segment is not a
    /// problem (it was never acknowledged; recovery or the writer deals with it).
    public static func verify(
        directory: URL,
        publicKey: P256.Signing.PublicKey,
        anchor: SignedDigest? = nil,
        unsignedLimit: Verifier.UnsignedLimit? = nil
    ) throws -> VerificationReport {
        let segments = try AuditLogFiles.segments(in: directory)
        let newest = try segments.last.map { try AuditLogFile($0.url, writable: false).length() } ?? 0
        let digests = try AuditLogFile(
            directory.appendingPathComponent(AuditLogFiles.digestsFileName),
            writable: false
        ).length()
        return try AuditLogReader.verify(
            directory,
            AuditLogSnapshot(segments: segments, activeLength: newest, digestsLength: digests, mayEndTorn: true),
            publicKey: publicKey,
            anchor: anchor,
            unsignedLimit: unsignedLimit
        )
    }

    /// Writes an export (see ``AuditTrail/Export``) of the records from `sequence` on, with the digests that cover
    /// them, reading the log itself. A later start is moved back to just after the newest digest's head before it
    /// (record 1 when there is none), so the export carries the digest that vouches for its start.
    ///
    /// - Throws: ``AuditStoreError`` `corrupt` when a frame is damaged (`sealed audit verify` names it),
    ///   `logUnavailable`; ``AuditError`` `fileSystem`. No file is left behind.
    public func export(
        to file: URL,
        fromSequence sequence: Int64 = 1,
        publicKey: P256.Signing.PublicKey?
    ) async throws -> Export.Summary {
        let (snapshot, digests) = try openState { ($0.snapshot, $0.digests) }
        return try await Self.offThePool {
            try AuditLogReader.export(
                snapshot,
                digests: digests,
                to: file,
                fromSequence: sequence,
                publicKey: publicKey
            )
        }
    }

    /// Reads the state; throws once the store is closed.
    func openState<T>(_ body: (LogState) throws -> T) throws -> T {
        try state.withLock { state in
            guard !state.closed else { throw AuditStoreError(.logUnavailable, "The audit log is closed.") }
            return try body(state)
        }
    }

    /// Runs blocking file work on a dispatch queue, not on Swift's cooperative threads.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
