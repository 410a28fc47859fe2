import Crypto
public import Foundation
public import Logging
public import ServiceLifecycle

/// Signs a ``Digest`` of the chain's head every `interval` when records were added since the last digest, and once
/// more at graceful shutdown.
///
/// Put it in the server's `ServiceGroup` *before* the HTTP server: a group shuts its services down in reverse order,
/// so the server stops taking requests first and the final digest covers every record written.
///
/// **It never signs a forgery it can see.** Before signing, it checks that the newest stored digest carries a valid
/// signature of its own key, that the stored chain still holds the head that digest names (same hash at the same
/// sequence number), and that it is the digest kept in the ``DigestAnchor`` outside the store (the newest one this
/// service signed). When any of these disagree — records rewritten after a digest, digests removed or replaced — it
/// refuses to sign, logs at `critical` and reports to `onTamper` (the server turns that into a metric); it keeps
/// refusing until the trail is repaired. Records added after the newest digest are signed as found: nothing signed
/// vouched for them before.
///
/// A failed signing is logged and retried at the next tick; it never stops the service.
public struct DigestService<C: Clock>: Service where C.Duration == Duration {
    let store: any DigestStore
    let signingKey: AuditSigningKey
    let anchor: (any DigestAnchor)?
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger
    let onTamper: (@Sendable (AuditError) -> Void)?

    /// - Parameters:
    ///   - anchor: where the newest digest is kept outside the store (`nil`: nowhere, only the store is checked).
    ///   - interval: time between digests while there is activity (default one minute).
    ///   - clock: paces the digests.
    ///   - now: the wall-clock time written into each digest.
    ///   - onTamper: told each time signing is refused because the trail disagrees with its newest digest.
    public init(
        store: any DigestStore,
        signingKey: AuditSigningKey,
        anchor: (any DigestAnchor)? = nil,
        interval: Duration = .seconds(60),
        clock: C,
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger,
        onTamper: (@Sendable (AuditError) -> Void)? = nil
    ) {
        self.store = store
        self.signingKey = signingKey
        self.anchor = anchor
        self.interval = interval
        self.clock = clock
        self.now = now
        self.logger = logger
        self.onTamper = onTamper
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
        } catch let error as AuditError where error.code == .tamperedTrail {
            logger.critical("audit trail tampered with: refusing to sign", metadata: ["error": "\(error)"])
            if let onTamper { onTamper(error) }
        } catch {
            logger.error("audit digest failed", metadata: ["error": "\(error)"])
        }
    }

    /// Signs and stores a digest of the current head, unless the newest digest already names it.
    ///
    /// - Returns: the new digest, or `nil` when there was nothing new to sign.
    /// - Throws: ``AuditError`` `tamperedTrail` when the trail disagrees with its newest digest (see the type's
    ///   discussion); otherwise when the store cannot be read or written, or signing fails.
    @discardableResult
    public func signIfNeeded() async throws -> SignedDigest? {
        let head = try await store.chainHead()
        let latest = try await store.latestDigest()
        var kept: SignedDigest?
        if let anchor { kept = try anchor.load() }
        let signedSequence = latest?.digest.headSequence ?? 0
        let storedHash = signedSequence > 0 ? try await store.recordHash(at: signedSequence) : nil
        try DigestCheck.check(latest, head: head, kept: kept, storedHash: storedHash, publicKey: signingKey.publicKey)
        if kept == nil, let anchor, let latest {
            // First start with an anchor (or the file was lost): keep the verified newest digest from now on.
            logger.warning("audit head file missing: recreated from the store's verified newest digest")
            try anchor.store(latest)
        }
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
        if let anchor { try anchor.store(signed) }
        return signed
    }
}

/// The checks ``DigestService`` makes before it signs (see its discussion).
enum DigestCheck {
    static func tampered(_ reason: String) -> AuditError { AuditError(.tamperedTrail, reason) }

    /// Checks the newest stored digest against the key, the chain (`storedHash`: the stored hash of the record at its
    /// head) and the digest kept outside the store, before anything is signed after it.
    static func check(
        _ latest: SignedDigest?,
        head: ChainHead,
        kept: SignedDigest?,
        storedHash: Data?,
        publicKey: P256.Signing.PublicKey
    ) throws {
        if let kept {
            guard kept.isValid(for: publicKey) else {
                throw tampered("The kept newest digest (\(kept.digest.digestSequence)) is not signed by the audit key.")
            }
            guard let latest else {
                throw tampered(
                    "The store holds no digest, but digest \(kept.digest.digestSequence) was signed: digests were "
                        + "removed."
                )
            }
            guard latest.digest.digestSequence >= kept.digest.digestSequence else {
                throw tampered(
                    "The store's newest digest is \(latest.digest.digestSequence), but digest "
                        + "\(kept.digest.digestSequence) was signed: digests were removed."
                )
            }
            if latest.digest.digestSequence == kept.digest.digestSequence, latest != kept {
                throw tampered("The store's digest \(kept.digest.digestSequence) is not the one signed.")
            }
        }
        guard let latest else { return }
        guard latest.isValid(for: publicKey) else {
            throw tampered("The store's newest digest (\(latest.digest.digestSequence)) is not signed by the audit key.")
        }
        let signedHead = latest.digest.head
        guard head.sequence >= signedHead.sequence else {
            throw tampered(
                "The chain ends at record \(head.sequence), but digest \(latest.digest.digestSequence) names record "
                    + "\(signedHead.sequence): records were cut off."
            )
        }
        if signedHead.sequence > 0, storedHash != signedHead.hash.data {
            throw tampered(
                "Record \(signedHead.sequence) is not the one digest \(latest.digest.digestSequence) signed: records "
                    + "were rewritten."
            )
        }
    }
}
