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

    @Test func theBufferFormsAndTheGenericFormsAgree() {
        let bytes: [UInt8] = [0x00, 0x7F, 0x80, 0xAB, 0xFF]
        var fromBuffer: [UInt8] = []
        bytes.withUnsafeBytes { Hex.append($0, uppercase: true, to: &fromBuffer) }
        var fromSequence: [UInt8] = []
        // A sequence with no contiguous storage takes the copying path.
        Hex.append(bytes.lazy.map { $0 }, uppercase: true, to: &fromSequence)
        #expect(fromBuffer == fromSequence)
        #expect(String(decoding: fromBuffer, as: UTF8.self) == "007F80ABFF")
        #expect(bytes.withUnsafeBytes { Hex.encode($0) } == Hex.encode(bytes))
        let text = "xx00abff7f"
        #expect(Hex.decode(text.dropFirst(2)) == [0x00, 0xAB, 0xFF, 0x7F])
        #expect(Hex.decode(text.dropFirst(2), lowercaseOnly: true) == [0x00, 0xAB, 0xFF, 0x7F])
        #expect(Hex.decode("00aB", lowercaseOnly: true) == nil)
        #expect(Hex.decode("00Ab", lowercaseOnly: true) == nil)
        #expect(Hex.decode("") == [])
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
