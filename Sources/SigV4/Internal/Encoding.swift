/// Byte-level encodings of SigV4: `UriEncode`, percent-decoding, lowercase hex and ASCII case folding.
///
/// Everything works on UTF-8 bytes and appends to a caller's buffer, so building a canonical request costs
/// one growing array instead of a string per component.
enum Encoding {
    /// Whether `byte` is one of the characters `UriEncode` leaves alone: `A-Z a-z 0-9 - _ . ~`.
    ///
    /// Per "Create a signed AWS API request" (IAM User Guide), `UriEncode` encodes every other byte as `%XY`
    /// with upper-case hex digits, spaces as `%20` (never `+`).
    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let lowerHex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `UriEncode(bytes)`: every byte outside the unreserved set becomes `%XY`.
    static func appendPercentEncoded(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHex[Int(byte >> 4)])
                out.append(upperHex[Int(byte & 0x0F)])
            }
        }
    }

    /// `UriEncode(string)` as a string.
    static func percentEncoded(_ string: some StringProtocol) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count)
        appendPercentEncoded(string.utf8, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes with every `%XY` (two hex digits, either case) replaced by its byte.
    ///
    /// A `%` not followed by two hex digits stays a literal `%`, and `+` stays `+`: SigV4 query strings are
    /// RFC 3986 strings, not HTML form encoding.
    static func percentDecoded<C: Collection<UInt8>>(_ bytes: C) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                if first != bytes.endIndex {
                    let second = bytes.index(after: first)
                    if second != bytes.endIndex, let high = hexValue(bytes[first]), let low = hexValue(bytes[second]) {
                        out.append(high << 4 | low)
                        index = bytes.index(after: second)
                        continue
                    }
                }
            }
            out.append(byte)
            index = bytes.index(after: index)
        }
        return out
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Appends the lowercase hex of `bytes` (SigV4's `HexEncode`).
    static func appendLowercaseHex(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            out.append(lowerHex[Int(byte >> 4)])
            out.append(lowerHex[Int(byte & 0x0F)])
        }
    }

    static func lowercaseHex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        appendLowercaseHex(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes exactly 64 lowercase hex digits into 32 bytes, or `nil`.
    static func sha256FromLowercaseHex(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.count == 64 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var high: UInt8? = nil
        for byte in utf8 {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let pending = high {
                out.append(pending << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }

    @inline(__always)
    static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// Whether `name` equals `lowercaseName` ignoring ASCII case; `lowercaseName` must already be lowercase.
    static func equalsIgnoringASCIICase(
        _ name: some Collection<UInt8>,
        lowercase lowercaseName: some Collection<UInt8>
    )
        -> Bool
    {
        guard name.count == lowercaseName.count else { return false }
        return zip(name, lowercaseName).allSatisfy { asciiLowercased($0) == $1 }
    }

    /// Compares two byte strings without an early exit on the first difference.
    ///
    /// Lengths are compared first (a session token's length is not secret); equal-length inputs take the same
    /// time whatever their content.
    @inline(never)
    static func constantTimeEquals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) {
            difference |= left ^ right
        }
        return difference == 0
    }
}

extension Collection where Element == UInt8 {
    /// Calls `body` with each piece between `separator` bytes, empty pieces included, without allocating.
    @inline(__always)
    func forEachPiece<Failure: Error>(
        separatedBy separator: UInt8,
        _ body: (SubSequence) throws(Failure) -> Void
    ) throws(Failure) {
        var start = startIndex
        while true {
            var end = start
            while end != endIndex && self[end] != separator { formIndex(after: &end) }
            try body(self[start..<end])
            if end == endIndex { return }
            start = index(after: end)
        }
    }
}

extension Collection where Element == UInt8 {
    /// Whether one of the `;`-separated pieces equals `piece` (a `SignedHeaders` list naming a header).
    func containsPiece(_ piece: some Collection<UInt8>) -> Bool {
        var found = false
        forEachPiece(separatedBy: UInt8(ascii: ";")) { if !found, $0.elementsEqual(piece) { found = true } }
        return found
    }
}
