/// Why a text is not the JSON ``JSONParser`` accepts, and where: a byte offset into the text, and the path of the
/// value being read when the parser records paths.
///
/// Callers turn it into their own error (``kind`` says what went wrong, so each keeps its wording);
/// ``reason`` is a plain English default.
package struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What the parser expected when it found something else.
    package enum Expectation: Sendable, Hashable {
        case value, memberName, colon, commaOrObjectEnd, commaOrArrayEnd
    }

    /// What is wrong.
    package enum Kind: Sendable, Hashable {
        /// The text ends where `Expectation` should come.
        case unexpectedEnd(Expectation)
        /// `byte` stands where `Expectation` should.
        case unexpectedByte(UInt8, Expectation)
        /// A word that starts like `true`, `false` or `null` but is not it (the literal expected).
        case invalidLiteral(String)
        /// A number without digits where RFC 8259 needs them.
        case invalidNumber(NumberPart)
        /// A number beyond `Double`'s range, refused under ``JSONParser/Options/requiresFiniteNumbers``.
        case numberOutOfRange
        case unterminatedString
        /// A backslash followed by anything but `"\/bfnrtu`.
        case invalidEscape
        /// `\u` not followed by four hex digits.
        case invalidUnicodeEscape
        /// A UTF-16 surrogate escape without its other half.
        case unpairedSurrogate
        /// A byte below 0x20 inside a string.
        case controlCharacter
        /// A string whose bytes are not UTF-8 (the offset is the string's first byte).
        case invalidUTF8
        /// Arrays and objects nested deeper than the limit.
        case tooDeep(limit: Int)
        /// Something other than whitespace after the value.
        case trailingData
        /// An object names `key` twice (the offset is the second key's).
        case duplicateMember(String)
        /// A UTF-8 byte-order mark, refused under ``JSONParser/ByteOrderMark/refuse``.
        case byteOrderMark
    }

    /// The part of a number that needs digits.
    package enum NumberPart: Sendable, Hashable {
        case integer, fraction, exponent
    }

    package var kind: Kind
    /// The offset of the problem in the text, in bytes.
    package var offset: Int
    /// The path of the value being read (`$`, `$.Statement[0].Effect`), when the parser records paths.
    package var path: String?

    package init(_ kind: Kind, at offset: Int, path: String? = nil) {
        self.kind = kind
        self.offset = offset
        self.path = path
    }

    /// Whether an object names a member twice (as opposed to a text that is not JSON at all).
    package var isDuplicateMember: Bool {
        if case .duplicateMember = kind { return true }
        return false
    }

    /// A plain English reason, without the offset.
    package var reason: String {
        switch kind {
        case .unexpectedEnd(let expected): "unexpected end of input, expected \(expected.words)"
        case .unexpectedByte(_, let expected): "unexpected character, expected \(expected.words)"
        case .invalidLiteral(let literal): "invalid literal, expected \(literal)"
        case .invalidNumber(let part): "invalid number: \(part.words) expected"
        case .numberOutOfRange: "number out of range"
        case .unterminatedString: "unterminated string"
        case .invalidEscape: "invalid escape"
        case .invalidUnicodeEscape: "invalid \\u escape"
        case .unpairedSurrogate: "unpaired UTF-16 surrogate escape"
        case .controlCharacter: "control character in string"
        case .invalidUTF8: "string is not valid UTF-8"
        case .tooDeep(let limit): "nesting deeper than \(limit)"
        case .trailingData: "unexpected data after the JSON value"
        case .duplicateMember(let key): "duplicate object key \"\(key)\""
        case .byteOrderMark: "byte-order mark before the JSON value"
        }
    }

    package var description: String { "\(reason) at byte \(offset)" }
}

extension JSONSyntaxError.Expectation {
    /// The expected token in words: `a value`, `':'`.
    package var words: String {
        switch self {
        case .value: "a value"
        case .memberName: "a member name"
        case .colon: "':'"
        case .commaOrObjectEnd: "',' or '}'"
        case .commaOrArrayEnd: "',' or ']'"
        }
    }
}

extension JSONSyntaxError.NumberPart {
    var words: String {
        switch self {
        case .integer: "digits"
        case .fraction: "digits after '.'"
        case .exponent: "digits in the exponent"
        }
    }
}
