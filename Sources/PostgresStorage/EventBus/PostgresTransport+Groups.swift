public import EventBus
import PostgresNIO

/// Consumer groups: one `bus_group` row per group, created by its first fetch.
///
/// The row holds the committed offset (0 before the first commit), the last offset handed out and, on the database
/// server's clock, when the events handed out but not committed fall due again. A fetch locks the row, so that two
/// consumers of a group, on one replica or on two, are never handed the same events before the redelivery timeout.
extension PostgresTransport {
    public func fetch(group: String, topic: String, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        try validateLimit(limit)
        let redelivery = Self.seconds(configuration.redeliveryTimeout)
        return try await signal.poll(topic, wait: wait, time: time) {
            let (events, outstanding) = try await bus {
                try await database.transaction(.readCommitted) { connection in
                    try await Self.handOut(
                        group: group,
                        topic: topic,
                        limit: limit,
                        redelivery: redelivery,
                        connection
                    )
                }
            }
            let now = time.elapsed()
            var due = now + recheckInterval
            if let outstanding { due = min(due, now + .seconds(outstanding)) }
            return .found(events, due: due)
        }
    }

    public func commit(group: String, topic: String, offset: UInt64) async throws {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        guard offset >= 1 else { throw BusError.invalidArgument("offsets start at 1") }
        try await bus {
            try await database.transaction(.readCommitted) { connection in
                // FOR KEY SHARE: the topic cannot be deleted meanwhile, and publishers do not wait for the commit.
                guard
                    let row = try await connection.run(
                        "SELECT next_offset FROM bus_topic WHERE name = \(topic) FOR KEY SHARE"
                    ).first
                else { throw BusError.noSuchTopic(topic) }
                guard Int64(clamping: offset) < (try row.decode(Int64.self)) else {
                    throw BusError.invalidArgument("offset \(offset) is beyond the end of topic \(topic)")
                }
                // One upsert under the group row's lock: the greater offset wins, whatever the order of the commits.
                try await connection.run(
                    """
                    INSERT INTO bus_group (topic, group_name, committed) VALUES (\(topic), \(group), \(Int64(offset)))
                    ON CONFLICT (topic, group_name) DO UPDATE SET committed = greatest(bus_group.committed, excluded.committed)
                    """
                )
            }
        }
    }

    public func committedOffset(group: String, topic: String) async throws -> UInt64? {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        let rows = try await bus {
            try await database.query(
                """
                SELECT g.committed FROM bus_topic t
                LEFT JOIN bus_group g ON g.topic = t.name AND g.group_name = \(group)
                WHERE t.name = \(topic)
                """
            )
        }
        guard let row = rows.first else { throw BusError.noSuchTopic(topic) }
        guard let committed = try row.decode(Int64?.self), committed > 0 else { return nil }
        return UInt64(committed)
    }

    /// Hands the group the events after the ones it holds (or after its committed offset, once the redelivery
    /// timeout passed), in the caller's transaction.
    ///
    /// - Returns: The events, and how many seconds remain until the events handed out and not committed fall due
    ///   again (`nil` when none are outstanding).
    private static func handOut(
        group: String,
        topic: String,
        limit: Int,
        redelivery: Double,
        _ connection: PostgresConnection
    ) async throws -> ([StoredEvent], Double?) {
        guard try await !connection.run("SELECT 1 FROM bus_topic WHERE name = \(topic) FOR KEY SHARE").isEmpty else {
            throw BusError.noSuchTopic(topic)
        }
        try await connection.run(
            "INSERT INTO bus_group (topic, group_name) VALUES (\(topic), \(group)) ON CONFLICT DO NOTHING"
        )
        guard
            let row = try await connection.run(
                """
                SELECT committed, handed_out_through, redeliver_at, \(unescaped: clock) FROM bus_group
                WHERE topic = \(topic) AND group_name = \(group) FOR UPDATE
                """
            ).first
        else { throw BusError(.storageFailure, "consumer group \(group) of topic \(topic) vanished") }
        let (committed, handedOut, deadline, now) = try row.decode((Int64, Int64, Double, Double).self)
        let start = handedOut > committed && now < deadline ? handedOut + 1 : committed + 1

        let events = try await connection.run(
            """
            SELECT e.event_offset, e.event_id, e.payload, e.publish_time
            FROM bus_topic t JOIN bus_event e ON e.topic = t.name
            WHERE t.name = \(topic) AND e.event_offset >= \(start) AND e.publish_time >= \(unescaped: cutoff)
            ORDER BY e.event_offset LIMIT \(limit)
            """
        ).compactMap(event)
        guard let last = events.last else {
            return ([], handedOut > committed && now < deadline ? deadline - now : nil)
        }
        try await connection.run(
            """
            UPDATE bus_group SET handed_out_through = \(Int64(last.offset)), redeliver_at = \(now + redelivery)
            WHERE topic = \(topic) AND group_name = \(group)
            """
        )
        return (events, Int64(last.offset) > committed ? redelivery : nil)
    }

    /// A duration in seconds.
    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
