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
    @inlinable
    package static func append(_ bytes: some Sequence<UInt8>, uppercase: Bool = false, to out: inout [UInt8]) {
        let digits = (uppercase ? uppercaseDigits : lowercaseDigits).utf8Start
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
    }

    /// The hex of `bytes`.
    @inlinable
    package static func encode(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
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
    @inlinable
    package static func decode(_ text: some StringProtocol, lowercaseOnly: Bool = false) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var high: UInt8? = nil
        for byte in utf8 {
            guard let nibble = value(of: byte),
                !(lowercaseOnly && byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
            else { return nil }
            if let pending = high {
                out.append(pending << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }
}
