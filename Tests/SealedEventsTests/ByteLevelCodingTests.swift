import Foundation
import SealedSupport
import SealedTesting
import Testing

@testable import SealedEvents

/// The byte-level JSON writer and parser paths against the behaviour they replaced (the byte-by-byte string escaper,
/// the object-built sealed payload), on many seeded random inputs. Base64 is in `SealedSupportTests`.
struct ByteLevelCodingTests {
    // MARK: JSON writer

    /// The escaper the writer had before it copied unescaped runs whole: one byte at a time.
    static func referenceEscaped(_ text: String) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [0x22]
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0..<0x20: out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return out
    }

    static func randomString(_ length: Int, using generator: inout SeededGenerator) -> String {
        let pieces: [String] = [
            "a", "Z", "0", " ", "\"", "\\", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{00}", "\u{1F}",
            "\u{7F}", "é", "日", "🎉", "e\u{301}", "/", "~", "xxxxxxxx",
        ]
        var text = ""
        for _ in 0..<length { text += pieces.randomElement(using: &generator)! }
        return text
    }

    @Test func stringEscapingIsByteForByteTheReference() throws {
        var generator = SeededGenerator(seed: 3)
        for length in 0..<400 {
            let text = Self.randomString(length % 40, using: &generator)
            var out: [UInt8] = [0x5B]
            JSONWriter.writeString(text, to: &out)
            #expect(Array(out.dropFirst()) == Self.referenceEscaped(text), "\(text.debugDescription)")
            #expect(try JSONValue(parsing: Array(out.dropFirst())) == .string(text))
        }
    }

    // MARK: JSON parser

    static func randomValue(depth: Int, using generator: inout SeededGenerator) -> JSONValue {
        let kind = Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &generator)
        switch kind {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2:
            let literals = ["0", "-0", "1.0", "1e400", "-12.50E-3", "123456789012345678901234567890", "0.1"]
            return .number(try! JSONNumber(literal: literals.randomElement(using: &generator)!))
        case 3, 4: return .string(randomString(Int.random(in: 0..<30, using: &generator), using: &generator))
        case 5:
            return .array(
                (0..<Int.random(in: 0..<6, using: &generator)).map { _ in
                    randomValue(depth: depth + 1, using: &generator)
                }
            )
        default:
            var object = JSONObject()
            // Up to 40 members: past the parser's linear duplicate scan.
            for index in 0..<Int.random(in: 0..<40, using: &generator) {
                let key = randomString(Int.random(in: 0..<4, using: &generator), using: &generator) + "\(index)"
                object[key] = randomValue(depth: depth + 1, using: &generator)
            }
            return .object(object)
        }
    }

    @Test func parsingRoundTripsRandomValuesExactly() throws {
        var generator = SeededGenerator(seed: 4)
        for _ in 0..<300 {
            let value = Self.randomValue(depth: 0, using: &generator)
            let bytes = value.serialized()
            let parsed = try JSONValue(parsing: bytes)
            #expect(parsed == value)
            #expect(parsed.serialized() == bytes, "member order, literals and strings are kept")
            #expect(try JSONValue(parsing: value.jsonString(pretty: true)) == value)
        }
    }

    @Test func everyTruncationIsATypedError() throws {
        var generator = SeededGenerator(seed: 5)
        var accepted: [String] = []
        var checked = 0
        for _ in 0..<20 {
            let value = JSONValue.array([Self.randomValue(depth: 3, using: &generator), .object(["k": "v\\\"\u{1}"])])
            let bytes = value.serialized()
            for end in 0..<bytes.count {
                checked += 1
                do throws(SealedEventsError) {
                    _ = try JSONValue(parsing: bytes[..<end])
                    accepted.append(String(decoding: bytes[..<end], as: UTF8.self))
                } catch {
                    if error.code != .invalidJSON { accepted.append("\(error.code)") }
                }
            }
        }
        #expect(accepted == [], "every proper prefix of a document is invalid JSON")
        #expect(checked > 1_000)
    }

    @Test func badBytesAtEveryOffsetOfAStringAreTypedErrors() throws {
        for offset in 0..<20 {
            let prefix = Array(repeating: UInt8(ascii: "a"), count: offset)
            let suffix = Array(repeating: UInt8(ascii: "b"), count: 19 - offset)
            for bad: [UInt8] in [
                [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x01], [0x0A], [0x5C, 0x78], [0x5C, 0x75, 0x31, 0x78],
            ] {
                let document = [0x22] + prefix + bad + suffix + [0x22]
                #expect(throws: SealedEventsError(.invalidJSON, "")) { try JSONValue(parsing: document) }
            }
            let good = [0x22] + prefix + [0xC3, 0xA9, 0x5C, 0x6E] + suffix + [0x22]
            #expect(
                try JSONValue(parsing: good)
                    == .string(
                        String(decoding: prefix, as: UTF8.self) + "é\n" + String(decoding: suffix, as: UTF8.self)
                    )
            )
        }
    }

    @Test func duplicateKeysAreFoundInLargeObjectsByBytes() throws {
        let members = (0..<40).map { #""k\#($0)":\#($0)"# }
        let unique = "{" + members.joined(separator: ",") + "}"
        #expect(try JSONValue(parsing: unique).objectValue?.count == 40)
        let duplicate = "{" + members.joined(separator: ",") + #","k17":1}"#
        #expect(throws: SealedEventsError(.invalidJSON, "")) { try JSONValue(parsing: duplicate) }
        let equivalent = "{" + members.joined(separator: ",") + #","\u00e9":1,"e\u0301":2}"#
        #expect(try JSONValue(parsing: equivalent).objectValue?.count == 42, "canonically equivalent keys differ")
    }

    // MARK: Sealed payload

    /// The payload as it was written before: an object built member by member, then serialized.
    static func referencePayload(eventId: String, content: SealedPayload.Content) -> [UInt8] {
        var object: JSONObject = ["v": 1, "eventId": .string(eventId)]
        switch content {
        case .data(let data):
            object["data"] = data
        case .fields(let fields):
            object["fields"] = .array(
                fields.map { .object(["pointer": .string($0.pointer.description), "value": $0.value]) }
            )
        }
        return JSONValue.object(object).serialized()
    }

    @Test func sealedPayloadIsWrittenAsBefore() throws {
        var generator = SeededGenerator(seed: 6)
        for round in 0..<200 {
            let eventId = Self.randomString(round % 12, using: &generator)
            let value = Self.randomValue(depth: 0, using: &generator)
            let data = SealedPayload.encode(eventId: eventId, content: .data(value))
            #expect(data == Self.referencePayload(eventId: eventId, content: .data(value)))
            let decoded = try SealedPayload.decode(data)
            #expect(decoded.eventId == eventId)
            guard case .data(let back) = decoded.content else {
                Issue.record("scope changed")
                continue
            }
            #expect(back == value)

            let fields: [(pointer: JSONPointer, value: JSONValue)] = (0..<(round % 4)).map { index in
                (JSONPointer(tokens: ["card", Self.randomString(3, using: &generator) + "\(index)"]), value)
            }
            let encoded = SealedPayload.encode(eventId: eventId, content: .fields(fields))
            #expect(encoded == Self.referencePayload(eventId: eventId, content: .fields(fields)))
            guard case .fields(let backFields) = try SealedPayload.decode(encoded).content else {
                Issue.record("scope changed")
                continue
            }
            #expect(backFields.map(\.pointer) == fields.map(\.pointer))
            #expect(backFields.map(\.value) == fields.map(\.value))
        }
    }

    @Test func pointerTextEscapesAsBefore() throws {
        for tokens in [["a", "b"], ["a/b", "m~n"], ["~", "/", "~1", ""], ["é", "~0/"]] {
            let pointer = JSONPointer(tokens: tokens)
            let reference = tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
            #expect(pointer.description == reference)
            #expect(try JSONPointer(pointer.description) == pointer)
        }
    }

    @Test func sameUTF8IsByteEquality() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            let a = Self.randomString(Int.random(in: 0..<6, using: &generator), using: &generator)
            let b =
                Bool.random(using: &generator)
                ? a : Self.randomString(Int.random(in: 0..<6, using: &generator), using: &generator)
            #expect(a.hasSameUTF8(as: b) == a.utf8.elementsEqual(b.utf8))
        }
        #expect(!"\u{e9}".hasSameUTF8(as: "e\u{301}"))
    }
}
