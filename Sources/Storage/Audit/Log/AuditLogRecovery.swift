import AuditTrail
import Foundation
import Logging
import SealedSupport

/// What opening the log's directory found, after recovery.
struct AuditLogOpening {
    /// The segments, oldest first; at least one.
    var segments: [AuditSegment]
    /// The newest segment's length.
    var activeLength: Int
    var head: ChainHead
    var digests: [SignedDigest]
    var digestsLength: Int
}

/// Recovery at open: the log's newest segment (and `digests.log`) may end in a torn write — a frame cut short or
/// damaged by a crash during the write that held it, which therefore was never synced and never acknowledged.
///
/// The newest segment may also end in zeros: the space the writer preallocates ahead of its frames (``LogAuditStore``),
/// left by a crash. Zeros after the last valid frame are that free space, not a torn write: the segment opens with its
/// frames ending there and the zeros stay for the writer.
///
/// A torn tail is the bytes after the last whole frame with a valid checksum when no valid frame follows them (up to
/// the last byte that is not zero). Over preallocated zeros a crash can also leave a later page of the last batch
/// written and an earlier one not, so a valid frame may follow the torn one: such a stretch is a torn write too when
/// the damage before the first valid frame holds a 512-byte sector never written — all zeros from where the damage
/// starts (or from the sector's start) to the sector's end — and the stretch is no longer than one batch can be
/// (``LogAuditStore/maximumBatchBytes``). No valid frame holds such a sector: a payload is canonical JSON text, which
/// has no NUL byte. (The batch's first sector also holds the end of the frames before it, already synced; when its
/// write is lost, it holds them and zeros after them.) Torn bytes are copied to a quarantine file beside the segment
/// (`<segment>.torn-<unix time>`, mode 0600), the segment is cut to its last valid frame before them, and file and
/// directory are synced; a warning names the files (never their contents). When the torn frame's place is at or before
/// the head of the newest signed digest, it held an acknowledged record: opening is refused
/// (``AuditStoreError/Code/signedRecordDamaged``) and nothing is changed. Any other damaged frame that valid frames
/// follow is not a torn write: it is left as it is, the log opens at its real head, and `verify` names the damage.
enum AuditLogRecovery {
    static func open(_ directory: URL, logger: Logger) throws -> AuditLogOpening {
        try FileSystem.ensureDirectory(directory)
        let digestsURL = directory.appendingPathComponent(AuditLogFiles.digestsFileName)
        // Read first, cut last: a refusal below changes nothing.
        let (digests, digestsLength, cutDigests) = try recoverDigests(digestsURL, logger: logger)
        var segments = try AuditLogFiles.segments(in: directory)
        if segments.isEmpty {
            let first = AuditSegment(
                firstSequence: 1,
                url: directory.appendingPathComponent(AuditLogFiles.segmentName(firstSequence: 1))
            )
            _ = try AuditLogFile(first.url, writable: true)
            try AuditLogFile.syncDirectory(of: first.url)
            segments = [first]
        }
        let signedHead = digests.last?.digest.headSequence ?? 0
        let active = segments[segments.count - 1]
        let (activeLength, activeHead) = try recoverSegment(active, signedHead: signedHead, logger: logger)
        try cutDigests()
        var head = activeHead
        if head == nil, segments.count > 1 {
            head = try lastFrame(of: segments[segments.count - 2])
        }
        return AuditLogOpening(
            segments: segments,
            activeLength: activeLength,
            head: head ?? .empty,
            digests: digests,
            digestsLength: digestsLength
        )
    }

    /// Cuts a torn tail off the segment (see the type's discussion); returns its length and its last valid frame.
    private static func recoverSegment(
        _ segment: AuditSegment,
        signedHead: Int64,
        logger: Logger
    ) throws -> (Int, ChainHead?) {
        let file = try AuditLogFile(segment.url, writable: true)
        let bytes = try file.read(try file.length(), at: 0)
        let written = (bytes.lastIndex { $0 != 0 } ?? -1) + 1
        var last: ChainHead?
        var beforeDamage: (offset: Int, head: ChainHead?)?
        var position = 0
        let tornAt = bytes.withUnsafeBytes { bytes in
            AuditFrame.walk(bytes) { start, header, payload in
                if beforeDamage == nil, start != position { beforeDamage = (position, last) }
                position = start + header.frameLength
                last = ChainHead(sequence: header.sequence, hash: ChainHash.of(payload))
            }
        }
        if let damage = beforeDamage, written - damage.offset <= LogAuditStore.maximumBatchBytes,
            bytes.withUnsafeBytes({ Self.holdsUnwrittenSector($0, from: damage.offset) })
        {
            // A torn batch whose later page was written and an earlier one not.
            return try cut(file, segment, bytes[..<written], at: damage.offset, after: damage.head, signedHead, logger)
        }
        guard tornAt < written else { return (tornAt, last) }  // whole frames, perhaps zeros after them
        return try cut(file, segment, bytes[..<written], at: tornAt, after: last, signedHead, logger)
    }

    /// Whether the damaged bytes from `offset` up to the next valid frame hold a sector never written: a 512-byte
    /// sector ending before that frame whose bytes from `offset` (or from its start, when later) are all zeros.
    private static func holdsUnwrittenSector(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        let end = AuditFrame.nextValidFrame(bytes, after: offset) ?? bytes.count
        var sector = offset / 512 * 512
        while sector + 512 <= end {
            let damaged = UnsafeRawBufferPointer(rebasing: bytes[max(sector, offset)..<(sector + 512)])
            if damaged.allSatisfy({ $0 == 0 }) { return true }
            sector += 512
        }
        return false
    }

    /// Quarantines `bytes[tornAt...]` (the torn write: `bytes` ends at the segment's last byte that is not zero) and
    /// cuts the segment there, unless the torn record's place is covered by a signed digest; returns the new length and
    /// head.
    private static func cut(
        _ file: AuditLogFile,
        _ segment: AuditSegment,
        _ bytes: ArraySlice<UInt8>,
        at tornAt: Int,
        after last: ChainHead?,
        _ signedHead: Int64,
        _ logger: Logger
    ) throws -> (Int, ChainHead?) {
        let tornSequence = (last?.sequence ?? segment.firstSequence - 1) + 1
        guard tornSequence > signedHead else {
            throw AuditStoreError(
                .signedRecordDamaged,
                "\(segment.url.path) ends in a damaged frame at offset \(tornAt) where record \(tornSequence) belongs, "
                    + "at or before the head of the newest signed digest (\(signedHead)): an acknowledged record is "
                    + "damaged. Nothing was changed; run `sealed audit verify` and restore the file from a copy."
            )
        }
        let quarantine = try self.quarantine(Array(bytes[tornAt...]), beside: segment.url)
        try file.truncate(to: tornAt)
        try file.sync()
        try AuditLogFile.syncDirectory(of: segment.url)
        logger.warning(
            "The audit log ended in a torn write (a frame never acknowledged, cut short by a crash): cut off and kept",
            metadata: [
                "segment": "\(segment.url.path)", "offset": "\(tornAt)", "bytes": "\(bytes.count - tornAt)",
                "quarantine": "\(quarantine.path)",
            ]
        )
        return (tornAt, last)
    }

    /// Copies torn bytes to a new file `<name>.torn-<unix time>` beside `url` (a suffix added when taken).
    private static func quarantine(_ bytes: [UInt8], beside url: URL) throws -> URL {
        let base = url.path + ".torn-\(Int(Date().timeIntervalSince1970))"
        for attempt in 0..<100 {
            let target = URL(fileURLWithPath: attempt == 0 ? base : "\(base)-\(attempt)")
            do {
                try DurableFile.write(bytes, to: target, mode: 0o600, replacingExisting: false)
                return target
            } catch let error as FileSystemError where error.code == EEXIST {
                continue
            } catch {
                throw AuditStoreError(.writeFailed, "\(error)")
            }
        }
        throw AuditStoreError(.writeFailed, "Could not find a free quarantine name beside \(url.path).")
    }

    /// The last valid frame of a segment that is no longer written to.
    private static func lastFrame(of segment: AuditSegment) throws -> ChainHead? {
        let file = try AuditLogFile(segment.url, writable: false)
        let bytes = try file.read(try file.length(), at: 0)
        var last: ChainHead?
        bytes.withUnsafeBytes { bytes in
            _ = AuditFrame.walk(bytes) { _, header, payload in
                last = ChainHead(sequence: header.sequence, hash: ChainHash.of(payload))
            }
        }
        return last
    }

    /// Reads `digests.log` (creating it empty); returns its digests, its length without a torn tail, and the cut of
    /// that tail, as for segments (a digest is acknowledged only once synced, so a torn one was never relied on), for
    /// the caller to make once it knows it opens. Damaged digests that others follow stay, for `verify` to name.
    private static func recoverDigests(
        _ url: URL,
        logger: Logger
    ) throws -> ([SignedDigest], Int, () throws -> Void) {
        let file = try AuditLogFile(url, writable: true)
        let bytes = try file.read(try file.length(), at: 0)
        var digests: [SignedDigest] = []
        let tornAt = bytes.withUnsafeBytes { bytes in
            AuditFrame.walk(bytes) { _, _, payload in
                if let digest = try? SignedDigest(jsonValue: CanonicalJSON.parse(payload)) { digests.append(digest) }
            }
        }
        let cut = {
            guard tornAt < bytes.count else { return }
            let quarantine = try self.quarantine(Array(bytes[tornAt...]), beside: url)
            try file.truncate(to: tornAt)
            try file.sync()
            logger.warning(
                "The audit digest log ended in a torn write: cut off and kept",
                metadata: ["file": "\(url.path)", "offset": "\(tornAt)", "quarantine": "\(quarantine.path)"]
            )
        }
        return (digests, tornAt, cut)
    }
}
