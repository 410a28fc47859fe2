import Foundation
import SealedSupport

/// One record, or one signed digest, in the audit log's files: a 20-byte header and the payload.
///
/// | offset | size | field |
/// | ---: | ---: | --- |
/// | 0 | 4 | magic and format version: the bytes `53 4C 47 01` (`SLG`, version 1) |
/// | 4 | 4 | payload length *n*, unsigned, little-endian; at most 16 MiB |
/// | 8 | 8 | sequence number, signed, little-endian: the record's `sequenceNumber`, or the digest's `digestSequence` |
/// | 16 | 4 | CRC-32C (``SealedSupport/CRC32C``) of bytes 0–15 followed by the payload, little-endian |
/// | 20 | *n* | payload |
///
/// A record's payload is exactly its canonical bytes (``AuditTrail/ChainedRecordEncoder``): the bytes its hash is
/// computed over, an export's elements and what the SQLite store kept. A digest's payload is the canonical JSON of the
/// signed digest. Frames follow each other with nothing between them; a segment file is a sequence of frames.
///
/// The checksum catches torn and damaged writes, not forgery: anyone can recompute it. Forgery is the hash chain's
/// and the signed digests' business.
enum AuditFrame {
    /// The first four bytes of every frame, as a little-endian word (`53 4C 47 01` in the file).
    static let magic: UInt32 = 0x0147_4C53
    /// The header's size: magic, length, sequence number, checksum.
    static let headerSize = 20
    /// The largest payload a frame may hold; a longer length is a damaged header.
    static let maximumPayload = 16 << 20

    /// Appends the frame of `payload` at `sequence` to `buffer`.
    static func append(payload: UnsafeRawBufferPointer, sequence: Int64, to buffer: inout [UInt8]) {
        precondition(payload.count <= maximumPayload, "an audit frame's payload is at most 16 MiB")
        var header = (magic.littleEndian, UInt32(payload.count).littleEndian, UInt64(bitPattern: sequence).littleEndian)
        let checksum = withUnsafeBytes(of: &header) { header in
            CRC32C.checksum(payload, continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[0..<16])))
        }
        withUnsafeBytes(of: &header) { buffer.append(contentsOf: $0[0..<16]) }
        withUnsafeBytes(of: checksum.littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: payload)
    }

    /// The frame of `payload` at `sequence`.
    static func encode(payload: some ContiguousBytes, sequence: Int64) -> [UInt8] {
        var buffer: [UInt8] = []
        payload.withUnsafeBytes { append(payload: $0, sequence: sequence, to: &buffer) }
        return buffer
    }

    /// A frame's header, read.
    struct Header: Sendable, Hashable {
        /// The payload's length.
        var length: Int
        var sequence: Int64
        /// The checksum the header holds.
        var checksum: UInt32

        /// The whole frame's length.
        var frameLength: Int { AuditFrame.headerSize + length }
    }

    /// What is at an offset of a buffer.
    enum Read {
        /// A whole frame; `valid` when its checksum matches.
        case frame(Header, valid: Bool)
        /// The bytes end before the frame does (fewer than a header, or than the length it names).
        case incomplete
        /// Not a frame's header: another magic, or a length beyond ``maximumPayload``.
        case badHeader
    }

    /// Reads the frame that starts at `offset` of `bytes`.
    static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Read {
        guard bytes.count - offset >= headerSize else { return .incomplete }
        let base = bytes.baseAddress! + offset
        guard UInt32(littleEndian: base.loadUnaligned(as: UInt32.self)) == magic else { return .badHeader }
        let length = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard length <= maximumPayload else { return .badHeader }
        let header = Header(
            length: length,
            sequence: Int64(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self))),
            checksum: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        )
        guard bytes.count - offset >= header.frameLength else { return .incomplete }
        let computed = CRC32C.checksum(
            UnsafeRawBufferPointer(start: base + headerSize, count: length),
            continuing: CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: 16))
        )
        return .frame(header, valid: computed == header.checksum)
    }

    /// Where the first whole frame with a valid checksum starts in `bytes` after `offset`, or `nil` when none does.
    static func nextValidFrame(_ bytes: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        var position = offset + 1
        while position + headerSize <= bytes.count {
            if case .frame(_, valid: true) = read(bytes, at: position) { return position }
            position += 1
        }
        return nil
    }

    /// Walks the frames of `bytes` (a whole file), handing each valid one to `body` with its offset, stepping over
    /// damaged frames that valid frames follow; returns where the torn tail begins: the offset after which no valid
    /// frame follows (the end, when the bytes end in a whole valid frame).
    static func walk(_ bytes: UnsafeRawBufferPointer, _ body: (Int, Header, UnsafeRawBufferPointer) -> Void) -> Int {
        var position = 0
        while position < bytes.count {
            if case .frame(let header, valid: true) = read(bytes, at: position) {
                body(
                    position,
                    header,
                    UnsafeRawBufferPointer(rebasing: bytes[(position + headerSize)..<(position + header.frameLength)])
                )
                position += header.frameLength
            } else if let next = nextValidFrame(bytes, after: position) {
                position = next
            } else {
                return position
            }
        }
        return position
    }
}
