public import Foundation
internal import SealedSupport

/// The canonical JSON form the audit trail hashes and signs, and its reading with the package's strict parser.
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

    /// Writes a string with the package's JSON writer, whose escapes are the canonical ones (runs of bytes that need
    /// no escape are copied whole: records are mostly such runs).
    static func writeString(_ text: String, to output: inout [UInt8]) {
        JSONWriter.writeString(text, to: &output)
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
            var parser = RecordReader(buffer)
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
            var parser = RecordReader(buffer)
            parser.skipWhitespace()
            let members = try parser.parseMembers(depth: 0, keeping: keep)
            parser.skipWhitespace()
            guard parser.isAtEnd else { throw parser.failure("trailing bytes after the JSON value") }
            return members
        }
    }
}

/// The audit trail's reading of JSON: the package's one strict parser (`SealedSupport.JSONParser`) building this
/// module's ``JSONValue``s, or skipping values (for the verifier, which only needs a few top-level members of each
/// record and the byte ranges of an export's elements).
///
/// Options, as records have always been read: arrays and objects nested at most 64 deep, no byte-order mark (records
/// and exports are written by this module and never carry one). Every syntax error is an ``AuditError``
/// `malformedRecord` naming the byte offset.
struct RecordReader {
    static let options = SealedSupport.JSONParser.Options(maximumDepth: 64, byteOrderMark: .refuse)

    private var parser: SealedSupport.JSONParser

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        parser = SealedSupport.JSONParser(bytes, position: position, options: Self.options)
    }

    var bytes: UnsafeRawBufferPointer { parser.bytes }

    var position: Int {
        get { parser.position }
        set { parser.position = newValue }
    }

    var isAtEnd: Bool { parser.isAtEnd }

    func failure(_ reason: String) -> AuditError {
        AuditError(.malformedRecord, "Malformed JSON at byte \(position): \(reason).")
    }

    private func failure(_ error: JSONSyntaxError) -> AuditError {
        AuditError(.malformedRecord, "Malformed JSON at byte \(error.offset): \(error.reason).")
    }

    mutating func skipWhitespace() { parser.skipWhitespace() }

    func peek() -> UInt8? { parser.peek() }

    mutating func expect(_ byte: UInt8) throws {
        let expected: JSONSyntaxError.Expectation =
            switch byte {
            case UInt8(ascii: ":"): .colon
            case UInt8(ascii: "}"): .commaOrObjectEnd
            case UInt8(ascii: "]"): .commaOrArrayEnd
            default: .value
            }
        do { try parser.expect(byte, expected) } catch { throw failure(error) }
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard let byte = peek() else { throw failure("unexpected end") }
        switch byte {
        case UInt8(ascii: "{"):
            return .object(try parseMembers(depth: depth, keeping: { _ in true }))
        case UInt8(ascii: "["):
            do { try parser.checkDepth(depth) } catch { throw failure(error) }
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
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            do {
                switch byte {
                case UInt8(ascii: "t"):
                    try parser.expectLiteral("true")
                    return .bool(true)
                case UInt8(ascii: "f"):
                    try parser.expectLiteral("false")
                    return .bool(false)
                default:
                    try parser.expectLiteral("null")
                    return .null
                }
            } catch {
                throw failure(error)
            }
        default:
            return try parseNumber()
        }
    }

    /// Parses an object (the reader at its `{`) at nesting `depth`, building the members `keep` accepts and skipping
    /// the others (checking their syntax); leaves the reader after the `}`.
    mutating func parseMembers(depth: Int, keeping keep: (String) -> Bool) throws -> [String: JSONValue] {
        try expect(UInt8(ascii: "{"))
        do { try parser.checkDepth(depth) } catch { throw failure(error) }
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return members
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw failure("expected a member name") }
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
        do { try parser.skipValue(depth: depth) } catch { throw failure(error) }
    }

    /// Skips a string; returns the range of its raw content (between the quotes) and whether it holds escapes.
    @discardableResult
    mutating func skipString() throws -> (range: Range<Int>, escaped: Bool) {
        do { return try parser.skipString() } catch { throw failure(error) }
    }

    mutating func parseString() throws -> String {
        guard peek() == UInt8(ascii: "\"") else { throw failure("expected a string") }
        do { return try parser.parseString() } catch { throw failure(error) }
    }

    private mutating func numberRange() throws -> (range: Range<Int>, isInteger: Bool) {
        do { return try parser.numberRange() } catch { throw failure(error) }
    }

    /// A number: an ``JSONValue/integer(_:)`` when written without fraction or exponent and within 64 bits, else a
    /// finite ``JSONValue/double(_:)``.
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
}
