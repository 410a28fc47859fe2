import Testing

@testable import EncryptionSDK

struct RandomTests {
    @Test(arguments: [0, 1, 10, 32, 256])
    func fillRandomFillsTheWholeBuffer(count: Int) {
        // Over eight fills every position takes more than one value, unless it is left unwritten (eight equal random
        // bytes in one place: probability 2^-56).
        var seen = [Set<UInt8>](repeating: [], count: count)
        for _ in 0..<8 {
            var buffer = [UInt8](repeating: 0xA5, count: count)
            buffer.withUnsafeMutableBytes { fillRandom($0) }
            for (index, byte) in buffer.enumerated() { seen[index].insert(byte) }
        }
        #expect(seen.allSatisfy { $0.count > 1 })
    }

    @Test func randomBytesDiffer() {
        let draws = (0..<1000).map { _ in randomBytes(32) }
        #expect(Set(draws).count == draws.count)
        #expect(draws.allSatisfy { $0.count == 32 })
    }
}
