/// Hexadecimal (RFC 4648 §8, "base16") on bytes: lowercase by default, as SigV4's `HexEncode`, ids and digests write it.
package enum Hex {
    /// The lowercase digits.
    @usableFromInline static let lowercaseDigits: StaticString = "0123456789abcdef"
    /// The uppercase digits.
    @usableFromInline static let uppercaseDigits: StaticString = "0123456789ABCDEF"

    /// The digit of `value` (0...15).
    @inlinable @inline(__always)
    package static func digit(_ value: UInt8, uppercase: Bool = false) -> UInt8 {
        (uppercase ? uppercaseDigits : lowercaseDigits).utf8Start[Int(value & 0x0F)]
    }

    /// Appends the two hex digits of each byte of `bytes`.
    ///
    /// The hex helpers do their byte work in these non-generic functions over raw buffers: a generic helper of this
    /// module runs unspecialized in the modules that call it (one witness-table call per byte, measured at 6 % of a
    /// Decrypt's instructions), so the generic forms below only find the bytes' buffer and call these.
    package static func append(_ bytes: UnsafeRawBufferPointer, uppercase: Bool = false, to out: inout [UInt8]) {
        let digits = (uppercase ? uppercaseDigits : lowercaseDigits).utf8Start
        out.reserveCapacity(out.count + 2 * bytes.count)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
    }

    /// Appends the two hex digits of each byte of `bytes`: a digest, a `[UInt8]`, `Data`.
    @inlinable
    package static func append(_ bytes: some Sequence<UInt8>, uppercase: Bool = false, to out: inout [UInt8]) {
        let done: Void? = bytes.withContiguousStorageIfAvailable {
            append(UnsafeRawBufferPointer($0), uppercase: uppercase, to: &out)
        }
        if done != nil { return }
        append(Array(bytes), uppercase: uppercase, to: &out)
    }

    /// The hex of `bytes`.
    package static func encode(_ bytes: UnsafeRawBufferPointer, uppercase: Bool = false) -> String {
        var out: [UInt8] = []
        append(bytes, uppercase: uppercase, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The hex of `bytes`.
    @inlinable
    package static func encode(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) -> String {
        var out: [UInt8] = []
        append(bytes, uppercase: uppercase, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The value of a hex digit of either case, or `nil`.
    @inlinable @inline(__always)
    package static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The bytes of an even number of hex digits; `nil` for anything else (an odd count, a non-digit, and an
    /// uppercase digit when `lowercaseOnly`, so a canonical lowercase text has exactly one decoding).
    package static func decode(_ utf8: UnsafeBufferPointer<UInt8>, lowercaseOnly: Bool = false) -> [UInt8]? {
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            let (first, second) = (utf8[index], utf8[index + 1])
            guard let high = value(of: first), let low = value(of: second),
                !(lowercaseOnly && (isUppercaseDigit(first) || isUppercaseDigit(second)))
            else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// The bytes of an even number of hex digits; see ``decode(_:lowercaseOnly:)-(UnsafeBufferPointer<UInt8>,_)``.
    @inlinable
    package static func decode(_ text: some StringProtocol, lowercaseOnly: Bool = false) -> [UInt8]? {
        if let decoded = text.utf8.withContiguousStorageIfAvailable({ decode($0, lowercaseOnly: lowercaseOnly) }) {
            return decoded
        }
        return Array(text.utf8).withUnsafeBufferPointer { decode($0, lowercaseOnly: lowercaseOnly) }
    }

    private static func isUppercaseDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F")
    }
}
