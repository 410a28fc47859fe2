import AccessControl
import Foundation
import GRDB
import KMS
import KeyService
import SealedTesting
import Testing

@testable import Storage

/// What only a store on disk can show: durability, WAL, concurrent writers, and the maintenance index.
struct SQLiteKeyStoreTests {
    @Test func recordsSurviveClosingAndReopening() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("keys.sqlite")
            let keys = (0..<50).map { keyRecord(String(format: "key-%03d", $0), materials: 1 + $0 % 3) }
            let aliases = (0..<10).map { aliasRecord("alias/a\($0)", target: keys[$0].id) }
            do {
                let database = try SQLiteDatabase.open(at: url)
                #expect(try database.journalMode() == "wal")
                // Commits are synced (FULL = 2), not only ordered (NORMAL = 1).
                #expect(try await database.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
                let store = SQLiteKeyStore(database: database)
                for key in keys { try await store.commit(KeyStoreBatch([.putKey(key, expectedRevision: nil)])) }
                try await store.commit(KeyStoreBatch(aliases.map { .putAlias($0, expectedRevision: nil) }))
                try await store.commit(KeyStoreBatch([.deleteKey(id: keys[0].id, expectedRevision: 1)]))
                try database.close()
            }
            let database = try SQLiteDatabase.open(at: url)
            defer { try? database.close() }
            let store = SQLiteKeyStore(database: database)
            #expect(try await store.keys(after: nil, limit: 1000) == Array(keys.dropFirst()))
            #expect(try await store.aliases(targeting: nil, after: nil, limit: 100) == Array(aliases.dropFirst()))
            #expect(try await store.key(id: keys[7].id) == keys[7])
        }
    }

    @Test func concurrentBatchesOnOneRevisionHaveExactlyOneWinner() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("keys.sqlite")
            let database = try SQLiteDatabase.open(at: url)
            defer { try? database.close() }
            // A second pool on the same file stands for a second process.
            let other = try SQLiteDatabase.open(at: url)
            defer { try? other.close() }
            let stores = [SQLiteKeyStore(database: database), SQLiteKeyStore(database: other)]
            try await stores[0].commit(KeyStoreBatch([.putKey(keyRecord("k"), expectedRevision: nil)]))

            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        var next = keyRecord("k", revision: 2)
                        next.keyDescription = "writer \(index)"
                        do {
                            try await stores[index % 2].commit(
                                KeyStoreBatch([
                                    .putKey(next, expectedRevision: 1),
                                    .putAlias(aliasRecord("alias/w\(index)", target: "k"), expectedRevision: nil),
                                ])
                            )
                            return true
                        } catch is KeyStoreConflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            let stored = try #require(try await stores[1].key(id: "k"))
            #expect(stored.revision == 2)
            // The winner's alias landed with its key change, and no loser's did.
            let aliases = try await stores[0].aliases(targeting: "k", after: nil, limit: 100)
            #expect(aliases.map(\.name) == ["alias/w" + stored.keyDescription.dropFirst("writer ".count)])
        }
    }

    @Test func readModifyWriteRetriesLoseNoUpdate() async throws {
        try await withTemporaryDirectory { directory in
            let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("keys.sqlite"))
            defer { try? database.close() }
            let store = SQLiteKeyStore(database: database)
            try await store.commit(KeyStoreBatch([.putKey(keyRecord("k", tags: []), expectedRevision: nil)]))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        while true {
                            var record = try #require(try await store.key(id: "k"))
                            let expected = record.revision
                            record.tags.append(Tag(key: "t\(index)", value: "\(index)"))
                            record.revision += 1
                            do {
                                try await store.commit(KeyStoreBatch([.putKey(record, expectedRevision: expected)]))
                                return
                            } catch is KeyStoreConflict {
                                continue
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let record = try #require(try await store.key(id: "k"))
            #expect(record.revision == 21)
            #expect(Set(record.tags.map(\.tagKey)) == Set((0..<20).map { "t\($0)" }))
        }
    }

    @Test func maintenanceQueriesUseTheNextMaintenanceDateIndex() async throws {
        try await withTemporaryDirectory { directory in
            let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("keys.sqlite"))
            defer { try? database.close() }
            let plan = try await database.pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "EXPLAIN QUERY PLAN SELECT * FROM kms_key \(SQLiteKeyStore.dueSelection)",
                    arguments: [0.0]
                ).map { $0["detail"] as String }.joined(separator: "\n")
            }
            #expect(plan.contains("kms_key_on_next_maintenance_date"), "\(plan)")
        }
    }

    @Test func deletingAKeyLeavesNoMaterialRows() async throws {
        try await withTemporaryDirectory { directory in
            let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("keys.sqlite"))
            defer { try? database.close() }
            let store = SQLiteKeyStore(database: database)
            try await store.commit(
                KeyStoreBatch([
                    .putKey(keyRecord("k", materials: 4), expectedRevision: nil),
                    .putKey(keyRecord("j", materials: 1), expectedRevision: nil),
                ])
            )
            try await store.commit(KeyStoreBatch([.deleteKey(id: "k", expectedRevision: 1)]))
            let count = try await database.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM kms_key_material WHERE key_id = 'k'")
            }
            #expect(count == 0)
            #expect(try await store.key(id: "j")?.materials.count == 1)
        }
    }
}
