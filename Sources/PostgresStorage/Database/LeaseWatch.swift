import Storage
import Synchronization

/// The statements waiting for a connection of the pool, watched by one task for the whole pool: a statement that has
/// waited ``wait`` asks ``Reachability`` whether PostgreSQL accepts connections, and its wait is given up (see
/// ``ConnectionHandoff``) when it does not; when it does, the pool is only busy and the statement waits another
/// ``wait`` before it asks again.
///
/// One watcher for the pool rather than a timer per statement: arming and cancelling a timer around every statement
/// cost about as much as leasing the connection itself (callgrind: some 20,000 instructions of a PostgreSQL replica's
/// audited Decrypt went to libdispatch's timer heap alone).
final class LeaseWatch: Sendable {
    private struct Waiting {
        let handoff: ConnectionHandoff
        var since: ContinuousClock.Instant
    }

    private struct State {
        var next = 0
        var waiting: [Int: Waiting] = [:]
    }

    /// How long a statement waits before it asks.
    let wait: Duration
    private let reachability: Reachability
    private let url: PostgresURL
    private let state = Mutex(State())

    init(wait: Duration, reachability: Reachability, url: PostgresURL) {
        self.wait = wait
        self.reachability = reachability
        self.url = url
    }

    /// Watches `handoff` from now until ``end(_:)`` with the id returned.
    func begin(_ handoff: ConnectionHandoff) -> Int {
        state.withLock { state in
            state.next += 1
            state.waiting[state.next] = Waiting(handoff: handoff, since: .now)
            return state.next
        }
    }

    /// Stops watching: the statement has its connection, or its wait ended otherwise.
    func end(_ id: Int) {
        _ = state.withLock { $0.waiting.removeValue(forKey: id) }
    }

    /// Looks at the waiting statements every quarter of ``wait`` until the task is cancelled, so a statement asks
    /// within 1.25 times ``wait`` and is refused within that plus the probe's own bound (``wait`` again).
    func run() async {
        while (try? await Task.sleep(for: wait / 4)) != nil {
            let now = ContinuousClock.now
            let due = state.withLock { state -> [ConnectionHandoff] in
                var due: [ConnectionHandoff] = []
                for (id, waiting) in state.waiting where now - waiting.since >= wait {
                    due.append(waiting.handoff)
                    state.waiting[id]?.since = now
                }
                return due
            }
            guard !due.isEmpty, await !reachability.acceptsConnections() else { continue }
            let refused = StorageError(
                .databaseUnavailable,
                "PostgreSQL at \(url) gave no connection within \(wait) and accepts none.",
                isUnreachable: true
            )
            for handoff in due { handoff.giveUp(refused) }
        }
    }
}
