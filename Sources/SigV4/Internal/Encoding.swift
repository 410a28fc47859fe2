internal import SealedSupport

/// Byte-level helpers of SigV4 beside SealedSupport's `PercentEncoding` (`UriEncode`) and `Hex` (`HexEncode`):
/// the signature's hex, ASCII case folding and constant-time comparison.
///
/// Everything works on UTF-8 bytes, so building a canonical request costs one growing array instead of a string
/// per component.
enum Encoding {
    /// Decodes exactly 64 lowercase hex digits into 32 bytes, or `nil`.
    static func sha256FromLowercaseHex(_ text: some StringProtocol) -> [UInt8]? {
        guard text.utf8.count == 64 else { return nil }
        return Hex.decode(text, lowercaseOnly: true)
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
