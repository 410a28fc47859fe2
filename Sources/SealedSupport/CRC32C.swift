package import Foundation

/// CRC-32C (Castagnoli: reflected polynomial `0x82F63B78`, initial value and final XOR `0xFFFFFFFF`), the checksum of
/// iSCSI, ext4 and the audit log's frames.
///
/// Table-driven, eight bytes per step ("slicing by 8": eight 256-entry tables, 8 KiB), in a non-generic function over a
/// buffer (see the performance note in `SealedSupport.swift`). The check value, the checksum of the ASCII bytes
/// `123456789`, is `0xE3069283`.
package enum CRC32C {
    /// The checksum of `bytes`; with `crc`, of the bytes it was the checksum of followed by `bytes`, so a checksum can
    /// be computed over pieces: `checksum(b, continuing: checksum(a)) == checksum(a + b)`.
    package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var value = ~crc
        guard let base = bytes.baseAddress else { return crc }
        let count = bytes.count
        tables.withUnsafeBufferPointer { table in
            var index = 0
            while index + 8 <= count {
                let low = base.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian ^ value
                let high = base.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
                value =
                    table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int(low >> 8 & 0xFF)]
                    ^ table[5 * 256 + Int(low >> 16 & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int(high >> 8 & 0xFF)]
                    ^ table[1 * 256 + Int(high >> 16 & 0xFF)] ^ table[Int(high >> 24)]
                index += 8
            }
            while index < count {
                value =
                    table[Int((value ^ UInt32(base.load(fromByteOffset: index, as: UInt8.self))) & 0xFF)] ^ (value >> 8)
                index += 1
            }
        }
        return ~value
    }

    /// The checksum of `bytes` (see ``checksum(_:continuing:)-(UnsafeRawBufferPointer,_)``).
    package static func checksum(_ bytes: some ContiguousBytes, continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// Table `k` (at `k * 256`) advances the CRC of a byte by `k` more zero bytes.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var value = UInt32(byte)
            for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
            tables[byte] = value
        }
        for byte in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[(slice - 1) * 256 + byte]
                tables[slice * 256 + byte] = tables[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        return tables
    }()
}
