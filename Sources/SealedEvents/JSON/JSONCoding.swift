internal import SealedSupport

extension JSONValue {
    /// The deepest nesting of arrays and objects the parser accepts.
    public static let maximumDepth = 512

    /// How the reason of the `invalidJSON` error for an object naming a member twice begins.
    public static let duplicateKeyReason = "duplicate object key"

    /// Parses a JSON text (RFC 8259): exactly one value, optionally surrounded by whitespace.
    ///
    /// The parser is strict: no byte-order mark, no trailing commas, no comments, no duplicate object keys, no
    /// control characters in strings, no invalid UTF-8 and no lone UTF-16 surrogate escapes (which no Swift
    /// string can hold). Nesting deeper than ``maximumDepth`` is refused rather than risking the stack.
    ///
    /// - Throws: ``SealedEventsError`` `invalidJSON` with the byte offset of the problem.
    public init(parsing bytes: some Collection<UInt8>) throws(SealedEventsError) {
        var parser = JSONParser(Array(bytes))
        self = try parser.parseDocument()
    }

    /// Parses a JSON text; see ``init(parsing:)-(Collection<UInt8>)``.
    public init(parsing text: String) throws(SealedEventsError) {
        try self.init(parsing: Array(text.utf8))
    }

    /// The value as compact JSON (no whitespace), UTF-8 encoded.
    ///
    /// Object members keep their order, numbers their literal spelling, strings their exact Unicode scalars;
    /// only `"`, `\` and control characters are escaped.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.write(self, to: &out, indent: nil, level: 0)
        return out
    }

    /// The value as JSON text; `pretty` indents by two spaces, one member or element per line.
    public func jsonString(pretty: Bool = false) -> String {
        var out: [UInt8] = []
        JSONWriter.write(self, to: &out, indent: pretty ? 2 : nil, level: 0)
        return String(decoding: out, as: UTF8.self)
    }
}

struct JSONParser {
    let bytes: [UInt8]
    var index = 0

    /// Objects with fewer members than this look for a duplicate key by comparing with each member.
    static let linearDuplicateScanLimit = 16

    /// A key's UTF-8 bytes, hashed in one call (`[UInt8]` hashes byte by byte; `String` by canonical equivalence).
    struct KeyBytes: Hashable {
        let bytes: [UInt8]

        init(_ key: String) { bytes = Array(key.utf8) }

        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws(SealedEventsError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw error("unexpected data after the JSON value") }
        return value
    }

    private func error(_ reason: String) -> SealedEventsError {
        SealedEventsError(.invalidJSON, "\(reason) at byte \(index)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(SealedEventsError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectWord("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectWord("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectWord("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard let end = JSONNumber.scan(bytes, from: index) else { throw error("invalid number") }
            let literal = String(decoding: bytes[index..<end], as: UTF8.self)
            index = end
            return .number(JSONNumber(validatedLiteral: literal))
        default:
            throw error("unexpected character")
        }
    }

    private mutating func expectWord(_ word: StaticString) throws(SealedEventsError) {
        let length = word.utf8CodeUnitCount
        guard index + length <= bytes.count else { throw error("unexpected end of input") }
        let matches = word.withUTF8Buffer { expected in bytes[index..<(index + length)].elementsEqual(expected) }
        guard matches else { throw error("unexpected character") }
        index += length
    }

    private mutating func parseObject(depth: Int) throws(SealedEventsError) -> JSONObject {
        guard depth <= JSONValue.maximumDepth else { throw error("nesting deeper than \(JSONValue.maximumDepth)") }
        index += 1  // {
        var members: [JSONObject.Member] = []
        // Duplicate keys: a linear scan while the object is small, a set of the keys' bytes beyond that.
        var seen: Set<KeyBytes> = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return JSONObject(uncheckedMembers: members)
        }
        members.reserveCapacity(8)
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let keyStart = index
            let key = try parseString()
            let duplicate: Bool
            if members.count < Self.linearDuplicateScanLimit {
                duplicate = members.contains { $0.key.hasSameUTF8(as: key) }
            } else {
                if seen.isEmpty { for member in members { seen.insert(KeyBytes(member.key)) } }
                duplicate = !seen.insert(KeyBytes(key)).inserted
            }
            guard !duplicate else {
                index = keyStart
                throw error(JSONValue.duplicateKeyReason)
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append(JSONObject.Member(key: key, value: value))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
            index += 1
            return JSONObject(uncheckedMembers: members)
        }
    }

    private mutating func parseArray(depth: Int) throws(SealedEventsError) -> [JSONValue] {
        guard depth <= JSONValue.maximumDepth else { throw error("nesting deeper than \(JSONValue.maximumDepth)") }
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
            index += 1
            return elements
        }
    }

    private mutating func parseString() throws(SealedEventsError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes, the text is the input's bytes.
        index = bytes.withUnsafeBufferPointer { JSONScan.firstSpecialStringByte(in: $0, from: start) }
        if index < bytes.count {
            if bytes[index] == UInt8(ascii: "\"") {
                let text = bytes.withUnsafeBytes {
                    validUTF8String(UnsafeRawBufferPointer(rebasing: $0[start..<index]))
                }
                guard let text else {
                    index = start
                    throw error("string is not valid UTF-8")
                }
                index += 1
                return text
            }
            guard bytes[index] == UInt8(ascii: "\\") else { throw error("control character in string") }
        }
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = buffer.withUnsafeBytes(validUTF8String) else {
                    index = start
                    throw error("string is not valid UTF-8")
                }
                index += 1
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unexpected end of input") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(0x22)
                case UInt8(ascii: "\\"): buffer.append(0x5C)
                case UInt8(ascii: "/"): buffer.append(0x2F)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { throw error("unpaired UTF-16 surrogate escape") }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired UTF-16 surrogate escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("unpaired UTF-16 surrogate escape")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid escape") }
                    UTF8.encode(unicode) { buffer.append($0) }
                default:
                    throw error("invalid escape")
                }
            default:
                guard byte >= 0x20 else { throw error("control character in string") }
                let end = bytes.withUnsafeBufferPointer { JSONScan.firstSpecialStringByte(in: $0, from: index + 1) }
                buffer.append(contentsOf: bytes[index..<end])
                index = end
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws(SealedEventsError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("unexpected end of input") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}

enum JSONWriter {
    static func write(_ value: JSONValue, to out: inout [UInt8], indent: Int?, level: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): out.append(contentsOf: number.literal.utf8)
        case .string(let text): writeString(text, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent: indent, level: level + 1)
                write(element, to: &out, indent: indent, level: level + 1)
            }
            if !elements.isEmpty { newline(&out, indent: indent, level: level) }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (position, member) in object.members.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent: indent, level: level + 1)
                writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(member.value, to: &out, indent: indent, level: level + 1)
            }
            if !object.isEmpty { newline(&out, indent: indent, level: level) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ out: inout [UInt8], indent: Int?, level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * level))
    }

    static func writeString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { writeString(utf8: $0, to: &out) }
    }

    /// Writes a string's UTF-8 bytes as a JSON string: runs that need no escape are copied whole.
    static func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        while true {
            let index = JSONScan.firstSpecialStringByte(in: bytes, from: runStart)
            if runStart < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index])) }
            guard index < bytes.count else { break }
            appendEscape(bytes[index], to: &out)
            runStart = index + 1
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        out.append(0x5C)
        switch byte {
        case 0x22: out.append(0x22)
        case 0x5C: out.append(0x5C)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        default:
            out.append(UInt8(ascii: "u"))
            out.append(0x30)
            out.append(0x30)
            hex.withUTF8Buffer { digits in
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0xF)])
            }
        }
    }
}

/// Finds the bytes a JSON string cannot hold as they are.
enum JSONScan {
    /// The index of the first quote, backslash or control character at or after `start`, or `bytes.count`.
    ///
    /// Eight bytes at a time: a word is skipped when none of its bytes equals `"` or `\\` or is below 0x20
    /// (the "has a zero byte" and "has a byte less than n" tests on 64-bit words); a word that may hold one is
    /// searched byte by byte.
    @inline(__always)
    static func firstSpecialStringByte(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        let count = bytes.count
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while index + 8 <= count {
                let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5C)
                let special =
                    ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
                if special & highs != 0 { break }
                index += 8
            }
        }
        while index < count {
            let byte = bytes[index]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 { return index }
            index += 1
        }
        return count
    }
}
