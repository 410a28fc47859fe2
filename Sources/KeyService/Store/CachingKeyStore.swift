public import Foundation
import Synchronization

/// A read-through cache of key and alias records in front of another ``KeyStore``.
///
/// Cryptographic operations read one key record per call; over SQLite that read costs more than the cryptography.
/// This cache answers ``key(id:)`` and ``alias(named:)`` from memory after the first read and stays exact for every
/// batch committed *through it*. It is therefore only correct when it is the one writer of the store underneath:
/// `sealed serve` holds an exclusive lock on its data directory for that reason. Listings and the maintenance query
/// always go to the store.
///
/// - A commit, successful or not, evicts every record it touches; the next read goes to the store.
/// - A read that overlapped a commit does not put what it read into the cache: each commit advances a generation
///   before and after it writes, and a read's result is cached only when the generation did not move while it read.
///   Together these make the cache never hold a record older than the store's, whatever the interleaving.
/// - The cache holds at most `capacity` keys and `capacity` aliases and evicts arbitrary entries beyond that, so its
///   memory stays bounded with any number of keys.
///
/// Records hold key material sealed under the root key, never plaintext material.
public struct CachingKeyStore<Base: KeyStore>: KeyStore {
    public let base: Base
    public let capacity: Int
    private let shared: Shared

    private struct State {
        var keys: [String: KeyRecord] = [:]
        var aliases: [String: AliasRecord] = [:]
        var generation: UInt64 = 0
    }

    /// The one state every copy of this store value shares.
    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    /// A cache of at most `capacity` keys and `capacity` aliases in front of `base`.
    public init(_ base: Base, capacity: Int = 50_000) {
        precondition(capacity > 0, "capacity must be positive")
        self.base = base
        self.capacity = capacity
        self.shared = Shared()
    }

    public func key(id: String) async throws -> KeyRecord? {
        let (cached, generation) = shared.state.withLock { ($0.keys[id], $0.generation) }
        if let cached { return cached }
        let record = try await base.key(id: id)
        if let record {
            shared.state.withLock { state in
                guard state.generation == generation else { return }
                Self.insert(record, for: id, into: &state.keys, capacity: capacity)
            }
        }
        return record
    }

    public func alias(named name: String) async throws -> AliasRecord? {
        let (cached, generation) = shared.state.withLock { ($0.aliases[name], $0.generation) }
        if let cached { return cached }
        let record = try await base.alias(named: name)
        if let record {
            shared.state.withLock { state in
                guard state.generation == generation else { return }
                Self.insert(record, for: name, into: &state.aliases, capacity: capacity)
            }
        }
        return record
    }

    public func keys(after marker: String?, limit: Int) async throws -> [KeyRecord] {
        try await base.keys(after: marker, limit: limit)
    }

    public func aliases(targeting targetKeyID: String?, after marker: String?, limit: Int) async throws -> [AliasRecord]
    {
        try await base.aliases(targeting: targetKeyID, after: marker, limit: limit)
    }

    public func keysNeedingMaintenance(at now: Date) async throws -> [KeyRecord] {
        try await base.keysNeedingMaintenance(at: now)
    }

    public func commit(_ batch: KeyStoreBatch) async throws {
        invalidate(batch)
        defer { invalidate(batch) }
        try await base.commit(batch)
    }

    /// Advances the generation and evicts what `batch` touches.
    private func invalidate(_ batch: KeyStoreBatch) {
        shared.state.withLock { state in
            state.generation &+= 1
            for change in batch.changes {
                switch change {
                case .putKey(let record, _): state.keys[record.id] = nil
                case .deleteKey(let id, _):
                    state.keys[id] = nil
                    // The store deletes the aliases of a deleted key with it.
                    state.aliases = state.aliases.filter { $0.value.targetKeyID != id }
                case .putAlias(let record, _): state.aliases[record.name] = nil
                case .deleteAlias(let name, _): state.aliases[name] = nil
                }
            }
        }
    }

    private static func insert<Value>(
        _ value: Value,
        for key: String,
        into dictionary: inout [String: Value],
        capacity: Int
    ) {
        if dictionary[key] == nil, dictionary.count >= capacity {
            // Arbitrary (hash-order) eviction: cheap, and bounded memory is all this cache promises.
            dictionary.remove(at: dictionary.startIndex)
        }
        dictionary[key] = value
    }
}
