/// One token of an expression.
enum Token: Sendable, Hashable {
    /// A plain attribute name (`branch_key`), not a keyword and not followed by `(`.
    case name(String)
    /// A name followed by `(`: a function.
    case function(String)
    /// `AND`, `OR`, `NOT`, `BETWEEN`, `IN`, upper-cased.
    case keyword(String)
    /// `#name`.
    case nameReference(String)
    /// `:value`.
    case value(String)
    case comparator(Condition.Comparator)
    case open, close, comma, dot, bracket

    static let keywords: Set<String> = ["AND", "OR", "NOT", "BETWEEN", "IN"]

    /// How the token reads, for syntax errors.
    var text: String {
        switch self {
        case .name(let text), .function(let text), .keyword(let text), .nameReference(let text), .value(let text):
            text
        case .comparator(let comparator): comparator.rawValue
        case .open: "("
        case .close: ")"
        case .comma: ","
        case .dot: "."
        case .bracket: "["
        }
    }

    /// The tokens of `text`.
    ///
    /// - Throws: ``TableError`` `ValidationException` for a character no token starts with.
    static func scan(_ text: String, _ kind: ExpressionKind) throws(TableError) -> [Token] {
        let bytes = Array(text.utf8)
        var tokens: [Token] = []
        var index = 0
        func word(from start: Int) -> Int {
            var end = start
            while end < bytes.count, isWordByte(bytes[end]) { end += 1 }
            return end
        }
        func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "("):
                tokens.append(.open)
                index += 1
            case UInt8(ascii: ")"):
                tokens.append(.close)
                index += 1
            case UInt8(ascii: ","):
                tokens.append(.comma)
                index += 1
            case UInt8(ascii: "."):
                tokens.append(.dot)
                index += 1
            case UInt8(ascii: "["):
                tokens.append(.bracket)
                index += 1
            case UInt8(ascii: "="):
                tokens.append(.comparator(.equal))
                index += 1
            case UInt8(ascii: "<"):
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ">") {
                    tokens.append(.comparator(.notEqual))
                    index += 2
                } else if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "=") {
                    tokens.append(.comparator(.lessOrEqual))
                    index += 2
                } else {
                    tokens.append(.comparator(.less))
                    index += 1
                }
            case UInt8(ascii: ">"):
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "=") {
                    tokens.append(.comparator(.greaterOrEqual))
                    index += 2
                } else {
                    tokens.append(.comparator(.greater))
                    index += 1
                }
            case UInt8(ascii: "#"), UInt8(ascii: ":"):
                let end = word(from: index + 1)
                guard end > index + 1 else { throw unexpected(string(index..<index + 1), kind) }
                let reference = string(index..<end)
                tokens.append(byte == UInt8(ascii: "#") ? .nameReference(reference) : .value(reference))
                index = end
            default:
                guard isWordByte(byte), !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                    var end = index + 1
                    while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
                    throw unexpected(string(index..<end), kind)
                }
                let end = word(from: index)
                let name = string(index..<end)
                var next = end
                while next < bytes.count, bytes[next] == UInt8(ascii: " ") || bytes[next] == UInt8(ascii: "\t") {
                    next += 1
                }
                if keywords.contains(name.uppercased()) {
                    tokens.append(.keyword(name.uppercased()))
                } else if next < bytes.count, bytes[next] == UInt8(ascii: "(") {
                    tokens.append(.function(name))
                } else {
                    tokens.append(.name(name))
                }
                index = end
            }
        }
        return tokens
    }

    static func isWordByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }

    static func unexpected(_ text: String, _ kind: ExpressionKind) -> TableError {
        .validation("Invalid \(kind.rawValue): Syntax error; token: \"\(text)\"")
    }
}
