public import Foundation
import Crypto
import SealedSupport
import Synchronization

/// One-time sign-in links (`sealed console login`): a token the server signs for a principal and its access key,
/// valid for ``lifetime`` and accepted once.
///
/// A token is `HEX(payload) "." HEX(HMAC-SHA-256(key, payload))`, the payload being `v1`, a random 128-bit nonce, the
/// expiry (Unix seconds), the access key id and the principal ARN, separated by line feeds. The key is 256 random
/// bits made when the server starts and never leaves memory: links do not survive a restart. ``redeem(_:)`` checks
/// the MAC in constant time, then the expiry, then takes the nonce; a nonce once taken is refused until it would have
/// expired anyway (and then the expiry refuses it).
public final class SignInLinks: Sendable {
    /// What a valid token names.
    public struct Claim: Sendable, Hashable {
        public var arn: String
        public var accessKeyId: String
        public var expiration: Date
        var nonce: String
    }

    /// Why a token was refused; the message is shown on the page and never repeats the token.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
        static let malformed = Refusal(description: "This sign-in link is not valid.")
        static let expired = Refusal(description: "This sign-in link has expired; run `sealed console login` again.")
        static let used = Refusal(description: "This sign-in link was already used; run `sealed console login` again.")
    }

    public let lifetime: Duration
    private let key: SymmetricKey
    private let redeemed = Mutex<[String: Date]>([:])
    private let now: @Sendable () -> Date

    public init(lifetime: Duration = .seconds(300), now: @escaping @Sendable () -> Date = { Date() }) {
        self.lifetime = lifetime
        self.key = SymmetricKey(size: .bits256)
        self.now = now
    }

    /// A token for `arn` signing in with `accessKeyId`, and when it expires.
    public func mint(arn: String, accessKeyId: String) -> (token: String, expiration: Date) {
        let expiration = Date(timeIntervalSince1970: (now().timeIntervalSince1970 + lifetime.timeInterval).rounded(.down))
        let payload = Array(
            "v1\n\(Hex.encode(Random.bytes(16)))\n\(Int64(expiration.timeIntervalSince1970))\n\(accessKeyId)\n\(arn)".utf8
        )
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return (Hex.encode(payload) + "." + Hex.encode(mac), expiration)
    }

    /// What `token` names, if its MAC is right and it has not expired; it is not used up (the page that asks to
    /// continue shows who the link signs in as).
    public func inspect(_ token: String) throws(Refusal) -> Claim {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count <= 4096, let payload = Hex.decode(parts[0], lowercaseOnly: true),
            let mac = Hex.decode(parts[1], lowercaseOnly: true),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key)
        else { throw .malformed }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0] == "v1", let seconds = Int64(fields[2]) else { throw .malformed }
        let claim = Claim(
            arn: String(fields[4]),
            accessKeyId: String(fields[3]),
            expiration: Date(timeIntervalSince1970: TimeInterval(seconds)),
            nonce: String(fields[1])
        )
        guard now() < claim.expiration else { throw .expired }
        return claim
    }

    /// Uses `token` up: what it names, once; a second redemption is refused.
    public func redeem(_ token: String) throws(Refusal) -> Claim {
        let claim = try inspect(token)
        let at = now()
        let fresh = redeemed.withLock { redeemed -> Bool in
            redeemed = redeemed.filter { $0.value > at }
            guard redeemed[claim.nonce] == nil else { return false }
            redeemed[claim.nonce] = claim.expiration
            return true
        }
        guard fresh else { throw .used }
        return claim
    }
}
