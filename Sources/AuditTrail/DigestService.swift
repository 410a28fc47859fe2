public import Foundation
public import Logging
public import ServiceLifecycle

/// Signs a ``Digest`` of the chain's head every `interval` when records were added since the last digest, and once
/// more at graceful shutdown.
///
/// Put it in the server's `ServiceGroup` *before* the HTTP server: a group shuts its services down in reverse order,
/// so the server stops taking requests first and the final digest covers every record written.
///
/// A failed signing is logged and retried at the next tick; it never stops the service. Digests vouch for whatever
/// the chain holds when they are signed, so records written while the server was down (or changed after the newest
/// digest) are signed as found; see ``Verifier`` for what that leaves open.
public struct DigestService<C: Clock>: Service where C.Duration == Duration {
    let store: any DigestStore
    let signingKey: AuditSigningKey
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger

    /// - Parameters:
    ///   - interval: time between digests while there is activity (default one minute).
    ///   - clock: paces the digests.
    ///   - now: the wall-clock time written into each digest.
    public init(
        store: any DigestStore,
        signingKey: AuditSigningKey,
        interval: Duration = .seconds(60),
        clock: C,
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.store = store
        self.signingKey = signingKey
        self.interval = interval
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await clock.sleep(for: interval)
                    await signLoggingFailure()
                }
            }
        } catch is CancellationError {
            // Graceful shutdown (or cancellation of the group): fall through to the final digest.
        }
        await signLoggingFailure()
    }

    private func signLoggingFailure() async {
        do {
            if let digest = try await signIfNeeded() {
                logger.debug(
                    "audit digest signed",
                    metadata: [
                        "digest": "\(digest.digest.digestSequence)", "head": "\(digest.digest.headSequence)",
                    ]
                )
            }
        } catch {
            logger.error("audit digest failed", metadata: ["error": "\(error)"])
        }
    }

    /// Signs and stores a digest of the current head, unless the newest digest already names it.
    ///
    /// - Returns: the new digest, or `nil` when there was nothing new to sign.
    /// - Throws: when the store cannot be read or written, or signing fails.
    @discardableResult
    public func signIfNeeded() async throws -> SignedDigest? {
        let head = try await store.chainHead()
        let latest = try await store.latestDigest()
        if let latest, latest.digest.head == head { return nil }
        if latest == nil && head.sequence == 0 { return nil }
        let digest = Digest(
            digestSequence: (latest?.digest.digestSequence ?? 0) + 1,
            head: head,
            time: now(),
            previousSignature: latest?.signature ?? Data(),
            keyFingerprint: signingKey.fingerprint
        )
        let signed = try signingKey.sign(digest)
        try await store.appendDigest(signed)
        return signed
    }
}
