import Foundation
import GRDB
import SealedTesting
import Testing

@testable import Storage

/// The checkpointer moves the log into the main file on its own connection once enough was committed, and only then.
@Suite struct WALCheckpointerTests {
    /// A WAL database with automatic checkpoints off, as a database that hands them to the checkpointer has.
    static func database(at url: URL) throws -> DatabasePool {
        let pool = try DatabasePool(path: url.path)
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
        }
        return pool
    }

    /// `(frames in the log, frames checkpointed)`, from a `PASSIVE` checkpoint that copies nothing new when the
    /// checkpointer already did.
    static func logState(_ pool: DatabasePool) throws -> (log: Int, checkpointed: Int) {
        try pool.writeWithoutTransaction { db in
            let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")!
            return (row[1], row[2])
        }
    }

    static func insert(_ pool: DatabasePool, rows: Int) throws {
        try pool.write { db in
            for _ in 0..<rows { try db.execute(sql: "INSERT INTO t (payload) VALUES (zeroblob(4096))") }
        }
    }

    @Test func checkpointsOnceTheThresholdIsCommittedAndNotBefore() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("db.sqlite")
            let pool = try Self.database(at: url)
            defer { try? pool.close() }
            let checkpointer = try WALCheckpointer(path: url.path, threshold: 100_000)
            try Self.insert(pool, rows: 20)
            checkpointer.noteCommit(bytes: 20 * 4096)  // 81,920: below the threshold
            try checkpointer.close()
            let walSize = try FileManager.default.attributesOfItem(atPath: url.path + "-wal")[.size] as! Int
            #expect(walSize > 20 * 4096, "the commits are in the log")
            // Nothing was checkpointed yet: this checkpoint is the first to copy the frames.
            let mainSize = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
            #expect(mainSize < 20 * 4096)
        }
    }

    @Test func aCheckpointRunsOffTheWriterAndCopiesTheLog() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("db.sqlite")
            let pool = try Self.database(at: url)
            defer { try? pool.close() }
            let checkpointer = try WALCheckpointer(path: url.path, threshold: 100_000)
            try Self.insert(pool, rows: 30)
            checkpointer.noteCommit(bytes: 30 * 4096)  // past the threshold
            try checkpointer.close()  // waits for the running checkpoint
            let mainSize = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
            #expect(mainSize >= 30 * 4096, "the rows were copied into the main file")
            let state = try Self.logState(pool)
            #expect(state.log > 0 && state.checkpointed == state.log)
            #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM t") } == 30)
        }
    }
}
