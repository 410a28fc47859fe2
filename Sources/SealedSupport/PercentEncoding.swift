/// RFC 3986 percent-encoding on UTF-8 bytes, as AWS's `UriEncode` writes it.
///
/// Every byte outside the unreserved set (`A-Z a-z 0-9 - _ . ~`) becomes `%XY` with uppercase hex digits, a space
/// `%20` (never `+`): SigV4's canonical URIs and query strings, the STS query protocol's form bodies and the
/// platform client's paths all write it so.
package enum PercentEncoding {
    /// Whether `byte` is an RFC 3986 unreserved character: `A-Z a-z 0-9 - _ . ~`.
    @inlinable @inline(__always)
    package static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Appends `bytes` with every byte outside the unreserved set as `%XY`.
    @inlinable
    package static func append(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(Hex.digit(byte >> 4, uppercase: true))
                out.append(Hex.digit(byte & 0x0F, uppercase: true))
            }
        }
    }

    /// `string` percent-encoded.
    @inlinable
    package static func encode(_ string: some StringProtocol) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count)
        append(string.utf8, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes with every `%XY` (two hex digits, either case) replaced by its byte.
    ///
    /// Lenient: a `%` not followed by two hex digits stays a literal `%`, and `+` stays `+` (RFC 3986, not HTML form
    /// encoding). See ``decodeStrictly(_:)`` for a decoder that refuses a bad escape.
    @inlinable
    package static func decode<C: Collection<UInt8>>(_ bytes: C) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                if first != bytes.endIndex {
                    let second = bytes.index(after: first)
                    if second != bytes.endIndex, let high = Hex.value(of: bytes[first]),
                        let low = Hex.value(of: bytes[second])
                    {
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

    /// The text with every `%XY` decoded, or `nil` when a `%` is not followed by two hex digits or the result is not
    /// UTF-8 (URL user info, say).
    package static func decodeStrictly(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(Hex.value(of:)),
                    let low = iterator.next().flatMap(Hex.value(of:))
                else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
