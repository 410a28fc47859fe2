import Foundation
import SealedTesting
import Synchronization
import Testing

@testable import NATS

/// Publishes `total` messages with ids `msg-<i>` from `workers` concurrent publishers, recording for each
/// either its acknowledgement or the error its caller got, while `disturb` runs alongside. With `holdingFrom`,
/// the messages from that index on are published only once `disturb` has returned, so some publishes surely meet
/// the disturbance however fast the others went.
func publishLoad(
    _ jetStream: JetStream,
    stream: String,
    total: Int,
    workers: Int,
    timeout: Duration,
    holdingFrom: Int? = nil,
    disturb: @escaping @Sendable (Outcomes) async throws -> Void
) async throws -> Outcomes {
    let outcomes = Outcomes()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<workers {
            group.addTask {
                for index in stride(from: worker, to: total, by: workers) {
                    if let holdingFrom, index >= holdingFrom {
                        try await eventually("the disturbance done") { outcomes.disturbed.withLock { $0 } }
                    }
                    let id = "msg-\(index)"
                    do {
                        let ack = try await jetStream.publish(
                            subject: "\(stream.lowercased()).\(index % 8)",
                            payload: "payload \(index)".bytes,
                            messageID: id,
                            timeout: timeout
                        )
                        outcomes.acked.withLock { $0[id] = ack }
                    } catch {
                        outcomes.failed.withLock { $0[id] = "\(error)" }
                    }
                }
            }
        }
        group.addTask {
            try await disturb(outcomes)
            outcomes.disturbed.withLock { $0 = true }
        }
        try await group.waitForAll()
    }
    return outcomes
}

/// Checks the stream against the outcomes: every acknowledged message is stored exactly once, at the
/// sequence its acknowledgement named, with its content; nothing is stored twice; nothing is stored
/// that no caller sent; every publish ended in exactly one outcome.
func verify(_ outcomes: Outcomes, stored: [JetStreamMessage], total: Int) {
    let acked = outcomes.acked.withLock { $0 }
    let failed = outcomes.failed.withLock { $0 }
    #expect(acked.count + failed.count == total, "every publish returned or threw")
    #expect(Set(acked.keys).isDisjoint(with: failed.keys))
    var sequencesByID: [String: [UInt64]] = [:]
    for message in stored {
        let id = message.headers?["Nats-Msg-Id"] ?? "(none)"
        sequencesByID[id, default: []].append(message.streamSequence)
        #expect(message.payload.text == "payload \(id.dropFirst(4))", "content of \(id)")
    }
    for (id, ack) in acked {
        #expect(sequencesByID[id] == [ack.sequence], "acknowledged \(id) stored once at \(ack.sequence)")
    }
    #expect(sequencesByID.values.allSatisfy { $0.count == 1 }, "no message stored twice")
    #expect(Set(sequencesByID.keys).isSubset(of: Set(acked.keys).union(failed.keys)))
    if !failed.isEmpty {
        print("note: \(failed.count) publishes reported errors, e.g. \(failed.first!.value)")
    }
}

@Suite(.serialized) struct FaultTests {
    @Test func serverCrashAndRestartDuringPublishLoad() async throws {
        try await withServer { server in
            var options = ConnectionOptions()
            options.reconnectDelay = .milliseconds(20)
            options.maxReconnectDelay = .milliseconds(250)
            try await Connection.withConnection(to: server.url, options: options, logger: .test) { connection in
                let jetStream = JetStream(connection: connection)
                try await jetStream.createStream(
                    StreamConfig(name: "LOAD", subjects: ["load.>"], duplicateWindow: .seconds(120))
                )
                let total = 400
                let outcomes = try await publishLoad(
                    jetStream,
                    stream: "LOAD",
                    total: total,
                    workers: 4,
                    timeout: .seconds(10)
                ) {
                    outcomes in
                    // A loaded CI machine running every other suite beside this one once took over 60 s; the limit is
                    // a guard against hangs, and a failure says how the publishes had ended.
                    do {
                        try await eventually("a third of the load acknowledged", limit: .seconds(180)) {
                            outcomes.acked.withLock { $0.count } >= total / 3
                        }
                    } catch {
                        Issue.record("before the crash: \(outcomes.summary)")
                        throw error
                    }
                    server.kill()  // a crash: no goodbye to the clients
                    try await Task.sleep(for: .milliseconds(300))
                    try server.start()
                }
                #expect(connection.connectionEpoch >= 2, "the client reconnected")
                let stored = try await retryingWhileUnavailable { try await readAll(jetStream, stream: "LOAD") }
                verify(outcomes, stored: stored, total: total)
            }
        }
    }

    @Test func publishesFailWithATypedErrorWhileTheServerStaysDown() async throws {
        try await withServer { server in
            var options = ConnectionOptions()
            options.reconnectDelay = .milliseconds(20)
            options.maxReconnectDelay = .milliseconds(100)
            try await Connection.withConnection(to: server.url, options: options, logger: .test) { connection in
                let jetStream = JetStream(connection: connection)
                try await jetStream.createStream(StreamConfig(name: "DOWN", subjects: ["down.>"]))
                let total = 100
                let outcomes = try await publishLoad(
                    jetStream,
                    stream: "DOWN",
                    total: total,
                    workers: 4,
                    timeout: .milliseconds(300),
                    holdingFrom: total / 2
                ) {
                    outcomes in
                    try await eventually("some acknowledged") { outcomes.acked.withLock { $0.count } >= 20 }
                    server.kill()
                }
                // The server stayed down: whatever was not acknowledged came back as an error, and no caller
                // hung. Every error is a typed connection error.
                let failed = outcomes.failed.withLock { $0 }
                #expect(!failed.isEmpty)
                #expect(
                    failed.values.allSatisfy {
                        $0.hasPrefix("notConnected") || $0.hasPrefix("connectionLost") || $0.hasPrefix("timeout")
                    }
                )
                try server.start()
                try await eventually("reconnected") { connection.isConnected }
                let stored = try await retryingWhileUnavailable { try await readAll(jetStream, stream: "DOWN") }
                verify(outcomes, stored: stored, total: total)
            }
        }
    }

    @Test func threeNodeClusterLosesTheStreamLeaderUnderLoad() async throws {
        guard let binary = try NATSServer.binary() else { return }
        let cluster = try NATSCluster(binary: binary)
        defer { cluster.stopAll() }
        var options = ConnectionOptions()
        options.reconnectDelay = .milliseconds(20)
        options.maxReconnectDelay = .milliseconds(250)

        let info = try await Connection.withConnection(to: cluster.urls(), options: options, logger: .test) {
            connection in
            let jetStream = JetStream(connection: connection)
            return try await retryingWhileUnavailable {
                try await jetStream.createStream(StreamConfig(name: "REPL", subjects: ["repl.>"], replicas: 3))
            }
        }
        #expect(info.config.replicas == 3)
        let leader = try #require(info.cluster?.leader)
        let leaderIndex = try #require(cluster.names.firstIndex(of: leader))

        // The client starts on the leader's node, so losing it costs both the connection and the leader.
        try await Connection.withConnection(to: cluster.urls(startingAt: leaderIndex), options: options, logger: .test)
        {
            connection in
            let jetStream = JetStream(connection: connection)
            _ = try await retryingWhileUnavailable {
                try await jetStream.createConsumer(
                    stream: "REPL",
                    config: ConsumerConfig(durableName: "readers", ackWait: .seconds(10))
                )
            }
            let total = 300
            let outcomes = try await publishLoad(
                jetStream,
                stream: "REPL",
                total: total,
                workers: 3,
                timeout: .seconds(20)
            ) {
                outcomes in
                try await eventually("a third of the load acknowledged") {
                    outcomes.acked.withLock { $0.count } >= total / 3
                }
                cluster.nodes[leaderIndex].kill()
            }
            #expect(connection.connectionEpoch >= 2, "the client moved to another node")

            // Publishing continues on the surviving nodes.
            let after = try await retryingWhileUnavailable {
                try await jetStream.publish(subject: "repl.after", payload: "payload after".bytes, messageID: "after")
            }
            #expect(!after.duplicate)

            // Consuming continues: the group reads every acknowledged message (and the one published after).
            let acked = outcomes.acked.withLock { $0 }
            var consumed: [String: UInt64] = [:]
            var emptyFetches = 0
            while emptyFetches < 2 {
                let batch = try await retryingWhileUnavailable {
                    try await jetStream.fetch(
                        stream: "REPL",
                        consumer: "readers",
                        batch: 100,
                        expires: .milliseconds(500)
                    )
                }
                if batch.isEmpty { emptyFetches += 1 }
                for message in batch {
                    consumed[message.headers?["Nats-Msg-Id"] ?? "(none)"] = message.streamSequence
                    try await retryingWhileUnavailable { try await message.ack() }
                }
            }
            for (id, ack) in acked {
                #expect(consumed[id] == ack.sequence, "consumer group read \(id)")
            }
            #expect(consumed["after"] == after.sequence)

            let stored = try await retryingWhileUnavailable { try await readAll(jetStream, stream: "REPL") }
            verify(outcomes, stored: stored.filter { $0.headers?["Nats-Msg-Id"] != "after" }, total: total)
        }
    }
}
