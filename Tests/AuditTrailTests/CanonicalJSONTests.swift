import AuditTrail
import Foundation
import Testing

@Suite struct CanonicalJSONTests {
    @Test(arguments: [
        (JSONValue.null, "null"),
        (.bool(true), "true"),
        (.number(JSONNumber(-42)), "-42"),
        (.number(JSONNumber(1.0)!), "1"),
        (.number(JSONNumber(-0.0)!), "0"),
        (.number(JSONNumber(0.1)!), "0.1"),
        (.number(JSONNumber(1e-7)!), "1e-07"),
        (.number(JSONNumber(1e300)!), "1e+300"),
        (.number(JSONNumber(checking: "1e400")!), "null"),
        (.number(JSONNumber(checking: "-0")!), "0"),
        (.number(JSONNumber(checking: "1E2")!), "100"),
        (.number(JSONNumber(checking: "12345678901234567890")!), "1.2345678901234567e+19"),
        (.string("a\"b\\c/d\n\t\u{01}é🔑"), #""a\"b\\c/d\n\t\u0001é🔑""#),
        (.array([1, "x", .null]), #"[1,"x",null]"#),
        (
            JSONValue.object(["b": 1, "a": ["d": true, "c": []], "B": "upper", "aa": 2]),
            #"{"B":"upper","a":{"c":[],"d":true},"aa":2,"b":1}"#
        ),
    ])
    func encodesCanonically(value: JSONValue, expected: String) {
        #expect(String(decoding: CanonicalJSON.encode(value), as: UTF8.self) == expected)
    }

    @Test func objectMembersAreSortedByTheirKeysUTF8Bytes() {
        let alphabet: [String] = ["a", "b", "B", "é", "🔑", "aa", "_", "0", "\u{7f}", "z", "ab"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var object = JSONObject()
            for index in 0..<Int.random(in: 0...24, using: &generator) {
                let key = (0..<Int.random(in: 0...3, using: &generator))
                    .map { _ in alphabet.randomElement(using: &generator)! }.joined()
                object[key] = .number(JSONNumber(index))
            }
            var expected = Array("{".utf8)
            let sorted = object.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            for (position, member) in sorted.enumerated() {
                if position > 0 { expected.append(UInt8(ascii: ",")) }
                expected +=
                    CanonicalJSON.encode(.string(member.key)) + Array(":".utf8)
                    + CanonicalJSON.encode(member.value)
            }
            expected.append(UInt8(ascii: "}"))
            #expect(CanonicalJSON.encode(.object(object)) == expected)
        }
    }

    @Test func parseObjectBuildsOnlyTheKeptMembersButChecksTheOthers() throws {
        let text = #"{"KeyId":"k","Plaintext":"c2VjcmV0","EncryptionContext":{"a":"b"},"n":[1,{"x":null}]}"#
        let kept = try CanonicalJSON.parseObject(Array(text.utf8)) { $0 == "KeyId" || $0 == "EncryptionContext" }
        #expect(kept == ["KeyId": "k", "EncryptionContext": ["a": "b"]])
        for bad in [
            #"{"KeyId":"k","Plaintext":"unterminated}"#, #"{"KeyId":"k","n":[1,}"#, #"{"KeyId":"k","KeyId":"l"}"#,
            #"["KeyId"]"#, #"{"KeyId":"k"} trailing"#, "",
        ] {
            #expect(throws: AuditError.self, "\(bad)") {
                try CanonicalJSON.parseObject(Array(bad.utf8)) { $0 == "KeyId" }
            }
        }
    }

    /// Found by the `json` fuzz target: a skipped member's content is not checked, only its structure, so an object
    /// `parse` refuses for a number beyond `Double` (or a bad escape) inside a member is read when that member is
    /// skipped; kept, the member is refused as `parse` refuses it.
    @Test func skippedMembersAreCheckedForStructureOnly() throws {
        for text in [#"{"n":1e400,"k":"v"}"#, #"{"s":"bad \q escape","k":"v"}"#, #"{"o":{"a":1,"a":2},"k":"v"}"#] {
            let bytes = Array(text.utf8)
            #expect(throws: AuditError.self, "\(text)") { try CanonicalJSON.parse(bytes) }
            #expect(try CanonicalJSON.parseObject(bytes) { $0 == "k" } == ["k": "v"], "\(text)")
            #expect(throws: AuditError.self, "\(text)") { try CanonicalJSON.parseObject(bytes) { _ in true } }
        }
    }

    @Test func parsingCanonicalBytesGivesTheValueBack() throws {
        let value: JSONValue = [
            "text": "ünïcödé \u{7f} \"q\" \\", "list": [1, 2.5, -3e-9, true, .null, ["nested": [:]]],
            "big": .number(JSONNumber(Int64.max)), "small": .number(JSONNumber(Int64.min)),
        ]
        let bytes = CanonicalJSON.encode(value)
        #expect(try CanonicalJSON.parse(bytes) == CanonicalJSON.normalized(value))
        #expect(CanonicalJSON.encode(try CanonicalJSON.parse(bytes)) == bytes)
    }

    @Test func normalizedValuesAreEqualExactlyWhenTheirCanonicalBytesAre() throws {
        let texts = [
            #"{"b":[1,2.0,-0,1E2],"a":{"y":null,"x":0.50}}"#, #"{"a":{"x":0.5,"y":null},"b":[1,2,0,100]}"#,
            #"{"a":{"x":5e-1,"y":null},"b":[1.0,2,-0.0,1e+2]}"#, #"{"a":{"x":0.5,"y":null},"b":[1,2,0,101]}"#,
            #"{"a":{"x":0.5},"b":[1,2,0,100]}"#, #"{"b":[1,2,0,100],"a":{"y":null,"x":"0.5"}}"#, "[null]",
        ]
        let values =
            try texts.map { try CanonicalJSON.parse(Array($0.utf8)) } + [
                .array([.number(JSONNumber(checking: "1e400")!)])
            ]
        for value in values {
            let normalized = CanonicalJSON.normalized(value)
            #expect(CanonicalJSON.encode(normalized) == CanonicalJSON.encode(value))
            #expect(normalized.serialized() == CanonicalJSON.encode(value))
            #expect(CanonicalJSON.normalized(normalized) == normalized)
            for other in values {
                let sameBytes = CanonicalJSON.encode(value) == CanonicalJSON.encode(other)
                #expect((normalized == CanonicalJSON.normalized(other)) == sameBytes, "\(value) \(other)")
                if sameBytes { #expect(normalized.hashValue == CanonicalJSON.normalized(other).hashValue) }
            }
        }
    }

    @Test func parsesEscapesAndWhitespaceOfNonCanonicalText() throws {
        let text = #" { "b" : [ 1 , 2.0 ] , "a" : "\u00e9\ud83d\udd11\/" } "#
        let value = try CanonicalJSON.parse(Array(text.utf8))
        #expect(value == ["b": [1, 2.0], "a": "é🔑/"])
        #expect(String(decoding: CanonicalJSON.encode(value), as: UTF8.self) == #"{"a":"é🔑/","b":[1,2]}"#)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "tru", "01", "1.", "-", "\"unterminated", "\"bad \\x escape\"",
        "\"\\ud800\"", "{\"a\":1,\"a\":2}", "1 2", "\"tab\there\"", "1e999", String(repeating: "[", count: 100),
    ])
    func rejectsMalformedJSON(text: String) {
        #expect(throws: AuditError(.malformedRecord, "")) { try CanonicalJSON.parse(Array(text.utf8)) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: AuditError(.malformedRecord, "")) { try CanonicalJSON.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }
}
