import SealedSupport
import SealedTesting
import Testing

/// The UTF-8 validation the ESDK's header and context parsers use, and its byte order, against the standard library's.
struct UTF8ValidationTests {
    @Test func validationAgreesWithTheStandardLibrary() {
        var generator = SeededGenerator(seed: 11)
        // Pieces that make valid and invalid sequences: ASCII, lead and continuation bytes, surrogates, overlongs.
        let pieces: [[UInt8]] = [
            [0x61], [0x00], [0x7F], [0xC3, 0xA9], [0xC3], [0xA9], [0xE6, 0x97, 0xA5], [0xE6, 0x97],
            [0xF0, 0x9F, 0x8E, 0x89],
            [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0xEF, 0xBF, 0xBD], [0x80],
            Array("abcdefgh".utf8),
        ]
        var valid = 0
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<6, using: &generator) {
                bytes += pieces.randomElement(using: &generator)!
            }
            let expected = String(validating: bytes, as: UTF8.self)
            let actual = bytes.withUnsafeBytes { validUTF8String($0) }
            #expect(actual.map { Array($0.utf8) } == expected.map { Array($0.utf8) }, "\(bytes)")
            if expected != nil { valid += 1 }
        }
        #expect(valid > 1_000)
        #expect(valid < 19_000)
    }

    @Test func orderIsTheUTF8ViewsLexicographicOrder() {
        let words = [
            "", "a", "b", "ab", "aa", "a\u{0}", "é", "e\u{301}", "日本", "🎉", "Z", "aws-crypto-public-key", "domain",
        ]
        for a in words {
            for b in words {
                #expect(utf8Precedes(a, b) == a.utf8.lexicographicallyPrecedes(b.utf8), "\(a) \(b)")
            }
        }
    }
}
