import Foundation
import SealedSupport
import Testing

struct HexTests {
    @Test func encodesEveryByteInLowercaseOrUppercase() {
        let bytes = (0...255).map(UInt8.init)
        let lower = Hex.encode(bytes)
        #expect(lower == bytes.map { String(format: "%02x", $0) }.joined())
        #expect(Hex.encode(bytes, uppercase: true) == lower.uppercased())
        #expect(Hex.encode([UInt8]()) == "")
    }

    @Test func appendsToABuffer() {
        var out = Array("x=".utf8)
        Hex.append([0x00, 0xAB, 0xFF], to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x=00abff")
    }

    @Test func decodesBothCasesUnlessLowercaseOnly() {
        #expect(Hex.decode("00abFF") == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode("00abff", lowercaseOnly: true) == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode("00abFF", lowercaseOnly: true) == nil)
        #expect(Hex.decode("") == [])
    }

    @Test(arguments: ["0", "abc", "0g", "g0", " 0", "0x00", "é0"])
    func refusesWhatIsNotAnEvenNumberOfDigits(text: String) {
        #expect(Hex.decode(text) == nil)
    }

    @Test func roundTrips() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Hex.decode(Hex.encode(bytes), lowercaseOnly: true) == bytes)
            #expect(Hex.decode(Hex.encode(bytes, uppercase: true)) == bytes)
        }
    }

    @Test func valueOfEachDigit() {
        for (index, digit) in "0123456789abcdef".utf8.enumerated() {
            #expect(Hex.value(of: digit) == UInt8(index))
            #expect(Hex.digit(UInt8(index)) == digit)
        }
        #expect(Hex.value(of: UInt8(ascii: "F")) == 15)
        #expect(Hex.value(of: UInt8(ascii: "G")) == nil)
        #expect(Hex.value(of: UInt8(ascii: "/")) == nil)
        #expect(Hex.value(of: UInt8(ascii: ":")) == nil)
    }
}
