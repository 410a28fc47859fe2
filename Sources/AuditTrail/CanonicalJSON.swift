public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The canonical JSON form the audit trail hashes and signs, and a strict parser for it.
///
/// The canonical bytes of a value are UTF-8 JSON text with no insignificant whitespace, written as follows:
///
/// - `null`, `true`, `false` as such.
/// - An ``JSONValue/integer(_:)`` in decimal, with a leading `-` when negative and no leading zeros.
/// - A ``JSONValue/double(_:)`` that is integral and smaller than 2^53 in magnitude as that integer (`1.0` → `1`,
///   `-0.0` → `0`); any other finite double as Swift's shortest round-trip `description` (`0.1`, `1e-07`,
///   `1.5e+300`); NaN and the infinities as `null`.
/// - A string between `"` with `"` and `\` escaped as `\"` and `\\`, the control characters U+0008, U+0009, U+000A,
///   U+000C and U+000D as `\b`, `\t`, `\n`, `\f` and `\r`, the other characters below U+0020 as `\u00XX` (lower-case
///   hex), and every other character as its UTF-8 bytes (no `\/`, no escaping of non-ASCII).
/// - An array as `[` elements separated by `,` `]`.
/// - An object as `{` `"key":value` members separated by `,` `}`, members sorted by the UTF-8 bytes of their keys
///   (byte-wise lexicographic order; a prefix sorts first).
///
/// The rules are those of RFC 8785 (JSON Canonicalization Scheme) except for the number format and the key order
/// (UTF-8 bytes rather than UTF-16 code units; the two agree for the ASCII keys records use).
public enum CanonicalJSON {
    /// The canonical bytes of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, to: &output)
        return output
    }

    /// Appends the canonical bytes of `value` to `output`.
    public static func write(_ value: JSONValue, to output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: Self.nullBytes)
        case .bool(let flag):
            output.append(contentsOf: flag ? Self.trueBytes : Self.falseBytes)
        case .integer(let number):
            writeInteger(number, to: &output)
        case .double(let number):
            writeDouble(number, to: &output)
        case .string(let text):
            writeString(text, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            writeObject(members, to: &output)
        }
    }

    /// Writes an object whose members are given as a list (keys must be unique); sorts them canonically.
    static func writeObject(_ members: [(String, JSONValue)], to output: inout [UInt8]) {
        let sorted = members.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        output.append(UInt8(ascii: "{"))
        for (index, member) in sorted.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            writeString(member.0, to: &output)
            output.append(UInt8(ascii: ":"))
            write(member.1, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Writes an object's members sorted canonically (their indices sorted on the stack: no allocation per object).
    static func writeObject(_ members: [String: JSONValue], to output: inout [UInt8]) {
        // The stack buffer is filled by assignment, which needs a trivial index type (it is on Linux; a dictionary
        // bridged from Objective-C has another).
        guard _isPOD(Dictionary<String, JSONValue>.Index.self) else {
            writeObject(members.map { ($0.key, $0.value) }, to: &output)
            return
        }
        withUnsafeTemporaryAllocation(of: Dictionary<String, JSONValue>.Index.self, capacity: members.count) {
            order in
            var count = 0
            for index in members.indices {
                // Insertion sort: objects in records have a handful of members.
                var position = count
                while position > 0,
                    members[index].key.utf8.lexicographicallyPrecedes(members[order[position - 1]].key.utf8)
                {
                    order[position] = order[position - 1]
                    position -= 1
                }
                order[position] = index
                count += 1
            }
            output.append(UInt8(ascii: "{"))
            for position in 0..<count {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                let member = members[order[position]]
                writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                write(member.value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    static func writeInteger(_ number: Int64, to output: inout [UInt8]) {
        output.append(contentsOf: String(number).utf8)
    }

    static func writeDouble(_ number: Double, to output: inout [UInt8]) {
        guard number.isFinite else {
            output.append(contentsOf: Self.nullBytes)
            return
        }
        if number.rounded(.towardZero) == number, abs(number) < 9_007_199_254_740_992 {
            writeInteger(Int64(number), to: &output)
        } else {
            output.append(contentsOf: number.description.utf8)
        }
    }

    static func writeString(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in writeString(utf8: bytes, to: &output) }
    }

    /// Writes a string: runs of bytes that need no escape are copied whole (records are mostly such runs).
    static func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var runStart = 0
        for (index, byte) in bytes.enumerated()
        where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            runStart = index + 1
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            default:
                output.append(contentsOf: [
                    UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(byte >> 4)],
                    hexDigits[Int(byte & 0x0F)],
                ])
            }
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        output.append(UInt8(ascii: "\""))
    }

    static let hexDigits = Array("0123456789abcdef".utf8)
    private static let nullBytes = Array("null".utf8)
    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)

    /// Parses JSON text (any valid JSON, canonical or not) into a value.
    ///
    /// - Throws: ``AuditError`` `malformedRecord` when `bytes` is not one JSON value (trailing bytes other than
    ///   whitespace, invalid UTF-8, nesting deeper than 64 levels, or a number out of `Double`'s range).
    public static func parse(_ bytes: some ContiguousBytes) throws -> JSONValue {
        try bytes.withUnsafeBytes { buffer in
            var parser = JSONParser(buffer)
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            guard parser.isAtEnd else { throw parser.failure("trailing bytes after the JSON value") }
            return value
        }
    }
}

extension CanonicalJSON {
    /// Parses a JSON object, building only the members `keep` accepts and skipping the others (their syntax is still
    /// checked), so a large member that is not wanted — a ciphertext, a plaintext — costs no allocation.
    ///
    /// - Throws: ``AuditError`` `malformedRecord` when `bytes` is not one JSON object, as ``parse(_:)`` would.
    public static func parseObject(
        _ bytes: some ContiguousBytes,
        keeping keep: (String) -> Bool
    ) throws -> [String: JSONValue] {
        try bytes.withUnsafeBytes { buffer in
            var parser = JSONParser(buffer)
            parser.skipWhitespace()
            let members = try parser.parseMembers(depth: 0, keeping: keep)
            parser.skipWhitespace()
            guard parser.isAtEnd else { throw parser.failure("trailing bytes after the JSON value") }
            return members
        }
    }
}

/// A strict JSON reader over a byte buffer: parses values or skips them (for the verifier, which only needs a few
/// top-level members of each record and the byte ranges of an export's elements).
struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    var position: Int = 0

    static let maximumDepth = 64

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var isAtEnd: Bool { position >= bytes.count }

    func failure(_ reason: String) -> AuditError {
        AuditError(.malformedRecord, "Malformed JSON at byte \(position): \(reason).")
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func expect(_ byte: UInt8) throws {
        guard peek() == byte else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw failure("unexpected end") }
        for index in 0..<count where bytes[position + index] != literal.utf8Start[index] {
            throw failure("invalid literal")
        }
        position += count
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < Self.maximumDepth else { throw failure("nesting too deep") }
        guard let byte = peek() else { throw failure("unexpected end") }
        switch byte {
        case UInt8(ascii: "{"):
            return .object(try parseMembers(depth: depth, keeping: { _ in true }))
        case UInt8(ascii: "["):
            position += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "]"))
                return .array(elements)
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        default:
            return try parseNumber()
        }
    }

    /// Parses an object (the parser at its `{`) at nesting `depth`, building the members `keep` accepts and skipping
    /// the others (checking their syntax); leaves the parser after the `}`.
    mutating func parseMembers(depth: Int, keeping keep: (String) -> Bool) throws -> [String: JSONValue] {
        try expect(UInt8(ascii: "{"))
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return members
        }
        while true {
            skipWhitespace()
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            if keep(key) {
                let value = try parseValue(depth: depth + 1)
                guard members.updateValue(value, forKey: key) == nil else { throw failure("duplicate key") }
            } else {
                try skipValue(depth: depth + 1)
            }
            skipWhitespace()
            if peek() == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            return members
        }
    }

    /// Skips one value without building it, checking its syntax.
    mutating func skipValue(depth: Int) throws {
        guard depth < Self.maximumDepth else { throw failure("nesting too deep") }
        guard let byte = peek() else { throw failure("unexpected end") }
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = byte == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            position += 1
            skipWhitespace()
            if peek() == close {
                position += 1
                return
            }
            while true {
                skipWhitespace()
                if isObject {
                    try skipString()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    skipWhitespace()
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(close)
                return
            }
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "t"):
            try expectLiteral("true")
        case UInt8(ascii: "f"):
            try expectLiteral("false")
        case UInt8(ascii: "n"):
            try expectLiteral("null")
        default:
            _ = try numberRange()
        }
    }

    /// Skips a string; returns the range of its raw content (between the quotes) and whether it holds escapes.
    ///
    /// Finds the closing quote with `memchr` (strings are most of a record's bytes); control characters inside are
    /// rejected by ``parseString()``, not here.
    @discardableResult
    mutating func skipString() throws -> (range: Range<Int>, escaped: Bool) {
        try expect(UInt8(ascii: "\""))
        let start = position
        guard let base = bytes.baseAddress else { throw failure("unterminated string") }
        var searchFrom = start
        while searchFrom < bytes.count {
            guard let found = memchr(base + searchFrom, Int32(UInt8(ascii: "\"")), bytes.count - searchFrom) else {
                break
            }
            let quote = base.distance(to: UnsafeRawPointer(found))
            // The quote closes the string unless an odd number of backslashes precede it.
            var backslashes = 0
            while quote - backslashes - 1 >= start, bytes[quote - backslashes - 1] == UInt8(ascii: "\\") {
                backslashes += 1
            }
            if backslashes % 2 == 0 {
                let range = start..<quote
                position = quote + 1
                let escaped = memchr(base + start, Int32(UInt8(ascii: "\\")), quote - start) != nil
                return (range, escaped)
            }
            searchFrom = quote + 1
        }
        position = bytes.count
        throw failure("unterminated string")
    }

    mutating func parseString() throws -> String {
        let (range, escaped) = try skipString()
        let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard !raw.contains(where: { $0 < 0x20 }) else { throw failure("control character in a string") }
        if !escaped {
            guard let text = String(validating: raw, as: UTF8.self) else { throw failure("invalid UTF-8") }
            return text
        }
        var output: [UInt8] = []
        output.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            guard index + 1 < raw.count else { throw failure("invalid escape") }
            let code = raw[index + 1]
            index += 2
            switch code {
            case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): output.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(raw, at: index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    guard index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"), raw[index + 1] == UInt8(ascii: "u")
                    else { throw failure("unpaired surrogate") }
                    let low = try hex4(raw, at: index + 2)
                    guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate") }
                    index += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw failure("unpaired surrogate")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid code point") }
                output.append(contentsOf: String(Character(unicode)).utf8)
            default:
                throw failure("invalid escape")
            }
        }
        guard let text = String(validating: output, as: UTF8.self) else { throw failure("invalid UTF-8") }
        return text
    }

    private func hex4(_ raw: UnsafeRawBufferPointer, at index: Int) throws -> UInt32 {
        guard index + 4 <= raw.count else { throw failure("invalid \\u escape") }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = raw[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Checks a number's syntax; returns its range and whether it has a fraction or an exponent.
    mutating func numberRange() throws -> (range: Range<Int>, isInteger: Bool) {
        let start = position
        var isInteger = true
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw failure("invalid value") }
        if first == UInt8(ascii: "0") {
            position += 1
        } else {
            while let byte = peek(), isDigit(byte) { position += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let byte = peek(), isDigit(byte) else { throw failure("invalid number") }
            while let byte = peek(), isDigit(byte) { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let byte = peek(), isDigit(byte) else { throw failure("invalid number") }
            while let byte = peek(), isDigit(byte) { position += 1 }
        }
        return (start..<position, isInteger)
    }

    mutating func parseNumber() throws -> JSONValue {
        let (range, isInteger) = try numberRange()
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        guard let double = Double(text), double.isFinite else { throw failure("number out of range") }
        return .double(double)
    }

    /// Parses a non-negative integer value (for sequence numbers).
    mutating func parseInteger() throws -> Int64 {
        let (range, isInteger) = try numberRange()
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        guard isInteger, let integer = Int64(text) else { throw failure("expected an integer") }
        return integer
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
