public import EventBus
import PostgresNIO

/// The owners of consumer groups in PostgreSQL (the platform's database, whichever transport carries the events).
///
/// A claim is one serializable transaction, insert-if-absent then read: of two first claims made at once on two
/// replicas, one commits, the other is run again and reads the winner.
public struct PostgresConsumerGroupOwners: ConsumerGroupOwners {
    public let database: PostgresDatabase

    public init(database: PostgresDatabase) { self.database = database }

    public func claim(group: String, topic: String, for claimant: String) async throws -> String {
        try await database.transaction { connection in
            try await connection.run(
                """
                INSERT INTO bus_group_owner (topic, group_name, owner) VALUES (\(topic), \(group), \(claimant))
                ON CONFLICT (topic, group_name) DO NOTHING
                """
            )
            return try await connection.run(
                "SELECT owner FROM bus_group_owner WHERE topic = \(topic) AND group_name = \(group)"
            ).first?.decode(String.self) ?? claimant
        }
    }
}
