package import SealedSupport

extension JSONValue {
    /// The deepest nesting of arrays and objects the parser accepts.
    public static let maximumDepth = 512

    /// How the reason of the `invalidJSON` error for an object naming a member twice begins.
    public static let duplicateKeyReason = "duplicate object key"

    /// How SealedEvents reads JSON: nesting up to ``maximumDepth``, a byte-order mark refused (RFC 8259 §8.1: the
    /// envelopes of the format never carry one).
    package static let parseOptions = JSONParser.Options(maximumDepth: maximumDepth, byteOrderMark: .refuse)

    /// Parses a JSON text (RFC 8259): exactly one value, optionally surrounded by whitespace.
    ///
    /// The parser is strict: no byte-order mark, no trailing commas, no comments, no duplicate object keys, no
    /// control characters in strings, no invalid UTF-8 and no lone UTF-16 surrogate escapes (which no Swift
    /// string can hold). Nesting deeper than ``maximumDepth`` is refused rather than risking the stack.
    ///
    /// - Throws: ``SealedEventsError`` `invalidJSON` with the byte offset of the problem.
    public init(parsing bytes: some Collection<UInt8>) throws(SealedEventsError) {
        do {
            self = try JSONParser.parse(bytes, options: Self.parseOptions)
        } catch {
            throw SealedEventsError(json: error)
        }
    }

    /// Parses a JSON text; see ``init(parsing:)-(Collection<UInt8>)``.
    public init(parsing text: String) throws(SealedEventsError) {
        try self.init(parsing: text.utf8)
    }
}

extension JSONNumber {
    /// A number from its JSON spelling.
    ///
    /// - Throws: ``SealedEventsError`` `invalidJSON` when `literal` is not an RFC 8259 number.
    public init(literal: String) throws(SealedEventsError) {
        guard let number = JSONNumber(checking: literal) else {
            throw SealedEventsError(.invalidJSON, "\"\(literal.prefix(40))\" is not a JSON number")
        }
        self = number
    }
}

extension SealedEventsError {
    /// The `invalidJSON` error for a syntax error, in SealedEvents' words: the reason and its byte offset.
    package init(json error: JSONSyntaxError) {
        let reason =
            switch error.kind {
            case .unexpectedEnd: "unexpected end of input"
            case .unexpectedByte(_, .value), .invalidLiteral, .byteOrderMark: "unexpected character"
            case .unexpectedByte(_, .memberName): "expected a member name"
            case .unexpectedByte(_, let expected): "expected \(expected.words)"
            case .invalidNumber, .numberOutOfRange: "invalid number"
            case .duplicateMember: JSONValue.duplicateKeyReason
            default: error.reason
            }
        self.init(.invalidJSON, "\(reason) at byte \(error.offset)")
    }
}
