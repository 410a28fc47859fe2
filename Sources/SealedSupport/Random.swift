package import Foundation

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Musl)
    internal import Musl
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Random bytes, ids and tokens from the kernel's CSPRNG.
///
/// One `getentropy` call per 256 bytes: the standard library's generator makes a system call per 8 bytes and
/// Foundation's `UUID()` opens, reads and closes `/dev/urandom`; message ids, request ids and event ids are drawn for
/// every message and request, where those calls show. Falls back to the standard library's generator should
/// `getentropy` fail.
package enum Random {
    /// Fills `buffer` with random bytes.
    package static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            // getentropy gives at most 256 bytes per call.
            let count = min(256, buffer.count - offset)
            if getentropy(base + offset, count) != 0 {
                var generator = SystemRandomNumberGenerator()
                for index in offset..<(offset + count) { buffer[index] = generator.next() }
            }
            offset += count
        }
    }

    /// `count` random bytes.
    package static func bytes(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { bytes, initialized in
            fill(UnsafeMutableRawBufferPointer(bytes))
            initialized = count
        }
    }

    /// `count` random bytes as `Data`.
    package static func data(_ count: Int) -> Data {
        var data = Data(count: count)
        data.withUnsafeMutableBytes { fill($0) }
        return data
    }

    /// `byteCount` random bytes in lowercase hex (`2 * byteCount` characters).
    package static func hex(byteCount: Int) -> String {
        Hex.encode(bytes(byteCount))
    }

    /// A random (version 4, RFC 9562) UUID.
    package static func uuid() -> UUID {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            fill(raw)
            raw[6] = raw[6] & 0x0F | 0x40  // version 4
            raw[8] = raw[8] & 0x3F | 0x80  // RFC 9562 variant
        }
        return UUID(uuid: bytes)
    }

    /// `length` characters drawn uniformly from `alphabet` (at most 256 characters, ASCII), without modulo bias.
    package static func token(length: Int, alphabet: StaticString) -> String {
        precondition(
            alphabet.utf8CodeUnitCount <= 256 && alphabet.isASCII,
            "an ASCII alphabet of at most 256 characters"
        )
        let size = alphabet.utf8CodeUnitCount
        // The largest multiple of `size` that fits in a byte: bytes at or above it are drawn again.
        let limit = 256 / size * size
        return alphabet.withUTF8Buffer { characters in
            String(unsafeUninitializedCapacity: length) { output in
                var filled = 0
                while filled < length {
                    for byte in bytes(length - filled + 16) where Int(byte) < limit && filled < length {
                        output[filled] = characters[Int(byte) % size]
                        filled += 1
                    }
                }
                return length
            }
        }
    }
}
