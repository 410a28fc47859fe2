import PostgresNIO

/// The statements every publish and every read runs, prepared once per connection.
extension PostgresTransport {
    /// The topic's row, locked against other publishers and deletion (not against consumer groups' `FOR KEY SHARE`).
    struct LockTopic: PreparedQuery {
        static let name = "sealed_bus_lock_topic"
        static let sql = """
            SELECT retention_seconds, retention_bytes, next_offset, bytes FROM bus_topic WHERE name = $1
            FOR NO KEY UPDATE
            """
        var topic: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(topic)
            return bindings
        }
    }

    /// The offsets of the events among `ids` that the topic holds already.
    struct HeldEvents: PreparedQuery {
        static let name = "sealed_bus_held_events"
        static let sql = "SELECT event_id, event_offset FROM bus_event WHERE topic = $1 AND event_id = ANY($2::text[])"
        var topic: String
        var ids: [String]

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(topic)
            bindings.append(ids)
            return bindings
        }
    }

    /// The new events at their offsets, stamped with the statement's time, and the topic's row moved past them, with
    /// the `NOTIFY` that wakes long polls: data-modifying CTEs run whole or not at all, and the notification goes out
    /// when the transaction commits.
    struct InsertEvents: PreparedQuery {
        static let name = "sealed_bus_insert_events"
        static let sql = """
            WITH inserted AS (
                INSERT INTO bus_event (topic, event_offset, event_id, payload, size, publish_time)
                SELECT $1, batch.event_offset, batch.event_id, batch.payload, octet_length(batch.payload),
                    \(PostgresTransport.statementClock)
                FROM unnest($2::bigint[], $3::text[], $4::bytea[]) AS batch (event_offset, event_id, payload)
            )
            UPDATE bus_topic SET next_offset = $5, bytes = $6 WHERE name = $1
            RETURNING pg_notify('\(PostgresTransport.channel)', name)
            """
        var topic: String
        var offsets: [Int64]
        var ids: [String]
        var payloads: [ByteBuffer]
        var nextOffset: Int64
        var bytes: Int

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 6)
            bindings.append(topic)
            bindings.append(offsets)
            bindings.append(ids)
            bindings.append(payloads)
            bindings.append(nextOffset)
            bindings.append(bytes)
            return bindings
        }
    }

    /// Up to `limit` events of the topic from offset `from` that its retention still shows; no row at all when there
    /// is no such topic, one row of nulls when it holds none of them.
    struct ReadEvents: PreparedQuery {
        static let name = "sealed_bus_read_events"
        static let sql = """
            SELECT e.event_offset, e.event_id, e.payload, e.publish_time
            FROM bus_topic t LEFT JOIN LATERAL (
                SELECT event_offset, event_id, payload, publish_time FROM bus_event
                WHERE topic = t.name AND event_offset >= $2 AND publish_time >= \(PostgresTransport.cutoff)
                ORDER BY event_offset LIMIT $3
            ) e ON true
            WHERE t.name = $1
            """
        var topic: String
        var from: Int64
        var limit: Int

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(topic)
            bindings.append(from)
            bindings.append(limit)
            return bindings
        }
    }
}
