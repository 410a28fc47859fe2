import AuditTrail
import Crypto
import Foundation
import SealedSupport

/// Reading the log itself, streaming, for `verify` and exports: the segments in order (the newest up to its synced
/// length), every frame's checksum checked, and `digests.log`. Never the index.
enum AuditLogReader {
    /// Verifies the records of `snapshot` in `directory` and the digests of `digests.log` (see
    /// ``LogAuditStore/verify(publicKey:anchor:unsignedLimit:)``).
    static func verify(
        _ directory: URL,
        _ snapshot: AuditLogSnapshot,
        publicKey: P256.Signing.PublicKey,
        anchor: SignedDigest?,
        unsignedLimit: Verifier.UnsignedLimit?
    ) throws -> VerificationReport {
        let (digests, digestProblem) = try readDigests(
            directory,
            length: snapshot.digestsLength,
            mayEndTorn: snapshot.mayEndTorn
        )
        var verifier = Verifier(publicKey: publicKey, digests: digests, start: .genesis, unsignedLimit: unsignedLimit)
        if let anchor { verifier.requireDigest(anchor, publicKey: publicKey) }
        var lastSequence: Int64 = 0
        var logProblem: VerificationProblem?
        segments: for (position, segment) in snapshot.segments.enumerated() {
            let name = segment.url.lastPathComponent
            if segment.firstSequence > lastSequence + 1 {
                logProblem = VerificationProblem(
                    .removedRecord,
                    sequence: lastSequence + 1,
                    "No segment holds records \(lastSequence + 1) to \(segment.firstSequence - 1): a segment was "
                        + "removed."
                )
                break
            }
            if segment.firstSequence <= lastSequence {
                logProblem = VerificationProblem(
                    .reorderedRecords,
                    sequence: segment.firstSequence,
                    "\(name) starts at record \(segment.firstSequence), within the segment before it (which ends at "
                        + "\(lastSequence)): segments overlap."
                )
                break
            }
            let file = try AuditLogFile(segment.url, writable: false)
            let limit = try snapshot.limit(of: position) ?? file.length()
            let mayEndTorn = snapshot.mayEndTorn && position == snapshot.segments.count - 1
            var badFrame: AuditFrameScanner.Frame?
            let end = try AuditFrameScanner.scan(file, limit: limit) { frame, payload in
                guard frame.valid else {
                    badFrame = frame
                    return false
                }
                lastSequence = frame.header.sequence
                return verifier.check(payload, storedSequence: frame.header.sequence)
            }
            if let badFrame {
                if mayEndTorn, try isTornTail(file, from: badFrame.offset, limit: limit) { break }
                logProblem = VerificationProblem(
                    .changedRecord,
                    sequence: badFrame.header.sequence,
                    "The frame of record \(badFrame.header.sequence) in \(name) (offset \(badFrame.offset)) fails its "
                        + "checksum: it was changed or damaged."
                )
                break
            }
            switch end {
            case .complete: continue
            case .stopped: break segments
            case .incomplete(let offset), .badHeader(let offset):
                if mayEndTorn, try isTornTail(file, from: offset, limit: limit) { break segments }
                logProblem = VerificationProblem(
                    .malformedRecord,
                    sequence: lastSequence + 1,
                    "\(name) holds bytes that are not a whole frame at offset \(offset), after record \(lastSequence)."
                )
                break segments
            }
        }
        var report = verifier.finish()
        if let logProblem, report.problem.map({ logProblem.sequence <= $0.sequence }) ?? true {
            report.problem = logProblem
        }
        if let digestProblem, report.problem.map({ digestProblem.sequence < $0.sequence }) ?? true {
            report.problem = digestProblem
        }
        return report
    }

    /// Whether no valid frame follows `offset` up to `limit`: the newest segment's end was torn by a crash (a write
    /// never acknowledged; the store cuts it at its next start) or is being written.
    private static func isTornTail(_ file: AuditLogFile, from offset: Int, limit: Int) throws -> Bool {
        let rest = try file.read(limit - offset, at: offset)
        return rest.withUnsafeBytes { AuditFrame.nextValidFrame($0, after: 0) == nil }
    }

    /// The digests of `digests.log` up to `length`, and the first problem with them: a damaged frame, or one that does
    /// not hold a signed digest (with `mayEndTorn`, a torn tail is not a problem: no digest in it was acknowledged).
    static func readDigests(
        _ directory: URL,
        length: Int?,
        mayEndTorn: Bool
    ) throws -> ([SignedDigest], VerificationProblem?) {
        let file = try AuditLogFile(directory.appendingPathComponent(AuditLogFiles.digestsFileName), writable: false)
        let bytes = try file.read(try length ?? file.length(), at: 0)
        var digests: [SignedDigest] = []
        var problem: VerificationProblem?
        bytes.withUnsafeBytes { bytes in
            var position = 0
            while position < bytes.count {
                guard case .frame(let header, let valid) = AuditFrame.read(bytes, at: position) else {
                    if !mayEndTorn || AuditFrame.nextValidFrame(bytes, after: position) != nil {
                        problem = VerificationProblem(
                            .brokenDigestChain,
                            sequence: digests.last?.digest.headSequence ?? 0,
                            "digests.log holds bytes that are not a whole frame at offset \(position)."
                        )
                    }
                    return
                }
                let payload = UnsafeRawBufferPointer(
                    rebasing: bytes[(position + AuditFrame.headerSize)..<(position + header.frameLength)]
                )
                let digest = try? SignedDigest(jsonValue: CanonicalJSON.parse(payload))
                guard valid, let digest else {
                    let last = position + header.frameLength == bytes.count
                    if mayEndTorn, !valid, last { return }  // a torn last digest
                    problem = VerificationProblem(
                        .badDigestSignature,
                        sequence: digest?.digest.headSequence ?? digests.last?.digest.headSequence ?? 0,
                        "Digest \(header.sequence) "
                            + (valid
                                ? "is not a well-formed signed digest." : "fails its frame checksum: it was changed.")
                    )
                    return
                }
                digests.append(digest)
                position += header.frameLength
            }
        }
        return (digests, problem)
    }

    /// Writes an export of the records from `sequence` on (see ``LogAuditStore/export(to:fromSequence:publicKey:)``).
    static func export(
        _ snapshot: AuditLogSnapshot,
        digests: [SignedDigest],
        to url: URL,
        fromSequence sequence: Int64,
        publicKey: P256.Signing.PublicKey?
    ) throws -> Export.Summary {
        let asked = max(1, sequence)
        let anchor = digests.map(\.digest.headSequence).filter { $0 < asked }.max() ?? 0
        let first = anchor + 1
        var writer = try Export.Writer(
            to: url,
            publicKey: publicKey,
            digests: digests.filter { $0.digest.headSequence >= first - 1 },
            firstSequence: first
        )
        do {
            for (position, segment) in snapshot.segments.enumerated() {
                if position + 1 < snapshot.segments.count, snapshot.segments[position + 1].firstSequence <= first {
                    continue
                }
                let file = try AuditLogFile(segment.url, writable: false)
                let end = try AuditFrameScanner.scan(file, limit: snapshot.limit(of: position)) { frame, payload in
                    guard frame.valid else {
                        throw AuditStoreError(
                            .corrupt,
                            "The frame of record \(frame.header.sequence) in \(segment.url.lastPathComponent) fails its "
                                + "checksum; run `sealed audit verify`."
                        )
                    }
                    if frame.header.sequence >= first {
                        try writer.append(canonicalBytes: payload, sequence: frame.header.sequence)
                    }
                    return true
                }
                guard end == .complete else {
                    throw AuditStoreError(
                        .corrupt,
                        "\(segment.url.lastPathComponent) holds bytes that are not a whole frame; run `sealed audit verify`."
                    )
                }
            }
        } catch {
            writer.discard()
            throw error
        }
        return try writer.finish()
    }
}
