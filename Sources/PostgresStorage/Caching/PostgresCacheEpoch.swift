import PostgresNIO
import Storage
import Synchronization

/// The version of everything the replicas cache from PostgreSQL (keys, aliases, access keys), and the one read of it
/// that concurrent requests share.
///
/// **The epoch.** One row, `cache_epoch`, holds a counter. Triggers add one to it in the transaction of every change
/// that can make a cached record stale: an update or delete of a key, an alias or an access key. It commits with the
/// change or not at all. Inserts leave it alone: a cache only holds records that existed when it read them, and a
/// record that was not found is never cached.
///
/// **Never stale.** A request reads its records only after a read of the epoch that *began after the request did*
/// (``current()``). A cache holds what it read while the epoch had one value and drops everything when a read finds a
/// higher one. So whatever a request is answered from was current at some instant after it arrived: a key disabled
/// or an access key deleted through any replica is refused by every replica for every request that arrives after the
/// change committed, as without a cache. There is no window to document.
///
/// **One read for many requests.** Requests that arrive while a read is in flight wait for the next one together
/// (the one in flight may have begun before them), so one statement serves every request that arrived during the
/// previous one: under load a replica reads the epoch once per batch of requests instead of reading each record.
/// Inside ``request(_:)`` every lookup of one request shares that request's read: the access key's lookup waits for
/// it, the key's lookup that follows does not wait again.
public final class PostgresCacheEpoch: Sendable {
    public let database: PostgresDatabase
    private let state = Mutex(State())
    private let onRead: (@Sendable (Read) -> Void)?

    /// The number of epoch reads started when the current request began.
    @TaskLocal static var requestStart: UInt64?

    /// What one read of the epoch did, for the edge's metrics.
    public struct Read: Sendable {
        /// How many lookups it answered: the requests that share a read.
        public var callers: Int
        /// From its start to its answer.
        public var duration: Duration
        /// Whether it read the epoch (or failed its callers).
        public var succeeded: Bool
        /// Whether it found the epoch moved since the read before it (caches drop what they hold).
        public var moved: Bool
    }

    /// The epoch of `database`; `onRead` is told of every read.
    public init(database: PostgresDatabase, onRead: (@Sendable (Read) -> Void)? = nil) {
        self.database = database
        self.onRead = onRead
    }

    private struct State {
        /// Reads started so far; the one in flight, if any, is number `started`.
        var started: UInt64 = 0
        var inFlight = false
        /// The newest read that ended well: its number and the epoch it found.
        var newest: (read: UInt64, epoch: Int64)?
        var waiters: [Waiter] = []
    }

    /// A caller that needs a read numbered above `after`.
    private struct Waiter {
        var after: UInt64
        var continuation: CheckedContinuation<Int64, any Error>
    }

    /// Runs `body` as one request: its lookups may all use the first epoch read that began after this call.
    public func request<R>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> R
    ) async rethrows -> R {
        try await Self.$requestStart.withValue(state.withLock { $0.started }, operation: body, isolation: isolation)
    }

    /// How many reads of the epoch this replica has started (for tests; the edge counts reads through `onRead`).
    public var reads: UInt64 { state.withLock { $0.started } }

    /// How many callers wait for a read (for tests).
    package var waiting: Int { state.withLock { $0.waiters.count } }

    /// The epoch, read by a statement that began after the current request began (after this call, outside
    /// ``request(_:)``). Throws the read's error (PostgreSQL unreachable) to the callers it was read for.
    public func current() async throws -> Int64 {
        let after = Self.requestStart ?? state.withLock { $0.started }
        if let epoch = state.withLock({ state -> Int64? in
            guard let newest = state.newest, newest.read > after else { return nil }
            return newest.epoch
        }) {
            return epoch
        }
        return try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.waiters.append(Waiter(after: after, continuation: continuation))
                guard !state.inFlight else { return false }
                state.inFlight = true
                state.started += 1
                return true
            }
            if start { Task { await self.readWhileAwaited() } }
        }
    }

    /// Reads the epoch, answers the callers each read was for, and reads again while callers are left that arrived
    /// during a read.
    private func readWhileAwaited() async {
        while true {
            let number = state.withLock { $0.started }
            let started = ContinuousClock.now
            let outcome: Result<Int64, any Error>
            do {
                let rows = try await database.query(ReadEpoch())
                guard let epoch = try rows.first?.decode(Int64.self) else {
                    throw StorageError(.incompatibleVersion, "The database \(database.url) has no cache epoch row.")
                }
                outcome = .success(epoch)
            } catch {
                outcome = .failure(error)
            }
            let (answered, more, moved) = state.withLock { state -> ([Waiter], Bool, Bool) in
                var moved = false
                if case .success(let epoch) = outcome {
                    moved = state.newest.map { $0.epoch != epoch } ?? false
                    state.newest = (number, epoch)
                }
                var answered: [Waiter] = []
                var left: [Waiter] = []
                for waiter in state.waiters {
                    if waiter.after < number { answered.append(waiter) } else { left.append(waiter) }
                }
                state.waiters = left
                guard !left.isEmpty else {
                    state.inFlight = false
                    return (answered, false, moved)
                }
                state.started += 1
                return (answered, true, moved)
            }
            for waiter in answered { waiter.continuation.resume(with: outcome) }
            if let onRead {
                let succeeded = (try? outcome.get()) != nil
                onRead(
                    Read(
                        callers: answered.count,
                        duration: ContinuousClock.now - started,
                        succeeded: succeeded,
                        moved: moved
                    )
                )
            }
            guard more else { return }
        }
    }

    /// The one read every batch of requests makes.
    private struct ReadEpoch: PreparedQuery {
        static let name = "sealed_cache_epoch"
        static let sql = "SELECT value FROM cache_epoch"

        func makeBindings() -> PostgresBindings { PostgresBindings() }
    }
}

/// Records of one kind read from PostgreSQL, kept while the cache epoch stays where it was when they were read.
///
/// It holds at most `capacity` records and drops arbitrary ones beyond that. A record read while the epoch moved on,
/// or while this replica wrote through the store (``forget(_:)``), is returned to its caller but not kept.
final class EpochCache<Value: Sendable>: Sendable {
    let epoch: PostgresCacheEpoch
    let capacity: Int
    private let state = Mutex(State())

    private struct State {
        var epoch = Int64.min
        /// Moved by every ``forget(_:)``: a read that overlapped a write through this replica is not kept.
        var generation: UInt64 = 0
        var values: [String: Value] = [:]
    }

    init(epoch: PostgresCacheEpoch, capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.epoch = epoch
        self.capacity = capacity
    }

    /// The record named `key`: from the cache when the epoch has not moved since it was read, else from `read`.
    func value(for key: String, read: (String) async throws -> Value?) async throws -> Value? {
        let current = try await epoch.current()
        let (cached, generation) = state.withLock { state -> (Value?, UInt64) in
            if current > state.epoch {
                state.epoch = current
                state.values.removeAll(keepingCapacity: true)
            }
            // A read older than the newest only shows the cache fresher records than it needs.
            return (state.values[key], state.generation)
        }
        if let cached { return cached }
        guard let value = try await read(key) else { return nil }
        state.withLock { [capacity] state in
            guard state.epoch == current, state.generation == generation else { return }
            if state.values.count >= capacity, state.values[key] == nil {
                state.values.remove(at: state.values.startIndex)
            }
            state.values[key] = value
        }
        return value
    }

    /// Drops the records named by `keys`. A store calls it (or ``forgetAll()``) before and after each of its
    /// writes, so that what this replica wrote is read back from the database — in the request that wrote it too,
    /// whose epoch read began before the write — and a conflict's retry reads the record afresh.
    func forget(_ keys: some Sequence<String>) {
        state.withLock { state in
            state.generation &+= 1
            for key in keys { state.values[key] = nil }
        }
    }

    /// Drops every record (see ``forget(_:)``).
    func forgetAll() {
        state.withLock { state in
            state.generation &+= 1
            state.values.removeAll(keepingCapacity: true)
        }
    }
}
