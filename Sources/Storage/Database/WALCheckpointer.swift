import Foundation
import GRDB
import Synchronization

/// Moves a WAL database's log into its main file off the writer's path.
///
/// SQLite checkpoints by default inside the commit that takes the log past 1,000 pages: that commit (and every write
/// queued behind it) waits while the checkpoint copies the pages and, with `synchronous = FULL`, syncs the main file
/// — on a busy bus, tens to hundreds of milliseconds every few seconds. A database that hands its checkpoints to this
/// type turns that off on its writer (`PRAGMA wal_autocheckpoint = 0`) and calls ``noteCommit(bytes:)`` after each
/// commit; once about ``threshold`` bytes (1 MB by default) were committed since the last checkpoint, a `PASSIVE`
/// checkpoint runs on a connection of its own, on a serial queue. A passive checkpoint takes no lock a writer waits
/// for: commits go on while it copies, and the log is reused from its start once a checkpoint caught up with it.
///
/// Once started, checkpoints go on, pass after pass, until one has copied the whole log, so a burst's log is copied
/// in the background even when the writes stop. A checkpoint that fails is retried with the next commit; nothing is
/// lost either way (the log holds every commit until a checkpoint copied it). The log grows past the threshold only
/// while checkpoints run behind the writes.
final class WALCheckpointer: Sendable {
    /// Committed bytes between two checkpoints: about 250 pages of 4 KiB (SQLite's own default is 1,000 pages).
    ///
    /// A checkpoint ends with a sync of the main file, and on ext4 a commit's sync of the log then waits for it: the
    /// more a checkpoint copies, the longer the commits that fall on it wait. Measured with one producer and one
    /// consumer at 9,500 sealed events/s (`docs/performance.md`): p99 from made to opened 157 ms with 4 MB (one stall
    /// of ~170 ms in 8 s), 41 ms with 2 MB, 18–20 ms with 1 MB; with 512 KB the server no longer kept up with
    /// that rate.
    static let defaultThreshold = 1_000 * 1024

    let threshold: Int
    private let connection: DatabaseQueue
    private let queue = DispatchQueue(label: "sealed-wal-checkpoint")
    private let state = Mutex(State())

    private struct State {
        var bytesSinceCheckpoint = 0
        var running = false
        var closed = false
    }

    /// Opens the checkpointing connection on the database at `path`, which must already be in WAL mode.
    ///
    /// - Throws: a GRDB `DatabaseError` when the file cannot be opened.
    init(path: String, threshold: Int = WALCheckpointer.defaultThreshold) throws {
        var configuration = Configuration()
        configuration.label = "wal-checkpoint"
        configuration.busyMode = .timeout(10)
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.threshold = threshold
    }

    /// Counts `bytes` committed and starts a checkpoint when the threshold is reached and none is running.
    func noteCommit(bytes: Int) {
        let start = state.withLock { state -> Bool in
            state.bytesSinceCheckpoint += bytes
            guard !state.closed, !state.running, state.bytesSinceCheckpoint >= threshold else { return false }
            state.running = true
            state.bytesSinceCheckpoint = 0
            return true
        }
        guard start else { return }
        queue.async { self.checkpointUntilCaughtUp() }
    }

    /// Runs `PASSIVE` checkpoints until one has copied every frame of the log (or the checkpointer closes; the pass
    /// running then ends first): after a burst the log is copied in the background even when no further commit comes,
    /// so the next writer can start it over instead of the log growing and later commits paying for the backlog. A
    /// pass that fails ends the round; the next threshold starts another.
    private func checkpointUntilCaughtUp() {
        defer { state.withLock { $0.running = false } }
        repeat {
            let caughtUp = (try? connection.writeWithoutTransaction { db -> Bool in
                // (busy, frames in the log, frames checkpointed); -1 frames when the file is not in WAL mode.
                guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)") else { return true }
                let log: Int = row[1]
                let copied: Int = row[2]
                return copied >= log
            }) ?? true
            if caughtUp { return }
            // A reader's snapshot or new commits kept frames back: let them move on, then copy the rest.
            Thread.sleep(forTimeInterval: Self.passInterval)
        } while !state.withLock({ $0.closed })
    }

    /// The pause between two passes of one round (5 ms).
    static let passInterval: TimeInterval = 0.005

    /// Waits for a running checkpoint and closes the connection; later commits start none.
    func close() throws {
        state.withLock { $0.closed = true }
        queue.sync {}
        try connection.close()
    }
}
