import Foundation
import SealedSupport
import SealedTesting
import Testing

/// Strict base64 against Foundation's, on many seeded random inputs, and its refusals (moved from
/// `SealedEventsTests.ByteLevelCodingTests` with the encoder).
struct Base64Tests {
    static func randomBytes(_ count: Int, using generator: inout SeededGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test func base64EncodingIsFoundations() throws {
        var generator = SeededGenerator(seed: 1)
        for length in 0..<300 {
            let bytes = Self.randomBytes(length, using: &generator)
            let text = Base64.encode(bytes)
            #expect(text == Data(bytes).base64EncodedString())
            #expect(try Base64.decode(text) == bytes)
        }
    }

    @Test func base64DecodingAcceptsOnlyWhatFoundationAccepts() {
        var generator = SeededGenerator(seed: 2)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".utf8)
        let extra: [UInt8] = [0x20, 0x0A, UInt8(ascii: "-"), UInt8(ascii: "_"), 0x00, 0xC3, 0xA9]
        var accepted = 0
        for _ in 0..<20_000 {
            // Valid encodings with one or two characters changed, and short random strings.
            var text: [UInt8]
            if Bool.random(using: &generator) {
                text = Array(
                    Base64.encode(Self.randomBytes(Int.random(in: 0..<12, using: &generator), using: &generator)).utf8
                )
                for _ in 0..<Int.random(in: 1...2, using: &generator) where !text.isEmpty {
                    let pool = Int.random(in: 0..<10, using: &generator) == 0 ? extra : alphabet
                    text[Int.random(in: 0..<text.count, using: &generator)] = pool.randomElement(using: &generator)!
                }
            } else {
                text = (0..<Int.random(in: 0...9, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator)!
                }
            }
            let string = String(decoding: text, as: UTF8.self)
            if let ours = try? Base64.decode(string) {
                accepted += 1
                #expect(Data(base64Encoded: string).map { [UInt8]($0) } == ours, "\(string)")
                #expect(Base64.encode(ours) == string, "only the canonical encoding is accepted: \(string)")
            }
        }
        #expect(accepted > 1_000)
    }

    @Test func base64FindsTheFirstInvalidCharacterOfLongTexts() throws {
        // Long texts go through the two-group loops; a character outside the alphabet anywhere must still be
        // reported at its offset, and valid texts must decode as Foundation decodes them.
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<2_000 {
            let bytes = Self.randomBytes(Int.random(in: 0..<200, using: &generator), using: &generator)
            var text = Array(Base64.encode(bytes).utf8)
            #expect(try Base64.decode(String(decoding: text, as: UTF8.self)) == bytes)
            guard !text.isEmpty else { continue }
            let offset = Int.random(in: 0..<text.count, using: &generator)
            let padded = text.count - offset <= 2 && text[offset] == UInt8(ascii: "=")
            text[offset] = [UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "_"), 0x00].randomElement(
                using: &generator
            )!
            guard !padded else { continue }
            #expect(throws: Base64.DecodingError(reason: .character(offset: offset))) {
                try Base64.decode(String(decoding: text, as: UTF8.self))
            }
        }
    }

    @Test(arguments: [
        ("AA", Base64.DecodingError.Reason.length),
        ("AA=", .length),
        ("AAAAA", .length),
        ("A===", .character(offset: 1)),
        ("====", .character(offset: 0)),
        ("AA=A", .character(offset: 2)),
        ("AA==AA==", .character(offset: 2)),
        (" AAA", .character(offset: 0)),
        ("AAA\n", .character(offset: 3)),
        ("-_==", .character(offset: 0)),
        ("AB==", .nonCanonical),
        ("Zh==", .nonCanonical),
        ("Zm9=", .nonCanonical),
    ])
    func base64RejectsWithATypedError(text: String, reason: Base64.DecodingError.Reason) {
        #expect(throws: Base64.DecodingError(reason: reason)) { try Base64.decode(text) }
    }

    @Test func base64OfNonASCIITextIsRejected() throws {
        #expect(throws: Base64.DecodingError.self) { try Base64.decode("AAé=") }
        #expect(throws: Base64.DecodingError.self) { try Base64.decode("éé") }
        #expect(try Base64.decode("") == [])
    }

    @Test func base64OfDataIsTheBase64OfItsBytes() throws {
        let bytes: [UInt8] = [0xFB, 0xFF, 0x00, 0x10, 0x83]
        #expect(Base64.encode(Data(bytes)) == "+/8AEIM=")
        #expect(try Base64.decode("+/8AEIM=") == bytes)
    }

    @Test(arguments: [
        ("", ""), ("Zg==", "f"), ("Zm8=", "fo"), ("Zm9v", "foo"), ("Zm9vYg==", "foob"), ("Zm9vYmE=", "fooba"),
        ("Zm9vYmFy", "foobar"),
    ])
    func base64HasTheRFC4648TestVectors(encoded: String, text: String) throws {
        #expect(Base64.encode(Array(text.utf8)) == encoded)
        #expect(try Base64.decode(encoded) == Array(text.utf8))
    }
}
