public import Foundation
internal import SealedSupport

/// The canonical JSON form the audit trail hashes and signs, and its reading with the package's strict parser.
///
/// The canonical bytes of a value are UTF-8 JSON text with no insignificant whitespace, written as follows:
///
/// - `null`, `true`, `false` as such.
/// - A number written as an integer (no fraction, no exponent) that fits in 64 bits in decimal, with a leading `-`
///   when negative and no leading zeros (`-0` → `0`). Any other number as the `Double` nearest to it: an integral one
///   smaller than 2^53 in magnitude as that integer (`1.0` → `1`, `-0.0` → `0`, `1E2` → `100`), any other as Swift's
///   shortest round-trip `description` (`0.1`, `1e-07`, `1e+300`); a number beyond `Double`'s range as `null`.
/// - A string between `"` with `"` and `\` escaped as `\"` and `\\`, the control characters U+0008, U+0009, U+000A,
///   U+000C and U+000D as `\b`, `\t`, `\n`, `\f` and `\r`, the other characters below U+0020 as `\u00XX` (lower-case
///   hex), and every other character as its UTF-8 bytes (no `\/`, no escaping of non-ASCII).
/// - An array as `[` elements separated by `,` `]`.
/// - An object as `{` `"key":value` members separated by `,` `}`, members sorted by the UTF-8 bytes of their keys
///   (byte-wise lexicographic order; a prefix sorts first).
///
/// The rules are those of RFC 8785 (JSON Canonicalization Scheme) except for the number format and the key order
/// (UTF-8 bytes rather than UTF-16 code units; the two agree for the ASCII keys records use).
///
/// ``normalized(_:)`` gives a value in this form (members in canonical order, numbers spelled canonically): two
/// values have the same canonical bytes exactly when their normalized forms are equal, which is how ``Record`` keeps
/// its free-form members.
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
        case .number(let number):
            if let literal = canonicalLiteral(of: number) {
                output.append(contentsOf: literal.utf8)
            } else {
                output.append(contentsOf: Self.nullBytes)
            }
        case .string(let text):
            writeString(text, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            writeObject(object.members, to: &output)
        }
    }

    /// Writes an object whose members are given as a list (keys must be unique); sorts them canonically.
    static func writeObject(_ members: [(String, JSONValue)], to output: inout [UInt8]) {
        writeObject(members.map { JSONObject.Member(key: $0.0, value: $0.1) }, to: &output)
    }

    /// Writes an object's members (keys unique) sorted canonically: their indices are sorted, so members already in
    /// canonical order, as a record's are, cost one comparison each and no allocation.
    static func writeObject(_ members: [JSONObject.Member], to output: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: members.count) { buffer in
            let order = sortedIndices(of: members, in: buffer)
            output.append(UInt8(ascii: "{"))
            for (position, index) in order.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                writeString(members[index].key, to: &output)
                output.append(UInt8(ascii: ":"))
                write(members[index].value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Fills `buffer` with the indices of `members` in canonical order (by the UTF-8 bytes of their keys).
    private static func sortedIndices(
        of members: [JSONObject.Member],
        in buffer: UnsafeMutableBufferPointer<Int>
    ) -> UnsafeMutableBufferPointer<Int> {
        for index in members.indices { buffer.initializeElement(at: index, to: index) }
        var order = UnsafeMutableBufferPointer(rebasing: buffer[..<members.count])
        func precedes(_ a: Int, _ b: Int) -> Bool { keyPrecedes(members[a].key, members[b].key) }
        if members.count > 16 {
            order.sort(by: precedes)
            return order
        }
        // Insertion sort: objects in records have a handful of members, usually in order already.
        for end in order.indices.dropFirst() {
            let index = order[end]
            var position = end
            while position > 0, precedes(index, order[position - 1]) {
                order[position] = order[position - 1]
                position -= 1
            }
            order[position] = index
        }
        return order
    }

    /// Whether `key` sorts before `other` in canonical order: by their UTF-8 bytes.
    static func keyPrecedes(_ key: String, _ other: String) -> Bool { key.utf8.lexicographicallyPrecedes(other.utf8) }

    /// The canonical spelling of `number` (see the type's discussion), or `nil` for a number beyond `Double`'s range,
    /// written as `null`. An integer that fits in 64 bits is its own spelling (but `-0`): no allocation.
    static func canonicalLiteral(of number: JSONNumber) -> String? {
        let literal = number.literal
        if let integer = Int64(literal) { return integer == 0 ? "0" : literal }
        guard let double = Double(literal), double.isFinite else { return nil }
        if double.rounded(.towardZero) == double, abs(double) < 9_007_199_254_740_992 {
            return String(Int64(double))
        }
        return double.description
    }

    static func writeInteger(_ number: Int64, to output: inout [UInt8]) {
        output.append(contentsOf: String(number).utf8)
    }

    /// Writes a string with the package's JSON writer, whose escapes are the canonical ones (runs of bytes that need
    /// no escape are copied whole: records are mostly such runs).
    static func writeString(_ text: String, to output: inout [UInt8]) {
        JSONWriter.writeString(text, to: &output)
    }

    private static let nullBytes = Array("null".utf8)
    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)

    /// `value` in canonical form: object members in canonical order, numbers spelled as ``write(_:to:)`` writes them
    /// (a number beyond `Double`'s range becomes `null`). Its canonical bytes are those of `value`; so are its
    /// ``JSONWriter``-serialized ones.
    ///
    /// One walk over the value; a part already in canonical form (as parsed canonical bytes are) is kept, not copied.
    public static func normalized(_ value: JSONValue) -> JSONValue {
        normalizedIfChanged(value) ?? value
    }

    /// `value` in canonical form, or `nil` when it is in that form already.
    private static func normalizedIfChanged(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .null, .bool, .string:
            return nil
        case .number(let number):
            guard let literal = canonicalLiteral(of: number) else { return .null }
            return literal == number.literal ? nil : .number(JSONNumber(validatedLiteral: literal))
        case .array(let elements):
            var changed: [JSONValue]?
            for index in elements.indices {
                guard let element = normalizedIfChanged(elements[index]) else { continue }
                if changed == nil { changed = elements }
                changed?[index] = element
            }
            return changed.map(JSONValue.array)
        case .object(let object):
            var members = object.members
            var changed = false
            for index in members.indices {
                guard let member = normalizedIfChanged(members[index].value) else { continue }
                members[index].value = member
                changed = true
            }
            if !zip(members, members.dropFirst()).allSatisfy({ keyPrecedes($0.key, $1.key) }) {
                members.sort { keyPrecedes($0.key, $1.key) }
                changed = true
            }
            return changed ? .object(JSONObject(uncheckedMembers: members)) : nil
        }
    }

    /// Parses JSON text (any valid JSON, canonical or not) into a value, as written: members in their order, numbers
    /// as spelled (``normalized(_:)`` gives its canonical form).
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
    /// Parses a JSON object, building only the members `keep` accepts and skipping the others, so a large member that
    /// is not wanted — a ciphertext, a plaintext — costs no allocation.
    ///
    /// A skipped member's structure is checked (brackets, where strings end, number and literal syntax), not its
    /// content: escapes, control characters and UTF-8 inside its strings, duplicate names inside its objects and
    /// numbers beyond `Double` are not looked at. The verifier, which skips, needs no more: every record's bytes are
    /// covered by the hash chain. So this accepts every object ``parse(_:)`` accepts, and builds the kept members
    /// exactly as it does.
    ///
    /// - Throws: ``AuditError`` `malformedRecord` when `bytes` is not one JSON object, as ``parse(_:)`` would.
    public static func parseObject(
        _ bytes: some ContiguousBytes,
        keeping keep: (String) -> Bool
    ) throws -> JSONObject {
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

/// The audit trail's reading of JSON: the package's one strict parser (`SealedSupport.JSONParser`) building
/// ``JSONValue``s, or skipping values (for the verifier, which only needs a few top-level members of each record and
/// the byte ranges of an export's elements).
///
/// Options, as records have always been read: arrays and objects nested at most 64 deep, no byte-order mark (records
/// and exports are written by this module and never carry one), no number beyond `Double`'s range (the canonical
/// form could not write it back). Every syntax error is an ``AuditError`` `malformedRecord` naming the byte offset.
struct RecordReader {
    static let options = SealedSupport.JSONParser.Options(
        maximumDepth: 64,
        byteOrderMark: .refuse,
        refusesNumbersBeyondDouble: true
    )

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

    /// Parses one value at nesting `depth`, as written (members in order, numbers as spelled).
    mutating func parseValue(depth: Int) throws -> JSONValue {
        do { return try parser.parseValue(depth: depth) } catch { throw failure(error) }
    }

    /// Parses an object (the reader at its `{`) at nesting `depth`, building the members `keep` accepts and skipping
    /// the others (their structure only: see ``CanonicalJSON/parseObject(_:keeping:)``); leaves the reader after `}`.
    mutating func parseMembers(depth: Int, keeping keep: (String) -> Bool) throws -> JSONObject {
        try expect(UInt8(ascii: "{"))
        do { try parser.checkDepth(depth) } catch { throw failure(error) }
        var members: [JSONObject.Member] = []
        var seen: Set<SealedSupport.JSONParser.KeyBytes> = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return JSONObject(uncheckedMembers: members)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw failure("expected a member name") }
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            if keep(key) {
                guard !SealedSupport.JSONParser.isDuplicate(key, in: members, seen: &seen) else {
                    throw failure("duplicate key")
                }
                members.append(JSONObject.Member(key: key, value: try parseValue(depth: depth + 1)))
            } else {
                try skipValue(depth: depth + 1)
            }
            skipWhitespace()
            if peek() == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            return JSONObject(uncheckedMembers: members)
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

    /// Parses a non-negative integer value (for sequence numbers).
    mutating func parseInteger() throws -> Int64 {
        let range: Range<Int>
        let isInteger: Bool
        do { (range, isInteger) = try parser.numberRange() } catch { throw failure(error) }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        guard isInteger, let integer = Int64(text) else { throw failure("expected an integer") }
        return integer
    }
}
