import Foundation
import Hummingbird
import WireShapes
import Logging
import Synchronization

/// Limits how often one source address may fail authentication, so that callers without credentials cannot flood
/// the server (and its audit trail, which records every refusal) with bad signatures.
///
/// Each address has a bucket of ``Policy/burst`` failures that refills by one every ``Policy/refill``. A request
/// that fails before its signature verified takes one; while an address's bucket is empty, every request from it
/// is refused at once — before its body is read, its signature checked or anything recorded — with
/// `ThrottlingException` (STS: `Throttling`), HTTP 429, as AWS throttles. Correctly signed requests take nothing.
///
/// The table is bounded (``Policy/maximumAddresses``): when it is full, addresses whose buckets are full again are
/// forgotten, and while it stays full every new address shares one bucket, so many addresses cannot grow it or
/// evict a throttled one.
public final class SignatureFailureLimiter: Sendable {
    /// How many failures an address may have, and how fast they are forgiven.
    public struct Policy: Sendable, Hashable {
        /// Failures an address may have before it is throttled.
        public var burst: Int
        /// How long until one more failure is allowed.
        public var refill: Duration
        /// The most addresses tracked at once.
        public var maximumAddresses: Int

        public init(burst: Int = 20, refill: Duration = .seconds(1), maximumAddresses: Int = 4096) {
            self.burst = max(1, burst)
            self.refill = refill
            self.maximumAddresses = max(1, maximumAddresses)
        }
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    /// The key of the bucket every new address shares while the table is full.
    static let overflowKey = "\u{0}overflow"

    public let policy: Policy
    private let buckets = Mutex<[String: Bucket]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(policy: Policy = Policy(), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.policy = policy
        self.now = now
    }

    /// The addresses tracked right now (at most ``Policy/maximumAddresses`` + 1).
    var trackedAddresses: Int { buckets.withLock { $0.count } }

    /// Whether requests from `address` are refused now.
    public func isThrottled(_ address: String) -> Bool {
        let now = now()
        return buckets.withLock { buckets in
            let key = buckets[address] == nil && buckets.count >= policy.maximumAddresses ? Self.overflowKey : address
            guard var bucket = buckets[key] else { return false }
            refill(&bucket, at: now)
            buckets[key] = bucket
            return bucket.tokens < 1
        }
    }

    /// Counts a failed authentication from `address`; returns whether the address is throttled from now on.
    @discardableResult
    public func recordFailure(from address: String) -> Bool {
        let now = now()
        return buckets.withLock { buckets in
            var key = address
            if buckets[key] == nil, buckets.count >= policy.maximumAddresses {
                buckets = buckets.filter { _, bucket in
                    var bucket = bucket
                    refill(&bucket, at: now)
                    return bucket.tokens < Double(policy.burst)
                }
                if buckets.count >= policy.maximumAddresses { key = Self.overflowKey }
            }
            var bucket = buckets[key] ?? Bucket(tokens: Double(policy.burst), updated: now)
            refill(&bucket, at: now)
            bucket.tokens = max(0, bucket.tokens - 1)
            buckets[key] = bucket
            return bucket.tokens < 1
        }
    }

    private func refill(_ bucket: inout Bucket, at now: ContinuousClock.Instant) {
        let elapsed = now - bucket.updated
        guard elapsed > .zero else { return }
        let refill = policy.refill > .zero ? elapsed / policy.refill : Double(policy.burst)
        bucket.tokens = min(Double(policy.burst), bucket.tokens + refill)
        bucket.updated = now
    }
}

/// The middleware of ``SignatureFailureLimiter``: outside the ``AuditRecorder`` and the SigV4 middleware, so a
/// throttled request costs neither a body read nor a signature check nor a record.
struct SignatureFailureLimit: RouterMiddleware {
    typealias Context = ServerContext
    let limiter: SignatureFailureLimiter

    func handle(
        _ request: Request,
        context: ServerContext,
        next: @concurrent (Request, ServerContext) async throws -> Response
    ) async throws -> Response {
        let address = context.sourceIP ?? "unknown"
        let isQuery = STSRoutes.isQuery(request)
        if limiter.isThrottled(address) {
            let message = "Too many requests with failed authentication from this address; retry later."
            if isQuery { throw STSErrorResponse(code: "Throttling", message: message, status: .tooManyRequests) }
            throw KMSError(code: .throttlingException, message: message, statusCode: 429)
        }
        // The SigV4 middleware names the signer in the note once the signature verified.
        let note = context.auditNote ?? AuditNote()
        var context = context
        context.auditNote = note
        do {
            return try await next(request, context)
        } catch {
            if note.principal == nil, limiter.recordFailure(from: address) {
                context.logger.warning(
                    "source address throttled after failed authentications",
                    metadata: ["source": "\(address)"]
                )
            }
            throw error
        }
    }
}
