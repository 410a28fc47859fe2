/// A bounds-checked big-endian reader over a byte buffer.
///
/// Every read checks the remaining length first, so a header that declares a huge length fails
/// without allocating what it declares. Running out of bytes throws ``ByteReader/Truncated``, which
/// lets a streaming parser tell "wait for more input" from "malformed".
struct ByteReader: ~Copyable {
    /// Thrown when the input ends before the value being read.
    struct Truncated: Error {}

    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws(Truncated) -> UInt8 {
        guard remaining >= 1 else { throw Truncated() }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(Truncated) -> UInt16 {
        guard remaining >= 2 else { throw Truncated() }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(Truncated) -> UInt32 {
        guard remaining >= 4 else { throw Truncated() }
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[offset + i]) }
        offset += 4
        return value
    }

    mutating func u64() throws(Truncated) -> UInt64 {
        guard remaining >= 8 else { throw Truncated() }
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return value
    }

    mutating func bytes(_ count: Int) throws(Truncated) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw Truncated() }
        defer { offset += count }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
    }

    /// A view of the next `count` bytes, valid as long as the underlying buffer.
    mutating func view(_ count: Int) throws(Truncated) -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw Truncated() }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    /// Bytes prefixed by a big-endian `u16` length.
    mutating func u16Prefixed() throws(Truncated) -> [UInt8] {
        let count = try u16()
        return try bytes(Int(count))
    }
}

extension Array where Element == UInt8 {
    mutating func appendU16(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendU32(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendU64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// Appends `u32 length ‖ bytes`.
    mutating func appendLengthPrefixed(_ bytes: [UInt8]) {
        appendU32(UInt32(bytes.count))
        append(contentsOf: bytes)
    }

    /// Appends `u16 length ‖ bytes`; the caller has checked that the length fits.
    mutating func appendU16Prefixed(_ bytes: some Collection<UInt8>) {
        appendU16(UInt16(bytes.count))
        append(contentsOf: bytes)
    }
}

/// Compares two byte sequences in time that depends only on their lengths.
func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}
