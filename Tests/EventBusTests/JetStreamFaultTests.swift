import EventBus
import Foundation
import NATS
import SealedTesting
import Synchronization
import Testing

@testable import JetStreamBus

/// What each producer was told: an offset, or an error.
private final class Outcomes: Sendable {
    let acked = Mutex<[String: UInt64]>([:])
    let failed = Mutex<[String: BusError]>([:])
}

/// Publishes `total` events `e<i>` from `workers` producers through the transport, alternating single publishes
/// and batches of 10, recording per event the offset it was acknowledged at or the error its producer got,
/// while `disturb` runs alongside.
private func publishLoad(
    _ transport: any Transport,
    topic: String,
    total: Int,
    workers: Int,
    disturb: @escaping @Sendable (Outcomes) async throws -> Void
) async throws -> Outcomes {
    let outcomes = Outcomes()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<workers {
            group.addTask {
                let mine = Array(stride(from: worker, to: total, by: workers))
                var index = 0
                var batchNext = false
                while index < mine.count {
                    let size = batchNext ? min(10, mine.count - index) : 1
                    batchNext.toggle()
                    let ids = mine[index..<(index + size)].map { "e\($0)" }
                    index += size
                    do {
                        let offsets = try await transport.publish(ids.map { event($0) }, to: topic)
                        outcomes.acked.withLock { acked in
                            for (id, offset) in zip(ids, offsets) { acked[id] = offset }
                        }
                    } catch let error as BusError {
                        outcomes.failed.withLock { failed in
                            for id in ids { failed[id] = error }
                        }
                    }
                }
            }
        }
        group.addTask { try await disturb(outcomes) }
        try await group.waitForAll()
    }
    return outcomes
}

/// Every acknowledged event is stored exactly once at its acknowledged offset with its payload; nothing is
/// stored twice or unsent; every event ended in exactly one outcome.
private func verify(_ outcomes: Outcomes, stored: [StoredEvent], total: Int) {
    let acked = outcomes.acked.withLock { $0 }
    let failed = outcomes.failed.withLock { $0 }
    #expect(acked.count + failed.count == total, "every publish returned or threw")
    #expect(Set(acked.keys).isDisjoint(with: failed.keys))
    var offsetsByID: [String: [UInt64]] = [:]
    for event in stored {
        offsetsByID[event.eventID, default: []].append(event.offset)
        #expect(event.payload == EventBusTests.event(event.eventID).payload, "payload of \(event.eventID)")
    }
    for (id, offset) in acked {
        #expect(offsetsByID[id] == [offset], "acknowledged \(id) stored once at \(offset)")
    }
    #expect(offsetsByID.values.allSatisfy { $0.count == 1 }, "no event stored twice")
    #expect(Set(offsetsByID.keys).isSubset(of: Set(acked.keys).union(failed.keys)), "nothing stored that was not sent")
    if let example = failed.first {
        print("note: \(failed.count) events reported errors, e.g. \(example.value)")
    }
}

/// What the consumer of the cluster test has seen, and whether the producers are still at work.
private final class ConsumerProgress: Sendable {
    let consumed = Mutex<Set<String>>([])
    let publishing = Mutex(true)
}

/// Retries while the transport is unavailable (a server restarting, a cluster electing leaders).
private func retryingWhileUnavailable<T>(limit: Duration = .seconds(30), _ body: () async throws -> T) async throws -> T
{
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while true {
        do {
            return try await body()
        } catch let error as BusError where error.code == .unavailable {
            guard clock.now < deadline else { throw error }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}

@Suite(.serialized) struct JetStreamFaultTests {
    @Test func everyAcknowledgedEventSurvivesAServerCrashAndRestartExactlyOnce() async throws {
        guard let binary = try NATSServer.binary() else { return }
        let server = try NATSServer(binary: binary)
        defer { server.kill() }
        let transport = try JetStreamTransport(servers: server.url, configuration: .test(), logger: .test)
        try await transport.withRunning { transport in
            _ = try await transport.createTopic(TopicConfiguration(name: "load"))
            let total = 600
            let outcomes = try await publishLoad(transport, topic: "load", total: total, workers: 4) { outcomes in
                try await eventually("a third of the load acknowledged") {
                    outcomes.acked.withLock { $0.count } >= total / 3
                }
                server.kill()  // a crash: no goodbye to the clients
                try await Task.sleep(for: .milliseconds(300))
                try server.start()  // same port, same store
            }
            let failed = outcomes.failed.withLock { $0 }
            #expect(failed.values.allSatisfy { $0.code == .unavailable }, "\(failed.values.map(\.description))")

            let stored = try await retryingWhileUnavailable { try await readAll(transport, topic: "load") }
            verify(outcomes, stored: stored, total: total)

            // The producers publish what failed again, with the same ids: each event ends up stored once.
            let retried = failed.keys.sorted()
            if !retried.isEmpty {
                let offsets = try await retryingWhileUnavailable {
                    try await transport.publish(retried.map { event($0) }, to: "load")
                }
                outcomes.acked.withLock { acked in
                    for (id, offset) in zip(retried, offsets) { acked[id] = offset }
                }
                outcomes.failed.withLock { $0.removeAll() }
            }
            let all = try await readAll(transport, topic: "load")
            verify(outcomes, stored: all, total: total)
            #expect(Set(all.map(\.eventID)) == Set((0..<total).map { "e\($0)" }))
        }
    }

    @Test func aCrashedConsumersEventsGoToTheNextMemberOfItsGroup() async throws {
        guard let binary = try NATSServer.binary() else { return }
        let server = try NATSServer(binary: binary)
        defer { server.kill() }
        let survivor = try JetStreamTransport(servers: server.url, configuration: .test(), logger: .test)
        try await survivor.withRunning { survivor in
            _ = try await survivor.createTopic(TopicConfiguration(name: "work"))
            _ = try await survivor.publish((1...6).map { event("e\($0)") }, to: "work")

            // One member of the group takes three events and dies without committing.
            let crashing = try JetStreamTransport(servers: server.url, configuration: .test(), logger: .test)
            try await crashing.withRunning { crashing in
                let taken = try await crashing.fetch(group: "workers", topic: "work", limit: 3, wait: .seconds(1))
                #expect(taken.map(\.offset) == [1, 2, 3])
            }

            // The other member gets the rest at once, and the dead member's events after ack_wait.
            var received: [UInt64] = []
            try await eventually("every event reached the surviving member") {
                received += try await survivor.fetch(group: "workers", topic: "work", limit: 10, wait: .seconds(1))
                    .map(\.offset)
                return Set(received) == Set(1...6)
            }
            #expect(received.prefix(3) == [4, 5, 6])
            try await survivor.commit(group: "workers", topic: "work", offset: 6)
            #expect(try await survivor.committedOffset(group: "workers", topic: "work") == 6)
        }
    }

    @Test func aCommitThroughAnotherInstanceAcknowledgesTheGroupsLastDelivery() async throws {
        guard let binary = try NATSServer.binary() else { return }
        let server = try NATSServer(binary: binary)
        defer { server.kill() }
        let first = try JetStreamTransport(servers: server.url, configuration: .test(), logger: .test)
        let second = try JetStreamTransport(servers: server.url, configuration: .test(), logger: .test)
        try await first.withRunning { first in
            try await second.withRunning { second in
                _ = try await first.createTopic(TopicConfiguration(name: "api"))
                _ = try await first.publish((1...5).map { event("e\($0)") }, to: "api")
                // A client fetches through one server and commits through another (behind a load balancer).
                let fetched = try await first.fetch(group: "g", topic: "api", limit: 5, wait: .seconds(1))
                #expect(fetched.map(\.offset) == [1, 2, 3, 4, 5])
                // Offset 3 was never handed out by `second`, and is not the last delivery: refused, typed.
                await #expect(throws: BusError(.invalidArgument, "")) {
                    try await second.commit(group: "g", topic: "api", offset: 3)
                }
                try await second.commit(group: "g", topic: "api", offset: 5)
                #expect(try await first.committedOffset(group: "g", topic: "api") == 5)
                #expect(try await second.fetch(group: "g", topic: "api", limit: 5, wait: .seconds(2)).isEmpty)
            }
        }
    }

    @Test func aThreeNodeClusterKeepsPublishingAndConsumingWhenTheStreamLeaderStops() async throws {
        guard let binary = try NATSServer.binary() else { return }
        let cluster = try NATSCluster(binary: binary)
        defer { cluster.stopAll() }
        let setup = try JetStreamTransport(
            servers: cluster.urls(),
            configuration: .test(replicas: 3),
            logger: .test
        )
        let leader: String = try await setup.withRunning { transport in
            _ = try await retryingWhileUnavailable {
                try await transport.createTopic(TopicConfiguration(name: "replicated"))
            }
            let info = try await JetStream(connection: transport.connection).streamInfo("SEALED-replicated")
            #expect(info.config.replicas == 3)
            return try #require(info.cluster?.leader)
        }
        let leaderIndex = try #require(cluster.names.firstIndex(of: leader))

        // The transport starts on the leader's node, so stopping it costs both the connection and the leader.
        let transport = try JetStreamTransport(
            servers: cluster.urls(startingAt: leaderIndex),
            configuration: .test(replicas: 3),
            logger: .test
        )
        try await transport.withRunning { transport in
            let progress = ConsumerProgress()
            try await withThrowingTaskGroup(of: Void.self) { group in
                // A consumer group reads and commits throughout.
                group.addTask {
                    while true {
                        let events: [StoredEvent]
                        do {
                            events = try await transport.fetch(
                                group: "readers",
                                topic: "replicated",
                                limit: 50,
                                wait: .milliseconds(500)
                            )
                            if let last = events.last {
                                try await transport.commit(group: "readers", topic: "replicated", offset: last.offset)
                            }
                        } catch let error as BusError where error.code == .unavailable {
                            try await Task.sleep(for: .milliseconds(100))
                            continue
                        }
                        progress.consumed.withLock { $0.formUnion(events.map(\.eventID)) }
                        if events.isEmpty, !progress.publishing.withLock({ $0 }) { return }
                    }
                }
                let total = 400
                let outcomes = try await publishLoad(transport, topic: "replicated", total: total, workers: 3) {
                    outcomes in
                    try await eventually("a third of the load acknowledged") {
                        outcomes.acked.withLock { $0.count } >= total / 3
                    }
                    cluster.nodes[leaderIndex].kill()
                }
                // Publishing continues on the surviving nodes.
                let after = try await retryingWhileUnavailable {
                    try await transport.publish(event("after"), to: "replicated")
                }
                outcomes.acked.withLock { $0["after"] = after }

                let acked = outcomes.acked.withLock { $0 }
                try await eventually("the group consumed every acknowledged event", limit: .seconds(60)) {
                    progress.consumed.withLock { Set(acked.keys).isSubset(of: $0) }
                }
                progress.publishing.withLock { $0 = false }
                try await group.waitForAll()

                let stored = try await retryingWhileUnavailable { try await readAll(transport, topic: "replicated") }
                verify(outcomes, stored: stored, total: total + 1)
            }
        }
    }
}

@Suite struct JetStreamErrorMappingTests {
    /// A cluster without enough current servers for the replicas (while it forms, or with servers down) is a
    /// transient condition callers retry, not a storage failure.
    @Test(arguments: [
        (JetStreamError.Code.noSuitablePeers, 500, BusError.Code.unavailable),
        (.insufficientResources, 500, .unavailable),
        (.temporarilyUnavailable, 503, .unavailable),
        (.replicasNotSupported, 500, .invalidArgument),
        (JetStreamError.Code(rawValue: 10_999), 500, .storageFailure),
        (JetStreamError.Code(rawValue: 10_999), 503, .unavailable),
    ])
    func jetStreamErrorsMapToBusErrors(code: JetStreamError.Code, status: Int, expected: BusError.Code) {
        let error = JetStreamError(code: code, status: status, description: "from the server")
        #expect(JetStreamTransport.map(error).code == expected)
    }
}
