public import Foundation
import Synchronization
public import WireShapes

/// Authenticates a caller by a signed STS `GetCallerIdentity` it hands over instead of a secret, the way HashiCorp
/// Vault's AWS IAM auth method does (``WireShapes/SignedCallerIdentity``): the request must be exactly
/// `GetCallerIdentity`, name this server in its signed audience header, be at most 15 minutes old, and be confirmed
/// by STS, whose answer gives the caller's ARN. A forged or tampered signature, a key STS does not know, a request
/// made for another server or another STS endpoint, and an old one are refused with a typed reason.
///
/// Confirmed requests are remembered (by their signature) until they expire, so a client that reuses one for its
/// calls within the window costs one STS call, not one per request; at most ``capacity`` are kept.
public final class CallerIdentityAuthenticator: Sendable {
    /// Who signed, as STS says.
    public struct Caller: Sendable, Hashable {
        public var arn: String
        public var account: String?
        public var userId: String?
        /// The access key id the request was signed with.
        public var accessKeyId: String
    }

    /// The server's id: the audience a request must name.
    public let audience: String
    public let maximumAge: TimeInterval
    public let capacity: Int
    let resolver: any CallerIdentityResolver
    let now: @Sendable () -> Date
    private let confirmed = Mutex<[String: (caller: Caller, until: Date)]>([:])

    /// - Parameters:
    ///   - audience: This server's id, which callers sign into their request.
    ///   - resolver: STS (a ``KMS/STSClient`` for the server's region and STS endpoint).
    ///   - maximumAge: How old a signed request may be; 15 minutes by default.
    ///   - capacity: How many confirmed requests are remembered.
    ///   - now: The clock.
    public init(
        audience: String,
        resolver: any CallerIdentityResolver,
        maximumAge: TimeInterval = SignedCallerIdentity.defaultMaximumAge,
        capacity: Int = 10_000,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.audience = audience
        self.resolver = resolver
        self.maximumAge = maximumAge
        self.capacity = capacity
        self.now = now
    }

    /// The caller of a request carrying `header` (the value of ``WireShapes/SignedCallerIdentity/header``).
    ///
    /// - Throws: ``WireShapes/CallerIdentityRefusal``.
    public func authenticate(_ header: String) async throws(CallerIdentityRefusal) -> Caller {
        let request = try SignedCallerIdentity(encoded: header)
        let at = now()
        let accessKeyId = try request.check(audience: audience, now: at, maximumAge: maximumAge)
        let signature = request.value(of: "Authorization") ?? ""
        if let known = confirmed.withLock({ $0[signature] }), known.until > at { return known.caller }
        let identity = try await resolver.callerIdentity(of: request)
        let caller = Caller(arn: identity.arn ?? "", account: identity.account, userId: identity.userId, accessKeyId: accessKeyId)
        let until = (request.value(of: "X-Amz-Date").flatMap(SignedCallerIdentity.amzDate) ?? at).addingTimeInterval(maximumAge)
        confirmed.withLock { entries in
            if entries.count >= capacity { entries = entries.filter { $0.value.until > at } }
            if entries.count >= capacity, let oldest = entries.min(by: { $0.value.until < $1.value.until })?.key {
                entries[oldest] = nil
            }
            entries[signature] = (caller, until)
        }
        return caller
    }
}
