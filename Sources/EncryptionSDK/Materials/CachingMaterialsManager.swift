internal import Foundation
internal import Synchronization

/// A bounded, least-recently-used store of materials, shareable between caching CMMs.
///
/// CMMs sharing one cache keep their entries apart by their partition. Thread-safe.
public final class MaterialsCache: Sendable {
    /// The most entries the cache holds before it evicts the least recently used.
    public let capacity: Int
    private let state: Mutex<State>

    struct Entry {
        enum Materials {
            case encryption(EncryptionMaterials)
            case decryption(DecryptionMaterials)
        }

        var materials: Materials
        let createdAt: Duration
        var messages: UInt64
        var bytes: UInt64
        var lastUse: UInt64
    }

    /// A cache key: the exact bytes that identify a request.
    ///
    /// Hashed in one call over the whole buffer: `[UInt8]`'s own `hash(into:)` feeds the hasher one byte at a
    /// time, which for the few hundred bytes of a decryption key cost more than the rest of a cache hit.
    struct Key: Hashable {
        let bytes: [UInt8]

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        static func == (lhs: Key, rhs: Key) -> Bool { lhs.bytes == rhs.bytes }

        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    struct State {
        var entries: [Key: Entry] = [:]
        var tick: UInt64 = 0

        mutating func insert(_ key: Key, _ entry: Entry, capacity: Int) {
            var entry = entry
            tick += 1
            entry.lastUse = tick
            if entries[key] == nil, entries.count >= capacity,
                let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                entries[oldest] = nil
            }
            entries[key] = entry
        }
    }

    /// - Parameter capacity: the maximum number of entries (at least 1).
    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
        self.state = Mutex(State())
    }

    /// The number of entries held now.
    public var count: Int { state.withLock { $0.entries.count } }

    func withState<R>(_ body: (inout State) -> R) -> R { state.withLock { body(&$0) } }
}

/// Reuses data keys across messages within limits, so that a busy producer or consumer calls its key
/// service rarely (ESDK spec `framework/caching-cmm.md`).
///
/// A cached data key is never used past any limit: for longer than ``maxAge``, for more than
/// ``maxMessages`` messages, or for more than ``maxBytes`` plaintext bytes. Signed suites cache their
/// signing key with the data key, so every message that reuses the key also reuses the signing key
/// pair and its public key in the encryption context; decryption materials cache the parsed
/// verification key. Suites without key derivation are never cached, and encryption requests of
/// unknown plaintext length (streams without a size hint) bypass the cache.
public struct CachingMaterialsManager: CryptographicMaterialsManager {
    public let underlying: any CryptographicMaterialsManager
    public let cache: MaterialsCache
    /// The longest a data key is used after it was made.
    public let maxAge: Duration
    /// The most messages a cached data key encrypts.
    public let maxMessages: UInt64
    /// The most plaintext bytes a cached data key encrypts.
    public let maxBytes: UInt64
    /// Names this CMM's entries in a shared cache.
    public let partition: String
    private let partitionKey: [UInt8]
    private let now: @Sendable () -> Duration

    /// - Parameters:
    ///   - underlying: the CMM that makes new materials on a miss.
    ///   - cache: the store; pass one cache to several CMMs to share its capacity.
    ///   - maxAge: required, greater than zero.
    ///   - maxMessages: 1 through 2^32 (the default).
    ///   - maxBytes: at most 2^63 − 1 (the default).
    ///   - partition: defaults to a random UUID, so separate CMMs never share entries by accident.
    ///   - clock: the time source for ``maxAge``.
    public init(
        underlying: any CryptographicMaterialsManager,
        cache: MaterialsCache = MaterialsCache(),
        maxAge: Duration,
        maxMessages: UInt64 = 1 << 32,
        maxBytes: UInt64 = UInt64(Int64.max),
        partition: String? = nil,
        clock: some Clock<Duration> = ContinuousClock()
    ) throws(EncryptionSDKError) {
        guard maxAge > .zero else { throw .invalidArgument("a caching CMM needs a maximum age greater than zero") }
        guard (1...(1 << 32)).contains(maxMessages) else {
            throw .invalidArgument("maximum messages must be between 1 and 2^32")
        }
        guard maxBytes <= UInt64(Int64.max) else { throw .invalidArgument("maximum bytes must be at most 2^63 - 1") }
        self.underlying = underlying
        self.cache = cache
        self.maxAge = maxAge
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
        let partition = partition ?? UUID().uuidString
        self.partition = partition
        var partitionKey: [UInt8] = []
        partitionKey.appendLengthPrefixed(Array(partition.utf8))
        self.partitionKey = partitionKey
        let origin = clock.now
        self.now = { origin.duration(to: clock.now) }
    }

    /// Over the default CMM of `keyring`.
    public init(
        keyring: any Keyring,
        cache: MaterialsCache = MaterialsCache(),
        maxAge: Duration,
        maxMessages: UInt64 = 1 << 32,
        maxBytes: UInt64 = UInt64(Int64.max),
        partition: String? = nil,
        clock: some Clock<Duration> = ContinuousClock()
    ) throws(EncryptionSDKError) {
        try self.init(
            underlying: DefaultMaterialsManager(keyring: keyring),
            cache: cache,
            maxAge: maxAge,
            maxMessages: maxMessages,
            maxBytes: maxBytes,
            partition: partition,
            clock: clock
        )
    }

    public func encryptionMaterials(for request: EncryptionMaterialsRequest) async throws -> EncryptionMaterials {
        guard let length = request.maxPlaintextLength, length >= 0, UInt64(length) <= maxBytes,
            request.algorithmSuite?.hasKeyDerivation ?? true
        else {
            return try await underlying.encryptionMaterials(for: request)
        }
        let bytes = UInt64(length)
        let key = try encryptionKey(request)
        let time = now()
        let hit: EncryptionMaterials? = cache.withState { state in
            // One hash of the key per hit: the entry is found once and updated through its index.
            guard let index = state.entries.index(forKey: key) else { return nil }
            let entry = state.entries.values[index]
            guard case .encryption(let materials) = entry.materials else { return nil }
            guard time - entry.createdAt < maxAge, entry.messages < maxMessages, entry.bytes + bytes <= maxBytes else {
                state.entries.remove(at: index)
                return nil
            }
            state.tick += 1
            let tick = state.tick
            state.entries.values[index].messages += 1
            state.entries.values[index].bytes += bytes
            state.entries.values[index].lastUse = tick
            return materials
        }
        if let hit { return hit }

        let materials = try await underlying.encryptionMaterials(for: request)
        if materials.algorithmSuite.hasKeyDerivation {
            let entry = MaterialsCache.Entry(
                materials: .encryption(materials),
                createdAt: now(),
                messages: 1,
                bytes: bytes,
                lastUse: 0
            )
            cache.withState { $0.insert(key, entry, capacity: cache.capacity) }
        }
        return materials
    }

    public func decryptionMaterials(for request: DecryptionMaterialsRequest) async throws -> DecryptionMaterials {
        try request.commitmentPolicy.checkDecrypt(request.algorithmSuite)
        guard request.algorithmSuite.hasKeyDerivation else {
            return try await underlying.decryptionMaterials(for: request)
        }
        let key = try decryptionKey(request)
        let time = now()
        let hit: DecryptionMaterials? = cache.withState { state in
            guard let index = state.entries.index(forKey: key) else { return nil }
            let entry = state.entries.values[index]
            guard case .decryption(let materials) = entry.materials else { return nil }
            guard time - entry.createdAt < maxAge else {
                state.entries.remove(at: index)
                return nil
            }
            state.tick += 1
            state.entries.values[index].lastUse = state.tick
            return materials
        }
        if let hit { return hit }

        let materials = try await underlying.decryptionMaterials(for: request)
        let entry = MaterialsCache.Entry(
            materials: .decryption(materials),
            createdAt: now(),
            messages: 0,
            bytes: 0,
            lastUse: 0
        )
        cache.withState { $0.insert(key, entry, capacity: cache.capacity) }
        return materials
    }

    // Cache keys are the exact bytes that identify a request, not digests of them (ESDK spec
    // `caching-cmm.md` hashes them with SHA-512): equality of the full bytes cannot collide, and it
    // costs a fraction of four SHA-512 computations on every seal and open. Lengths prefix every
    // variable part, so distinct requests never serialize alike.

    /// Partition, suite (or none), policy, the canonical context and the required keys.
    private func encryptionKey(_ request: EncryptionMaterialsRequest) throws -> MaterialsCache.Key {
        var key: [UInt8] = []
        key.reserveCapacity(partitionKey.count + 128)
        key.append(contentsOf: partitionKey)
        key.append(0x45)  // "E"
        if let suite = request.algorithmSuite {
            key.append(1)
            key.appendU16(suite.id)
        } else {
            key.append(0)
        }
        key.append(request.commitmentPolicy.wireTag)
        key.appendLengthPrefixed(try ContextCoding.serialize(request.encryptionContext))
        for required in request.requiredEncryptionContextKeys.sorted() {
            key.appendLengthPrefixed(Array(required.utf8))
        }
        return MaterialsCache.Key(key)
    }

    /// Partition, suite, the encrypted data keys in a canonical order, the stored and the reproduced context.
    private func decryptionKey(_ request: DecryptionMaterialsRequest) throws -> MaterialsCache.Key {
        let edks = request.encryptedDataKeys
        var key: [UInt8] = []
        key.reserveCapacity(partitionKey.count + edks.reduce(256) { $0 + $1.serializedLength })
        key.append(contentsOf: partitionKey)
        key.append(0x44)  // "D"
        key.appendU16(request.algorithmSuite.id)
        key.appendU32(UInt32(edks.count))
        if edks.count == 1 {
            // The usual single key needs no sorting, nor a serialized copy to sort.
            edks[0].appendSerialized(to: &key)
        } else {
            for edk in edks.map(\.serialized).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                key.append(contentsOf: edk)
            }
        }
        key.appendLengthPrefixed(try ContextCoding.serialize(request.encryptionContext))
        key.appendLengthPrefixed(try ContextCoding.serialize(request.reproducedEncryptionContext))
        return MaterialsCache.Key(key)
    }
}
