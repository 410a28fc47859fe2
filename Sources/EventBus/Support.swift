import Synchronization

/// Elapsed time and sleeping on an injected clock, as plain `Duration`s (so transports need not be generic
/// over the clock type).
package struct MonotonicTime: Sendable {
    /// Time since this value was created.
    package let elapsed: @Sendable () -> Duration
    /// Sleeps on the clock.
    package let sleep: @Sendable (Duration) async throws -> Void

    /// Reads `clock`.
    package init(_ clock: any Clock<Duration>) {
        self = Self.make(clock)
    }

    private static func make<C: Clock<Duration>>(_ clock: C) -> MonotonicTime {
        let start = clock.now
        return MonotonicTime(
            elapsed: { start.duration(to: clock.now) },
            sleep: { duration in try await clock.sleep(for: duration) }
        )
    }

    private init(
        elapsed: @escaping @Sendable () -> Duration,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) {
        self.elapsed = elapsed
        self.sleep = sleep
    }
}

/// Wakes long-polling readers when a topic changes: a version number per topic, and waiters that resume
/// when it moves past the version they saw.
///
/// A reader takes ``version(of:)`` *before* it looks at the store, and then waits with that version, so a
/// publish that commits in between is never missed.
package final class ChangeSignal: Sendable {
    private struct Waiter {
        var topic: String
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var versions: [String: UInt64] = [:]
        var waiters: [UInt64: Waiter] = [:]
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// The topic's current version.
    package func version(of topic: String) -> UInt64 {
        state.withLock { $0.versions[topic, default: 0] }
    }

    /// Moves the topic's version and wakes everyone waiting on it.
    package func signal(_ topic: String) {
        let woken = state.withLock { state -> [Waiter] in
            state.versions[topic, default: 0] &+= 1
            let ids = state.waiters.filter { $0.value.topic == topic }.map(\.key)
            return ids.compactMap { state.waiters.removeValue(forKey: $0) }
        }
        for waiter in woken { waiter.continuation.resume() }
    }

    /// What one look at the store found, for ``poll(_:wait:time:_:)``.
    package enum PollAttempt {
        /// The events found (maybe none) and, for a consumer group, when handed-out events fall due again.
        case found([StoredEvent], due: Duration? = nil)
        /// Nothing to report: look again at once (another reader moved the group's cursor meanwhile).
        case retry
    }

    /// A long poll of `topic`: looks with `attempt` until it finds events or `wait` has passed, waiting between
    /// looks for the topic to change (or a group's events to fall due). The version is taken before each look, so a
    /// publish that commits during one is never missed.
    package func poll(
        _ topic: String,
        wait: Duration,
        time: MonotonicTime,
        _ attempt: () async throws -> PollAttempt
    ) async throws -> [StoredEvent] {
        let deadline = time.elapsed() + wait
        while true {
            try Task.checkCancellation()
            let version = version(of: topic)
            guard case .found(let events, let due) = try await attempt() else { continue }
            let now = time.elapsed()
            let remaining = deadline - now
            if !events.isEmpty || remaining <= .zero { return events }
            var timeout = remaining
            if let due, due > now { timeout = min(timeout, due - now) }
            await self.wait(for: topic, after: version, timeout: timeout, time: time)
        }
    }

    /// Waits until the topic's version differs from `version`, `timeout` passes, or the task is cancelled.
    package func wait(for topic: String, after version: UInt64, timeout: Duration, time: MonotonicTime) async {
        guard timeout > .zero else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForChange(topic, after: version) }
            group.addTask { try? await time.sleep(timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForChange(_ topic: String, after version: UInt64) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.cancelled.remove(id) != nil || state.versions[topic, default: 0] != version { return true }
                    state.waiters[id] = Waiter(topic: topic, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.continuation.resume()
        }
        _ = state.withLock { $0.cancelled.remove(id) }
    }
}

/// Which events each consumer group has been handed and until when, for the embedded transports (the
/// committed offsets themselves are stored; this is memory only, so after a restart every uncommitted event
/// is handed out again at once).
package struct GroupCursors: Sendable {
    package struct Key: Hashable, Sendable {
        package var topic: String
        package var group: String
        package init(topic: String, group: String) {
            self.topic = topic
            self.group = group
        }
    }

    private struct Cursor {
        var handedOutThrough: UInt64
        var deadline: Duration
    }

    private var cursors: [Key: Cursor] = [:]

    package init() {}

    /// The first offset the group's next fetch returns: after the events handed out, unless the redelivery
    /// timeout has passed (or they are all committed), then after the committed offset.
    package func nextOffset(for key: Key, committed: UInt64, now: Duration) -> UInt64 {
        if let cursor = cursors[key], cursor.handedOutThrough > committed, now < cursor.deadline {
            return cursor.handedOutThrough + 1
        }
        return committed + 1
    }

    /// When the group's handed-out events become due again, if any are outstanding.
    package func deadline(for key: Key, committed: UInt64) -> Duration? {
        guard let cursor = cursors[key], cursor.handedOutThrough > committed else { return nil }
        return cursor.deadline
    }

    /// Records that the group was handed the events through `offset`, redelivered after `deadline`.
    package mutating func handOut(_ key: Key, through offset: UInt64, deadline: Duration) {
        cursors[key] = Cursor(handedOutThrough: offset, deadline: deadline)
    }

    /// Forgets a topic's groups.
    package mutating func removeTopic(_ topic: String) {
        cursors = cursors.filter { $0.key.topic != topic }
    }
}
