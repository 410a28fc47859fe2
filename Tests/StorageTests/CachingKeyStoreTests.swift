import AccessControl
import Foundation
import KMS
import KeyService
import Storage
import Synchronization
import Testing

/// What the read-through cache adds to the `KeyStore` contract (which it also passes, see ``KeyStoreKind``): reads
/// are served from memory, and no interleaving of reads and commits leaves a record older than the store's.
struct CachingKeyStoreTests {
    /// An in-memory store that counts point reads and can hold a read until released, to force interleavings.
    final class ObservedStore: KeyStore {
        let base: any KeyStore = InMemoryKeyStore()
        let reads = Atomic<Int>(0)
        /// When set, the next `key(id:)` reads the record, then waits for this stream to yield before returning it.
        let gate = Mutex<AsyncStream<Void>?>(nil)

        func key(id: String) async throws -> KeyRecord? {
            reads.add(1, ordering: .relaxed)
            let record = try await base.key(id: id)
            if let stream = gate.withLock({ gate -> AsyncStream<Void>? in
                defer { gate = nil }
                return gate
            }) {
                for await _ in stream { break }
            }
            return record
        }

        func alias(named name: String) async throws -> AliasRecord? {
            reads.add(1, ordering: .relaxed)
            return try await base.alias(named: name)
        }

        func keys(after marker: String?, limit: Int) async throws -> [KeyRecord] {
            try await base.keys(after: marker, limit: limit)
        }

        func aliases(targeting targetKeyID: String?, after marker: String?, limit: Int) async throws -> [AliasRecord] {
            try await base.aliases(targeting: targetKeyID, after: marker, limit: limit)
        }

        func keysNeedingMaintenance(at now: Date) async throws -> [KeyRecord] {
            try await base.keysNeedingMaintenance(at: now)
        }

        func commit(_ batch: KeyStoreBatch) async throws { try await base.commit(batch) }
    }

    @Test
    func repeatedReadsAreServedFromMemory() async throws {
        let observed = ObservedStore()
        let store = CachingKeyStore(observed)
        let key = keyRecord("k1")
        try await store.commit(KeyStoreBatch([.putKey(key, expectedRevision: nil)]))
        try await store.commit(KeyStoreBatch([.putAlias(aliasRecord("alias/a", target: "k1"), expectedRevision: nil)]))
        for _ in 0..<100 {
            #expect(try await store.key(id: "k1") == key)
            #expect(try await store.alias(named: "alias/a")?.targetKeyID == "k1")
        }
        #expect(observed.reads.load(ordering: .relaxed) == 2)
        // An absent record is not cached: it may be created by the next commit.
        #expect(try await store.key(id: "k2") == nil)
        #expect(try await store.key(id: "k2") == nil)
        #expect(observed.reads.load(ordering: .relaxed) == 4)
    }

    @Test
    func aCommitReplacesWhatWasCached() async throws {
        let store = CachingKeyStore(ObservedStore())
        var key = keyRecord("k1")
        try await store.commit(KeyStoreBatch([.putKey(key, expectedRevision: nil)]))
        _ = try await store.key(id: "k1")
        var disabled = key
        disabled.state = .disabled
        disabled.revision = key.revision + 1
        try await store.commit(KeyStoreBatch([.putKey(disabled, expectedRevision: key.revision)]))
        #expect(try await store.key(id: "k1")?.state == .disabled)
        key = disabled
        try await store.commit(KeyStoreBatch([.deleteKey(id: "k1", expectedRevision: key.revision)]))
        #expect(try await store.key(id: "k1") == nil)
    }

    @Test
    func aFailedCommitLeavesNoStaleRecord() async throws {
        let observed = ObservedStore()
        let store = CachingKeyStore(observed)
        let key = keyRecord("k1")
        try await store.commit(KeyStoreBatch([.putKey(key, expectedRevision: nil)]))
        _ = try await store.key(id: "k1")
        var changed = key
        changed.keyDescription = "changed"
        changed.revision = key.revision + 1
        // Another writer's change, made behind the cache's back, and a commit through the cache that conflicts.
        try await observed.base.commit(KeyStoreBatch([.putKey(changed, expectedRevision: key.revision)]))
        await #expect(throws: KeyStoreConflict.self) {
            try await store.commit(KeyStoreBatch([.putKey(key, expectedRevision: key.revision)]))
        }
        #expect(try await store.key(id: "k1")?.keyDescription == "changed")
    }

    @Test
    func aReadThatOverlapsACommitIsNotCached() async throws {
        let observed = ObservedStore()
        let store = CachingKeyStore(observed)
        let key = keyRecord("k1")
        try await store.commit(KeyStoreBatch([.putKey(key, expectedRevision: nil)]))
        // The read fetches revision `key.revision`, then is held while a commit changes the key.
        let (release, continuation) = AsyncStream<Void>.makeStream()
        observed.gate.withLock { $0 = release }
        async let staleRead = store.key(id: "k1")
        while observed.reads.load(ordering: .relaxed) == 0 { await Task.yield() }
        var disabled = key
        disabled.state = .disabled
        disabled.revision = key.revision + 1
        try await store.commit(KeyStoreBatch([.putKey(disabled, expectedRevision: key.revision)]))
        continuation.yield()
        continuation.finish()
        #expect(try await staleRead?.state == .enabled)
        // What the overlapping read returned did not land in the cache.
        #expect(try await store.key(id: "k1")?.state == .disabled)
    }

    @Test
    func memoryStaysWithinTheCapacity() async throws {
        let observed = ObservedStore()
        let store = CachingKeyStore(observed, capacity: 10)
        for index in 0..<50 {
            try await store.commit(KeyStoreBatch([.putKey(keyRecord("k\(index)"), expectedRevision: nil)]))
        }
        for index in 0..<50 { _ = try await store.key(id: "k\(index)") }
        let before = observed.reads.load(ordering: .relaxed)
        // At most 10 of the 50 are still cached, so reading all again goes to the store at least 40 times.
        for index in 0..<50 { #expect(try await store.key(id: "k\(index)")?.id == "k\(index)") }
        #expect(observed.reads.load(ordering: .relaxed) - before >= 40)
    }
}
