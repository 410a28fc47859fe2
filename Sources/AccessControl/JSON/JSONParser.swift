/// A strict RFC 8259 JSON parser that records the line and column of every value and object key.
///
/// Foundation's `JSONSerialization` reports neither, and a policy author needs both. Duplicate keys in one object are
/// rejected: a policy with two `Effect`s or two `StringEquals` blocks means something different to each reader.
package struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var column = 1
    private static let maxDepth = 64

    package init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// Parses the whole text as one JSON value.
    package static func parse(_ text: String) throws(PolicyError) -> JSONNode {
        var parser = JSONParser(text)
        parser.skipByteOrderMark()
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0, path: "$")
        parser.skipWhitespace()
        if parser.index < parser.bytes.count {
            throw parser.error("unexpected text after the JSON value", path: "$")
        }
        return value
    }

    // MARK: - Cursor

    private var position: SourcePosition { SourcePosition(line: line, column: column) }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    private mutating func skipWhitespace() {
        while let byte = peek(),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t")
                || byte == UInt8(ascii: "\r")
        {
            advance()
        }
    }

    private mutating func skipByteOrderMark() {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
    }

    private func error(_ reason: String, path: String, at position: SourcePosition? = nil) -> PolicyError {
        PolicyError(code: .malformedJSON, reason: reason, position: position ?? self.position, path: path)
    }

    private func describeCurrent() -> String {
        guard let byte = peek() else { return "the end of the text" }
        if byte >= 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    // MARK: - Values

    private mutating func parseValue(depth: Int, path: String) throws(PolicyError) -> JSONNode {
        guard depth < Self.maxDepth else { throw error("JSON nested deeper than \(Self.maxDepth) levels", path: path) }
        let start = position
        guard let byte = peek() else { throw error("unexpected end of text, expected a value", path: path) }
        switch byte {
        case UInt8(ascii: "{"):
            return JSONNode(kind: .object(try parseObject(depth: depth, path: path)), position: start)
        case UInt8(ascii: "["):
            return JSONNode(kind: .array(try parseArray(depth: depth, path: path)), position: start)
        case UInt8(ascii: "\""):
            return JSONNode(kind: .string(try parseString(path: path)), position: start)
        case UInt8(ascii: "t"):
            try parseLiteral("true", path: path)
            return JSONNode(kind: .bool(true), position: start)
        case UInt8(ascii: "f"):
            try parseLiteral("false", path: path)
            return JSONNode(kind: .bool(false), position: start)
        case UInt8(ascii: "n"):
            try parseLiteral("null", path: path)
            return JSONNode(kind: .null, position: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(kind: .number(try parseNumber(path: path)), position: start)
        default:
            throw error("unexpected \(describeCurrent()), expected a value", path: path)
        }
    }

    private mutating func parseObject(depth: Int, path: String) throws(PolicyError) -> [JSONNode.Member] {
        advance()  // {
        skipWhitespace()
        var members: [JSONNode.Member] = []
        if peek() == UInt8(ascii: "}") {
            advance()
            return members
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw error("unexpected \(describeCurrent()), expected a string key", path: path)
            }
            let keyPosition = position
            let key = try parseString(path: path)
            let memberPath = path + "." + key
            if members.contains(where: { $0.key == key }) {
                throw PolicyError(
                    code: .duplicateElement,
                    reason: "duplicate key \"\(key)\"",
                    position: keyPosition,
                    path: memberPath
                )
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw error("unexpected \(describeCurrent()), expected ':'", path: memberPath)
            }
            advance()
            skipWhitespace()
            let value = try parseValue(depth: depth + 1, path: memberPath)
            members.append(JSONNode.Member(key: key, keyPosition: keyPosition, value: value))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                advance()
            case UInt8(ascii: "}"):
                advance()
                return members
            default:
                throw error("unexpected \(describeCurrent()), expected ',' or '}'", path: path)
            }
        }
    }

    private mutating func parseArray(depth: Int, path: String) throws(PolicyError) -> [JSONNode] {
        advance()  // [
        skipWhitespace()
        var elements: [JSONNode] = []
        if peek() == UInt8(ascii: "]") {
            advance()
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1, path: "\(path)[\(elements.count)]"))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                advance()
            case UInt8(ascii: "]"):
                advance()
                return elements
            default:
                throw error("unexpected \(describeCurrent()), expected ',' or ']'", path: path)
            }
        }
    }

    private mutating func parseLiteral(_ literal: StaticString, path: String) throws(PolicyError) {
        let start = position
        let expected = literal.withUTF8Buffer { Array($0) }
        for byte in expected {
            guard peek() == byte else {
                throw error("invalid literal, expected \(literal)", path: path, at: start)
            }
            advance()
        }
    }

    private mutating func parseNumber(path: String) throws(PolicyError) -> String {
        let start = index
        let startPosition = position
        func isDigit(_ byte: UInt8?) -> Bool {
            byte.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false
        }
        if peek() == UInt8(ascii: "-") { advance() }
        if peek() == UInt8(ascii: "0") {
            advance()
        } else if isDigit(peek()) {
            while isDigit(peek()) { advance() }
        } else {
            throw error("invalid number", path: path, at: startPosition)
        }
        if peek() == UInt8(ascii: ".") {
            advance()
            guard isDigit(peek()) else { throw error("invalid number: digits expected after '.'", path: path) }
            while isDigit(peek()) { advance() }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            advance()
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { advance() }
            guard isDigit(peek()) else { throw error("invalid number: digits expected in the exponent", path: path) }
            while isDigit(peek()) { advance() }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func parseString(path: String) throws(PolicyError) -> String {
        advance()  // opening quote
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("unterminated string", path: path) }
            switch byte {
            case UInt8(ascii: "\""):
                advance()
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let escapePosition = position
                advance()
                guard let escaped = peek() else { throw error("unterminated string", path: path) }
                advance()
                switch escaped {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4(path: path, escape: escapePosition)
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard peek() == UInt8(ascii: "\\") else {
                            throw error("unpaired surrogate in \\u escape", path: path, at: escapePosition)
                        }
                        advance()
                        guard peek() == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in \\u escape", path: path, at: escapePosition)
                        }
                        advance()
                        let low = try parseHex4(path: path, escape: escapePosition)
                        guard (0xDC00...0xDFFF).contains(low) else {
                            throw error("unpaired surrogate in \\u escape", path: path, at: escapePosition)
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("unpaired surrogate in \\u escape", path: path, at: escapePosition)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else {
                        throw error("invalid \\u escape", path: path, at: escapePosition)
                    }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default:
                    throw error("invalid escape sequence", path: path, at: escapePosition)
                }
            default:
                guard byte >= 0x20 else { throw error("unescaped control character in string", path: path) }
                out.append(byte)
                advance()
            }
        }
    }

    private mutating func parseHex4(path: String, escape: SourcePosition) throws(PolicyError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw error("invalid \\u escape", path: path, at: escape) }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape", path: path, at: escape)
            }
            value = value << 4 | digit
            advance()
        }
        return value
    }
}
