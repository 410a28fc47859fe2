import EventBus
import Foundation
import SealedTesting
import Testing

/// The behaviour every `Transport` promises, run against each of `TransportKind.all`.
@Suite struct TransportContractTests {
    // MARK: - Topics

    @Test(arguments: TransportKind.all)
    func createListAndDescribeTopics(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            let created = try await transport.createTopic(TopicConfiguration(name: "orders.v1"))
            #expect(created.configuration == TopicConfiguration(name: "orders.v1"))
            #expect(created.eventCount == 0 && created.firstOffset == nil && created.lastOffset == nil)
            let retained = TopicConfiguration(name: "audit_trail-2", retentionSeconds: 3600, retentionBytes: 1 << 20)
            _ = try await transport.createTopic(retained)

            let topics = try await transport.topics()
            #expect(topics.map(\.name) == ["audit_trail-2", "orders.v1"])
            let described = try #require(try await transport.topic(named: "audit_trail-2"))
            #expect(described.configuration == retained)
            #expect(described.eventCount == 0 && described.bytes == 0)
            #expect(try await transport.topic(named: "missing") == nil)
        }
    }

    @Test(arguments: TransportKind.all)
    func aDuplicateTopicIsRefused(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
            await #expect(throws: BusError(.topicExists, "")) {
                try await transport.createTopic(TopicConfiguration(name: "orders", retentionSeconds: 60))
            }
            #expect(try await transport.topics().count == 1)
        }
    }

    @Test(arguments: TransportKind.all)
    func invalidNamesAndArgumentsAreRefused(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            for name in [
                "", "Orders", ".orders", "-orders", "or ders", "orders>", "orders*", "ördrs",
                String(repeating: "a", count: 101),
            ] {
                await #expect(throws: BusError(.invalidName, ""), "\(name)") {
                    try await transport.createTopic(TopicConfiguration(name: name))
                }
            }
            await #expect(throws: BusError(.invalidArgument, "")) {
                try await transport.createTopic(TopicConfiguration(name: "aged", retentionSeconds: 0))
            }
            await #expect(throws: BusError(.invalidArgument, "")) {
                try await transport.createTopic(TopicConfiguration(name: "sized", retentionBytes: -1))
            }
            #expect(try await transport.topics().isEmpty)

            // The longest name and every allowed character work.
            let longest = "0" + String(repeating: "a._-", count: 24) + "xyz"
            #expect(longest.count == 100)
            _ = try await transport.createTopic(TopicConfiguration(name: longest))
            _ = try await transport.createTopic(TopicConfiguration(name: "t"))
            #expect(try await transport.topic(named: longest) != nil)

            await #expect(throws: BusError(.invalidName, "")) {
                try await transport.publish([event("e1")], to: "T")
            }
            await #expect(throws: BusError(.invalidName, "")) {
                try await transport.fetch(group: "Bad Group", topic: "t", limit: 1, wait: .zero)
            }
            await #expect(throws: BusError(.invalidArgument, "")) {
                try await transport.publish([OutgoingEvent(eventID: "", payload: [1])], to: "t")
            }
            await #expect(throws: BusError(.invalidArgument, "")) {
                try await transport.publish([OutgoingEvent(eventID: "a\r\nb", payload: [1])], to: "t")
            }
            await #expect(throws: BusError(.invalidArgument, "")) {
                try await transport.read(topic: "t", from: 1, limit: 0, wait: .zero)
            }
            await #expect(throws: BusError(.invalidArgument, "")) {
                try await transport.fetch(group: "g", topic: "t", limit: 0, wait: .zero)
            }
            await #expect(throws: BusError(.invalidArgument, "")) {
                try await transport.commit(group: "g", topic: "t", offset: 0)
            }
            #expect(try await transport.topic(named: "t")?.eventCount == 0)
        }
    }

    @Test(arguments: TransportKind.all)
    func anUnknownTopicIsATypedError(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            let noSuchTopic = BusError(.noSuchTopic, "")
            await #expect(throws: noSuchTopic) { try await transport.publish([event("e1")], to: "nope") }
            await #expect(throws: noSuchTopic) {
                try await transport.read(topic: "nope", from: 1, limit: 1, wait: .zero)
            }
            await #expect(throws: noSuchTopic) {
                try await transport.read(topic: "nope", from: 1, limit: 1, wait: .milliseconds(100))
            }
            await #expect(throws: noSuchTopic) {
                try await transport.fetch(group: "g", topic: "nope", limit: 1, wait: .zero)
            }
            await #expect(throws: noSuchTopic) { try await transport.commit(group: "g", topic: "nope", offset: 1) }
            await #expect(throws: noSuchTopic) { try await transport.committedOffset(group: "g", topic: "nope") }
            await #expect(throws: noSuchTopic) { try await transport.deleteTopic(named: "nope") }
        }
    }

    @Test(arguments: TransportKind.all)
    func aDeletedTopicIsGoneAndCanBeCreatedAgain(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "short-lived"))
            _ = try await transport.publish([event("e1"), event("e2")], to: "short-lived")
            _ = try await transport.fetch(group: "g", topic: "short-lived", limit: 2, wait: .zero)
            try await transport.commit(group: "g", topic: "short-lived", offset: 2)

            try await transport.deleteTopic(named: "short-lived")
            #expect(try await transport.topic(named: "short-lived") == nil)
            await #expect(throws: BusError(.noSuchTopic, "")) {
                try await transport.publish([event("e3")], to: "short-lived")
            }

            _ = try await transport.createTopic(TopicConfiguration(name: "short-lived"))
            #expect(try await transport.publish([event("e1")], to: "short-lived") == [1])
            #expect(try await transport.committedOffset(group: "g", topic: "short-lived") == nil)
        }
    }

    // MARK: - Publish and read

    @Test(arguments: TransportKind.all)
    func publishSingleAndBatchWithIncreasingOffsets(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
            let before = Date()
            #expect(try await transport.publish(event("e0"), to: "orders") == 1)
            let batch = (1...100).map { event("e\($0)") }
            let offsets = try await transport.publish(batch, to: "orders")
            #expect(offsets == Array(2...101))
            #expect(try await transport.publish([], to: "orders") == [])

            let info = try #require(try await transport.topic(named: "orders"))
            #expect(info.eventCount == 101)
            #expect(info.firstOffset == 1 && info.lastOffset == 101)
            #expect(info.bytes >= batch.reduce(event("e0").payload.count) { $0 + $1.payload.count })

            let stored = try await readAll(transport, topic: "orders")
            #expect(stored.map(\.offset) == Array(1...101))
            #expect(stored.map(\.eventID) == (0...100).map { "e\($0)" })
            #expect(stored.map(\.payload) == ([event("e0")] + batch).map(\.payload))
            for event in stored {
                #expect(event.publishTime > before.addingTimeInterval(-60))
                #expect(event.publishTime < Date().addingTimeInterval(60))
            }
        }
    }

    @Test(arguments: TransportKind.all)
    func aRepeatedEventIDIsStoredOnceAndAnswersItsOriginalOffset(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
            #expect(try await transport.publish([event("a"), event("b")], to: "orders") == [1, 2])
            #expect(try await transport.publish(event("a"), to: "orders") == 1)
            // Other bytes under the same id: still the original, not stored again.
            #expect(try await transport.publish(OutgoingEvent(eventID: "b", payload: [1, 2, 3]), to: "orders") == 2)
            #expect(
                try await transport.publish([event("c"), event("a"), event("c"), event("d")], to: "orders") == [
                    3, 1, 3, 4,
                ]
            )

            let stored = try await readAll(transport, topic: "orders")
            #expect(stored.map(\.eventID) == ["a", "b", "c", "d"])
            #expect(stored[1].payload == event("b").payload)
            #expect(try await transport.topic(named: "orders")?.eventCount == 4)
        }
    }

    @Test(arguments: TransportKind.all)
    func readFromAnOffsetWithALimit(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
            _ = try await transport.publish((1...10).map { event("e\($0)") }, to: "orders")

            let middle = try await transport.read(topic: "orders", from: 4, limit: 3, wait: .zero)
            #expect(middle.map(\.offset) == [4, 5, 6])
            #expect(middle.map(\.eventID) == ["e4", "e5", "e6"])
            #expect(try await transport.read(topic: "orders", from: 0, limit: 1, wait: .zero).map(\.offset) == [1])
            #expect(
                try await transport.read(topic: "orders", from: 9, limit: 100, wait: .zero).map(\.offset) == [9, 10]
            )
            #expect(try await transport.read(topic: "orders", from: 11, limit: 10, wait: .zero).isEmpty)
            #expect(try await transport.read(topic: "orders", from: 11, limit: 10, wait: .milliseconds(200)).isEmpty)
        }
    }

    @Test(arguments: TransportKind.all)
    func aLongPollReturnsTheEventPublishedWhileItWaits(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
            _ = try await transport.publish(event("old"), to: "orders")
            let received = try await withThrowingTaskGroup(of: [StoredEvent]?.self) { group in
                group.addTask { try await transport.read(topic: "orders", from: 2, limit: 10, wait: .seconds(60)) }
                group.addTask {
                    // Give the reader a moment to start waiting; the outcome does not depend on it.
                    try await Task.sleep(for: .milliseconds(200))
                    _ = try await transport.publish(event("new"), to: "orders")
                    return nil
                }
                var received: [StoredEvent] = []
                for try await result in group {
                    if let result { received = result }
                }
                return received
            }
            #expect(received.map(\.eventID) == ["new"])
            #expect(received.map(\.offset) == [2])
        }
    }

    @Test(arguments: TransportKind.all)
    func aGroupLongPollReturnsTheEventPublishedWhileItWaits(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
            let received = try await withThrowingTaskGroup(of: [StoredEvent]?.self) { group in
                group.addTask {
                    try await transport.fetch(group: "billing", topic: "orders", limit: 10, wait: .seconds(60))
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(200))
                    _ = try await transport.publish(event("new"), to: "orders")
                    return nil
                }
                var received: [StoredEvent] = []
                for try await result in group {
                    if let result { received = result }
                }
                return received
            }
            #expect(received.map(\.eventID) == ["new"])
        }
    }

    // MARK: - Batches

    @Test(arguments: TransportKind.all)
    func aBatchWithOneEventTooLargeIsRefusedWhole(kind: TransportKind) async throws {
        try await kind.withTransport(TransportSettings(maxEventBytes: 4096)) { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
            let batch = [event("ok1"), event("big", size: 4097), event("ok2")]
            await #expect(throws: BusError(.payloadTooLarge, "")) { try await transport.publish(batch, to: "orders") }
            let badID = [event("ok1"), OutgoingEvent(eventID: String(repeating: "x", count: 257), payload: [1])]
            await #expect(throws: BusError(.invalidArgument, "")) { try await transport.publish(badID, to: "orders") }
            #expect(try await transport.topic(named: "orders")?.eventCount == 0)
            #expect(try await readAll(transport, topic: "orders").isEmpty)

            // The limit itself is accepted, and the ids of the refused batches were not taken.
            #expect(try await transport.publish([event("ok1"), event("edge", size: 4096)], to: "orders") == [1, 2])
        }
    }

    // MARK: - Consumer groups

    @Test(arguments: TransportKind.all)
    func groupsAreIndependentAndResumeAfterTheirCommit(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
            _ = try await transport.publish((1...5).map { event("e\($0)") }, to: "orders")

            let first = try await transport.fetch(group: "billing", topic: "orders", limit: 3, wait: .zero)
            #expect(first.map(\.offset) == [1, 2, 3])
            #expect(first.map(\.eventID) == ["e1", "e2", "e3"])
            #expect(first.map(\.payload) == (1...3).map { event("e\($0)").payload })
            try await transport.commit(group: "billing", topic: "orders", offset: 3)
            #expect(try await transport.committedOffset(group: "billing", topic: "orders") == 3)

            // Another group starts from the beginning, whatever billing did.
            let shipping = try await transport.fetch(group: "shipping", topic: "orders", limit: 10, wait: .seconds(1))
            #expect(shipping.map(\.offset) == [1, 2, 3, 4, 5])
            #expect(try await transport.committedOffset(group: "shipping", topic: "orders") == nil)

            let rest = try await transport.fetch(group: "billing", topic: "orders", limit: 10, wait: .seconds(1))
            #expect(rest.map(\.offset) == [4, 5])
            try await transport.commit(group: "billing", topic: "orders", offset: 5)
            try await transport.commit(group: "shipping", topic: "orders", offset: 5)
            // Commits never move back.
            try await transport.commit(group: "billing", topic: "orders", offset: 2)
            #expect(try await transport.committedOffset(group: "billing", topic: "orders") == 5)
            #expect(try await transport.committedOffset(group: "shipping", topic: "orders") == 5)
            #expect(try await transport.committedOffset(group: "nobody", topic: "orders") == nil)

            // Everything is committed: nothing comes, even after the redelivery timeout.
            #expect(try await transport.fetch(group: "billing", topic: "orders", limit: 10, wait: .seconds(2)).isEmpty)
            _ = try await transport.publish(event("e6"), to: "orders")
            #expect(
                try await transport.fetch(group: "billing", topic: "orders", limit: 10, wait: .seconds(1)).map(\.offset)
                    == [6]
            )
        }
    }

    @Test(arguments: TransportKind.all)
    func anUncommittedFetchIsDeliveredAgainAfterTheRedeliveryTimeout(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
            _ = try await transport.publish((1...3).map { event("e\($0)") }, to: "orders")
            let first = try await transport.fetch(group: "billing", topic: "orders", limit: 10, wait: .zero)
            #expect(first.map(\.offset) == [1, 2, 3])
            // Not committed: handed out again once the redelivery timeout (1 s in these tests) passed.
            let again = try await fetchUntilSome(transport, group: "billing", topic: "orders")
            #expect(again.map(\.offset) == [1, 2, 3])
            #expect(again.map(\.eventID) == ["e1", "e2", "e3"])

            // Committing part of it: only the rest comes again.
            try await transport.commit(group: "billing", topic: "orders", offset: 2)
            let rest = try await fetchUntilSome(transport, group: "billing", topic: "orders")
            #expect(rest.map(\.offset) == [3])
        }
    }

    @Test(arguments: TransportKind.all)
    func committedOffsetsSurviveARestartAndACrashedConsumerGetsItsEventsAgain(kind: TransportKind) async throws {
        try await kind.withStore { store in
            try await store.withTransport { transport in
                _ = try await transport.createTopic(TopicConfiguration(name: "orders"))
                _ = try await transport.publish((1...5).map { event("e\($0)") }, to: "orders")
                let fetched = try await transport.fetch(group: "billing", topic: "orders", limit: 10, wait: .zero)
                #expect(fetched.map(\.offset) == [1, 2, 3, 4, 5])
                try await transport.commit(group: "billing", topic: "orders", offset: 3)
                // The consumer "crashes" here: 4 and 5 were handed out but never committed.
            }
            try await store.withTransport { transport in
                #expect(try await transport.committedOffset(group: "billing", topic: "orders") == 3)
                #expect(try await transport.topic(named: "orders")?.eventCount == 5)
                let again = try await fetchUntilSome(transport, group: "billing", topic: "orders")
                #expect(again.map(\.offset) == [4, 5])
                #expect(again.map(\.eventID) == ["e4", "e5"])
                try await transport.commit(group: "billing", topic: "orders", offset: 5)
            }
            try await store.withTransport { transport in
                let committed = try await transport.committedOffset(group: "billing", topic: "orders")
                #expect(committed == 5)
                #expect(try await readAll(transport, topic: "orders").map(\.eventID) == (1...5).map { "e\($0)" })
            }
        }
    }

    // MARK: - Retention

    @Test(arguments: TransportKind.all)
    func retentionBySizeDropsTheOldestEvents(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "sized", retentionBytes: 2000))
            for index in 1...40 {
                _ = try await transport.publish(event("e\(index)", size: 100), to: "sized")
            }
            let info = try #require(try await transport.topic(named: "sized"))
            let first = try #require(info.firstOffset)
            #expect(first > 1, "the oldest events were dropped")
            #expect(info.lastOffset == 40)
            #expect(info.bytes <= 2000)
            if kind.countsPayloadBytesOnly {
                #expect(info.eventCount == 20 && info.bytes == 2000 && first == 21, "exactly the newest 2000 bytes")
            } else {
                #expect(info.eventCount >= 5, "the newest events are kept (with some overhead per event)")
            }
            let kept = try await readAll(transport, topic: "sized")
            #expect(kept.map(\.offset) == Array(first...40))
            #expect(kept.last?.eventID == "e40")
            #expect(try await transport.read(topic: "sized", from: 1, limit: 1, wait: .zero).first?.offset == first)
        }
    }

    @Test(arguments: TransportKind.all)
    func retentionByAgeDropsExpiredEvents(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "aged", retentionSeconds: 1))
            _ = try await transport.createTopic(TopicConfiguration(name: "kept"))
            #expect(try await transport.publish((1...3).map { event("e\($0)") }, to: "aged") == [1, 2, 3])
            _ = try await transport.publish(event("k1"), to: "kept")
            try await eventually("the aged events expired", limit: .seconds(60)) {
                try await transport.topic(named: "aged")?.eventCount == 0
            }
            #expect(try await transport.read(topic: "aged", from: 1, limit: 10, wait: .zero).isEmpty)
            #expect(try await transport.topic(named: "aged")?.firstOffset == nil)
            #expect(try await transport.topic(named: "kept")?.eventCount == 1)
            // Offsets keep increasing after expiry. (On a loaded machine e4 itself may expire, one second later,
            // before it is read back; what is read is never an expired offset.)
            #expect(try await transport.publish(event("e4"), to: "aged") == 4)
            let after = try await transport.read(topic: "aged", from: 1, limit: 10, wait: .zero)
            #expect(after.allSatisfy { $0.offset == 4 && $0.eventID == "e4" })
        }
    }
}
