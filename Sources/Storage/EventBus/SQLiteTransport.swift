public import EventBus
public import Foundation
import GRDB
import Synchronization

/// The embedded event bus transport: every topic is a log in SQLite.
///
/// **Tables.** `bus_topic` (one row per topic: retention, the next offset, the bytes held), `bus_event`
/// (one row per event, primary key `(topic, event_offset)`, `UNIQUE(topic, event_id)` for de-duplication)
/// and `bus_group_offset` (each consumer group's committed offset). ``migrate(_:)`` creates them; it is
/// idempotent, so a host database's migrator can call it, and the initializers call it too.
///
/// **Durability.** A publish returns after its transaction committed. With WAL, SQLite's
/// `synchronous = NORMAL` survives a crashed process but may lose the last commits on power loss; the
/// transport opens its own database with `synchronous = FULL` (the WAL is synced at every commit), so an
/// acknowledged event survives power loss too. Given a host's `DatabasePool`, the host's setting applies:
/// `Storage.SQLiteDatabase` also uses `FULL`. A batch is one transaction: all of it is stored or none. In its own
/// database, the log is checkpointed off the writer's path (``WALCheckpointer``), so no publish waits for a
/// checkpoint.
///
/// **Long polls** wait on an in-process signal that each committed publish raises; they do not poll the
/// database. Publishes by another process on the same file are seen by the next read, not by a waiting one.
///
/// **Retention** is enforced when a topic is published to (the oldest events beyond `retentionBytes`,
/// events older than `retentionSeconds`), by ``prune()``, and, for age, at read time (expired events are
/// never returned, even before they are deleted).
///
/// **Consumer groups.** Committed offsets are stored. Which events a group has been handed and when lives in
/// memory: after a restart, every uncommitted event is handed out again at once.
public final class SQLiteTransport: Transport {
    private let pool: DatabasePool
    private let ownsPool: Bool
    /// Checkpoints the transport's own database; `nil` over a host's pool (the host checkpoints).
    private let checkpointer: WALCheckpointer?
    private let configuration: EmbeddedTransportConfiguration
    private let signal = ChangeSignal()
    private let cursors = Mutex(GroupCursors())
    private let time: MonotonicTime
    private let now: @Sendable () -> Date

    /// Creates the transport's tables and indexes if they do not exist.
    ///
    /// - Throws: A GRDB `DatabaseError`.
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS bus_topic (
                    name TEXT PRIMARY KEY NOT NULL,
                    retention_seconds INTEGER,
                    retention_bytes INTEGER,
                    next_offset INTEGER NOT NULL DEFAULT 1,
                    bytes INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE IF NOT EXISTS bus_event (
                    topic TEXT NOT NULL REFERENCES bus_topic(name) ON DELETE CASCADE,
                    event_offset INTEGER NOT NULL,
                    event_id TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    size INTEGER NOT NULL,
                    publish_time INTEGER NOT NULL,
                    PRIMARY KEY (topic, event_offset),
                    UNIQUE (topic, event_id)
                );
                CREATE INDEX IF NOT EXISTS bus_event_by_time ON bus_event(topic, publish_time);
                CREATE TABLE IF NOT EXISTS bus_group_offset (
                    topic TEXT NOT NULL REFERENCES bus_topic(name) ON DELETE CASCADE,
                    group_name TEXT NOT NULL,
                    committed INTEGER NOT NULL,
                    PRIMARY KEY (topic, group_name)
                );
                """
        )
    }

    /// Creates a transport over a host's database (for example `Storage.SQLiteDatabase`'s pool), creating
    /// its tables if needed. The host keeps owning the pool.
    ///
    /// - Parameters:
    ///   - pool: The database, in WAL mode, ideally with `synchronous = FULL` and foreign keys on.
    ///   - configuration: Redelivery timeout and payload limit.
    ///   - clock: The clock for waits and redelivery.
    ///   - now: The wall clock for publish times and age retention.
    /// - Throws: ``BusError/Code/storageFailure`` when the tables cannot be created.
    init(
        pool: DatabasePool,
        configuration: EmbeddedTransportConfiguration = EmbeddedTransportConfiguration(),
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.pool = pool
        self.ownsPool = false
        self.checkpointer = nil
        self.configuration = configuration
        self.time = MonotonicTime(clock)
        self.now = now
        try Self.storage { try pool.write { db in try Self.migrate(db) } }
    }

    /// Opens (creating if absent) a database file of its own: WAL, `synchronous = FULL`, foreign keys on. The file is
    /// created with mode 0600 (`O_EXCL`) before SQLite opens it, and an existing one that others may use is tightened
    /// to 0600, as are its `-wal` and `-shm` files.
    ///
    /// - Throws: ``BusError/Code/storageFailure`` when the file cannot be opened or migrated.
    public init(
        path: String,
        configuration: EmbeddedTransportConfiguration = EmbeddedTransportConfiguration(),
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        var options = Configuration()
        options.label = "event-bus"
        options.foreignKeysEnabled = true
        options.busyMode = .timeout(10)
        let pool = try Self.storage {
            try FileSystem.ensurePrivateFile(URL(fileURLWithPath: path))
            return try DatabasePool(path: path, configuration: options)
        }
        let checkpointer: WALCheckpointer
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            }
            try pool.write { db in try Self.migrate(db) }
            checkpointer = try WALCheckpointer(path: path)
        } catch {
            try? pool.close()
            throw Self.storageFailure(error)
        }
        self.pool = pool
        self.ownsPool = true
        self.checkpointer = checkpointer
        self.configuration = configuration
        self.time = MonotonicTime(clock)
        self.now = now
    }

    /// Closes the database when the transport opened it itself (``init(path:configuration:clock:now:)``);
    /// does nothing for a host's pool.
    ///
    /// - Throws: ``BusError/Code/storageFailure`` when a statement is still running.
    public func close() throws {
        guard ownsPool else { return }
        // The checkpointer first: the pool, closed last, then checkpoints what is left and removes the log.
        try Self.storage {
            try checkpointer?.close()
            try pool.close()
        }
    }

    // MARK: - Topics

    public func createTopic(_ configuration: TopicConfiguration) async throws -> TopicInfo {
        try configuration.validate()
        let created = Self.microseconds(now())
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM bus_topic WHERE name = ?", arguments: [configuration.name])
                != nil
            {
                throw BusError.topicExists(configuration.name)
            }
            try db.execute(
                sql: """
                    INSERT INTO bus_topic (name, retention_seconds, retention_bytes, created_at)
                    VALUES (?, ?, ?, ?)
                    """,
                arguments: [configuration.name, configuration.retentionSeconds, configuration.retentionBytes, created]
            )
        }
        return TopicInfo(configuration: configuration)
    }

    public func deleteTopic(named name: String) async throws {
        try TopicConfiguration.validateName(name, what: "topic name")
        try await write { db in
            try db.execute(sql: "DELETE FROM bus_group_offset WHERE topic = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM bus_event WHERE topic = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM bus_topic WHERE name = ?", arguments: [name])
            if db.changesCount == 0 { throw BusError.noSuchTopic(name) }
        }
        cursors.withLock { $0.removeTopic(name) }
        signal.signal(name)
    }

    public func topics() async throws -> [TopicInfo] {
        let now = Self.microseconds(now())
        return try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT name, retention_seconds, retention_bytes FROM bus_topic ORDER BY name"
            )
            return try rows.map { row in try Self.info(db, configuration: Self.configuration(row), now: now) }
        }
    }

    public func topic(named name: String) async throws -> TopicInfo? {
        try TopicConfiguration.validateName(name, what: "topic name")
        let now = Self.microseconds(now())
        return try await read { db in
            guard let configuration = try Self.configuration(db, name) else { return nil }
            return try Self.info(db, configuration: configuration, now: now)
        }
    }

    /// Deletes the events that retention no longer keeps, in every topic.
    ///
    /// Publishing enforces retention on the topic published to; schedule this to shrink topics that are no
    /// longer published to.
    ///
    /// - Returns: How many events were deleted.
    /// - Throws: ``BusError/Code/storageFailure``.
    @discardableResult
    public func prune() async throws -> Int {
        let now = Self.microseconds(now())
        return try await write { db in
            let names = try String.fetchAll(db, sql: "SELECT name FROM bus_topic ORDER BY name")
            var deleted = 0
            for name in names {
                guard let topic = try Self.topicRow(db, name) else { continue }
                deleted += try Self.enforceRetention(db, topic, now: now)
            }
            return deleted
        }
    }

    // MARK: - Publish and read

    public func publish(_ events: [OutgoingEvent], to topic: String) async throws -> [UInt64] {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try configuration.validate(events)
        let now = Self.microseconds(now())
        let offsets = try await write { db -> [UInt64] in
            guard var row = try Self.topicRow(db, topic) else { throw BusError.noSuchTopic(topic) }
            // Expired events go first, so that an id they held can be published anew.
            _ = try Self.enforceRetention(db, row, now: now)
            row = try Self.topicRow(db, topic) ?? row
            var next = row.nextOffset
            var added = 0
            var offsets: [UInt64] = []
            offsets.reserveCapacity(events.count)
            let lookup = try db.cachedStatement(
                sql: "SELECT event_offset FROM bus_event WHERE topic = ? AND event_id = ?"
            )
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO bus_event (topic, event_offset, event_id, payload, size, publish_time)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """
            )
            for event in events {
                if let existing = try Int64.fetchOne(lookup, arguments: [topic, event.eventID]) {
                    offsets.append(UInt64(existing))
                    continue
                }
                try insert.execute(arguments: [
                    topic, Int64(next), event.eventID, Data(event.payload), event.payload.count, now,
                ])
                offsets.append(next)
                next += 1
                added += event.payload.count
            }
            try db.execute(
                sql: "UPDATE bus_topic SET next_offset = ?, bytes = bytes + ? WHERE name = ?",
                arguments: [Int64(next), added, topic]
            )
            if let updated = try Self.topicRow(db, topic) {
                _ = try Self.enforceRetention(db, updated, now: now)
            }
            return offsets
        }
        checkpointer?.noteCommit(bytes: events.reduce(0) { $0 + $1.payload.count })
        signal.signal(topic)
        return offsets
    }

    public func read(topic: String, from offset: UInt64, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try validateLimit(limit)
        return try await signal.poll(topic, wait: wait, time: time) {
            let now = Self.microseconds(now())
            return .found(
                try await read { db in
                    guard let row = try Self.topicRow(db, topic) else { throw BusError.noSuchTopic(topic) }
                    return try Self.events(db, row, from: offset, limit: limit, now: now)
                }
            )
        }
    }

    // MARK: - Consumer groups

    public func fetch(group: String, topic: String, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        try validateLimit(limit)
        let key = GroupCursors.Key(topic: topic, group: group)
        return try await signal.poll(topic, wait: wait, time: time) {
            let now = Self.microseconds(now())
            let (committed, start, events) = try await read { db -> (UInt64, UInt64, [StoredEvent]) in
                guard let row = try Self.topicRow(db, topic) else { throw BusError.noSuchTopic(topic) }
                let committed = try Self.committed(db, key) ?? 0
                let start = self.cursors.withLock {
                    $0.nextOffset(for: key, committed: committed, now: self.time.elapsed())
                }
                return (committed, start, try Self.events(db, row, from: start, limit: limit, now: now))
            }
            // Hand the events out unless a concurrent fetch of the group moved its cursor meanwhile (then
            // read again from the new place).
            let elapsed = time.elapsed()
            let (handedOut, due) = cursors.withLock { cursors -> (Bool, Duration?) in
                guard cursors.nextOffset(for: key, committed: committed, now: elapsed) == start else {
                    return (false, nil)
                }
                if let last = events.last {
                    cursors.handOut(key, through: last.offset, deadline: elapsed + configuration.redeliveryTimeout)
                }
                return (true, cursors.deadline(for: key, committed: committed))
            }
            return handedOut ? .found(events, due: due) : .retry
        }
    }

    public func commit(group: String, topic: String, offset: UInt64) async throws {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        guard offset >= 1 else { throw BusError.invalidArgument("offsets start at 1") }
        try await write { db in
            guard let row = try Self.topicRow(db, topic) else { throw BusError.noSuchTopic(topic) }
            guard offset < row.nextOffset else {
                throw BusError.invalidArgument("offset \(offset) is beyond the end of topic \(topic)")
            }
            try db.execute(
                sql: """
                    INSERT INTO bus_group_offset (topic, group_name, committed) VALUES (?, ?, ?)
                    ON CONFLICT (topic, group_name) DO UPDATE SET committed = MAX(committed, excluded.committed)
                    """,
                arguments: [topic, group, Int64(offset)]
            )
        }
    }

    public func committedOffset(group: String, topic: String) async throws -> UInt64? {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        return try await read { db in
            guard try Self.topicRow(db, topic) != nil else { throw BusError.noSuchTopic(topic) }
            return try Self.committed(db, GroupCursors.Key(topic: topic, group: group))
        }
    }

    // MARK: - SQL

    private struct TopicRow {
        var configuration: TopicConfiguration
        var nextOffset: UInt64
        var bytes: Int
    }

    private static func topicRow(_ db: Database, _ name: String) throws -> TopicRow? {
        guard
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT name, retention_seconds, retention_bytes, next_offset, bytes FROM bus_topic WHERE name = ?",
                arguments: [name]
            )
        else { return nil }
        return TopicRow(
            configuration: configuration(row),
            nextOffset: UInt64(row["next_offset"] as Int64),
            bytes: row["bytes"]
        )
    }

    private static func configuration(_ db: Database, _ name: String) throws -> TopicConfiguration? {
        try topicRow(db, name)?.configuration
    }

    private static func configuration(_ row: Row) -> TopicConfiguration {
        TopicConfiguration(
            name: row["name"],
            retentionSeconds: row["retention_seconds"],
            retentionBytes: row["retention_bytes"]
        )
    }

    /// The oldest publish time a topic still shows (in microseconds), or `Int64.min` without age retention.
    ///
    /// Saturating: ``TopicConfiguration/validate()`` bounds retention, but a row written by an older version may hold
    /// any value, and reading a topic must never trap on it.
    static func cutoff(_ configuration: TopicConfiguration, now: Int64) -> Int64 {
        guard let seconds = configuration.retentionSeconds else { return Int64.min }
        let (micros, overflow) = Int64(seconds).multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { return Int64.min }
        let (cutoff, below) = now.subtractingReportingOverflow(micros)
        return below ? Int64.min : cutoff
    }

    private static func info(_ db: Database, configuration: TopicConfiguration, now: Int64) throws -> TopicInfo {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT COUNT(*) AS count, MIN(event_offset) AS first, MAX(event_offset) AS last,
                       COALESCE(SUM(size), 0) AS bytes
                FROM bus_event WHERE topic = ? AND publish_time >= ?
                """,
            arguments: [configuration.name, cutoff(configuration, now: now)]
        )
        return TopicInfo(
            configuration: configuration,
            eventCount: row?["count"] ?? 0,
            firstOffset: (row?["first"] as Int64?).map(UInt64.init),
            lastOffset: (row?["last"] as Int64?).map(UInt64.init),
            bytes: row?["bytes"] ?? 0
        )
    }

    private static func events(
        _ db: Database,
        _ topic: TopicRow,
        from offset: UInt64,
        limit: Int,
        now: Int64
    ) throws -> [StoredEvent] {
        let statement = try db.cachedStatement(
            sql: """
                SELECT event_offset, event_id, payload, publish_time FROM bus_event
                WHERE topic = ? AND event_offset >= ? AND publish_time >= ?
                ORDER BY event_offset LIMIT ?
                """
        )
        let start = Int64(clamping: offset)
        let rows = try Row.fetchAll(
            statement,
            arguments: [topic.configuration.name, start, cutoff(topic.configuration, now: now), limit]
        )
        return rows.map { row in
            let payload: Data = row["payload"]
            let micros: Int64 = row["publish_time"]
            return StoredEvent(
                offset: UInt64(row["event_offset"] as Int64),
                eventID: row["event_id"],
                payload: Array(payload),
                publishTime: Date(timeIntervalSince1970: Double(micros) / 1_000_000)
            )
        }
    }

    private static func committed(_ db: Database, _ key: GroupCursors.Key) throws -> UInt64? {
        try Int64.fetchOne(
            db,
            sql: "SELECT committed FROM bus_group_offset WHERE topic = ? AND group_name = ?",
            arguments: [key.topic, key.group]
        ).map(UInt64.init)
    }

    /// Deletes what the topic's retention no longer keeps; returns how many events went.
    private static func enforceRetention(_ db: Database, _ topic: TopicRow, now: Int64) throws -> Int {
        let name = topic.configuration.name
        var deleted = 0
        var deletedBytes = 0
        if topic.configuration.retentionSeconds != nil {
            let cutoff = cutoff(topic.configuration, now: now)
            let expired = try Row.fetchOne(
                db,
                sql: "SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM bus_event "
                    + "WHERE topic = ? AND publish_time < ?",
                arguments: [name, cutoff]
            )
            let count: Int = expired?["count"] ?? 0
            if count > 0 {
                try db.execute(
                    sql: "DELETE FROM bus_event WHERE topic = ? AND publish_time < ?",
                    arguments: [name, cutoff]
                )
                deleted += count
                deletedBytes += expired?["bytes"] ?? 0
            }
        }
        if let limit = topic.configuration.retentionBytes, topic.bytes - deletedBytes > limit {
            // The newest event whose own size plus everything newer exceeds the limit: it and everything older go.
            let cut = try Int64.fetchOne(
                db,
                sql: """
                    SELECT event_offset FROM (
                        SELECT event_offset, SUM(size) OVER (ORDER BY event_offset DESC) AS kept
                        FROM bus_event WHERE topic = ?
                    ) WHERE kept > ? ORDER BY event_offset DESC LIMIT 1
                    """,
                arguments: [name, limit]
            )
            if let cut {
                let dropped = try Row.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM bus_event "
                        + "WHERE topic = ? AND event_offset <= ?",
                    arguments: [name, cut]
                )
                try db.execute(
                    sql: "DELETE FROM bus_event WHERE topic = ? AND event_offset <= ?",
                    arguments: [name, cut]
                )
                deleted += dropped?["count"] ?? 0
                deletedBytes += dropped?["bytes"] ?? 0
            }
        }
        if deletedBytes > 0 {
            try db.execute(
                sql: "UPDATE bus_topic SET bytes = bytes - ? WHERE name = ?",
                arguments: [deletedBytes, name]
            )
        }
        return deleted
    }

    // MARK: - Errors

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as BusError {
            throw error
        } catch {
            throw Self.storageFailure(error)
        }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as BusError {
            throw error
        } catch {
            throw Self.storageFailure(error)
        }
    }

    private static func storage<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as BusError {
            throw error
        } catch {
            throw storageFailure(error)
        }
    }

    private static func storageFailure(_ error: any Error) -> BusError {
        if let error = error as? DatabaseError {
            // The SQLite result code and message; never bound values (payloads).
            return BusError(.storageFailure, "SQLite error \(error.resultCode): \(error.message ?? "no message")")
        }
        return BusError(.storageFailure, "the event store failed: \(type(of: error))")
    }

    private static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }
}
