import AuditTrail
import Crypto
import Foundation
import PostgresNIO
import PostgresStorage
import SealedTesting
import Storage
import Testing

extension PostgresAuditStore: QueryableAuditStore {}

/// Fixtures of the PostgreSQL audit store's tests.
enum PostgresAuditFixtures {
    /// Runs `body` with a new migrated database, or skips without a server.
    static func withDatabase(_ body: (PostgresDatabase) async throws -> Void) async throws {
        try await PostgresTesting.withEmptyDatabase { url in
            try await PostgresDatabase.withDatabase(url, maximumConnections: 8, logger: quietLogger) { database in
                try await body(database)
            }
        }
    }

    /// `count` records (every third a CreateKey) with a digest after every `digestEvery` records.
    static func populate(
        _ store: PostgresAuditStore,
        count: Int = 30,
        digestEvery: Int = 10,
        key: AuditSigningKey
    ) async throws {
        let service = AuditFixtures.digestService(store, key)
        for index in 1...count {
            try await store.record(index % 3 == 0 ? AuditFixtures.createKey(index) : AuditFixtures.decrypt(index))
            if index % digestEvery == 0 { try await service.signIfNeeded() }
        }
    }

    /// Runs `sql` as a forger with the database's credentials would.
    static func execute(_ sql: String, _ database: PostgresDatabase) async throws {
        try await database.query(PostgresQuery(unsafeSQL: sql))
    }

    static func recordBytes(_ sequence: Int64, _ database: PostgresDatabase) async throws -> Data {
        try #require(
            try await database.query("SELECT record FROM audit_record WHERE sequence = \(sequence)").first?
                .decode(Data.self)
        )
    }

    /// Replaces record `sequence`'s bytes by `bytes`, with the hash column recomputed when `rehash`.
    static func replaceRecord(
        _ sequence: Int64,
        with bytes: Data,
        rehash: Bool = false,
        _ database: PostgresDatabase
    ) async throws {
        try await database.query("UPDATE audit_record SET record = \(bytes) WHERE sequence = \(sequence)")
        if rehash {
            try await database.query(
                "UPDATE audit_record SET hash = \(ChainHash.of(bytes).data) WHERE sequence = \(sequence)"
            )
        }
    }

    /// Record `sequence`'s bytes with the first `old` replaced by `new` (same length).
    static func edited(
        _ sequence: Int64,
        _ old: String,
        _ new: String,
        _ database: PostgresDatabase
    ) async throws
        -> Data
    {
        let bytes = try await recordBytes(sequence, database)
        let text = String(decoding: bytes, as: UTF8.self)
        let edited = Data(text.replacingOccurrences(of: old, with: new, options: [], range: text.range(of: old)).utf8)
        #expect(edited.count == bytes.count && edited != bytes)
        return edited
    }
}

/// The audit store on PostgreSQL against the same contract as the log and SQLite stores.
@Suite struct PostgresAuditStoreTests {
    let key = AuditSigningKey.generate()

    @Test func recordsChainAndReadBack() async throws {
        try await PostgresAuditFixtures.withDatabase { database in
            let store = PostgresAuditStore(database: database)
            #expect(try await store.chainHead() == .empty)
            try await PostgresAuditFixtures.populate(store, count: 11, digestEvery: 4, key: key)
            let stored = try await store.tail(after: 0, limit: 100)
            #expect(stored.map(\.sequence) == Array(1...11))
            #expect(stored.first?.previousHash == .genesis)
            for (previous, next) in zip(stored, stored.dropFirst()) { #expect(next.previousHash == previous.hash) }
            #expect(try await store.chainHead() == ChainHead(sequence: 11, hash: stored[10].hash))
            #expect(try await store.recordHash(at: 5) == stored[4].hash.data)
            #expect(try await store.recordHash(at: 12) == nil)
            #expect(try await store.digests().map(\.digest.headSequence) == [4, 8])
            #expect(try await store.latestDigest()?.digest.headSequence == 8)
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 11 && report.digestsChecked == 2)
            await store.close()
            await #expect(throws: AuditStoreError.self) { try await store.record(AuditFixtures.decrypt(12)) }
        }
    }

    @Test func aDigestThatDoesNotFollowIsAConflict() async throws {
        try await PostgresAuditFixtures.withDatabase { database in
            let store = PostgresAuditStore(database: database)
            try await store.record(AuditFixtures.decrypt(1))
            let signed = try #require(try await AuditFixtures.digestService(store, key).signIfNeeded())
            let error = await #expect(throws: AuditStoreError.self) { try await store.appendDigest(signed) }
            #expect(error?.code == .digestConflict)
            #expect(try await store.latestDigest() == signed)
        }
    }

    @Test func queriesMatchTheReferenceSemantics() async throws {
        try await PostgresAuditFixtures.withDatabase { database in
            let store = PostgresAuditStore(database: database)
            let reference = InMemoryAuditStore()
            try await AuditReference.writeMixedRecords(1...40, store, reference)
            try await AuditReference.expectReferenceSemantics(store, reference)
        }
    }

    @Test func theSigningKeyIsCreatedOnceAndOpensOnlyUnderItsRootKey() async throws {
        try await PostgresAuditFixtures.withDatabase { database in
            let rootKey = SymmetricKey(size: .bits256)
            // Eight replicas starting at once.
            let fingerprints = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await PostgresAuditStore.openTrail(database: database, rootKey: rootKey).signingKey
                            .fingerprint
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(fingerprints.count == 1)
            #expect(
                try await PostgresAuditStore.signingKey(in: database, rootKey: rootKey).fingerprint
                    == fingerprints.first
            )
            let rows = try await database.query("SELECT sealed FROM audit_signing_key").map { try $0.decode(Data.self) }
            #expect(rows.count == 1)
            let error = await #expect(throws: AuditError.self) {
                _ = try await PostgresAuditStore.signingKey(in: database, rootKey: SymmetricKey(size: .bits256))
            }
            #expect(error?.code == .unsealFailed)
        }
    }

    /// `sealed admin migrate`'s copy of a data directory's trail: the same chain, byte for byte, and the same digests.
    @Test func aLogTrailIsCopiedByteForByte() async throws {
        try await PostgresAuditFixtures.withDatabase { database in
            try await AuditFixtures.withDirectory { directory in
                try await LogFixtures.populate(directory, key: key)
                let log = try LogAuditStore(directory: LogFixtures.log(directory))
                defer { try? log.close() }
                let store = PostgresAuditStore(database: database)
                let report = try await store.importTrail(from: log, publicKey: key.publicKey, pageSize: 7)
                #expect(report.isValid && report.recordsChecked == 30 && report.digestsChecked == 3)
                #expect(report == (try await log.verify(publicKey: key.publicKey)))
                let fromLog = directory.appendingPathComponent("log.json")
                let fromPostgres = directory.appendingPathComponent("postgres.json")
                _ = try await log.export(to: fromLog, publicKey: key.publicKey)
                _ = try await store.export(to: fromPostgres, publicKey: key.publicKey)
                #expect(try Data(contentsOf: fromLog) == Data(contentsOf: fromPostgres))
                let error = await #expect(throws: AuditStoreError.self) {
                    _ = try await store.importTrail(from: log, publicKey: key.publicKey)
                }
                #expect(error?.message.contains("not empty") == true)
                try await store.record(AuditFixtures.decrypt(31))
                #expect(try await store.verify(publicKey: key.publicKey).recordsChecked == 31)
            }
        }
    }

    @Test func exportsAreTheFileSealedAuditVerifyReads() async throws {
        try await PostgresAuditFixtures.withDatabase { database in
            let store = PostgresAuditStore(database: database)
            try await PostgresAuditFixtures.populate(store, key: key)
            try await AuditFixtures.withDirectory { directory in
                let export = directory.appendingPathComponent("export.json")
                let summary = try await store.export(to: export, publicKey: key.publicKey)
                #expect(summary == Export.Summary(records: 30, digests: 3, firstSequence: 1, lastSequence: 30))
                let publicKey = try AuditSigningKey.publicKey(pem: key.publicKeyPEM)
                let report = try Export.verify(fileAt: export, publicKey: publicKey)
                #expect(report.isValid && report.recordsChecked == 30 && report.digestsChecked == 3)

                let since = try await store.firstSequence(since: AuditFixtures.baseTime.addingTimeInterval(12.5))
                #expect(since == 13)
                let suffix = directory.appendingPathComponent("since.json")
                let partial = try await store.export(
                    to: suffix,
                    fromSequence: try #require(since),
                    publicKey: key.publicKey
                )
                #expect(partial == Export.Summary(records: 20, digests: 3, firstSequence: 11, lastSequence: 30))
                #expect(try Export.verify(fileAt: suffix, publicKey: publicKey).isValid)
            }
        }
    }
}

/// Several replicas appending to one chain, and batches that fail.
@Suite struct PostgresAuditReplicaTests {
    let key = AuditSigningKey.generate()

    @Test func twoReplicasWithTwoHundredWritersAppendOneChain() async throws {
        try await PostgresTesting.withTwoReplicas { first, second in
            let commits = CommitLog()
            let stores = [
                PostgresAuditStore(database: first, onCommit: { commits.append($0) }),
                PostgresAuditStore(database: second, onCommit: { commits.append($0) }),
            ]
            let records = (1...200).map { AuditFixtures.decrypt($0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, record) in records.enumerated() {
                    group.addTask { try await stores[index % 2].record(record) }
                }
                // One replica signs digests meanwhile, as its leadership lets it.
                group.addTask {
                    let service = AuditFixtures.digestService(stores[1], key)
                    for _ in 0..<5 {
                        try await service.signIfNeeded()
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
                try await group.waitForAll()
            }
            let stored = try await stores[0].tail(after: 0, limit: 1000)
            #expect(stored.map(\.sequence) == Array(1...200))
            #expect(Set(stored.map(\.record.eventID)) == Set(records.map(\.eventID)))
            #expect(try await stores[1].tail(after: 0, limit: 1000) == stored)
            let committed = stores.map(\.commitStatistics.committedRecords)
            #expect(committed.reduce(0, +) == 200 && committed.allSatisfy { $0 > 0 })
            #expect(commits.all.allSatisfy { $0.succeeded })
            try await AuditFixtures.digestService(stores[0], key).signIfNeeded()
            let report = try await stores[0].verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 200 && report.unsignedRecords == 0)
            #expect(report.digestsChecked >= 1)
        }
    }

    /// A batch whose backend is terminated after it took its records (its insert waits for a table lock another
    /// session holds): exactly its caller is refused; the records queued behind it form the next batch, which commits
    /// once the table is free (a pooled connection the server closed, found before a batch takes its records, is
    /// retried on another); the chain verifies without the refused record.
    @Test func aBatchWhoseBackendIsTerminatedFailsOnlyItsCallers() async throws {
        try await PostgresTesting.withTwoReplicas { database, other in
            // Refused when its query fails, or (when the query on the ended connection never returns) at the timeout.
            let store = PostgresAuditStore(database: database, batchTimeout: .seconds(10))
            try await PostgresAuditFixtures.populate(store, count: 5, digestEvery: 5, key: key)
            try await other.withConnection { holder in
                try await holder.query("BEGIN", logger: quietLogger)
                try await holder.query("LOCK TABLE audit_record IN SHARE MODE", logger: quietLogger)
                let refused = Task { try await store.record(AuditFixtures.decrypt(100)) }
                let waiting = try await Self.backendWaiting(for: "inserted_records", other)
                let queued = [101, 102].map { index in Task { try await store.record(AuditFixtures.decrypt(index)) } }
                try await eventually("two records queued behind the blocked batch") {
                    store.commitStatistics.pendingRecords == 2
                }
                try await holder.query("SELECT pg_terminate_backend(\(waiting))", logger: quietLogger)
                let error = await #expect(throws: AuditStoreError.self) { try await refused.value }
                #expect(error?.code == .writeFailed)
                try await holder.query("ROLLBACK", logger: quietLogger)
                for task in queued { try await task.value }
            }
            let stored = try await store.tail(after: 0, limit: 100)
            #expect(stored.map(\.sequence) == Array(1...7))
            #expect(Set(stored.suffix(2).map(\.record.requestID)) == ["req-101", "req-102"])
            try await AuditFixtures.digestService(store, key).signIfNeeded()
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 7 && report.digestsChecked == 2)
        }
    }

    /// A batch takes its records once it holds the chain head: those that queued while another replica held it go
    /// into that batch.
    @Test func recordsQueuedWhileTheHeadIsHeldJoinTheWaitingBatch() async throws {
        try await PostgresTesting.withTwoReplicas { database, other in
            let commits = CommitLog()
            let store = PostgresAuditStore(database: database, onCommit: { commits.append($0) })
            try await other.withConnection { holder in
                try await holder.query("BEGIN", logger: quietLogger)
                _ = try await holder.query("SELECT sequence FROM audit_head FOR UPDATE", logger: quietLogger).collect()
                let first = Task { try await store.record(AuditFixtures.decrypt(1)) }
                _ = try await Self.backendWaiting(for: "audit_head", other)
                let more = (2...20).map { index in Task { try await store.record(AuditFixtures.decrypt(index)) } }
                try await eventually("twenty records waiting") { store.commitStatistics.pendingRecords == 20 }
                try await holder.query("ROLLBACK", logger: quietLogger)
                for task in [first] + more { try await task.value }
            }
            #expect(commits.all.map(\.records) == [20] && commits.all.allSatisfy { $0.succeeded })
            #expect(try await store.tail(after: 0, limit: 100).map(\.sequence) == Array(1...20))
        }
    }

    /// The process id of the backend blocked on a lock in a statement containing `text`.
    static func backendWaiting(for text: String, _ database: PostgresDatabase) async throws -> Int32 {
        var pid: Int32?
        let pattern = "%\(text)%"
        try await eventually("a batch waiting for a lock") {
            pid = try await database.query(
                """
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE \(pattern)
                """
            ).first?.decode(Int32.self)
            return pid != nil
        }
        return try #require(pid)
    }
}
