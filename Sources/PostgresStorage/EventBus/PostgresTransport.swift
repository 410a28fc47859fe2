public import EventBus
import Foundation
public import Logging
import PostgresNIO
import Storage

/// The embedded event bus on PostgreSQL: every topic is a log in the platform's database, shared by every replica
/// that opens a transport on it.
///
/// **Tables** (schema version 3, ``PostgresSchema``): `bus_topic` (one row per topic: retention, the next offset,
/// the bytes held), `bus_event` (primary key `(topic, event_offset)`, `UNIQUE (topic, event_id)` for
/// de-duplication) and `bus_group` (each consumer group's committed offset and the events it was handed).
///
/// **Offsets across replicas.** A publish runs in one transaction that first locks its topic's row
/// (`SELECT … FOR NO KEY UPDATE`), takes its offsets from the row's `next_offset`, inserts the events and moves the
/// counter, and commits. Publishers of one topic queue on that lock, on whatever replica they run, so offsets are
/// gap-free, never reused, and increase in commit order; a transaction that fails rolls its counter back with it
/// (a sequence would leave a gap). The transaction is `READ COMMITTED`: the next publisher, once it holds the lock,
/// reads the committed counter and events instead of failing a serializable check and retrying. Publishers of other
/// topics, readers and consumer groups' commits (`FOR KEY SHARE`) do not wait on it.
///
/// **Durability.** A publish returns after its transaction committed, so after the server's `synchronous_commit`
/// (on by default: the commit is flushed to the write-ahead log, and to a synchronous standby when one is set). A
/// batch is one transaction: all of it is stored or none.
///
/// **Time.** Publish times, age retention and consumer groups' redelivery deadlines use the database server's clock
/// (`clock_timestamp()`), one clock for every replica, so skew between replicas' clocks changes none of them.
///
/// **Long polls.** A publish (and a topic's deletion) sends `NOTIFY sealed_bus` with the topic's name in its
/// transaction, delivered when it commits. ``run(onListening:)`` listens on one connection and wakes this replica's
/// waiting readers; notifications are not stored, so one sent while the listener was reconnecting is lost, and a
/// waiting reader looks again at least every ``recheckInterval`` (the wait is still bounded by the caller's).
///
/// **Retention** is enforced when a topic is published to, by ``prune()``, and, for age, at read time (expired
/// events are never returned, even before they are deleted).
///
/// **Consumer groups** are rows: the committed offset, the last offset handed out and when those events fall due
/// again. A fetch locks its group's row, so consumers of one group on several replicas share its progress; a commit
/// is one upsert that keeps the greater offset, so commits from several replicas never move a group back.
public final class PostgresTransport: Transport {
    /// The database the transport's tables live in.
    public let database: PostgresDatabase
    /// How long a waiting reader goes without looking at the database when no notification arrives.
    public let recheckInterval: Duration
    let configuration: EmbeddedTransportConfiguration
    let signal = ChangeSignal()
    let time: MonotonicTime
    private let logger: Logger

    /// The `LISTEN`/`NOTIFY` channel; payloads are topic names.
    static let channel = "sealed_bus"

    /// Creates a transport on a migrated database (``PostgresDatabase/withDatabase(_:maximumConnections:logger:_:)``).
    ///
    /// Call ``run(onListening:)`` for the transport's lifetime so that long polls wake when another replica publishes.
    ///
    /// - Parameters:
    ///   - database: The platform's database.
    ///   - configuration: Redelivery timeout and payload limit.
    ///   - recheckInterval: The longest a waiting reader goes without looking (a lost notification's bound).
    ///   - clock: The clock for waits.
    ///   - logger: Where the listener reports a lost connection.
    public init(
        database: PostgresDatabase,
        configuration: EmbeddedTransportConfiguration = EmbeddedTransportConfiguration(),
        recheckInterval: Duration = .seconds(5),
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "sealed.bus.postgres")
    ) {
        self.database = database
        self.configuration = configuration
        self.recheckInterval = recheckInterval
        self.time = MonotonicTime(clock)
        self.logger = logger
    }

    /// Listens for other replicas' publishes until the task is cancelled, reconnecting (after a second) when the
    /// connection is lost. The listener keeps one connection of the database's pool for itself.
    ///
    /// - Parameter onListening: Called each time the listener is subscribed (first start and every reconnection).
    public func run(onListening: @escaping @Sendable () -> Void = {}) async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        onListening()
                        for try await notification in notifications {
                            self.signal.signal(notification.payload)
                        }
                    }
                }
            } catch {
                guard !Task.isCancelled else { return }
                logger.warning(
                    "The event bus lost its PostgreSQL listener; long polls look again every \(self.recheckInterval)",
                    metadata: ["error": "\(type(of: error))"]
                )
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Runs ``run(onListening:)`` while `body` runs: waits until the listener is subscribed (for as long as the
    /// database cannot be reached; ``PostgresDatabase/withDatabase(_:maximumConnections:logger:_:)`` has connected
    /// once already), runs `body`, then stops the listener.
    public func withListening<T: Sendable>(_ body: (PostgresTransport) async throws -> T) async throws -> T {
        let (subscribed, continuation) = AsyncStream.makeStream(of: Void.self)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await self.run(onListening: { continuation.yield() }) }
            defer { group.cancelAll() }
            var subscriptions = subscribed.makeAsyncIterator()
            _ = await subscriptions.next()
            return try await body(self)
        }
    }

    // MARK: - Topics

    public func createTopic(_ configuration: TopicConfiguration) async throws -> TopicInfo {
        try configuration.validate()
        let created = try await bus {
            try await database.query(
                """
                INSERT INTO bus_topic (name, retention_seconds, retention_bytes, creation_date)
                VALUES (\(configuration.name), \(configuration.retentionSeconds), \(configuration.retentionBytes),
                        \(unescaped: Self.clock))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """
            )
        }
        guard !created.isEmpty else { throw BusError.topicExists(configuration.name) }
        return TopicInfo(configuration: configuration)
    }

    public func deleteTopic(named name: String) async throws {
        try TopicConfiguration.validateName(name, what: "topic name")
        try await bus {
            try await database.transaction(.readCommitted) { connection in
                // The cascade removes the events and the groups.
                let deleted = try await connection.run("DELETE FROM bus_topic WHERE name = \(name) RETURNING name")
                guard !deleted.isEmpty else { throw BusError.noSuchTopic(name) }
                try await connection.run("SELECT pg_notify(\(Self.channel), \(name))")
            }
        }
        signal.signal(name)
    }

    public func topics() async throws -> [TopicInfo] {
        try await bus {
            try await database.query("\(unescaped: Self.infoQuery) ORDER BY t.name").map(Self.info)
        }
    }

    public func topic(named name: String) async throws -> TopicInfo? {
        try TopicConfiguration.validateName(name, what: "topic name")
        return try await bus {
            try await database.query("\(unescaped: Self.infoQuery) WHERE t.name = \(name)").first.map(Self.info)
        }
    }

    /// Deletes the events that retention no longer keeps, in every topic (a transaction per topic).
    ///
    /// Publishing enforces retention on the topic published to; schedule this to shrink topics that are no
    /// longer published to.
    ///
    /// - Returns: How many events were deleted.
    /// - Throws: ``BusError/Code/unavailable``.
    @discardableResult
    public func prune() async throws -> Int {
        try await bus {
            let names = try await database.query("SELECT name FROM bus_topic ORDER BY name").map {
                try $0.decode(String.self)
            }
            var deleted = 0
            for name in names {
                deleted += try await database.transaction(.readCommitted) { connection in
                    guard var topic = try await Self.lockTopic(name, connection) else { return 0 }
                    let dropped = try await Self.expire(&topic, connection) + Self.trim(&topic, connection)
                    if dropped > 0 { try await Self.save(topic, connection) }
                    return dropped
                }
            }
            return deleted
        }
    }

    // MARK: - Publish and read

    public func publish(_ events: [OutgoingEvent], to topic: String) async throws -> [UInt64] {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try configuration.validate(events)
        let offsets = try await bus {
            try await database.transaction(.readCommitted) { connection in
                try await Self.append(events, to: topic, connection)
            }
        }
        signal.signal(topic)
        return offsets
    }

    public func read(topic: String, from offset: UInt64, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try validateLimit(limit)
        return try await signal.poll(topic, wait: wait, time: time) {
            let rows = try await bus {
                try await database.query(
                    """
                    SELECT e.event_offset, e.event_id, e.payload, e.publish_time
                    FROM bus_topic t LEFT JOIN LATERAL (
                        SELECT event_offset, event_id, payload, publish_time FROM bus_event
                        WHERE topic = t.name AND event_offset >= \(Int64(clamping: offset))
                            AND publish_time >= \(unescaped: Self.cutoff)
                        ORDER BY event_offset LIMIT \(limit)
                    ) e ON true
                    WHERE t.name = \(topic)
                    """
                )
            }
            guard !rows.isEmpty else { throw BusError.noSuchTopic(topic) }
            return .found(try rows.compactMap(Self.event), due: time.elapsed() + recheckInterval)
        }
    }

    // MARK: - Appending

    /// A topic's row, locked by the transaction.
    struct TopicRow {
        var configuration: TopicConfiguration
        var nextOffset: Int64
        var bytes: Int
    }

    /// Stores the events the topic does not hold yet under the next offsets, in the caller's transaction.
    ///
    /// Five round trips for a topic without retention (`BEGIN`, the lock, the ids already held, the insert with the
    /// topic's update and its `NOTIFY`, `COMMIT`), since the topic stays locked for all of them. The events' publish
    /// time is the insert's statement time: after the lock was taken, so later than every event of the publisher it
    /// waited for.
    ///
    /// These statements are not prepared (unlike the key, credential and audit statements). Prepared, PostgreSQL
    /// keeps one generic plan per connection after a few runs, made from the statistics of that moment: for a new,
    /// still empty topic, the look-up of the ids already held scans the topic's events by publish time instead of
    /// using the `(topic, event_id)` index (`EXPLAIN`), and publishing in batches of 100 fell from about 15,000 to 5,000
    /// events a second (`scripts/bench --only replicas`, twice).
    private static func append(
        _ events: [OutgoingEvent],
        to name: String,
        _ connection: PostgresConnection
    ) async throws -> [UInt64] {
        guard var topic = try await lockTopic(name, connection) else { throw BusError.noSuchTopic(name) }
        // Expired events go first, so that an id they held can be published anew.
        let expired = try await expire(&topic, connection)

        let ids = events.map(\.eventID)
        var known: [String: Int64] = [:]
        for row in try await connection.run(
            "SELECT event_id, event_offset FROM bus_event WHERE topic = \(name) AND event_id = ANY(\(ids))"
        ) {
            let (id, offset) = try row.decode((String, Int64).self)
            known[id] = offset
        }
        var offsets: [UInt64] = []
        var new: (offsets: [Int64], ids: [String], payloads: [ByteBuffer]) = ([], [], [])
        for event in events {
            if let existing = known[event.eventID] {
                offsets.append(UInt64(existing))
                continue
            }
            known[event.eventID] = topic.nextOffset
            offsets.append(UInt64(topic.nextOffset))
            new.offsets.append(topic.nextOffset)
            new.ids.append(event.eventID)
            new.payloads.append(ByteBuffer(bytes: event.payload))
            topic.nextOffset += 1
            topic.bytes += event.payload.count
        }
        guard !new.offsets.isEmpty else {
            if expired > 0 { try await save(topic, connection) }
            return offsets
        }
        // Data-modifying CTEs run whole or not at all; the notification goes out when the transaction commits.
        try await connection.run(
            """
            WITH inserted AS (
                INSERT INTO bus_event (topic, event_offset, event_id, payload, size, publish_time)
                SELECT \(name), batch.event_offset, batch.event_id, batch.payload, octet_length(batch.payload),
                    \(unescaped: statementClock)
                FROM unnest(\(new.offsets)::bigint[], \(new.ids)::text[], \(new.payloads)::bytea[])
                    AS batch (event_offset, event_id, payload)
            )
            UPDATE bus_topic SET next_offset = \(topic.nextOffset), bytes = \(topic.bytes) WHERE name = \(name)
            RETURNING pg_notify(\(channel), name)
            """
        )
        if try await trim(&topic, connection) > 0 { try await save(topic, connection) }
        return offsets
    }

    /// The topic's row, locked until the transaction ends against other publishers and deletion (not against
    /// consumer groups' `FOR KEY SHARE`); `nil` when there is no such topic.
    static func lockTopic(_ name: String, _ connection: PostgresConnection) async throws -> TopicRow? {
        guard
            let row = try await connection.run(
                """
                SELECT retention_seconds, retention_bytes, next_offset, bytes FROM bus_topic WHERE name = \(name)
                FOR NO KEY UPDATE
                """
            ).first
        else { return nil }
        let (seconds, bytes, next, held) = try row.decode((Int?, Int?, Int64, Int).self)
        return TopicRow(
            configuration: TopicConfiguration(name: name, retentionSeconds: seconds, retentionBytes: bytes),
            nextOffset: next,
            bytes: held
        )
    }

    /// Writes back the counter and the bytes held of a locked topic.
    static func save(_ topic: TopicRow, _ connection: PostgresConnection) async throws {
        try await connection.run(
            """
            UPDATE bus_topic SET next_offset = \(topic.nextOffset), bytes = \(topic.bytes)
            WHERE name = \(topic.configuration.name)
            """
        )
    }

    /// Deletes the locked topic's events older than its retention time (by the database's clock) and updates
    /// `topic.bytes`; returns how many went.
    static func expire(_ topic: inout TopicRow, _ connection: PostgresConnection) async throws -> Int {
        guard let seconds = topic.configuration.retentionSeconds else { return 0 }
        let (count, bytes) = try await dropping(
            """
            DELETE FROM bus_event WHERE topic = \(topic.configuration.name)
                AND publish_time < \(unescaped: clock) - \(Double(seconds)) RETURNING size
            """,
            connection
        )
        topic.bytes -= bytes
        return count
    }

    /// Deletes the locked topic's oldest events while it holds more bytes than its retention allows and updates
    /// `topic.bytes`; returns how many went.
    static func trim(_ topic: inout TopicRow, _ connection: PostgresConnection) async throws -> Int {
        guard let limit = topic.configuration.retentionBytes, topic.bytes > limit else { return 0 }
        let name = topic.configuration.name
        // The newest event whose own size plus everything newer exceeds the limit: it and everything older go.
        let (count, bytes) = try await dropping(
            """
            DELETE FROM bus_event WHERE topic = \(name) AND event_offset <= (
                SELECT max(event_offset) FROM (
                    SELECT event_offset, sum(size) OVER (ORDER BY event_offset DESC) AS kept
                    FROM bus_event WHERE topic = \(name)
                ) AS newest WHERE kept > \(limit)
            ) RETURNING size
            """,
            connection
        )
        topic.bytes -= bytes
        return count
    }

    /// Runs a `DELETE … RETURNING size`; returns how many rows and bytes it deleted.
    private static func dropping(_ delete: PostgresQuery, _ connection: PostgresConnection) async throws
        -> (count: Int, bytes: Int)
    {
        let sizes = try await connection.run(delete).map { try $0.decode(Int.self) }
        return (sizes.count, sizes.reduce(0, +))
    }

    // MARK: - SQL

    /// The database server's clock, in seconds since 2001-01-01 (how the schema keeps dates).
    static let clock = "(extract(epoch FROM clock_timestamp())::float8 - 978307200)"

    /// The time the running statement started, in the same unit: one value for every row it writes.
    static let statementClock = "(extract(epoch FROM statement_timestamp())::float8 - 978307200)"

    /// The oldest publish time topic `t` still shows.
    static let cutoff = "coalesce(\(clock) - t.retention_seconds, '-Infinity'::float8)"

    /// Every topic `t` with its counts; callers append a `WHERE` and an `ORDER BY`.
    static let infoQuery = """
        SELECT t.name, t.retention_seconds, t.retention_bytes, s.count, s.first, s.last, s.bytes
        FROM bus_topic t CROSS JOIN LATERAL (
            SELECT count(*)::bigint AS count, min(event_offset) AS first, max(event_offset) AS last,
                coalesce(sum(size), 0)::bigint AS bytes
            FROM bus_event WHERE topic = t.name AND publish_time >= \(cutoff)
        ) s
        """

    static func info(_ row: PostgresRow) throws -> TopicInfo {
        let (name, seconds, bytes, count, first, last, held) = try row.decode(
            (String, Int?, Int?, Int, Int64?, Int64?, Int).self
        )
        return TopicInfo(
            configuration: TopicConfiguration(name: name, retentionSeconds: seconds, retentionBytes: bytes),
            eventCount: count,
            firstOffset: first.map(UInt64.init),
            lastOffset: last.map(UInt64.init),
            bytes: held
        )
    }

    /// The event of a row `(event_offset, event_id, payload, publish_time)`, or `nil` for a topic without events
    /// (the null columns of a left join).
    static func event(_ row: PostgresRow) throws -> StoredEvent? {
        let (offset, id, payload, time) = try row.decode((Int64?, String?, ByteBuffer?, Double?).self)
        guard let offset, let id, let payload, let time else { return nil }
        return StoredEvent(
            offset: UInt64(offset),
            eventID: id,
            payload: Array(payload.readableBytesView),
            publishTime: Date(timeIntervalSinceReferenceDate: time)
        )
    }

    // MARK: - Errors

    /// Runs `body`, reporting the database's failures as ``BusError/Code/unavailable`` (the server's message and
    /// SQLSTATE, the URL without its password; never a bound value) and the bus's own errors unchanged.
    func bus<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as BusError {
            throw error
        } catch let error as StorageError {
            throw BusError(.unavailable, error.message)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw BusError(.storageFailure, "the event store answered something unexpected: \(type(of: error))")
        }
    }
}
