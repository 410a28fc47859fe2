import Crypto
import Synchronization

/// A small, bounded cache of derived signing keys, shared safely between tasks.
///
/// A SigV4 signing key depends only on the secret access key, the date, the region and the service ("Create a
/// signed AWS API request", IAM User Guide, step 4), so one derivation (four HMACs) serves every request of that
/// day. A server verifying every request and a client signing many both gain from keeping the keys.
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
    private let keys: Mutex<[Entry: SymmetricKey]>

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

    func signingKey(secretAccessKey: String, dateStamp: String, region: String, service: String) -> SymmetricKey {
        let entry = Entry(secretAccessKey: secretAccessKey, dateStamp: dateStamp, region: region, service: service)
        if let key = keys.withLock({ $0[entry] }) {
            return key
        }
        let key = Canonical.signingKey(
            secretAccessKey: secretAccessKey,
            dateStamp: dateStamp,
            region: region,
            service: service
        )
        keys.withLock { keys in
            if keys.count >= capacity { keys.removeAll(keepingCapacity: true) }
            keys[entry] = key
        }
        return key
    }
}

extension Optional where Wrapped == SigningKeyCache {
    /// The signing key from the cache when there is one, derived afresh otherwise.
    func signingKey(secretAccessKey: String, dateStamp: String, region: String, service: String) -> SymmetricKey {
        switch self {
        case .some(let cache):
            cache.signingKey(secretAccessKey: secretAccessKey, dateStamp: dateStamp, region: region, service: service)
        case .none:
            Canonical.signingKey(
                secretAccessKey: secretAccessKey,
                dateStamp: dateStamp,
                region: region,
                service: service
            )
        }
    }
}
