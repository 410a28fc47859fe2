import Crypto
public import Foundation
import SealedSupport

/// The signature of a webhook delivery, sent as `Sealed-Signature: t=<unix seconds>,v1=<hex>`.
///
/// `v1` is HMAC-SHA-256, keyed with the team's signing secret exactly as shown when it was set (its UTF-8 text,
/// `whsec_` included), over `<t>.<body>`: the timestamp's decimal digits, a full stop, then the body's bytes. A
/// receiver recomputes it, compares in constant time, and refuses a timestamp too far from its clock (replay).
public enum WebhookSignature {
    /// The header that carries the signature.
    public static let headerName = "Sealed-Signature"
    /// The header that carries the delivery's id, the same on every attempt: receivers de-duplicate on it.
    public static let deliveryHeaderName = "Sealed-Delivery"
    /// The header that carries the event (`access_request.created`, …).
    public static let eventHeaderName = "Sealed-Event"

    /// A new signing secret: `whsec_` and 32 random bytes in hex.
    public static func generateSecret() -> String { "whsec_" + Random.hex(byteCount: 32) }

    /// The `Sealed-Signature` value of `body` sent at `timestamp` (seconds since 1970).
    public static func header(secret: String, timestamp: Int64, body: some DataProtocol) -> String {
        "t=\(timestamp),v1=\(Hex.encode(mac(secret: secret, timestamp: timestamp, body: body)))"
    }

    /// Whether `header` is a valid signature of `body` under `secret`, made at most `tolerance` seconds from `now`.
    public static func isValid(
        _ header: String,
        secret: String,
        body: some DataProtocol,
        now: Date,
        tolerance: TimeInterval = 300
    ) -> Bool {
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "t": timestamp = Int64(pair[1])
            case "v1": if let bytes = Hex.decode(pair[1]) { signatures.append(bytes) }
            default: continue
            }
        }
        guard let timestamp, abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        let expected = mac(secret: secret, timestamp: timestamp, body: body)
        return signatures.contains { $0.count == expected.count && constantTimeEqual($0, expected) }
    }

    static func mac(secret: String, timestamp: Int64, body: some DataProtocol) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8)))
        hmac.update(data: Data("\(timestamp).".utf8))
        hmac.update(data: body)
        return Array(hmac.finalize())
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
