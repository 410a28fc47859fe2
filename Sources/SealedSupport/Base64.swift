package import Foundation

/// Base64 (RFC 4648 §4, the standard alphabet with padding): sealed ESDK messages in envelopes, digests' signatures,
/// access keys and the root key file.
///
/// Encoding writes what Foundation's `base64EncodedString()` writes. Decoding is strict, and stricter than
/// Foundation's `Data(base64Encoded:)`: only the canonical encoding of some bytes is accepted — a length that is
/// a multiple of four, alphabet characters only, `=` only as the last one or two characters, and zero bits
/// where the last character holds padding bits. Foundation also accepts e.g. `AB==` (non-zero padding bits),
/// `====` and `AA=A`; we refuse them, so no two envelope strings carry the same message.
package enum Base64 {
    /// The standard alphabet.
    private static let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    /// The two characters of each 12-bit value, first character in the low byte.
    private static let pairs: [UInt16] = alphabet.withUTF8Buffer { characters in
        (0..<4096).map { UInt16(characters[$0 >> 6]) | UInt16(characters[$0 & 0x3F]) << 8 }
    }

    /// Bit 24, set in ``decodeTables`` for a byte outside the alphabet (`=` included).
    private static let invalid: UInt32 = 0x0100_0000

    /// For each of the four places of a group, each byte's 6-bit value shifted into its place in the 24-bit
    /// group, or ``invalid``: a group decodes with four lookups and one check.
    private static let decodeTables: [UInt32] = alphabet.withUTF8Buffer { characters in
        var tables = [UInt32](repeating: invalid, count: 4 * 256)
        for (value, character) in characters.enumerated() {
            for place in 0..<4 { tables[place * 256 + Int(character)] = UInt32(value) << (18 - 6 * place) }
        }
        return tables
    }

    /// Why a text is not base64.
    package struct DecodingError: Error, Equatable {
        package enum Reason: Equatable {
            /// The length is not a multiple of four.
            case length
            /// A character outside the alphabet, or `=` anywhere but in the last two places.
            case character(offset: Int)
            /// The last character holds padding bits that are not zero.
            case nonCanonical
        }

        package let reason: Reason

        package init(reason: Reason) { self.reason = reason }
    }

    /// The base64 text of `bytes`.
    package static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { encode($0) }
    }

    /// The base64 text of `bytes`.
    package static func encode(_ bytes: Data) -> String {
        bytes.withUnsafeBytes { encode($0.assumingMemoryBound(to: UInt8.self)) }
    }

    /// The base64 text of `bytes`.
    package static func encode(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let length = (bytes.count + 2) / 3 * 4
        guard length > 0 else { return "" }
        return alphabet.withUTF8Buffer { characters in
            pairs.withUnsafeBufferPointer { pairs in
                String(unsafeUninitializedCapacity: length) { out in
                    let raw = UnsafeMutableRawBufferPointer(out)
                    var input = 0
                    var output = 0
                    // Two groups (six bytes, eight characters) per step, read with one eight-byte load while two
                    // more bytes follow, and written with one store: a third fewer instructions than bytewise.
                    if let base = bytes.baseAddress {
                        while input + 8 <= bytes.count {
                            let word = UnsafeRawPointer(base + input).loadUnaligned(as: UInt64.self).bigEndian
                            let characters =
                                UInt64(pairs[Int(word >> 52)]) | UInt64(pairs[Int(word >> 40 & 0xFFF)]) << 16
                                | UInt64(pairs[Int(word >> 28 & 0xFFF)]) << 32
                                | UInt64(pairs[Int(word >> 16 & 0xFFF)]) << 48
                            raw.storeBytes(of: characters.littleEndian, toByteOffset: output, as: UInt64.self)
                            input += 6
                            output += 8
                        }
                    }
                    while input + 6 <= bytes.count {
                        let first =
                            UInt32(bytes[input]) << 16 | UInt32(bytes[input + 1]) << 8 | UInt32(bytes[input + 2])
                        let second =
                            UInt32(bytes[input + 3]) << 16 | UInt32(bytes[input + 4]) << 8 | UInt32(bytes[input + 5])
                        let characters =
                            UInt64(pairs[Int(first >> 12)]) | UInt64(pairs[Int(first & 0xFFF)]) << 16
                            | UInt64(pairs[Int(second >> 12)]) << 32 | UInt64(pairs[Int(second & 0xFFF)]) << 48
                        raw.storeBytes(of: characters.littleEndian, toByteOffset: output, as: UInt64.self)
                        input += 6
                        output += 8
                    }
                    while input + 3 <= bytes.count {
                        let word = UInt32(bytes[input]) << 16 | UInt32(bytes[input + 1]) << 8 | UInt32(bytes[input + 2])
                        raw.storeBytes(of: pairs[Int(word >> 12)].littleEndian, toByteOffset: output, as: UInt16.self)
                        raw.storeBytes(
                            of: pairs[Int(word & 0xFFF)].littleEndian,
                            toByteOffset: output + 2,
                            as: UInt16.self
                        )
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
    }

    /// The bytes of a canonical base64 text.
    ///
    /// - Throws: ``DecodingError`` for anything but the canonical encoding of some bytes.
    package static func decode(_ text: String) throws(DecodingError) -> [UInt8] {
        var text = text
        let result = text.withUTF8 { utf8 in Result { () throws(DecodingError) in try decode(utf8) } }
        return try result.get()
    }

    /// The bytes of a canonical base64 text given as its UTF-8 bytes.
    ///
    /// - Throws: ``DecodingError`` for anything but the canonical encoding of some bytes.
    package static func decode(_ text: UnsafeBufferPointer<UInt8>) throws(DecodingError) -> [UInt8] {
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
        let bytes = decodeTables.withUnsafeBufferPointer { tables in
            // Two bytes of slack for the eight-byte stores below; the array's count stays `length`.
            [UInt8](unsafeUninitializedCapacity: length + 2) { out, initialized in
                /// The 24 bits of the group at `input` (`count` characters, the rest padding), or `nil`.
                func group(_ input: Int, count: Int) -> UInt32? {
                    var word: UInt32 = 0
                    for place in 0..<count { word |= tables[place * 256 + Int(text[input + place])] }
                    guard word & invalid == 0 else {
                        let offset = (0..<count).first { tables[$0 * 256 + Int(text[input + $0])] == invalid }
                        failure = DecodingError(reason: .character(offset: input + (offset ?? 0)))
                        return nil
                    }
                    return word
                }
                var input = 0
                var output = 0
                // Two groups (eight characters, six bytes) per step, written with one eight-byte store whose last
                // two bytes the next step overwrites or the slack takes. A group with an invalid character
                // leaves it to the loop below, which finds the offset.
                let raw = UnsafeMutableRawBufferPointer(out)
                while input + 8 <= fullGroups * 4 {
                    let first =
                        tables[Int(text[input])] | tables[256 + Int(text[input + 1])]
                        | tables[512 + Int(text[input + 2])] | tables[768 + Int(text[input + 3])]
                    let second =
                        tables[Int(text[input + 4])] | tables[256 + Int(text[input + 5])]
                        | tables[512 + Int(text[input + 6])] | tables[768 + Int(text[input + 7])]
                    guard (first | second) & invalid == 0 else { break }
                    let word = UInt64(first) << 40 | UInt64(second) << 16
                    raw.storeBytes(of: word.bigEndian, toByteOffset: output, as: UInt64.self)
                    input += 8
                    output += 6
                }
                while input < fullGroups * 4 {
                    let word =
                        tables[Int(text[input])] | tables[256 + Int(text[input + 1])]
                        | tables[512 + Int(text[input + 2])] | tables[768 + Int(text[input + 3])]
                    guard word & invalid == 0 else {
                        _ = group(input, count: 4)
                        initialized = output
                        return
                    }
                    out[output] = UInt8(truncatingIfNeeded: word >> 16)
                    out[output + 1] = UInt8(truncatingIfNeeded: word >> 8)
                    out[output + 2] = UInt8(truncatingIfNeeded: word)
                    input += 4
                    output += 3
                }
                if padding > 0 {
                    guard let word = group(input, count: 4 - padding) else {
                        initialized = output
                        return
                    }
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
