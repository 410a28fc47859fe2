@testable import Composition
import Testing

/// Webhooks go to public addresses only (unless the operator allows the rest): the classification, and the refusal
/// of URLs whose host resolves to loopback, link-local (the cloud metadata endpoint) or private addresses.
@Suite struct WebhookAddressesTests {
    static func v4(_ text: String) -> WebhookAddresses.Address {
        let parts = text.split(separator: ".").map { UInt32($0)! }
        return .v4(parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3])
    }

    @Test(arguments: [
        ("8.8.8.8", true), ("1.1.1.1", true), ("172.32.0.1", true), ("100.128.0.1", true), ("11.0.0.1", true),
        ("10.1.2.3", false), ("172.16.0.1", false), ("172.31.255.255", false), ("192.168.1.1", false),
        ("127.0.0.1", false), ("127.255.0.9", false), ("169.254.169.254", false), ("100.64.0.1", false),
        ("0.0.0.0", false), ("224.0.0.1", false), ("255.255.255.255", false), ("198.18.0.1", false),
        ("192.0.2.1", false),
    ])
    func ipv4(address: String, isPublic: Bool) {
        #expect(WebhookAddresses.isPublic(Self.v4(address)) == isPublic)
    }

    @Test func ipv6() {
        func v6(_ bytes: [UInt8]) -> WebhookAddresses.Address { .v6(bytes + [UInt8](repeating: 0, count: 16 - bytes.count)) }
        let loopback = WebhookAddresses.Address.v6([UInt8](repeating: 0, count: 15) + [1])
        #expect(!WebhookAddresses.isPublic(loopback))
        #expect(!WebhookAddresses.isPublic(v6([])))
        #expect(!WebhookAddresses.isPublic(v6([0xFE, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])))
        #expect(!WebhookAddresses.isPublic(v6([0xFD, 0x12])))
        #expect(!WebhookAddresses.isPublic(v6([0xFF, 0x02])))
        #expect(!WebhookAddresses.isPublic(v6([0x20, 0x01, 0x0D, 0xB8, 0, 1])))
        let mapped = { (a: UInt8, b: UInt8, c: UInt8, d: UInt8) in
            WebhookAddresses.Address.v6([UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, a, b, c, d])
        }
        #expect(!WebhookAddresses.isPublic(mapped(10, 0, 0, 1)))
        #expect(!WebhookAddresses.isPublic(mapped(169, 254, 169, 254)))
        #expect(WebhookAddresses.isPublic(mapped(8, 8, 8, 8)))
        #expect(WebhookAddresses.isPublic(v6([0x26, 0x06, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x11])))
    }

    @Test(arguments: [
        "http://127.0.0.1:9/hook", "http://localhost/hook", "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/", "http://10.0.0.7/", "https://192.168.0.1/x",
    ])
    func internalReceiversAreRefused(url: String) {
        let refusal = WebhookAddresses.refusal(for: url)
        #expect(refusal?.contains("not public") == true, "\(url): \(refusal ?? "accepted")")
    }

    @Test func aPublicLiteralAddressIsAcceptedAndAHostThatDoesNotResolveIsRefused() {
        #expect(WebhookAddresses.refusal(for: "https://8.8.8.8/hook") == nil)
        #expect(WebhookAddresses.refusal(for: "https://no-such-host.invalid/hook") != nil)
        #expect(WebhookAddresses.refusal(for: "not a url") != nil)
    }
}
