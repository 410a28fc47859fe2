import Crypto
import Synchronization

/// A small, bounded cache of derived signing keys, shared safely between tasks.
///
/// A SigV4 signing key depends only on the secret access key, the date, the region and the service ("Create a
/// signed AWS API request", IAM User Guide, step 4), so one derivation (four HMACs) serves every request of that
/// day. A server verifying every request and a client signing many both gain from keeping the keys.
///
/// A key is kept as an `HMAC<SHA256>` already keyed with it (its inner and outer pads hashed): each signature then
/// starts from a copy of that state and hashes only the string to sign. The copy is swift-crypto's copy-on-write
/// digest context, so concurrent requests never share a state they update.
///
/// The cache holds at most ``capacity`` keys. When it is full it is emptied before the next key is stored:
/// the working set (a few credentials on today's date) refills it at once, and no request can make it grow
/// without bound. A ``Verifier`` only stores keys for credentials its lookup returned and for a scope it
/// accepted.
public final class SigningKeyCache: Sendable {
    private struct Entry: Hashable {
        var secretAccessKey: String
        var dateStamp: String
        var region: String
        var service: String
    }

    /// The most keys kept at once.
    public let capacity: Int

    // Guarded by the mutex: lookups and inserts are short, and the derivation runs outside the lock.
    private let keys: Mutex<[Entry: HMAC<SHA256>]>

    /// Creates an empty cache.
    ///
    /// - Parameter capacity: The most keys kept at once; at least 1.
    public init(capacity: Int = 256) {
        precondition(capacity >= 1, "a signing key cache holds at least one key")
        self.capacity = capacity
        self.keys = Mutex([:])
    }

    /// The number of keys held now.
    public var count: Int {
        keys.withLock { $0.count }
    }

    /// Drops every key, for instance after credentials were rotated.
    public func removeAll() {
        keys.withLock { $0.removeAll() }
    }

    func signingMAC(secretAccessKey: String, dateStamp: String, region: String, service: String) -> HMAC<SHA256> {
        let entry = Entry(secretAccessKey: secretAccessKey, dateStamp: dateStamp, region: region, service: service)
        if let mac = keys.withLock({ $0[entry] }) {
            return mac
        }
        let mac = Canonical.signingMAC(
            secretAccessKey: secretAccessKey,
            dateStamp: dateStamp,
            region: region,
            service: service
        )
        keys.withLock { keys in
            if keys.count >= capacity { keys.removeAll(keepingCapacity: true) }
            keys[entry] = mac
        }
        return mac
    }
}

extension Optional where Wrapped == SigningKeyCache {
    /// An `HMAC<SHA256>` keyed with the signing key, from the cache when there is one, derived afresh otherwise.
    func signingMAC(secretAccessKey: String, dateStamp: String, region: String, service: String) -> HMAC<SHA256> {
        switch self {
        case .some(let cache):
            cache.signingMAC(secretAccessKey: secretAccessKey, dateStamp: dateStamp, region: region, service: service)
        case .none:
            Canonical.signingMAC(
                secretAccessKey: secretAccessKey,
                dateStamp: dateStamp,
                region: region,
                service: service
            )
        }
    }
}
