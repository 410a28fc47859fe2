import Foundation
import SealedSupport
import Testing

struct RandomTests {
    @Test(arguments: [0, 1, 10, 32, 256, 257, 1_000])
    func fillFillsTheWholeBuffer(count: Int) {
        // Over eight fills every position takes more than one value, unless it is left unwritten (eight equal random
        // bytes in one place: probability 2^-56).
        var seen = [Set<UInt8>](repeating: [], count: count)
        for _ in 0..<8 {
            var buffer = [UInt8](repeating: 0xA5, count: count)
            buffer.withUnsafeMutableBytes { Random.fill($0) }
            for (index, byte) in buffer.enumerated() { seen[index].insert(byte) }
        }
        #expect(seen.allSatisfy { $0.count > 1 })
    }

    @Test func bytesDiffer() {
        let draws = (0..<1000).map { _ in Random.bytes(32) }
        #expect(Set(draws).count == draws.count)
        #expect(draws.allSatisfy { $0.count == 32 })
    }

    @Test func bytesOfAnyLengthBeyondOneGetentropyCall() {
        for count in [0, 1, 255, 256, 257, 1_024, 4_097] {
            let bytes = Random.bytes(count)
            #expect(bytes.count == count)
            #expect(Random.data(count).count == count)
        }
    }

    @Test func uuidsAreVersion4() {
        var seen = Set<UUID>()
        for _ in 0..<1_000 {
            let uuid = Random.uuid()
            #expect(uuid.uuid.6 >> 4 == 4)
            #expect(uuid.uuid.8 >> 6 == 0b10)
            seen.insert(uuid)
        }
        #expect(seen.count == 1_000)
    }

    @Test func hexIsLowercaseOfTheGivenLength() {
        let hex = Random.hex(byteCount: 32)
        #expect(hex.utf8.count == 64)
        #expect(hex.utf8.allSatisfy { Array("0123456789abcdef".utf8).contains($0) })
    }

    @Test func tokensUseOnlyTheAlphabetAndAllOfIt() {
        let token = Random.token(length: 10_000, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        #expect(token.count == 10_000)
        #expect(Set(token) == Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
        // 62 characters do not divide 256: every one is still drawn, none of the bytes beyond the alphabet shows.
        let alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        let other = Random.token(
            length: 20_000,
            alphabet: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        )
        #expect(Set(other) == Set(alphabet))
        var counts: [Character: Int] = [:]
        for character in other { counts[character, default: 0] += 1 }
        // Without rejection sampling the first 8 characters would be drawn 5/4 as often as the others.
        let first = counts["0"]! + counts["1"]! + counts["2"]! + counts["3"]!
        let last = counts["w"]! + counts["x"]! + counts["y"]! + counts["z"]!
        #expect(Double(first) / Double(last) < 1.15)
        #expect(Random.token(length: 0, alphabet: "ab") == "")
    }
}
