import EventBus
import Foundation
import GRDB
import SealedTesting
import Storage
import Testing

/// Security review finding 10 (issue 17): retention above ~9.2e12 seconds overflowed the microsecond and nanosecond
/// arithmetic of the transports, and every later read of the topic (and the topic list) trapped. Every transport now
/// refuses retention beyond its bound at creation, takes the bound itself and reads such a topic, and the embedded
/// store reads a topic an older version stored with any retention without trapping.
@Suite struct RetentionBoundsTests {
    @Test(arguments: TransportKind.all)
    func retentionBeyondTheBoundIsRefusedAndTheBoundWorks(kind: TransportKind) async throws {
        try await kind.withTransport { transport in
            let tooLong = [TopicConfiguration.maximumRetentionSeconds + 1, 9_300_000_000_000, Int.max]
            for seconds in tooLong {
                await #expect(throws: BusError(.invalidArgument, ""), "\(seconds)") {
                    try await transport.createTopic(TopicConfiguration(name: "aged", retentionSeconds: seconds))
                }
            }
            for bytes in [TopicConfiguration.maximumRetentionBytes + 1, Int.max] {
                await #expect(throws: BusError(.invalidArgument, ""), "\(bytes)") {
                    try await transport.createTopic(TopicConfiguration(name: "sized", retentionBytes: bytes))
                }
            }
            #expect(try await transport.topics().isEmpty)

            // JetStream also bounds size retention by the storage its servers have: beyond it, a typed refusal.
            let largest = TopicConfiguration(name: "largest", retentionBytes: TopicConfiguration.maximumRetentionBytes)
            if kind.name == TransportKind.jetStream.name {
                await #expect(throws: BusError(.invalidArgument, "")) { try await transport.createTopic(largest) }
            } else {
                _ = try await transport.createTopic(largest)
                _ = try await transport.publish([event("e0")], to: "largest")
                #expect(try await readAll(transport, topic: "largest").map(\.eventID) == ["e0"])
            }
            let longest = TopicConfiguration(
                name: "longest",
                retentionSeconds: TopicConfiguration.maximumRetentionSeconds,
                retentionBytes: 1 << 30
            )
            _ = try await transport.createTopic(longest)
            _ = try await transport.publish([event("e1")], to: "longest")
            #expect(try await transport.topic(named: "longest")?.eventCount == 1)
            #expect(try await readAll(transport, topic: "longest").map(\.eventID) == ["e1"])
        }
    }

    @Test func theEmbeddedStoreReadsATopicStoredWithAnyRetention() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("bus.sqlite").path
            let transport = try SQLiteTransport(path: path)
            _ = try await transport.createTopic(TopicConfiguration(name: "old", retentionSeconds: 60))
            _ = try await transport.publish([event("e1")], to: "old")
            try transport.close()
            // As an older version, which did not bound retention, may have stored it.
            for stored in [Int64.max, 9_300_000_000_000, Int64.min] {
                let pool = try DatabasePool(path: path)
                try await pool.write { db in
                    try db.execute(sql: "UPDATE bus_topic SET retention_seconds = ?", arguments: [stored])
                }
                try pool.close()
                let reopened = try SQLiteTransport(path: path)
                let topics = try await reopened.topics()
                #expect(topics.map(\.name) == ["old"], "\(stored)")
                _ = try await reopened.read(topic: "old", from: 1, limit: 10, wait: .zero)
                _ = try await reopened.topic(named: "old")
                try reopened.close()
            }
        }
    }
}
