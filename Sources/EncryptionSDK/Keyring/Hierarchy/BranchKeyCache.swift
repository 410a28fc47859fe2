internal import Crypto
internal import Synchronization

/// A branch key as the cache keeps it: the materials, and the HMAC-SHA-256 keyed by the branch key that derives each
/// wrapping key (its keyed states computed once per fetch, not once per data key).
struct CachedBranchKey: Sendable {
    let materials: BranchKeyMaterials
    let derivation: KeyedHMAC<SHA256>

    init(_ materials: BranchKeyMaterials) {
        self.materials = materials
        self.derivation = materials.branchKey.withUnsafeBytes { KeyedHMAC(key: $0) }
    }
}

/// The branch key materials cache of the hierarchical keyring: a bounded, time-limited store of branch keys, so
/// that a keystore (a DynamoDB read and a KMS decrypt) is asked once per branch key version per TTL.
///
/// An entry lives at most ``ttl`` after it was fetched and is never served after that: the TTL is the delay after
/// which a destroyed or rotated branch key stops being used by a process that cached it. When full, the cache
/// evicts the least recently used entry. Concurrent misses for the same key share one fetch. Thread-safe; pass one
/// cache to several keyrings to share it.
public final class BranchKeyCache: Sendable {
    /// The most entries held at once.
    public let capacity: Int
    /// How long an entry is served after it was fetched.
    public let ttl: Duration
    private let now: @Sendable () -> Duration
    private let state = Mutex(State())

    /// What an entry caches: the active version of an id, or one version (by the 16 bytes of its UUID).
    enum Key: Hashable, Sendable {
        case active(String)
        case version(String, UInt128)
    }

    private struct Entry {
        var materials: CachedBranchKey
        var expiry: Duration
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var inFlight: [Key: Task<CachedBranchKey, any Error>] = [:]
        var tick: UInt64 = 0
    }

    /// - Parameters:
    ///   - capacity: The most entries (at least 1); the spec's default 1000.
    ///   - ttl: How long an entry is served; greater than zero. 60 seconds by default.
    ///   - clock: The time source of the TTL.
    /// - Throws: ``EncryptionSDKError`` `invalidArgument` for a capacity below 1 or a TTL that is not positive.
    public init(
        capacity: Int = 1000,
        ttl: Duration = .seconds(60),
        clock: some Clock<Duration> = ContinuousClock()
    ) throws(EncryptionSDKError) {
        guard capacity >= 1 else { throw .invalidArgument("a branch key cache holds at least one entry") }
        guard ttl > .zero else { throw .invalidArgument("a branch key cache needs a TTL greater than zero") }
        self.capacity = capacity
        self.ttl = ttl
        let start = clock.now
        self.now = { start.duration(to: clock.now) }
    }

    /// The number of entries held now, expired ones included until they are looked up or evicted.
    public var count: Int { state.withLock { $0.entries.count } }

    /// Drops every entry, so the next use of each branch key asks the keystore.
    public func removeAll() { state.withLock { $0.entries.removeAll() } }

    /// The materials cached for `key` that are still within the TTL.
    func cached(_ key: Key) -> CachedBranchKey? {
        let now = self.now()
        return state.withLock { state in
            guard var entry = state.entries[key] else { return nil }
            guard entry.expiry > now else {
                state.entries[key] = nil
                return nil
            }
            state.tick += 1
            entry.lastUse = state.tick
            state.entries[key] = entry
            return entry.materials
        }
    }

    /// The materials `fetch` returns for `key`, cached; concurrent fetches of one key share the first.
    func fetch(
        _ key: Key,
        with fetch: @escaping @Sendable () async throws -> BranchKeyMaterials
    ) async throws -> CachedBranchKey {
        let now = self.now()
        let task = state.withLock { state in
            if let running = state.inFlight[key] { return running }
            let task = Task { CachedBranchKey(try await fetch()) }
            state.inFlight[key] = task
            return task
        }
        do {
            let materials = try await task.value
            store(materials, for: key, fetchedAt: now)
            return materials
        } catch {
            state.withLock { state in
                if state.inFlight[key] == task { state.inFlight[key] = nil }
            }
            throw error
        }
    }

    private func store(_ materials: CachedBranchKey, for key: Key, fetchedAt: Duration) {
        state.withLock { state in
            state.inFlight[key] = nil
            state.tick += 1
            if state.entries[key] == nil, state.entries.count >= capacity,
                let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                state.entries[oldest] = nil
            }
            state.entries[key] = Entry(materials: materials, expiry: fetchedAt + ttl, lastUse: state.tick)
        }
    }
}
