internal import SealedSupport

extension JSONNode {
    /// How policies are read: arrays and objects nested at most 64 deep (a policy needs five), a UTF-8 byte-order
    /// mark skipped (editors on Windows write one before a policy a person pastes), and the path and offset of every
    /// value recorded so that ``PolicyError`` can point at the problem.
    static let parseOptions = JSONParser.Options(
        maximumDepth: 64,
        byteOrderMark: .skip,
        recordsPaths: true,
        recordsOffsets: true
    )

    /// Parses a policy's text with the package's strict JSON parser, giving every value and member name its line and
    /// column.
    ///
    /// - Throws: ``PolicyError`` `malformedJSON` for text that is not JSON, `duplicateElement` for an object naming a
    ///   member twice (a policy with two `Effect`s means something different to each reader).
    package static func parse(_ text: String) throws(PolicyError) -> JSONNode {
        var positions = JSONTextPositions(skippingByteOrderMarkOf: text)
        do {
            let (value, offsets) = try JSONParser.parseDocument(text.utf8, options: parseOptions)
            var builder = Builder(offsets: offsets, positions: positions)
            return builder.node(value)
        } catch {
            let (line, column) = positions.lineAndColumn(of: error.offset)
            throw PolicyError(
                code: error.isDuplicateMember ? .duplicateElement : .malformedJSON,
                reason: Self.reason(error),
                position: SourcePosition(line: line, column: column),
                path: error.path ?? "$"
            )
        }
    }

    /// A syntax error in the words policy authors have always read.
    private static func reason(_ error: JSONSyntaxError) -> String {
        switch error.kind {
        case .unexpectedEnd(.value): "unexpected end of text, expected a value"
        case .unexpectedEnd(let expected): "unexpected the end of the text, expected \(words(expected))"
        case .unexpectedByte(let byte, let expected):
            "unexpected \(describe(byte)), expected \(words(expected))"
        case .invalidLiteral(let literal): "invalid literal, expected \(literal)"
        case .invalidNumber(.integer): "invalid number"
        case .invalidNumber(.fraction): "invalid number: digits expected after '.'"
        case .invalidNumber(.exponent): "invalid number: digits expected in the exponent"
        case .unpairedSurrogate: "unpaired surrogate in \\u escape"
        case .invalidEscape: "invalid escape sequence"
        case .controlCharacter: "unescaped control character in string"
        case .tooDeep(let limit): "JSON nested deeper than \(limit) levels"
        case .trailingData: "unexpected text after the JSON value"
        case .duplicateMember(let key): "duplicate key \"\(key)\""
        default: error.reason
        }
    }

    private static func words(_ expected: JSONSyntaxError.Expectation) -> String {
        expected == .memberName ? "a string key" : expected.words
    }

    private static func describe(_ byte: UInt8) -> String {
        if byte >= 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    /// Turns a parsed value into nodes, taking their offsets in document order (a member's name before its value).
    private struct Builder {
        var offsets: IndexingIterator<[Int]>
        var positions: JSONTextPositions

        init(offsets: [Int], positions: JSONTextPositions) {
            self.offsets = offsets.makeIterator()
            self.positions = positions
        }

        mutating func position() -> SourcePosition {
            let (line, column) = positions.lineAndColumn(of: offsets.next() ?? 0)
            return SourcePosition(line: line, column: column)
        }

        mutating func node(_ value: JSONValue) -> JSONNode {
            let start = position()
            let kind: Kind =
                switch value {
                case .null: .null
                case .bool(let flag): .bool(flag)
                case .number(let number): .number(number.literal)
                case .string(let text): .string(text)
                case .array(let elements): .array(elements.map { node($0) })
                case .object(let object):
                    .object(
                        object.map { member in
                            let keyPosition = position()
                            return Member(key: member.key, keyPosition: keyPosition, value: node(member.value))
                        }
                    )
                }
            return JSONNode(kind: kind, position: start)
        }
    }
}
