import Foundation
import SealedTesting
import Testing

@testable import NATS

/// Runs `body` with a JetStream context on a fresh single server.
func withJetStream(_ body: (NATSServer, Connection, JetStream) async throws -> Void) async throws {
    try await withServer { server in
        try await Connection.withConnection(to: server.url, logger: .test) { connection in
            // A wide API timeout: beside hundreds of other tests on two cores a reply can wait seconds for a thread.
            try await body(server, connection, JetStream(connection: connection, timeout: .seconds(30)))
        }
    }
}

@Suite struct JetStreamStreamTests {
    @Test func createInfoUpdateDelete() async throws {
        try await withJetStream { _, _, jetStream in
            let config = StreamConfig(
                name: "ORDERS",
                subjects: ["orders.>"],
                maxMessages: 1_000,
                maxBytes: 1 << 20,
                maxAge: .seconds(3600),
                storage: .file,
                replicas: 1,
                duplicateWindow: .seconds(30)
            )
            let created = try await jetStream.createStream(config)
            #expect(created.config == config)
            #expect(created.state.messages == 0)
            // Creating the same stream again is idempotent.
            #expect(try await jetStream.createStream(config).config == config)

            var changed = config
            changed.maxMessages = 5
            let updated = try await jetStream.updateStream(changed)
            #expect(updated.config.maxMessages == 5)
            #expect(try await jetStream.streamInfo("ORDERS").config.maxMessages == 5)

            // A different configuration under the same name is refused with the server's code.
            var conflicting = config
            conflicting.subjects = ["other.>"]
            await #expect(throws: JetStreamError(code: .streamNameInUse, status: 400, description: "")) {
                try await jetStream.createStream(conflicting)
            }

            try await jetStream.deleteStream("ORDERS")
            var caught: JetStreamError?
            do {
                _ = try await jetStream.streamInfo("ORDERS")
            } catch let error as JetStreamError {
                caught = error
            }
            #expect(caught?.code == .streamNotFound)
            #expect(caught?.status == 404)
            #expect(caught?.errorDescription.isEmpty == false)
        }
    }

    @Test func invalidConfigurationIsATypedError() async throws {
        try await withJetStream { _, _, jetStream in
            // Three replicas need a cluster.
            var caught: JetStreamError?
            do {
                try await jetStream.createStream(StreamConfig(name: "R3", subjects: ["r3"], replicas: 3))
            } catch let error as JetStreamError {
                caught = error
            }
            #expect(caught != nil)
            #expect(caught?.code.rawValue != 0)
            await #expect(throws: NATSError(.invalidArgument, "")) {
                try await jetStream.createStream(StreamConfig(name: "bad.name", subjects: ["x"]))
            }
        }
    }

    @Test func publishAcknowledgesWithSequences() async throws {
        try await withJetStream { _, _, jetStream in
            try await jetStream.createStream(StreamConfig(name: "EVENTS", subjects: ["events.*"]))
            var sequences: [UInt64] = []
            for index in 1...50 {
                let ack = try await jetStream.publish(
                    subject: "events.created",
                    payload: "event \(index)".bytes,
                    headers: ["Event-Index": "\(index)"]
                )
                #expect(ack.stream == "EVENTS")
                #expect(!ack.duplicate)
                sequences.append(ack.sequence)
            }
            #expect(sequences == Array(1...50))
            #expect(try await jetStream.streamInfo("EVENTS").state.messages == 50)
            let stored = try await jetStream.getMessage(stream: "EVENTS", sequence: 7)
            #expect(stored.payload.text == "event 7")
            #expect(stored.headers?["Event-Index"] == "7")
            #expect(stored.subject == "events.created")
            // The server's RFC 3339 time with nanoseconds, parsed.
            let time = try #require(stored.time)
            #expect(abs(time.timeIntervalSinceNow) < 60)
        }
    }

    @Test func duplicateMessageIDIsStoredOnce() async throws {
        try await withJetStream { _, _, jetStream in
            try await jetStream.createStream(
                StreamConfig(name: "DEDUP", subjects: ["dedup"], duplicateWindow: .seconds(60))
            )
            let first = try await jetStream.publish(subject: "dedup", payload: "a".bytes, messageID: "evt-1")
            let second = try await jetStream.publish(subject: "dedup", payload: "a again".bytes, messageID: "evt-1")
            let other = try await jetStream.publish(subject: "dedup", payload: "b".bytes, messageID: "evt-2")
            #expect(!first.duplicate)
            #expect(second.duplicate)
            #expect(second.sequence == first.sequence)
            #expect(!other.duplicate)
            #expect(other.sequence == first.sequence + 1)
            let info = try await jetStream.streamInfo("DEDUP")
            #expect(info.state.messages == 2)
            let stored = try await jetStream.getMessage(stream: "DEDUP", sequence: first.sequence)
            #expect(stored.payload.text == "a")
            #expect(stored.headers?["Nats-Msg-Id"] == "evt-1")
        }
    }

    @Test func publishWithoutAStreamIsNoResponders() async throws {
        try await withJetStream { _, _, jetStream in
            await #expect(throws: NATSError(.noResponders, "")) {
                _ = try await jetStream.publish(subject: "no.stream.here", payload: [], timeout: .milliseconds(300))
            }
        }
    }
}

@Suite struct JetStreamConsumerTests {
    static func seed(_ jetStream: JetStream, stream: String = "LOG", count: Int) async throws {
        try await jetStream.createStream(StreamConfig(name: stream, subjects: ["\(stream.lowercased()).>"]))
        for index in 1...count {
            _ = try await jetStream.publish(
                subject: "\(stream.lowercased()).\(index % 2 == 0 ? "even" : "odd")",
                payload: "m\(index)".bytes,
                messageID: "\(stream)-\(index)"
            )
        }
    }

    @Test func fetchAndAckAdvanceTheAckFloor() async throws {
        try await withJetStream { _, _, jetStream in
            try await Self.seed(jetStream, count: 10)
            let created = try await jetStream.createConsumer(
                stream: "LOG",
                config: ConsumerConfig(durableName: "group-a", ackWait: .seconds(30), maxDeliver: 5)
            )
            #expect(created.name == "group-a")
            #expect(created.config.ackPolicy == .explicit)
            #expect(created.numPending == 10)

            let first = try await jetStream.fetch(stream: "LOG", consumer: "group-a", batch: 4)
            #expect(first.map(\.streamSequence) == [1, 2, 3, 4])
            #expect(first.map(\.payload.text) == ["m1", "m2", "m3", "m4"])
            #expect(first.allSatisfy { $0.deliveryCount == 1 && $0.stream == "LOG" && $0.consumer == "group-a" })
            #expect(first.map(\.consumerSequence) == [1, 2, 3, 4])
            #expect(first.last?.pending == 6)
            for message in first { try await message.ack() }

            let rest = try await jetStream.fetch(stream: "LOG", consumer: "group-a", batch: 100)
            #expect(rest.map(\.streamSequence) == Array(5...10))
            for message in rest { try await message.ack() }

            let info = try await jetStream.consumerInfo(stream: "LOG", consumer: "group-a")
            #expect(info.ackFloor.streamSequence == 10)
            #expect(info.numAckPending == 0)
            #expect(info.numPending == 0)
            #expect(
                try await jetStream.fetch(stream: "LOG", consumer: "group-a", batch: 5, expires: .milliseconds(200))
                    .isEmpty
            )

            // A message published now is fetched by a waiting pull request.
            _ = try await jetStream.publish(subject: "log.late", payload: "late".bytes)
            let late = try await jetStream.fetch(stream: "LOG", consumer: "group-a", batch: 5, expires: .seconds(5))
            #expect(late.map(\.payload.text) == ["late"])
        }
    }

    @Test func unackedMessagesAreRedeliveredAfterAckWait() async throws {
        try await withJetStream { _, _, jetStream in
            try await Self.seed(jetStream, count: 3)
            try await jetStream.createConsumer(
                stream: "LOG",
                config: ConsumerConfig(durableName: "slow", ackWait: .milliseconds(500))
            )
            let first = try await jetStream.fetch(stream: "LOG", consumer: "slow", batch: 3)
            #expect(first.map(\.deliveryCount) == [1, 1, 1])
            // Not acknowledged: after ack_wait the same messages come again, counted as second deliveries.
            let again = try await jetStream.fetch(stream: "LOG", consumer: "slow", batch: 3, expires: .seconds(10))
            #expect(again.map(\.streamSequence) == [1, 2, 3])
            #expect(again.map(\.deliveryCount) == [2, 2, 2])
            for message in again { try await message.ack() }
            #expect(try await jetStream.consumerInfo(stream: "LOG", consumer: "slow").ackFloor.streamSequence == 3)
        }
    }

    @Test func maxDeliverIsHonoured() async throws {
        try await withJetStream { _, _, jetStream in
            try await Self.seed(jetStream, count: 1)
            try await jetStream.createConsumer(
                stream: "LOG",
                config: ConsumerConfig(durableName: "limited", ackWait: .milliseconds(300), maxDeliver: 2)
            )
            let deliveries = [
                try await jetStream.fetch(stream: "LOG", consumer: "limited", batch: 1, expires: .seconds(5)),
                try await jetStream.fetch(stream: "LOG", consumer: "limited", batch: 1, expires: .seconds(5)),
            ]
            #expect(deliveries.map { $0.map(\.deliveryCount) } == [[1], [2]])
            // A third delivery never comes, well past several ack waits.
            #expect(
                try await jetStream.fetch(stream: "LOG", consumer: "limited", batch: 1, expires: .seconds(1)).isEmpty
            )
        }
    }

    @Test func nakRedeliversAndTermDoesNot() async throws {
        try await withJetStream { _, _, jetStream in
            try await Self.seed(jetStream, count: 2)
            try await jetStream.createConsumer(
                stream: "LOG",
                config: ConsumerConfig(durableName: "c", ackWait: .seconds(30))
            )
            let messages = try await jetStream.fetch(stream: "LOG", consumer: "c", batch: 2)
            try #require(messages.count == 2)
            try await messages[0].nak()
            try await messages[1].term()
            let again = try await jetStream.fetch(stream: "LOG", consumer: "c", batch: 2, expires: .seconds(2))
            #expect(again.map(\.streamSequence) == [1])
            try #require(again.map(\.deliveryCount) == [2])
            try await again[0].inProgress()
            try await again[0].nak(delay: .milliseconds(200))
            let delayed = try await jetStream.fetch(stream: "LOG", consumer: "c", batch: 2, expires: .seconds(5))
            try #require(delayed.map(\.deliveryCount) == [3])
            try await delayed[0].ack()
        }
    }

    @Test func startSequenceAndFilterSubject() async throws {
        try await withJetStream { _, _, jetStream in
            try await Self.seed(jetStream, count: 10)
            try await jetStream.createConsumer(
                stream: "LOG",
                config: ConsumerConfig(durableName: "from6", deliverPolicy: .byStartSequence(6))
            )
            let fromSix = try await jetStream.fetch(stream: "LOG", consumer: "from6", batch: 10)
            #expect(fromSix.map(\.streamSequence) == [6, 7, 8, 9, 10])
            let info = try await jetStream.consumerInfo(stream: "LOG", consumer: "from6")
            #expect(info.config.deliverPolicy == .byStartSequence(6))

            try await jetStream.createConsumer(
                stream: "LOG",
                config: ConsumerConfig(durableName: "evens", filterSubject: "log.even")
            )
            let evens = try await jetStream.fetch(stream: "LOG", consumer: "evens", batch: 10)
            #expect(evens.map(\.streamSequence) == [2, 4, 6, 8, 10])
            #expect(evens.allSatisfy { $0.subject == "log.even" })
        }
    }

    @Test func consumerErrorsAreTyped() async throws {
        try await withJetStream { _, _, jetStream in
            try await Self.seed(jetStream, count: 1)
            var caught: JetStreamError?
            do {
                _ = try await jetStream.consumerInfo(stream: "LOG", consumer: "missing")
            } catch let error as JetStreamError {
                caught = error
            }
            #expect(caught?.code == .consumerNotFound)
            await #expect(throws: JetStreamError(code: .streamNotFound, status: 404, description: "")) {
                try await jetStream.createConsumer(stream: "NOPE", config: ConsumerConfig(durableName: "x"))
            }
            await #expect(throws: JetStreamError(code: .consumerNotFound, status: 404, description: "")) {
                _ = try await jetStream.fetch(stream: "LOG", consumer: "missing", batch: 1, expires: .milliseconds(100))
            }
            try await jetStream.createConsumer(stream: "LOG", config: ConsumerConfig(durableName: "gone"))
            try await jetStream.deleteConsumer(stream: "LOG", consumer: "gone")
            await #expect(throws: JetStreamError(code: .consumerNotFound, status: 404, description: "")) {
                try await jetStream.deleteConsumer(stream: "LOG", consumer: "gone")
            }
        }
    }

    @Test func consumerGroupResumesAtItsAckFloorAfterReconnect() async throws {
        try await withServer { server in
            var options = ConnectionOptions()
            options.reconnectDelay = .milliseconds(20)
            options.maxReconnectDelay = .milliseconds(200)
            try await Connection.withConnection(to: server.url, options: options, logger: .test) { connection in
                let jetStream = JetStream(connection: connection)
                try await Self.seed(jetStream, count: 10)
                try await jetStream.createConsumer(stream: "LOG", config: ConsumerConfig(durableName: "group"))
                for message in try await jetStream.fetch(stream: "LOG", consumer: "group", batch: 5) {
                    try await message.ack()
                }
                // The server restarts (same store); the client reconnects on its own.
                server.stop()
                try server.start()
                try await eventually("reconnected") { connection.isConnected && connection.connectionEpoch >= 2 }
                let resumed = try await retryingWhileUnavailable {
                    try await jetStream.fetch(stream: "LOG", consumer: "group", batch: 10, expires: .seconds(2))
                }
                #expect(resumed.map(\.streamSequence) == Array(6...10))
                #expect(resumed.allSatisfy { $0.deliveryCount == 1 })
            }
        }
    }

    @Test func crashedConsumerGetsItsMessagesAgain() async throws {
        try await withServer { server in
            try await Connection.withConnection(to: server.url, logger: .test) { setup in
                let jetStream = JetStream(connection: setup)
                try await Self.seed(jetStream, count: 6)
                try await jetStream.createConsumer(
                    stream: "LOG",
                    config: ConsumerConfig(durableName: "workers", ackWait: .seconds(1))
                )
            }
            // A worker takes four messages, acknowledges two, and dies without a word.
            let crashed = try Connection(urls: server.url, logger: .test)
            let taken = try await crashed.withRunning { connection in
                let jetStream = JetStream(connection: connection)
                let messages = try await jetStream.fetch(stream: "LOG", consumer: "workers", batch: 4)
                try await messages[0].ack()
                try await messages[1].ack()
                return messages.map(\.streamSequence)
            }
            #expect(taken == [1, 2, 3, 4])
            // Another member of the group gets the two unacknowledged ones again, then the rest.
            try await Connection.withConnection(to: server.url, logger: .test) { connection in
                let jetStream = JetStream(connection: connection)
                var seen: [(UInt64, UInt64)] = []
                while seen.count < 4 {
                    let batch = try await jetStream.fetch(
                        stream: "LOG",
                        consumer: "workers",
                        batch: 4,
                        expires: .seconds(5)
                    )
                    try #require(!batch.isEmpty)
                    for message in batch {
                        seen.append((message.streamSequence, message.deliveryCount))
                        try await message.ack()
                    }
                }
                let sorted = seen.sorted { $0.0 < $1.0 }
                #expect(sorted.map(\.0) == [3, 4, 5, 6])
                #expect(sorted.map(\.1) == [2, 2, 1, 1])
            }
        }
    }
}
