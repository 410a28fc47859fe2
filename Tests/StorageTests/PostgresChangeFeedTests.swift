import PostgresNIO
import PostgresStorage
import SealedTesting
import Testing

/// Cache invalidation between replicas: changes committed on replica A reach replica B's subscribers, rolled-back
/// ones never do, and a listener that reconnects tells its subscribers to drop everything.
struct PostgresChangeFeedTests {
    typealias Change = PostgresChangeFeed.Change

    struct RolledBack: Error {}

    @Test(.timeLimit(.minutes(2))) func aCommittedChangeReachesTheOtherReplicaAndARolledBackOneNever() async throws {
        try await PostgresTesting.withTwoReplicas { a, b in
            let feed = PostgresChangeFeed(database: b, interval: .milliseconds(200), logger: quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await feed.run() }
                var events = feed.changes().makeAsyncIterator()
                let event1 = await events.next()
                #expect(event1 == .resync)

                // Rolled back first: were it delivered, it would come before the committed ones.
                await #expect(throws: RolledBack.self) {
                    try await a.transaction { connection in
                        try await PostgresChangeFeed.notify(
                            Change(store: "keys", key: "gone", version: 7),
                            on: connection
                        )
                        throw RolledBack()
                    }
                }
                let committed = Change(store: "keys", key: "1234abcd-key", version: 3)
                try await a.transaction { connection in
                    try await connection.query("SELECT 1", logger: quietLogger)
                    try await PostgresChangeFeed.notify(committed, on: connection)
                }
                let event2 = await events.next()
                #expect(event2 == .changed(committed))

                // A key too long for a notification's payload becomes a change of the whole store.
                try await a.transaction { connection in
                    try await PostgresChangeFeed.notify(
                        Change(store: "credentials", key: String(repeating: "k", count: 9000), version: 1),
                        on: connection
                    )
                }
                let event3 = await events.next()
                #expect(event3 == .changed(Change(store: "credentials", key: nil)))

                // A subscriber joining while the feed listens starts with `.resync` too.
                var late = feed.changes().makeAsyncIterator()
                let event4 = await late.next()
                #expect(event4 == .resync)
                group.cancelAll()
            }
        }
    }

    @Test(.timeLimit(.minutes(2))) func aListenerThatReconnectsYieldsResync() async throws {
        try await PostgresTesting.withTwoReplicas { a, b in
            // No session check within the test (an hour apart): the termination itself must end the listener.
            let feed = PostgresChangeFeed(database: b, interval: .seconds(3600), logger: quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await feed.run() }
                var events = feed.changes().makeAsyncIterator()
                let event5 = await events.next()
                #expect(event5 == .resync)

                // B's listener is the one session of the database whose last statement was its LISTEN.
                let terminated = try await a.query(
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND query LIKE 'LISTEN%'
                    """
                ).map { try $0.decode(Bool.self) }
                #expect(terminated == [true])

                let event6 = await events.next()
                #expect(event6 == .interrupted)
                let event7 = await events.next()
                #expect(event7 == .resync)
                // Listening again: the next change is delivered.
                let change = Change(store: "access-requests", key: "request-1", version: 2)
                try await a.transaction { connection in try await PostgresChangeFeed.notify(change, on: connection) }
                let event8 = await events.next()
                #expect(event8 == .changed(change))
                group.cancelAll()
            }
        }
    }
}
