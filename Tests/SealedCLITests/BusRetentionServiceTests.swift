import Foundation
import PlatformClient
import SealedTesting
import Testing

/// The embedded bus's retention is enforced for topics nobody publishes to any more: `sealed serve
/// --bus-retention-interval 1` deletes the events past a topic's `RetentionSeconds` from storage (not only from
/// reads), on SQLite and on PostgreSQL replicas (where the leader of the role does it), and leaves a topic without
/// retention alone.
struct BusRetentionServiceTests {
    static let expiring = "retention.expiring"
    static let kept = "retention.kept"

    @Test func expiredEventsLeaveTheDataDirectory() async throws {
        guard let python = try TestEnvironment.peerPython() else { return }
        let server = try ServeProcess(arguments: ["--bus-retention-interval", "1"])
        defer { server.remove() }
        try await Self.publishToBothTopics(try server.client(try server.administrator))
        let bus = server.dataDirectory.appendingPathComponent("bus.sqlite")
        let count = { (topic: String) in
            let outcome = try await ChildProcess.run(
                python,
                arguments: [
                    "-c",
                    "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
                        + "'SELECT count(*) FROM bus_event WHERE topic = ?', (sys.argv[2],)).fetchone()[0])",
                    bus.path, topic,
                ],
                deadline: .seconds(30)
            )
            return Int(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        try await eventually("the expired events are deleted", limit: .seconds(30)) {
            try await count(Self.expiring) == 0
        }
        #expect(try await count(Self.kept) == 3)
        #expect(server.stop() == 0)
    }

    @Test func theLeaderDeletesExpiredEventsFromPostgreSQL() async throws {
        guard let postgres = try PostgresFixture.located() else { return }
        try await ServeReplicaTests.withReplicas(arguments: ["--bus-retention-interval", "1"]) { a, _, _ in
            try await Self.publishToBothTopics(try a.client(try a.administrator))
            let url = try #require(a.database)
            // The topic names are this test's constants, safe in a statement.
            let count = { (topic: String) in
                try await postgres.integer("SELECT count(*) FROM bus_event WHERE topic = '\(topic)'", inDatabaseOf: url)
            }
            try await eventually("the expired events are deleted", limit: .seconds(30)) {
                try await count(Self.expiring) == 0
            }
            #expect(try await count(Self.kept) == 3)
        }
    }

    /// Three events in a topic that keeps them for a second, three in one that keeps them for ever; all of them
    /// stored (a topic's expired events are deleted when it is published to, or by the service).
    static func publishToBothTopics(_ admin: PlatformClient) async throws {
        try await ServeReplicaTests.prepareLoad(admin)
        _ = try await admin.call("POST", ["topics"], body: ["Name": expiring, "RetentionSeconds": 1])
        _ = try await admin.call("POST", ["topics"], body: ["Name": kept])
        for topic in [expiring, kept] {
            for index in 0..<3 {
                _ = try await admin.call(
                    "POST",
                    ["topics", topic, "events"],
                    json: ServeReplicaTests.event(id: "\(topic)-\(index)")
                )
            }
        }
    }
}
