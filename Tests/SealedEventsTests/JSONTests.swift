import SealedEvents
import Testing

/// The order- and spelling-preserving JSON value: parsing, serializing, and the strictness of the parser.
struct JSONTests {
    @Test(arguments: [
        #"{"b":1,"a":[true,false,null],"c":{"z":"x","y":-0.5e-3}}"#,
        #"[1.0,1,1e400,-0,0.1,123456789012345678901234567890,1E+2,1e-05]"#,
        #""unicode: é e\u0301 日本 🎉""#,
        #"{"":"empty key","a/b":"slash","m~n":"tilde"}"#,
        #"[[],{},[{}],""]"#,
        "\"\\\"\\\\\\n\\r\\t\\b\\f\\u0000\\u001f\"",
    ])
    func roundTripIsExact(text: String) throws {
        let value = try JSONValue(parsing: text)
        let written = value.jsonString()
        #expect(try JSONValue(parsing: written) == value)
        #expect(try JSONValue(parsing: value.jsonString(pretty: true)) == value)
    }

    @Test func compactOutputKeepsOrderAndSpelling() throws {
        let text = #"{"zeta":1.0,"alpha":1e400,"mid":[0.10,"é"]}"#
        #expect(try JSONValue(parsing: text).jsonString() == text)
    }

    @Test func whitespaceIsDropped() throws {
        let value = try JSONValue(parsing: " { \"a\" :\t[ 1 , 2 ]\r\n} ")
        #expect(value.jsonString() == #"{"a":[1,2]}"#)
    }

    @Test func escapesAreDecoded() throws {
        let value = try JSONValue(parsing: #""\u00e9\ud83c\udf89\/\"""#)
        #expect(value == .string("é🎉/\""))
        #expect(value.jsonString() == "\"é🎉/\\\"\"")
    }

    @Test func numbersKeepTheirLiteral() throws {
        let value = try JSONValue(parsing: "[1.0, 1, 1e400, 2.50]")
        let numbers = try #require(value.arrayValue).compactMap(\.numberValue)
        #expect(numbers.map(\.literal) == ["1.0", "1", "1e400", "2.50"])
        #expect(numbers[0] != numbers[1], "1.0 and 1 are different spellings")
        #expect(numbers[0].doubleValue == 1.0)
        #expect(numbers[1].int64Value == 1)
        #expect(numbers[0].int64Value == nil)
        #expect(numbers[2].doubleValue == nil, "1e400 is beyond Double")
        #expect(JSONNumber(Double.infinity) == nil)
        #expect(JSONNumber(0.5)?.literal == "0.5")
        #expect(throws: SealedEventsError(.invalidJSON, "")) { try JSONNumber(literal: "01") }
        #expect(try JSONNumber(literal: "-1.5E+7").literal == "-1.5E+7")
    }

    @Test func stringsCompareByBytesNotCanonicalEquivalence() throws {
        let composed = try JSONValue(parsing: #""\u00e9""#)
        let decomposed = try JSONValue(parsing: #""e\u0301""#)
        #expect(composed != decomposed)
        #expect(composed.serialized() != decomposed.serialized())
        // Both keys may live in one object: they are different JSON strings.
        let object = try JSONValue(parsing: #"{"\u00e9":1,"e\u0301":2}"#)
        #expect(object.objectValue?.count == 2)
    }

    @Test func objectsKeepOrderOnReplaceAndAppendOnAdd() {
        var object: JSONObject = ["b": 1, "a": 2]
        object["b"] = "x"
        object["c"] = 3
        #expect(object.keys == ["b", "a", "c"])
        object["a"] = nil
        #expect(object.keys == ["b", "c"])
        #expect(JSONValue.object(object) != JSONValue.object(["c": 3, "b": "x"]), "order is part of equality")
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{'a':1}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul",
        "NaN", "Infinity", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "{\"a\":1,\"a\":2}", "[1] 2", "\u{FEFF}[]", "// comment\n1", "\"tab\there\"", "\"line\nbreak\"",
    ])
    func invalidJSONIsATypedError(text: String) {
        #expect(throws: SealedEventsError(.invalidJSON, "")) { try JSONValue(parsing: text) }
    }

    @Test func invalidUTF8IsATypedError() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: SealedEventsError(.invalidJSON, "")) { try JSONValue(parsing: bytes) }
        }
    }

    @Test func nestingIsBounded() throws {
        let ok =
            String(repeating: "[", count: JSONValue.maximumDepth)
            + String(repeating: "]", count: JSONValue.maximumDepth)
        #expect(try JSONValue(parsing: ok).arrayValue != nil)
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: SealedEventsError(.invalidJSON, "")) { try JSONValue(parsing: deep) }
        let deepObject = String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(throws: SealedEventsError(.invalidJSON, "")) { try JSONValue(parsing: deepObject) }
    }
}
