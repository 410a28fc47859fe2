import SealedSupport
import SealedTesting
import Testing

/// The shared strict JSON parser: what it accepts, what it refuses and where, and its options.
struct JSONParserTests {
    private func parse(_ text: String, _ options: JSONParser.Options = .init()) throws(JSONSyntaxError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8), options: options)
    }

    private func error(_ text: String, _ options: JSONParser.Options = .init()) -> JSONSyntaxError? {
        do {
            _ = try parse(text, options)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        #"{"b":1,"a":[true,false,null],"c":{"z":"x","y":-0.5e-3}}"#,
        #"[1.0,1,1e400,-0,0.1,123456789012345678901234567890,1E+2,1e-05]"#,
        #"{"zeta":1.0,"alpha":1e400,"mid":[0.10,"é"]}"#,
        #"{"":"empty key","a/b":"slash","m~n":"tilde"}"#,
        #"[[],{},[{}],""]"#,
        "\"\\\"\\\\\\n\\r\\t\\b\\f\\u0000\\u001f\"",
    ])
    func compactTextRoundTripsByteForByte(text: String) throws {
        let value = try parse(text)
        #expect(value.jsonString() == text)
        #expect(try parse(value.jsonString(pretty: true)) == value)
    }

    @Test func membersKeepDocumentOrderAndNumbersTheirLiteral() throws {
        let value = try parse(#" { "z" : 1.50 , "a" : [ 1E+2 , -0 ] , "m" : 1e400 } "#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["z", "a", "m"])
        #expect(object["z"]?.numberValue?.literal == "1.50")
        #expect(object["a"]?.arrayValue?.compactMap(\.numberValue?.literal) == ["1E+2", "-0"])
        #expect(object["m"]?.numberValue?.doubleValue == nil, "1e400 is kept, though no Double holds it")
        #expect(value != (try parse(#"{"a":[1E+2,-0],"z":1.50,"m":1e400}"#)), "order is part of equality")
    }

    @Test func escapesAreDecoded() throws {
        #expect(try parse(#""\u00e9\ud83c\udf89\/\"\\""#) == .string("é🎉/\"\\"))
        #expect(try parse(#""plain é""#) == .string("plain é"))
    }

    // MARK: - Errors

    @Test(arguments: [
        ("", JSONSyntaxError.Kind.unexpectedEnd(.value), 0),
        ("  ", .unexpectedEnd(.value), 2),
        ("hello", .unexpectedByte(UInt8(ascii: "h"), .value), 0),
        (#"{"a" 1}"#, .unexpectedByte(UInt8(ascii: "1"), .colon), 5),
        (#"{"a":1,}"#, .unexpectedByte(UInt8(ascii: "}"), .memberName), 7),
        (#"{"a":1 "b":2}"#, .unexpectedByte(UInt8(ascii: "\""), .commaOrObjectEnd), 7),
        ("[1,]", .unexpectedByte(UInt8(ascii: "]"), .value), 3),
        ("[1 2]", .unexpectedByte(UInt8(ascii: "2"), .commaOrArrayEnd), 3),
        ("tru", .invalidLiteral("true"), 0),
        ("[nul]", .invalidLiteral("null"), 1),
        ("-", .invalidNumber(.integer), 0),
        ("1.", .invalidNumber(.fraction), 2),
        ("1e+", .invalidNumber(.exponent), 3),
        ("01", .trailingData, 1),
        ("\"abc", .unterminatedString, 4),
        (#""a\x""#, .invalidEscape, 2),
        (#""\u12""#, .invalidUnicodeEscape, 1),
        (#""\ud800""#, .unpairedSurrogate, 1),
        (#""\udc00""#, .unpairedSurrogate, 1),
        (#""\ud800\u0041""#, .unpairedSurrogate, 1),
        ("\"tab\there\"", .controlCharacter, 4),
        (#"{"a":1,"a":2}"#, .duplicateMember("a"), 7),
        ("[1] 2", .trailingData, 4),
        ("\u{FEFF}[]", .byteOrderMark, 0),
    ])
    func malformedTextIsATypedErrorAtItsPlace(text: String, kind: JSONSyntaxError.Kind, offset: Int) {
        let found = error(text)
        #expect(found?.kind == kind, "\(text)")
        #expect(found?.offset == offset, "\(text)")
    }

    @Test func theEndWhereATokenShouldBeIsNamed() {
        #expect(error("{")?.kind == .unexpectedEnd(.memberName))
        #expect(error(#"{"a""#)?.kind == .unexpectedEnd(.colon))
        #expect(error("[1")?.kind == .unexpectedEnd(.commaOrArrayEnd))
    }

    @Test func invalidUTF8IsRefusedAtTheStringsStart() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x20, 0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONSyntaxError(.invalidUTF8, at: bytes.firstIndex(of: 0x22)! + 1)) {
                try JSONParser.parse(bytes)
            }
        }
        #expect(throws: JSONSyntaxError(.invalidUTF8, at: 1)) { try JSONParser.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
    }

    // MARK: - Duplicate members

    @Test(arguments: [2, 15, 16, 17, 40])
    func duplicateMembersAreRefusedInSmallAndLargeObjects(count: Int) {
        let members = (0..<count).map { #""k\#($0)":\#($0)"# }
        let text = "{" + members.joined(separator: ",") + #","k0":"again"}"#
        let found = error(text)
        #expect(found?.isDuplicateMember == true)
        #expect(found?.kind == .duplicateMember("k0"))
        #expect(found?.offset == text.utf8.count - #""k0":"again"}"#.utf8.count)
        #expect(found?.reason.hasPrefix("duplicate object key") == true)
    }

    @Test func keysCompareByTheirBytesNotCanonicalEquivalence() throws {
        let object = try parse(#"{"\u00e9":1,"e\u0301":2}"#)
        #expect(object.objectValue?.count == 2)
        #expect(error(#"{"\u00e9":1,"é":2}"#)?.isDuplicateMember == true)
    }

    // MARK: - Depth

    @Test(arguments: [1, 64, 512])
    func nestingIsBoundedByTheOption(limit: Int) throws {
        let options = JSONParser.Options(maximumDepth: limit)
        let ok = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(try parse(ok, options).arrayValue != nil)
        let okObject = String(repeating: #"{"a":"#, count: limit) + "1" + String(repeating: "}", count: limit)
        #expect(try parse(okObject, options).objectValue != nil)
        let deep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(throws: JSONSyntaxError(.tooDeep(limit: limit), at: limit)) { try parse(deep, options) }
    }

    @Test func deepTextIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(error(deep)?.kind == .tooDeep(limit: 512))
        let deepObject = String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(error(deepObject)?.kind == .tooDeep(limit: 512))
    }

    @Test func skippingAValueHonoursTheDepthLimit() throws {
        let text = Array((String(repeating: "[", count: 9) + String(repeating: "]", count: 9)).utf8)
        try text.withUnsafeBytes { bytes in
            var within = JSONParser(bytes, options: JSONParser.Options(maximumDepth: 9))
            try within.skipValue(depth: 0)
            #expect(within.isAtEnd)
            var beyond = JSONParser(bytes, options: JSONParser.Options(maximumDepth: 8))
            #expect(throws: JSONSyntaxError(.tooDeep(limit: 8), at: 8)) { try beyond.skipValue(depth: 0) }
        }
    }

    // MARK: - Byte-order mark

    @Test func aByteOrderMarkIsRefusedOrSkippedAsAsked() throws {
        let text = "\u{FEFF} {\"a\":1}"
        #expect(throws: JSONSyntaxError(.byteOrderMark, at: 0)) { try parse(text) }
        #expect(try parse(text, JSONParser.Options(byteOrderMark: .skip)) == ["a": 1])
        // Only at the start: inside a string it is a character, elsewhere an unexpected byte.
        #expect(try parse("\"\u{FEFF}\"") == .string("\u{FEFF}"))
        #expect(error("[\u{FEFF}]", JSONParser.Options(byteOrderMark: .skip))?.kind == .unexpectedByte(0xEF, .value))
    }
}
