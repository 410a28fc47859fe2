import Foundation

/// Where webhook deliveries may go: public unicast addresses only, unless the operator allows the rest
/// (``PlatformConfiguration/webhookPrivateAddresses``). A team member sets a webhook's URL; without this check they
/// could make the server POST to its own loopback services, the cloud's metadata endpoint (169.254.169.254) or any
/// host of the private network it sits in (server-side request forgery).
///
/// The receiver's host is resolved right before each attempt and every address it resolves to must be public. A DNS
/// answer that changes between this resolution and the client's own (rebinding) is not caught here: restrict the
/// server's egress in the network too.
enum WebhookAddresses {
    /// Why a delivery to `url` is refused, or `nil` when every address of its host is public.
    static func refusal(for url: String) -> String? {
        guard let host = URLComponents(string: url)?.host, !host.isEmpty else { return "the URL has no host" }
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let addresses = resolve(name)
        guard !addresses.isEmpty else { return "the receiver's host does not resolve" }
        if addresses.contains(where: { !isPublic($0) }) {
            return "the receiver's host resolves to an address that is not public (loopback, private, link-local or "
                + "reserved); sealed serve --webhook-private-addresses allows it"
        }
        return nil
    }

    /// One resolved address.
    enum Address: Hashable {
        case v4(UInt32)
        case v6([UInt8])
    }

    /// Whether an address is public unicast: not unspecified, loopback, private (RFC 1918, unique local), shared
    /// (100.64/10), link-local, benchmarking, documentation-reserved, multicast or reserved, and for IPv4-mapped IPv6
    /// addresses, not a non-public IPv4 address either.
    static func isPublic(_ address: Address) -> Bool {
        switch address {
        case .v4(let a):
            func within(_ prefix: UInt32, _ bits: UInt32) -> Bool { a >> (32 - bits) == prefix >> (32 - bits) }
            let blocked: [(UInt32, UInt32)] = [
                (0x0000_0000, 8), (0x0A00_0000, 8), (0x6440_0000, 10), (0x7F00_0000, 8), (0xA9FE_0000, 16),
                (0xAC10_0000, 12), (0xC000_0000, 24), (0xC000_0200, 24), (0xC0A8_0000, 16), (0xC612_0000, 15),
                (0xC633_6400, 24), (0xCB00_7100, 24), (0xE000_0000, 4), (0xF000_0000, 4),
            ]
            return !blocked.contains { within($0.0, $0.1) }
        case .v6(let b):
            if b.allSatisfy({ $0 == 0 }) { return false }  // ::
            if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return false }  // ::1
            if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {  // ::ffff:a.b.c.d
                return isPublic(.v4(UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15])))
            }
            if b[0] & 0xFE == 0xFC { return false }  // fc00::/7, unique local
            if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return false }  // fe80::/10, link-local
            if b[0] == 0xFF { return false }  // multicast
            if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return false }  // 2001:db8::/32
            return true
        }
    }

    /// Every address `host` resolves to (getaddrinfo; a literal address resolves to itself).
    static func resolve(_ host: String) -> [Address] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [Address] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let socket = current.pointee.ai_addr {
                switch Int32(current.pointee.ai_family) {
                case AF_INET:
                    socket.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        addresses.append(.v4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr)))
                    }
                case AF_INET6:
                    socket.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        var address = $0.pointee.sin6_addr
                        addresses.append(.v6(withUnsafeBytes(of: &address) { Array($0) }))
                    }
                default: break
                }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}
