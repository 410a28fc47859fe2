import Foundation
import SealedSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The names in `DIR/audit/`.
enum AuditLogFiles {
    static let digestsFileName = "digests.log"
    static let indexFileName = "index.sqlite"
    private static let segmentPrefix = "segment-"
    private static let segmentSuffix = ".log"

    /// `segment-<first sequence, 20 digits>.log`.
    static func segmentName(firstSequence: Int64) -> String {
        let digits = String(firstSequence)
        return segmentPrefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + segmentSuffix
    }

    /// The first sequence number a segment's name carries, or `nil` for another file.
    static func firstSequence(ofSegmentNamed name: String) -> Int64? {
        guard name.hasPrefix(segmentPrefix), name.hasSuffix(segmentSuffix) else { return nil }
        let digits = name.dropFirst(segmentPrefix.count).dropLast(segmentSuffix.count)
        guard digits.count == 20, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int64(digits)
    }

    /// The segments in `directory`, in sequence order.
    static func segments(in directory: URL) throws -> [AuditSegment] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw AuditStoreError(.logUnavailable, "Could not list \(directory.path).")
        }
        return names.compactMap { name in
            firstSequence(ofSegmentNamed: name).map {
                AuditSegment(firstSequence: $0, url: directory.appendingPathComponent(name))
            }
        }
        .sorted { $0.firstSequence < $1.firstSequence }
    }
}

/// A segment file: the records from `firstSequence` on, as frames.
struct AuditSegment: Sendable, Hashable {
    var firstSequence: Int64
    var url: URL
}

/// An open file of the audit log, written at its end and read at offsets, with the POSIX calls' failures as
/// ``AuditStoreError`` (the path and `strerror`, never contents).
final class AuditLogFile {
    let url: URL
    private let descriptor: Int32

    /// Opens `url` for reading, or for reading and appending (`writable`; then created with mode 0600 when absent).
    init(_ url: URL, writable: Bool) throws {
        self.url = url
        let flags = writable ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC
        descriptor = open(url.path, flags, 0o600)
        guard descriptor >= 0 else { throw Self.failure(.logUnavailable, "open", url) }
        if writable {
            var info = stat()
            guard fstat(descriptor, &info) == 0, info.st_mode & 0o077 == 0 || fchmod(descriptor, 0o600) == 0 else {
                let error = Self.failure(.logUnavailable, "set the mode of", url)
                close(descriptor)
                throw error
            }
        }
    }

    deinit { close(descriptor) }

    /// The file's length.
    func length() throws -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.failure(.logUnavailable, "read the length of", url) }
        return Int(info.st_size)
    }

    /// Writes all of `bytes` at `offset` (looping over partial writes).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.failure(.writeFailed, "write", url)
            }
            done += written
        }
    }

    /// Makes the written bytes durable (`fdatasync`: the data and the length, not the times).
    func sync() throws {
        #if canImport(Darwin)
            let result = fsync(descriptor)
        #else
            let result = fdatasync(descriptor)
        #endif
        guard result == 0 else { throw Self.failure(.writeFailed, "sync", url) }
    }

    /// Cuts the file to `length` bytes.
    func truncate(to length: Int) throws {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw Self.failure(.writeFailed, "truncate", url) }
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (fewer only at the end of the file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.failure(.logUnavailable, "read", url)
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// `length` bytes at `offset`; fewer when the file ends before.
    func read(_ length: Int, at offset: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        let count = try bytes.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        bytes.removeLast(length - count)
        return bytes
    }

    /// Syncs the directory holding `url`, making a new name or a removal in it durable.
    static func syncDirectory(of url: URL) throws {
        let directory = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw failure(.writeFailed, "open", url.deletingLastPathComponent()) }
        defer { close(directory) }
        guard fsync(directory) == 0 else { throw failure(.writeFailed, "sync", url.deletingLastPathComponent()) }
    }

    static func failure(_ code: AuditStoreError.Code, _ action: String, _ url: URL) -> AuditStoreError {
        AuditStoreError(code, "Could not \(action) \(url.path): \(String(cString: strerror(errno))).")
    }
}

/// Reads a file's frames in order, a few MiB at a time, handing each payload to the caller in place.
struct AuditFrameScanner {
    /// How a scan ended.
    enum End: Equatable {
        /// At `limit` (or the end of the file), after whole frames.
        case complete
        /// The caller asked to stop.
        case stopped
        /// At `offset`, the bytes end before a frame does.
        case incomplete(offset: Int)
        /// At `offset`, the bytes are not a frame's header.
        case badHeader(offset: Int)
    }

    /// One frame: where it starts, its header, and whether its checksum matches.
    struct Frame {
        var offset: Int
        var header: AuditFrame.Header
        var valid: Bool
    }

    static let chunkSize = 4 << 20

    /// Calls `body` with each frame of `file` from `offset` up to `limit` bytes (the file's length when `nil`) and its
    /// payload; `body` returns whether to go on. Frames whose checksum fails are handed on too (`valid` false).
    static func scan(
        _ file: AuditLogFile,
        from offset: Int = 0,
        limit: Int? = nil,
        _ body: (Frame, UnsafeRawBufferPointer) throws -> Bool
    ) throws -> End {
        let end = try limit ?? file.length()
        var capacity = chunkSize
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var bufferOffset = offset  // the file offset of buffer[0]
        var filled = 0
        var position = 0
        while true {
            let view = UnsafeRawBufferPointer(rebasing: buffer[0..<filled])
            switch AuditFrame.read(view, at: position) {
            case .frame(let header, let valid):
                let payload = UnsafeRawBufferPointer(
                    rebasing: view[(position + AuditFrame.headerSize)..<(position + header.frameLength)]
                )
                let frame = Frame(offset: bufferOffset + position, header: header, valid: valid)
                guard try body(frame, payload) else { return .stopped }
                position += header.frameLength
            case .badHeader:
                return .badHeader(offset: bufferOffset + position)
            case .incomplete:
                let fileOffset = bufferOffset + filled
                if fileOffset >= end {
                    return position == filled ? .complete : .incomplete(offset: bufferOffset + position)
                }
                // Keep the partial frame, grow the buffer if one frame needs more, read on.
                let kept = filled - position
                var needed = AuditFrame.headerSize
                if kept >= 8 {
                    let length = UInt32(littleEndian: view.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self))
                    needed = AuditFrame.headerSize + min(Int(length), AuditFrame.maximumPayload)
                }
                if needed > capacity {
                    capacity = needed
                    let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
                    larger.copyMemory(from: UnsafeRawBufferPointer(rebasing: view[position..<filled]))
                    buffer.deallocate()
                    buffer = larger
                } else if kept > 0 {
                    buffer.baseAddress!.copyMemory(from: view.baseAddress! + position, byteCount: kept)
                }
                bufferOffset += position
                filled = kept
                position = 0
                let wanted = min(capacity - filled, end - (bufferOffset + filled))
                let count = try file.read(
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + wanted)]),
                    at: bufferOffset + filled
                )
                filled += count
                if count == 0 { return kept == 0 ? .complete : .incomplete(offset: bufferOffset) }
            }
        }
    }
}
