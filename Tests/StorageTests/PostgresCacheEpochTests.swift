import AccessControl
import Crypto
import Foundation
import KeyService
import PostgresNIO
import PostgresStorage
import SealedTesting
import Storage
import Testing
import WireShapes

/// The replicas' caches of keys, aliases and access keys (`PostgresCacheEpoch`): a change committed through one
/// replica is seen by the other's next request, a read of the epoch serves every request that arrived during the one
/// before it, and a request's lookups share one read.
struct PostgresCacheEpochTests {
    static let rootKey = SymmetricKey(size: .bits256)

    /// One replica's cached stores.
    struct Replica {
        let database: PostgresDatabase
        let epoch: PostgresCacheEpoch
        let keys: PostgresKeyStore
        let credentials: PostgresCredentialStore

        init(_ database: PostgresDatabase) {
            self.database = database
            epoch = PostgresCacheEpoch(database: database)
            keys = PostgresKeyStore(database: database, cacheEpoch: epoch)
            credentials = PostgresCredentialStore(
                database: database,
                rootKey: PostgresCacheEpochTests.rootKey,
                cacheEpoch: epoch
            )
        }

        /// Updates a key with its trigger off for the transaction, so the epoch does not move: an edit no cache
        /// hears of.
        func editUnannounced(key id: String, description: String) async throws {
            try await database.transaction(.readCommitted) { connection in
                for sql in [
                    "ALTER TABLE kms_key DISABLE TRIGGER kms_key_changed",
                    "UPDATE kms_key SET description = '\(description)' WHERE id = '\(id)'",
                    "ALTER TABLE kms_key ENABLE TRIGGER kms_key_changed",
                ] {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: quietLogger)
                }
            }
        }
    }

    @Test func aKeyDisabledThroughOneReplicaIsDisabledOnTheOthersNextRead() async throws {
        try await PostgresTesting.withTwoReplicas { first, second in
            let a = Replica(first)
            let b = Replica(second)
            let key = keyRecord("k1")
            try await a.keys.commit(KeyStoreBatch([.putKey(key, expectedRevision: nil)]))
            #expect(try await b.keys.key(id: "k1")?.state == .enabled)

            // The cache answers: an edit made behind the triggers' back is not seen...
            try await b.editUnannounced(key: "k1", description: "unannounced")
            #expect(try await b.keys.key(id: "k1")?.keyDescription == key.keyDescription)

            // ...but every announced change is, at the next read, on the replica that did not make it.
            var disabled = key
            disabled.state = .disabled
            disabled.revision = 2
            try await a.keys.commit(KeyStoreBatch([.putKey(disabled, expectedRevision: 1)]))
            let seen = try await b.keys.key(id: "k1")
            #expect(seen?.state == .disabled && seen?.revision == 2)

            try await a.keys.commit(KeyStoreBatch([.deleteKey(id: "k1", expectedRevision: 2)]))
            #expect(try await b.keys.key(id: "k1") == nil)
        }
    }

    @Test func anAliasMovedThroughOneReplicaIsMovedOnTheOther() async throws {
        try await PostgresTesting.withTwoReplicas { first, second in
            let a = Replica(first)
            let b = Replica(second)
            try await a.keys.commit(
                KeyStoreBatch([
                    .putKey(keyRecord("k1"), expectedRevision: nil), .putKey(keyRecord("k2"), expectedRevision: nil),
                    .putAlias(aliasRecord("alias/a", target: "k1"), expectedRevision: nil),
                ])
            )
            #expect(try await b.keys.alias(named: "alias/a")?.targetKeyID == "k1")
            try await a.keys.commit(
                KeyStoreBatch([.putAlias(aliasRecord("alias/a", target: "k2", revision: 2), expectedRevision: 1)])
            )
            #expect(try await b.keys.alias(named: "alias/a")?.targetKeyID == "k2")
        }
    }

    @Test func anAccessKeyDeactivatedOrDeletedThroughOneReplicaIsGoneFromTheOther() async throws {
        try await PostgresTesting.withTwoReplicas { first, second in
            let a = Replica(first)
            let b = Replica(second)
            let alice = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice", at: Date())
            let session = AccessKey.generateSession(
                for: "arn:aws:sts::000000000000:assumed-role/reader/s1",
                expiration: Date().addingTimeInterval(-60),
                at: Date().addingTimeInterval(-3600)
            )
            try await a.credentials.create(alice)
            try await a.credentials.create(session)
            #expect(try await b.credentials.accessKey(id: alice.id)?.status == .active)
            #expect(try await b.credentials.accessKey(id: session.id) == session)

            try await a.credentials.deactivate(id: alice.id)
            #expect(try await b.credentials.accessKey(id: alice.id)?.status == .inactive)
            try await a.credentials.delete(id: alice.id)
            #expect(try await b.credentials.accessKey(id: alice.id) == nil)
            // The sweep of expired sessions moves the epoch too: a deleted key is never found.
            #expect(try await a.credentials.deleteSessions(expiredBefore: Date()) == 1)
            #expect(try await b.credentials.accessKey(id: session.id) == nil)
        }
    }

    /// Inside one request (whose epoch read began before its own write) the replica that wrote reads its write back,
    /// and a conflict's retry reads the record afresh instead of the cached one it lost with.
    @Test func aRequestReadsItsOwnWritesAndRetriesAConflictOnAFreshRecord() async throws {
        try await PostgresTesting.withTwoReplicas { first, second in
            let a = Replica(first)
            let b = Replica(second)
            let key = keyRecord("k1")
            try await a.keys.commit(KeyStoreBatch([.putKey(key, expectedRevision: nil)]))
            let alice = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice", at: Date())
            try await a.credentials.create(alice)
            try await b.epoch.request {
                #expect(try await b.keys.key(id: "k1")?.revision == 1)
                #expect(try await b.credentials.accessKey(id: alice.id)?.status == .active)
                var disabled = key
                disabled.state = .disabled
                disabled.revision = 2
                try await b.keys.commit(KeyStoreBatch([.putKey(disabled, expectedRevision: 1)]))
                #expect(try await b.keys.key(id: "k1")?.state == .disabled)
                try await b.credentials.deactivate(id: alice.id)
                #expect(try await b.credentials.accessKey(id: alice.id)?.status == .inactive)

                // Another replica moves the key on; this request's commit over revision 2 conflicts, and its
                // re-read finds revision 3.
                var renamed = disabled
                renamed.keyDescription = "renamed"
                renamed.revision = 3
                try await a.keys.commit(KeyStoreBatch([.putKey(renamed, expectedRevision: 2)]))
                var enabled = disabled
                enabled.state = .enabled
                enabled.revision = 3
                await #expect(throws: KeyStoreConflict.self) {
                    try await b.keys.commit(KeyStoreBatch([.putKey(enabled, expectedRevision: 2)]))
                }
                #expect(try await b.keys.key(id: "k1")?.keyDescription == "renamed")
            }
        }
    }

    @Test func aNewRecordDoesNotMoveTheEpochAndAMissIsNotCached() async throws {
        try await withPostgres { database in
            let replica = Replica(database)
            #expect(try await replica.credentials.accessKey(id: "AKIANOTYET") == nil)
            let before = try await epochValue(in: database)
            let key = AccessKey(
                id: "AKIANOTYET",
                secretAccessKey: "secret",
                principalARN: "arn:aws:iam::000000000000:user/bob"
            )
            try await replica.credentials.create(key)
            try await replica.keys.commit(KeyStoreBatch([.putKey(keyRecord("k1"), expectedRevision: nil)]))
            #expect(try await epochValue(in: database) == before)
            #expect(try await replica.credentials.accessKey(id: "AKIANOTYET")?.secretAccessKey == "secret")
            #expect(try await replica.keys.key(id: "k1") != nil)
        }
    }

    @Test func callersArrivingDuringAReadShareTheNextOne() async throws {
        try await withPostgres { database in
            let epoch = PostgresCacheEpoch(database: database)
            // Holds the first read: a SELECT waits for an ACCESS EXCLUSIVE lock held by another transaction.
            let (locked, lockedSignal) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await database.transaction(.readCommitted) { connection in
                    _ = try await connection.query(
                        "LOCK TABLE cache_epoch IN ACCESS EXCLUSIVE MODE",
                        logger: quietLogger
                    )
                    lockedSignal.yield()
                    for await _ in release { break }
                }
            }
            for await _ in locked { break }
            let first = Task { try await epoch.current() }
            try await waitUntil { epoch.waiting == 1 }
            let later = (0..<20).map { _ in Task { try await epoch.current() } }
            try await waitUntil { epoch.waiting == 21 }
            #expect(epoch.reads == 1)
            releaseSignal.yield()
            try await holder.value
            let value = try await first.value
            for task in later { #expect(try await task.value == value) }
            // One read for the first caller, one for the twenty that arrived while it was in flight.
            #expect(epoch.reads == 2)
        }
    }

    @Test func aRequestsLookupsShareOneRead() async throws {
        try await withPostgres { database in
            let replica = Replica(database)
            let alice = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice", at: Date())
            try await replica.credentials.create(alice)
            try await replica.keys.commit(KeyStoreBatch([.putKey(keyRecord("k1"), expectedRevision: nil)]))

            let before = replica.epoch.reads
            try await replica.epoch.request {
                _ = try await replica.credentials.accessKey(id: alice.id)
                _ = try await replica.keys.key(id: "k1")
                _ = try await replica.keys.key(id: "k1")
            }
            #expect(replica.epoch.reads == before + 1)

            // Outside a request each lookup needs a read that began after it was asked for.
            _ = try await replica.credentials.accessKey(id: alice.id)
            _ = try await replica.keys.key(id: "k1")
            #expect(replica.epoch.reads == before + 3)
        }
    }

    /// A read that cannot reach PostgreSQL fails the lookups waiting for it with the unreachable error the server
    /// answers 503; the next read, once PostgreSQL accepts connections again, serves them.
    @Test func aReadThatCannotReachTheDatabaseFailsItsCallersAndTheNextOneServes() async throws {
        try await PostgresTesting.withPool(maximumConnections: 2, connectionWait: .milliseconds(300)) {
            fixture,
            url,
            database in
            let replica = Replica(database)
            try await eventually("the pool connects", limit: .seconds(60)) {
                (try? await replica.keys.commit(KeyStoreBatch([.putKey(keyRecord("k1"), expectedRevision: nil)])))
                    != nil
            }
            #expect(try await replica.keys.key(id: "k1") != nil)
            try await PostgresTesting.refusingConnections(fixture, url) {
                // The cached key is not answered without a read of the epoch.
                try await eventually("a lookup fails while PostgreSQL refuses connections", limit: .seconds(30)) {
                    do {
                        _ = try await replica.keys.key(id: "k1")
                        return false
                    } catch let error as StorageError {
                        return error.code == .databaseUnavailable && error.isUnreachable
                    }
                }
            }
            try await eventually("the next read serves again", limit: .seconds(60)) {
                (try? await replica.keys.key(id: "k1")) != nil
            }
        }
    }

    private func epochValue(in database: PostgresDatabase) async throws -> Int64 {
        try await database.query("SELECT value FROM cache_epoch")[0].decode(Int64.self)
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
