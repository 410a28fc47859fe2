import EventBus
import Foundation
import PostgresStorage
import SealedTesting
import Testing

/// Two replicas of the bus on one PostgreSQL database: two `PostgresTransport`s, each with its own pool and listener,
/// used at once.
@Suite struct PostgresTransportReplicaTests {
    @Test func concurrentPublishesOnTwoReplicasGetGapFreeOffsetsEachStoredOnce() async throws {
        try await withTwoReplicas { a, b in
            _ = try await a.createTopic(TopicConfiguration(name: "orders"))
            // Per replica 4 publishers, each 20 single events and 10 batches of 3; every publisher also publishes the
            // ids "shared-i", which the other replica publishes at the same time.
            let acknowledged = try await withThrowingTaskGroup(of: [(String, UInt64)].self) { group in
                for (name, transport) in [("a", a), ("b", b)] {
                    for publisher in 0..<4 {
                        group.addTask {
                            var acknowledged: [(String, UInt64)] = []
                            for index in 0..<20 {
                                let id = "\(name)-\(publisher)-\(index)"
                                acknowledged.append((id, try await transport.publish(event(id), to: "orders")))
                                let shared = "shared-\(publisher)-\(index)"
                                acknowledged.append((shared, try await transport.publish(event(shared), to: "orders")))
                            }
                            for index in 0..<10 {
                                let ids = (0..<3).map { "\(name)-\(publisher)-batch-\(index)-\($0)" }
                                let offsets = try await transport.publish(ids.map { event($0) }, to: "orders")
                                #expect(offsets.count == 3 && offsets == offsets.sorted())
                                acknowledged += zip(ids, offsets).map { ($0, $1) }
                            }
                            return acknowledged
                        }
                    }
                }
                var all: [(String, UInt64)] = []
                for try await part in group { all += part }
                return all
            }

            // Every id has one offset, whichever replica published it and however often.
            var offsetByID: [String: UInt64] = [:]
            for (id, offset) in acknowledged {
                #expect(offsetByID[id, default: offset] == offset, "\(id) got two offsets")
                offsetByID[id] = offset
            }
            let distinct = 2 * 4 * (20 + 30) + 4 * 20
            #expect(offsetByID.count == distinct)
            // No gap, no offset given twice.
            #expect(Set(offsetByID.values).count == distinct)
            #expect(offsetByID.values.sorted() == Array(1...UInt64(distinct)))

            // Each replica reads every acknowledged event at its offset.
            for transport in [a, b] {
                let stored = try await readAll(transport, topic: "orders")
                #expect(stored.map(\.offset) == Array(1...UInt64(distinct)))
                #expect(Dictionary(uniqueKeysWithValues: stored.map { ($0.eventID, $0.offset) }) == offsetByID)
                #expect(stored.allSatisfy { $0.payload == event($0.eventID).payload })
                let info = try #require(try await transport.topic(named: "orders"))
                #expect(info.eventCount == distinct && info.lastOffset == UInt64(distinct))
            }
        }
    }

    /// B waits on a clock that never moves: neither its wait nor its recheck can end, only A's notification wakes
    /// its readers (without it, the test runs into its time limit).
    @Test(.timeLimit(.minutes(2))) func aLongPollOnOneReplicaIsWokenByAPublishOnTheOther() async throws {
        try await withTwoReplicas(clockOfB: TestClock()) { a, b in
            _ = try await a.createTopic(TopicConfiguration(name: "orders"))
            _ = try await a.publish(event("old"), to: "orders")
            let first = try await b.fetch(group: "billing", topic: "orders", limit: 10, wait: .zero)
            #expect(first.map(\.eventID) == ["old"])
            try await b.commit(group: "billing", topic: "orders", offset: 1)
            let (read, fetched) = try await withThrowingTaskGroup(of: (String, [StoredEvent]).self) { group in
                group.addTask { ("read", try await b.read(topic: "orders", from: 2, limit: 10, wait: .seconds(120))) }
                group.addTask {
                    ("fetch", try await b.fetch(group: "billing", topic: "orders", limit: 10, wait: .seconds(120)))
                }
                group.addTask {
                    // Give the readers a moment to start waiting; the outcome does not depend on it.
                    try await Task.sleep(for: .milliseconds(300))
                    _ = try await a.publish(event("new"), to: "orders")
                    return ("publish", [])
                }
                var results: [String: [StoredEvent]] = [:]
                for try await (name, events) in group { results[name] = events }
                return (results["read"] ?? [], results["fetch"] ?? [])
            }
            #expect(read.map(\.eventID) == ["new"] && read.map(\.offset) == [2])
            #expect(fetched.map(\.eventID) == ["new"])
        }
    }

    /// B never listens, so every notification is lost to it (as while a listener reconnects): its long poll still
    /// sees A's publish at its next recheck (200 ms), long before its wait ends (without the recheck, the test runs
    /// into its time limit, which is three minutes so that a busy shared cluster's slow `CREATE DATABASE` fits in it).
    @Test(.timeLimit(.minutes(3))) func aReplicaThatMissesTheNotificationSeesThePublishAtItsRecheck() async throws {
        guard let fixture = try PostgresFixture.located() else { return }
        try await fixture.withDatabase { url in
            try await withPostgresTransport(url: url, configuration: EmbeddedTransportConfiguration()) { a in
                try await PostgresDatabase.withDatabase(try PostgresURL(url), maximumConnections: 2, logger: .quiet) {
                    database in
                    let b = PostgresTransport(database: database, recheckInterval: .milliseconds(200), logger: .test)
                    _ = try await a.createTopic(TopicConfiguration(name: "orders"))
                    async let received = b.read(topic: "orders", from: 1, limit: 10, wait: .seconds(600))
                    try await Task.sleep(for: .milliseconds(300))
                    _ = try await a.publish(event("new"), to: "orders")
                    #expect(try await received.map(\.eventID) == ["new"])
                }
            }
        }
    }

    @Test func commitsFromTwoReplicasNeverMoveAGroupBack() async throws {
        try await withTwoReplicas { a, b in
            _ = try await a.createTopic(TopicConfiguration(name: "orders"))
            _ = try await a.publish((1...100).map { event("e\($0)") }, to: "orders")
            // Both replicas commit every offset, in their own random orders, at once; each watches the committed
            // offset after each of its commits.
            let observed = try await withThrowingTaskGroup(of: [UInt64].self) { group in
                for transport in [a, b] {
                    group.addTask {
                        var seen: [UInt64] = []
                        for offset in (1...UInt64(100)).shuffled() {
                            try await transport.commit(group: "billing", topic: "orders", offset: offset)
                            let committed = try #require(
                                try await transport.committedOffset(group: "billing", topic: "orders")
                            )
                            #expect(committed >= offset)
                            seen.append(committed)
                        }
                        return seen
                    }
                }
                var observed: [[UInt64]] = []
                for try await seen in group { observed.append(seen) }
                return observed
            }
            for seen in observed { #expect(seen == seen.sorted(), "the committed offset moved back") }
            #expect(try await a.committedOffset(group: "billing", topic: "orders") == 100)
            #expect(try await b.committedOffset(group: "billing", topic: "orders") == 100)
        }
    }

    @Test func consumersOfOneGroupOnTwoReplicasShareItsProgress() async throws {
        // A long redelivery timeout: within the test, every event is handed out once.
        let configuration = EmbeddedTransportConfiguration(redeliveryTimeout: .seconds(600))
        try await withTwoReplicas(configuration: configuration) { a, b in
            _ = try await a.createTopic(TopicConfiguration(name: "orders"))
            _ = try await a.publish((1...120).map { event("e\($0)") }, to: "orders")
            let handedOut = try await withThrowingTaskGroup(of: [UInt64].self) { group in
                for transport in [a, a, b, b] {
                    group.addTask {
                        var offsets: [UInt64] = []
                        while true {
                            let events = try await transport.fetch(group: "billing", topic: "orders", limit: 7, wait: .zero)
                            guard let last = events.last else { return offsets }
                            offsets += events.map(\.offset)
                            try await transport.commit(group: "billing", topic: "orders", offset: last.offset)
                        }
                    }
                }
                var all: [UInt64] = []
                for try await offsets in group { all += offsets }
                return all
            }
            #expect(handedOut.sorted() == Array(1...120), "every event handed out exactly once")
            #expect(try await b.committedOffset(group: "billing", topic: "orders") == 120)
        }
    }

    @Test func pruneDeletesWhatRetentionNoLongerKeeps() async throws {
        try await withTwoReplicas { a, b in
            _ = try await a.createTopic(TopicConfiguration(name: "aged", retentionSeconds: 1))
            _ = try await a.createTopic(TopicConfiguration(name: "kept"))
            _ = try await a.publish((1...3).map { event("e\($0)") }, to: "aged")
            _ = try await a.publish(event("k1"), to: "kept")
            try await eventually("the aged events expired", limit: .seconds(60)) {
                try await b.topic(named: "aged")?.eventCount == 0
            }
            // Expired events are hidden at once and deleted by the next publish or prune, on any replica.
            #expect(try await b.prune() == 3)
            #expect(try await a.prune() == 0)
            #expect(try await a.topic(named: "kept")?.eventCount == 1)
            #expect(try await b.publish(event("e4"), to: "aged") == 4)
        }
    }

    @Test func aDeletedTopicIsGoneOnTheOtherReplica() async throws {
        try await withTwoReplicas { a, b in
            _ = try await a.createTopic(TopicConfiguration(name: "orders"))
            _ = try await b.publish(event("e1"), to: "orders")
            _ = try await b.fetch(group: "billing", topic: "orders", limit: 1, wait: .zero)
            try await b.commit(group: "billing", topic: "orders", offset: 1)
            await #expect(throws: BusError(.topicExists, "")) {
                try await b.createTopic(TopicConfiguration(name: "orders"))
            }
            try await a.deleteTopic(named: "orders")
            await #expect(throws: BusError(.noSuchTopic, "")) { try await b.publish(event("e2"), to: "orders") }
            #expect(try await b.topics().isEmpty)
            _ = try await b.createTopic(TopicConfiguration(name: "orders"))
            #expect(try await a.publish(event("e1"), to: "orders") == 1)
            #expect(try await b.committedOffset(group: "billing", topic: "orders") == nil)
        }
    }
}

/// Runs `body` with two replicas' transports on one new database, or skips without a PostgreSQL server.
private func withTwoReplicas(
    configuration: EmbeddedTransportConfiguration = EmbeddedTransportConfiguration(redeliveryTimeout: .seconds(1)),
    clockOfB: any Clock<Duration> = ContinuousClock(),
    _ body: (PostgresTransport, PostgresTransport) async throws -> Void
) async throws {
    guard let fixture = try PostgresFixture.located() else { return }
    try await fixture.withDatabase { url in
        try await withPostgresTransport(
            url: url,
            configuration: configuration,
            maximumConnections: 8
        ) { a in
            try await withPostgresTransport(
                url: url,
                configuration: configuration,
                maximumConnections: 8,
                clock: clockOfB
            ) { b in try await body(a, b) }
        }
    }
}
