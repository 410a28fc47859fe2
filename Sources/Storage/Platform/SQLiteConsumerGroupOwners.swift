public import EventBus
import GRDB

/// The owners of consumer groups in SQLite (the platform database, whichever transport carries the events).
public struct SQLiteConsumerGroupOwners: ConsumerGroupOwners {
    public let database: SQLiteDatabase

    public init(database: SQLiteDatabase) { self.database = database }

    public func claim(group: String, topic: String, for claimant: String) async throws -> String {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO bus_group_owner (topic, group_name, owner) VALUES (?, ?, ?)
                    ON CONFLICT (topic, group_name) DO NOTHING
                    """,
                arguments: [topic, group, claimant]
            )
            return try String.fetchOne(
                db,
                sql: "SELECT owner FROM bus_group_owner WHERE topic = ? AND group_name = ?",
                arguments: [topic, group]
            ) ?? claimant
        }
    }
}
