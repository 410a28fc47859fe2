import Foundation

/// An IPv4 or IPv6 address, as two 64-bit halves (IPv4 in the low 32 bits of `low`).
package struct IPAddress: Sendable, Hashable {
    package let isIPv6: Bool
    package let high: UInt64
    package let low: UInt64

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` and an optional trailing dotted quad).
    /// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is read as IPv4.
    package init?(_ text: some StringProtocol) {
        if !text.utf8.contains(UInt8(ascii: ":")) {
            guard let v4 = Self.parseIPv4(text) else { return nil }
            isIPv6 = false
            high = 0
            low = UInt64(v4)
            return
        }
        guard let groups = Self.parseIPv6(text) else { return nil }
        var hi: UInt64 = 0
        var lo: UInt64 = 0
        for i in 0..<4 { hi = hi << 16 | UInt64(groups[i]) }
        for i in 4..<8 { lo = lo << 16 | UInt64(groups[i]) }
        if hi == 0, lo >> 32 == 0xFFFF {
            isIPv6 = false
            high = 0
            low = lo & 0xFFFF_FFFF
        } else {
            isIPv6 = true
            high = hi
            low = lo
        }
    }

    /// Dotted-quad IPv4, four decimal octets of one to three digits; no allocation.
    private static func parseIPv4(_ text: some StringProtocol) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                digits += 1
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                guard digits <= 3, octet <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }

    private static func parseIPv6(_ text: some StringProtocol) -> [UInt16]? {
        let string = String(text)
        let halves = string.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if allowIPv4Tail, i == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    result.append(UInt16(v4 >> 16))
                    result.append(UInt16(v4 & 0xFFFF))
                } else {
                    guard (1...4).contains(piece.count), let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowIPv4Tail: true), all.count == 8 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true),
            head.count + tail.count <= 7
        else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}

/// A CIDR block such as `203.0.113.0/24` or `2001:db8::/32`; a bare address is a single-host block.
package struct IPAddressRange: Sendable, Hashable {
    package let address: IPAddress
    package let prefixLength: Int

    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(parts[0]) else { return nil }
        let maxLength = parts[0].contains(":") ? 128 : 32
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]),
                length <= maxLength
            else { return nil }
            // `::ffff:a.b.c.d/n` was read as IPv4: its prefix counts the 96 mapped bits.
            if !address.isIPv6, parts[0].contains(":") {
                guard length >= 96 else { return nil }
                prefixLength = length - 96
            } else {
                prefixLength = length
            }
        } else {
            prefixLength = maxLength
        }
        self.address = address
    }

    package func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.isIPv6 == address.isIPv6 else { return false }
        if !address.isIPv6 {
            let mask: UInt64 = prefixLength == 0 ? 0 : (0xFFFF_FFFF << (32 - UInt64(prefixLength))) & 0xFFFF_FFFF
            return candidate.low & mask == address.low & mask
        }
        let highBits = min(prefixLength, 64)
        let lowBits = max(prefixLength - 64, 0)
        let highMask: UInt64 = highBits == 0 ? 0 : ~0 << (64 - UInt64(highBits))
        let lowMask: UInt64 = lowBits == 0 ? 0 : ~0 << (64 - UInt64(lowBits))
        return candidate.high & highMask == address.high & highMask && candidate.low & lowMask == address.low & lowMask
    }
}
