import Foundation
public import Logging
package import PostgresNIO
import Synchronization

/// Cache invalidation between the replicas sharing one PostgreSQL database: a writer announces each change with
/// ``notify(_:on:)`` inside its transaction, and every replica's caches follow ``changes()``.
///
/// **Delivery.** `NOTIFY` is transactional: PostgreSQL delivers a change to the listeners when (and only if) the
/// writer's transaction commits, so a rolled-back write notifies nobody and no listener hears of a change before it
/// can read it. Notifications are not stored: one sent while this replica's listener is not connected is lost.
///
/// **Never stale.** A cache must hold only what it read after the last ``Event/resync`` and must stop caching at
/// ``Event/interrupted``:
/// - Every subscriber's sequence starts with `.resync` once the listener is subscribed (at once when it already is);
///   from then on every committed change is delivered.
/// - When the listener's connection fails, subscribers get `.interrupted`: changes may now be missed, so drop
///   everything and read through until the next `.resync`, which follows when the listener is back.
/// - A subscriber that falls ``bufferSize`` events behind loses events and is sent `.resync` after the gap.
///
/// **The bound.** A change reaches the other replicas' subscribers a round trip after its commit. A listener whose
/// network is cut silently misses changes until its check notices: it asks its session every ``interval`` and gives
/// up after ``timeout`` (6 s by default), then reports `.interrupted`. Readers that must never act on a stale entry
/// (a disabled key, a revoked grant) also compare the entry's version with the database's.
///
/// Payloads are visible to every session that may `LISTEN` on the database: a ``Change`` names what changed, never a
/// secret.
public final class PostgresChangeFeed: Sendable {
    /// The `LISTEN`/`NOTIFY` channel.
    public static let channel = "sealed_changes"
    /// How many events a subscriber may fall behind before it misses some (and is sent `.resync`).
    public static let bufferSize = 1024

    /// The database whose changes the feed follows.
    public let database: PostgresDatabase
    /// How often the listener checks its session.
    public let interval: Duration
    /// How long the listener's check may take before the session counts as lost.
    public let timeout: Duration
    private let logger: Logger
    private let state = Mutex(Subscribers())

    /// Follows the changes committed in `database`. Call ``run()`` for the feed's lifetime.
    ///
    /// - Parameters:
    ///   - database: The platform's database.
    ///   - interval: How often the listener checks its session (a silent network cut's bound, with `timeout`).
    ///   - timeout: How long that check may take.
    ///   - logger: Where a lost listener is reported (the error's reason, never the URL's password).
    public init(
        database: PostgresDatabase,
        interval: Duration = .seconds(1),
        timeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "sealed.changes")
    ) {
        self.database = database
        self.interval = interval
        self.timeout = timeout
        self.logger = logger
    }

    /// What changed: a store's entry and its new version.
    public struct Change: Sendable, Hashable, Codable {
        /// The store (`"keys"`, `"credentials"`, …).
        public var store: String
        /// The entry's key in its store; `nil` when the whole store may have changed.
        public var key: String?
        /// The entry's version after the change, when the store versions its entries.
        public var version: Int64?

        public init(store: String, key: String?, version: Int64? = nil) {
            self.store = store
            self.key = key
            self.version = version
        }
    }

    /// What subscribers receive.
    public enum Event: Sendable, Hashable {
        /// A committed change.
        case changed(Change)
        /// The listener is subscribed (first, or again after a failure): drop everything cached; from here on every
        /// committed change is delivered.
        case resync
        /// The listener's connection failed: changes may be missed until the next ``resync``, so stop caching.
        case interrupted
    }

    // MARK: - Writing

    /// Announces `change` in the writer's transaction on `connection`: delivered when it commits, never if it rolls
    /// back.
    ///
    /// A payload over PostgreSQL's limit (8000 bytes; a very long key) is sent as a change of the whole store.
    package static func notify(_ change: Change, on connection: PostgresConnection) async throws {
        var payload = try payload(change)
        if payload.utf8.count >= 8000 { payload = try Self.payload(Change(store: change.store, key: nil)) }
        try await connection.run("SELECT pg_notify(\(channel), \(payload))")
    }

    static func payload(_ change: Change) throws -> String {
        String(decoding: try Documents.encode(change), as: UTF8.self)
    }

    // MARK: - Following

    /// The feed's events from now on; see the type's documentation for how a cache follows them.
    public func changes() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: Event.self,
            bufferingPolicy: .bufferingOldest(Self.bufferSize)
        )
        let id = state.withLock { state in
            let id = state.add(continuation)
            if state.listening { state.send(.resync, to: id) }
            return id
        }
        continuation.onTermination = { [weak self] _ in self?.state.withLock { $0.remove(id) } }
        return stream
    }

    /// Listens until the task is cancelled, reconnecting a second after the connection fails. The listener keeps one
    /// connection of the database's pool for itself.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        try await follow(notifications, on: connection)
                    }
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning(
                    "The change feed lost its PostgreSQL listener; caches read through until it is back",
                    metadata: ["reason": "\(PostgresConnection.reason(error, database.url))"]
                )
            }
            stopListening()
            try? await Task.sleep(for: .seconds(1))
        }
        stopListening()
    }

    /// Tells the subscribers that changes may now be missed (once per lost listener).
    private func stopListening() {
        state.withLock { state in
            if state.listening { state.broadcast(.interrupted, listening: false) }
        }
    }

    /// Delivers `notifications` to the subscribers while checking the session every ``interval``; the check closes a
    /// session that fails it, which ends `notifications`.
    private func follow(
        _ notifications: PostgresNotificationSequence,
        on connection: PostgresConnection
    )
        async throws
    {
        state.withLock { $0.broadcast(.resync, listening: true) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    try await Task.sleep(for: self.interval)
                    if let reason = await connection.unanswered(within: self.timeout, url: self.database.url) {
                        self.logger.warning(
                            "The change feed's listener failed its check",
                            metadata: ["reason": "\(reason)"]
                        )
                        return
                    }
                }
            }
            defer { group.cancelAll() }
            for try await notification in notifications {
                guard let change = try? Documents.decode(Change.self, Data(notification.payload.utf8)) else {
                    // Not one of ours (or from another version): whatever changed, caches must not keep it.
                    state.withLock { $0.broadcast(.resync, listening: true) }
                    continue
                }
                state.withLock { $0.broadcast(.changed(change), listening: true) }
            }
        }
    }
}

/// The feed's subscribers and whether the listener is subscribed.
private struct Subscribers: ~Copyable {
    var listening = false
    private var next = 0
    private var continuations: [Int: AsyncStream<PostgresChangeFeed.Event>.Continuation] = [:]
    /// Subscribers whose buffer was full when an event came: they get `.resync` as soon as it fits.
    private var behind: Set<Int> = []

    mutating func add(_ continuation: AsyncStream<PostgresChangeFeed.Event>.Continuation) -> Int {
        next += 1
        continuations[next] = continuation
        return next
    }

    mutating func remove(_ id: Int) {
        continuations[id] = nil
        behind.remove(id)
    }

    mutating func broadcast(_ event: PostgresChangeFeed.Event, listening: Bool) {
        self.listening = listening
        for id in continuations.keys { send(event, to: id) }
    }

    mutating func send(_ event: PostgresChangeFeed.Event, to id: Int) {
        guard let continuation = continuations[id] else { return }
        if behind.contains(id) {
            // Caught up: the events missed are made good by what a cache does on `.resync` (or `.interrupted` while
            // the listener is down; its `.resync` follows).
            let catchUp: PostgresChangeFeed.Event = listening ? .resync : .interrupted
            guard case .enqueued = continuation.yield(catchUp) else { return }
            behind.remove(id)
            if event == catchUp { return }
        }
        if case .dropped = continuation.yield(event) { behind.insert(id) }
    }
}
