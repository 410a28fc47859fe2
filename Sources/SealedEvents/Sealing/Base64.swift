/// Base64 (RFC 4648 §4, the standard alphabet with padding) for the sealed ESDK messages in envelopes.
///
/// Encoding writes what Foundation's `base64EncodedString()` writes. Decoding is strict, and stricter than
/// Foundation's `Data(base64Encoded:)`: only the canonical encoding of some bytes is accepted — a length that is
/// a multiple of four, alphabet characters only, `=` only as the last one or two characters, and zero bits
/// where the last character holds padding bits. Foundation also accepts e.g. `AB==` (non-zero padding bits),
/// `====` and `AA=A`; we refuse them, so no two envelope strings carry the same message.
enum Base64 {
    /// The standard alphabet.
    private static let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    /// The 6-bit value of each byte, or `0xFF` for a byte outside the alphabet (`=` included).
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        alphabet.withUTF8Buffer { characters in
            for (value, character) in characters.enumerated() { table[Int(character)] = UInt8(value) }
        }
        return table
    }()

    /// Why a text is not base64.
    struct DecodingError: Error, Equatable {
        enum Reason: Equatable {
            /// The length is not a multiple of four.
            case length
            /// A character outside the alphabet, or `=` anywhere but in the last two places.
            case character(offset: Int)
            /// The last character holds padding bits that are not zero.
            case nonCanonical
        }

        let reason: Reason
    }

    /// The base64 text of `bytes`.
    static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { encode($0) }
    }

    /// The base64 text of `bytes`.
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let length = (bytes.count + 2) / 3 * 4
        guard length > 0 else { return "" }
        return alphabet.withUTF8Buffer { characters in
            String(unsafeUninitializedCapacity: length) { out in
                var input = 0
                var output = 0
                while input + 3 <= bytes.count {
                    let word = UInt32(bytes[input]) << 16 | UInt32(bytes[input + 1]) << 8 | UInt32(bytes[input + 2])
                    out[output] = characters[Int(word >> 18)]
                    out[output + 1] = characters[Int(word >> 12 & 0x3F)]
                    out[output + 2] = characters[Int(word >> 6 & 0x3F)]
                    out[output + 3] = characters[Int(word & 0x3F)]
                    input += 3
                    output += 4
                }
                switch bytes.count - input {
                case 1:
                    let word = UInt32(bytes[input]) << 16
                    out[output] = characters[Int(word >> 18)]
                    out[output + 1] = characters[Int(word >> 12 & 0x3F)]
                    out[output + 2] = UInt8(ascii: "=")
                    out[output + 3] = UInt8(ascii: "=")
                    output += 4
                case 2:
                    let word = UInt32(bytes[input]) << 16 | UInt32(bytes[input + 1]) << 8
                    out[output] = characters[Int(word >> 18)]
                    out[output + 1] = characters[Int(word >> 12 & 0x3F)]
                    out[output + 2] = characters[Int(word >> 6 & 0x3F)]
                    out[output + 3] = UInt8(ascii: "=")
                    output += 4
                default:
                    break
                }
                return output
            }
        }
    }

    /// The bytes of a canonical base64 text.
    ///
    /// - Throws: ``DecodingError`` for anything but the canonical encoding of some bytes.
    static func decode(_ text: String) throws(DecodingError) -> [UInt8] {
        var text = text
        let result = text.withUTF8 { utf8 in Result { () throws(DecodingError) in try decode(utf8) } }
        return try result.get()
    }

    /// The bytes of a canonical base64 text given as its UTF-8 bytes.
    ///
    /// - Throws: ``DecodingError`` for anything but the canonical encoding of some bytes.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) throws(DecodingError) -> [UInt8] {
        guard text.count % 4 == 0 else { throw DecodingError(reason: .length) }
        guard text.count > 0 else { return [] }
        var padding = 0
        if text[text.count - 1] == UInt8(ascii: "=") {
            padding = text[text.count - 2] == UInt8(ascii: "=") ? 2 : 1
        }
        let length = text.count / 4 * 3 - padding
        // The groups before the last have no padding; the last is decoded apart.
        let fullGroups = padding == 0 ? text.count / 4 : text.count / 4 - 1
        var failure: DecodingError? = nil
        let bytes = values.withUnsafeBufferPointer { values in
            [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
                var input = 0
                var output = 0
                for _ in 0..<fullGroups {
                    let a = values[Int(text[input])]
                    let b = values[Int(text[input + 1])]
                    let c = values[Int(text[input + 2])]
                    let d = values[Int(text[input + 3])]
                    // Each value is below 64, or 0xFF for a byte outside the alphabet.
                    guard (a | b | c | d) & 0xC0 == 0 else {
                        let offset = [a, b, c, d].firstIndex(of: 0xFF).map { input + $0 } ?? input
                        failure = DecodingError(reason: .character(offset: offset))
                        initialized = output
                        return
                    }
                    let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[output] = UInt8(truncatingIfNeeded: word >> 16)
                    out[output + 1] = UInt8(truncatingIfNeeded: word >> 8)
                    out[output + 2] = UInt8(truncatingIfNeeded: word)
                    input += 4
                    output += 3
                }
                if padding > 0 {
                    let a = values[Int(text[input])]
                    let b = values[Int(text[input + 1])]
                    let c = padding == 1 ? values[Int(text[input + 2])] : 0
                    for (position, value) in [a, b, c].enumerated() where value == 0xFF {
                        failure = DecodingError(reason: .character(offset: input + position))
                        initialized = output
                        return
                    }
                    let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                    // RFC 4648 §3.5: the bits the last character holds beyond the data must be zero.
                    guard word & (padding == 2 ? 0xFFFF : 0xFF) == 0 else {
                        failure = DecodingError(reason: .nonCanonical)
                        initialized = output
                        return
                    }
                    out[output] = UInt8(truncatingIfNeeded: word >> 16)
                    output += 1
                    if padding == 1 {
                        out[output] = UInt8(truncatingIfNeeded: word >> 8)
                        output += 1
                    }
                }
                initialized = output
            }
        }
        if let failure { throw failure }
        return bytes
    }
}
