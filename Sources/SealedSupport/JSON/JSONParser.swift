/// The one strict RFC 8259 JSON parser of the package, over UTF-8 bytes.
///
/// Strict: exactly one value, optionally surrounded by whitespace; no trailing commas, no comments, no duplicate
/// object members, no control characters in strings, no invalid UTF-8, no lone UTF-16 surrogate escapes. It builds
/// a ``JSONValue`` that keeps member order and number spelling, and its primitives (strings, numbers, skipping a
/// value) serve callers that build their own shapes from the same tokens (the audit trail's records).
///
/// ``Options`` choose what differs between callers:
///
/// - ``Options/maximumDepth``: the deepest nesting of arrays and objects, refused rather than risking the stack.
/// - ``Options/byteOrderMark``: a UTF-8 byte-order mark before the value is refused (RFC 8259 §8.1 says not to add
///   one) or skipped (for text pasted from editors that write one).
/// - ``Options/recordsPaths``: errors carry the path of the value being read (`$.Statement[0].Effect`).
/// - ``Options/recordsOffsets``: ``offsets`` lists where every value and member name starts, for error messages
///   that point into the text (see ``JSONTextPositions``).
/// - ``Options/refusesNumbersBeyondDouble``: a number no `Double` holds (`1e400`) is an error rather than kept as
///   written (the audit trail writes numbers in its canonical form as `Double`s).
package struct JSONParser {
    /// What to do with a UTF-8 byte-order mark (EF BB BF) before the value.
    package enum ByteOrderMark: Sendable, Hashable {
        case refuse, skip
    }

    /// How a caller wants its JSON read.
    package struct Options: Sendable, Hashable {
        package var maximumDepth: Int
        package var byteOrderMark: ByteOrderMark
        package var recordsPaths: Bool
        package var recordsOffsets: Bool
        package var refusesNumbersBeyondDouble: Bool

        package init(
            maximumDepth: Int = 512,
            byteOrderMark: ByteOrderMark = .refuse,
            recordsPaths: Bool = false,
            recordsOffsets: Bool = false,
            refusesNumbersBeyondDouble: Bool = false
        ) {
            self.maximumDepth = maximumDepth
            self.byteOrderMark = byteOrderMark
            self.recordsPaths = recordsPaths
            self.recordsOffsets = recordsOffsets
            self.refusesNumbersBeyondDouble = refusesNumbersBeyondDouble
        }
    }

    /// One step of a path: a member name or an array index.
    enum PathComponent {
        case key(String)
        case index(Int)
    }

    /// The text.
    package let bytes: UnsafeRawBufferPointer
    /// The offset of the next byte to read.
    package var position: Int
    package let options: Options
    /// With ``Options/recordsOffsets``: the offset of every value and member name, in document order (a member's
    /// name before its value).
    package private(set) var offsets: [Int] = []
    var path: [PathComponent] = []

    /// A parser of `bytes` from `position`.
    package init(_ bytes: UnsafeRawBufferPointer, position: Int = 0, options: Options = Options()) {
        self.bytes = bytes
        self.position = position
        self.options = options
    }

    /// Parses `bytes` as one JSON text.
    package static func parse(
        _ bytes: some Collection<UInt8>,
        options: Options = Options()
    ) throws(JSONSyntaxError) -> JSONValue {
        try parseDocument(bytes, options: options).value
    }

    /// Parses `bytes` as one JSON text; with ``Options/recordsOffsets``, also gives ``offsets``.
    package static func parseDocument(
        _ bytes: some Collection<UInt8>,
        options: Options
    ) throws(JSONSyntaxError) -> (value: JSONValue, offsets: [Int]) {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONSyntaxError) -> (value: JSONValue, offsets: [Int]) in
                var parser = JSONParser(UnsafeRawBufferPointer(buffer), options: options)
                let value = try parser.parseDocument()
                return (value, parser.offsets)
            }
        }
        if let result { return try result.get() }
        return try parseDocument(Array(bytes), options: options)
    }

    /// Parses the whole text as one JSON value (after a byte-order mark, as ``Options/byteOrderMark`` says).
    package mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF, position == 0 {
            guard options.byteOrderMark == .skip else { throw failure(.byteOrderMark, at: 0) }
            position = 3
        }
        skipWhitespace()
        let value = try parseValue(depth: 0)
        try expectEnd()
        return value
    }

    /// Skips trailing whitespace and refuses anything after it.
    package mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        guard isAtEnd else { throw failure(.trailingData) }
    }

    // MARK: - Cursor

    package var isAtEnd: Bool { position >= bytes.count }

    package func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    /// An error at `offset` (the current position by default), with the current path when paths are recorded.
    package func failure(_ kind: JSONSyntaxError.Kind, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(kind, at: offset ?? position, path: options.recordsPaths ? pathText : nil)
    }

    /// The error for the current byte (or the end) where `expected` should be.
    package func unexpected(_ expected: JSONSyntaxError.Expectation) -> JSONSyntaxError {
        guard let byte = peek() else { return failure(.unexpectedEnd(expected)) }
        return failure(.unexpectedByte(byte, expected))
    }

    var pathText: String {
        var text = "$"
        for component in path {
            switch component {
            case .key(let key): text += "." + key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    package mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// Reads `byte`, or throws what stands in its place.
    package mutating func expect(_ byte: UInt8, _ expected: JSONSyntaxError.Expectation) throws(JSONSyntaxError) {
        guard peek() == byte else { throw unexpected(expected) }
        position += 1
    }

    /// Reads `true`, `false` or `null`; a mismatch is reported at the word's start.
    package mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        let matches =
            position + count <= bytes.count
            && (0..<count).allSatisfy { bytes[position + $0] == literal.utf8Start[$0] }
        guard matches else { throw failure(.invalidLiteral(literal.description)) }
        position += count
    }

    // MARK: - Values

    /// Parses one value at nesting `depth` (the number of arrays and objects around it).
    package mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        if options.recordsOffsets { offsets.append(position) }
        guard let byte = peek() else { throw failure(.unexpectedEnd(.value)) }
        switch byte {
        case UInt8(ascii: "{"):
            try checkDepth(depth)
            return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["):
            try checkDepth(depth)
            return .array(try parseArray(depth: depth + 1))
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
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let (range, isInteger) = try numberRange()
            let literal = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            // An integer of up to 18 digits is within any `Double`'s range; anything else is converted to check.
            if options.refusesNumbersBeyondDouble, !isInteger || range.count > 18 {
                guard let value = Double(literal), value.isFinite else {
                    throw failure(.numberOutOfRange, at: range.lowerBound)
                }
            }
            return .number(JSONNumber(validatedLiteral: literal))
        default:
            throw failure(.unexpectedByte(byte, .value))
        }
    }

    /// Refuses an array or object at nesting `depth` when that is the limit already.
    package func checkDepth(_ depth: Int) throws(JSONSyntaxError) {
        guard depth < options.maximumDepth else { throw failure(.tooDeep(limit: options.maximumDepth)) }
    }

    /// Objects with fewer members than this look for a duplicate key by comparing with each member.
    static let linearDuplicateScanLimit = 16

    /// A key's UTF-8 bytes, hashed in one call (`[UInt8]` hashes byte by byte; `String` by canonical equivalence).
    package struct KeyBytes: Hashable {
        let bytes: [UInt8]

        init(_ key: String) { bytes = Array(key.utf8) }

        package func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    /// Whether an object's `members` already hold `key` (comparing UTF-8 bytes): a linear scan while the object is
    /// small, then a set of the keys' bytes, `seen`, filled on first use and kept by the caller for the next key.
    package static func isDuplicate(
        _ key: String,
        in members: [JSONObject.Member],
        seen: inout Set<KeyBytes>
    ) -> Bool {
        if members.count < linearDuplicateScanLimit { return members.contains { $0.key.hasSameUTF8(as: key) } }
        if seen.isEmpty { for member in members { seen.insert(KeyBytes(member.key)) } }
        return !seen.insert(KeyBytes(key)).inserted
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONObject {
        position += 1  // {
        var members: [JSONObject.Member] = []
        // Duplicate keys: a linear scan while the object is small, a set of the keys' bytes beyond that.
        var seen: Set<KeyBytes> = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return JSONObject(uncheckedMembers: members)
        }
        members.reserveCapacity(8)
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw unexpected(.memberName) }
            let keyStart = position
            if options.recordsOffsets { offsets.append(keyStart) }
            let key = try parseString()
            if options.recordsPaths { path.append(.key(key)) }
            guard !Self.isDuplicate(key, in: members, seen: &seen) else {
                throw failure(.duplicateMember(key), at: keyStart)
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), .colon)
            skipWhitespace()
            let value = try parseValue(depth: depth)
            if options.recordsPaths { path.removeLast() }
            members.append(JSONObject.Member(key: key, value: value))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return JSONObject(uncheckedMembers: members)
            default: throw unexpected(.commaOrObjectEnd)
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> [JSONValue] {
        position += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return elements
        }
        while true {
            skipWhitespace()
            if options.recordsPaths { path.append(.index(elements.count)) }
            elements.append(try parseValue(depth: depth))
            if options.recordsPaths { path.removeLast() }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return elements
            default: throw unexpected(.commaOrArrayEnd)
            }
        }
    }
}
