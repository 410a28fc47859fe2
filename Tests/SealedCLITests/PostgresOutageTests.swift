import Foundation
import KMS
import PlatformClient
import SealedTesting
import Synchronization
import Testing

/// PostgreSQL stopped for a few seconds under a mixed load on two `sealed serve --database …` replicas, then started
/// again: requests fail with 503 while it is down (never 500), the same replicas serve again afterwards without a
/// restart, nothing acknowledged is lost, and the one audit chain verifies. The test stops and starts the cluster
/// `scripts/test` started (shared with other tests), so it always starts it again, and runs serialized with the other
/// replica tests.
@Suite(.serialized)
struct PostgresOutageTests {
    // Disabled: it stops the cluster every PostgreSQL test shares, and suites outside this one run in parallel. Its
    // first run showed the outage and the recovery (both replicas served the load again after the restart) but hung in
    // `ChildProcess.run` of `runuser … pg_ctl restart`: the restarted server kept the pipe open (fixed since in
    // ChildProcess). To be enabled with an outage scoped to the test's own database (`ALLOW_CONNECTIONS false` and its
    // sessions terminated) instead of a cluster restart.
    @Test(.disabled("stops the shared PostgreSQL cluster; needs an outage scoped to its own database"))
    func restartingPostgreSQLUnderLoadFailsWith503AndLosesNothing() async throws {
        guard let cluster = try PostgresCluster.located() else { return }
        try await ServeReplicaTests.withReplicas { a, second, _ in
            let b = try #require(second)
            let adminA = try a.client(try a.administrator)
            let adminB = try b.client(try b.administrator)
            try await ServeReplicaTests.prepareLoad(adminA)
            let keyID = try #require(
                try await a.kms().createKey(CreateKeyRequest(description: "outage")).keyMetadata?.keyId
            )
            try await eventually("B knows the event type", limit: .seconds(30)) {
                (try? await adminB.call("GET", ["catalog", "event-types", "load.tick.sent"])) != nil
            }

            // Two workers per replica: each step encrypts, decrypts what it sealed, and publishes one event.
            let ledger = OutageLedger()
            let replicas = [("a", adminA, try a.kms()), ("b", adminB, try b.kms())]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, admin, kms) in replicas {
                    for worker in 0..<2 {
                        group.addTask {
                            var step = 0
                            while !ledger.finished.withLock({ $0 }) && !Task.isCancelled {
                                step += 1
                                await Self.step(id: "\(name)\(worker)-\(step)", replica: name, admin, kms, keyID, ledger)
                            }
                        }
                    }
                }
                try await eventually("the load runs on both replicas", limit: .seconds(60)) {
                    ledger.successes(on: "a") >= 10 && ledger.successes(on: "b") >= 10
                }

                try await cluster.stop()
                do {
                    try await Task.sleep(for: .seconds(4))
                } catch {
                    try await cluster.start()
                    throw error
                }
                try await cluster.start()
                let before = (ledger.successes(on: "a"), ledger.successes(on: "b"))
                // The same processes serve again: the pool, the change feed and the leadership reconnect by
                // themselves.
                try await eventually("both replicas serve again", limit: .seconds(60), every: .milliseconds(200)) {
                    ledger.successes(on: "a") >= before.0 + 10 && ledger.successes(on: "b") >= before.1 + 10
                }
                ledger.finished.withLock { $0 = true }
                try await group.waitForAll()
            }

            let failures = ledger.failures.withLock { $0 }
            #expect(failures.isEmpty, "failures other than 503: \(failures.prefix(5))")
            print("note: \(ledger.unavailable.withLock { $0 }) requests answered 503 during the outage")

            // Every acknowledged publish is stored once, at the offset it was acknowledged with; no gaps.
            let events = try await EventPlatformTests.readAll(ServeReplicaTests.topic, client: adminB)
            #expect(events.map(\.offset) == (0..<events.count).map { UInt64($0 + 1) }, "offsets have a gap")
            var stored: [String: UInt64] = [:]
            for event in events {
                #expect(stored.updateValue(event.offset, forKey: event.id) == nil, "\(event.id) stored twice")
            }
            for (id, offset) in ledger.acknowledged.withLock({ $0 }) {
                #expect(stored[id] == offset, "\(id) acknowledged at \(offset), stored at \(stored[id] ?? 0)")
            }
            try await ServeReplicaTests.verifyAudit(through: a, keyFrom: b)
            #expect(b.stop() == 0)
            #expect(a.stop() == 0)
        }
    }

    /// One step of a worker: Encrypt, Decrypt, publish; each outcome counted in `ledger`.
    static func step(
        id: String,
        replica: String,
        _ admin: PlatformClient,
        _ kms: KMSClient,
        _ keyID: String,
        _ ledger: OutageLedger
    ) async {
        do {
            let sealed = try await kms.encrypt(EncryptRequest(keyId: keyID, plaintext: Data(id.utf8)))
            let opened = try await kms.decrypt(DecryptRequest(ciphertextBlob: try #require(sealed.ciphertextBlob)))
            #expect(opened.plaintext == Data(id.utf8))
            let answer = try await admin.call(
                "POST",
                ["topics", ServeReplicaTests.topic, "events"],
                json: ServeReplicaTests.event(id: id)
            )
            let offset = try #require(((answer["Offsets"] as? [Any])?.first as? NSNumber)?.uint64Value)
            ledger.acknowledged.withLock { $0[id] = offset }
            ledger.succeeded.withLock { $0[replica, default: 0] += 1 }
        } catch {
            ledger.record(error, of: id)
        }
    }
}

/// What the workers saw: acknowledged publishes, steps that succeeded per replica, 503s, and any other failure.
final class OutageLedger: Sendable {
    let acknowledged = Mutex<[String: UInt64]>([:])
    let succeeded = Mutex<[String: Int]>([:])
    let unavailable = Mutex(0)
    let failures = Mutex<[String]>([])
    let finished = Mutex(false)

    func successes(on replica: String) -> Int { succeeded.withLock { $0[replica, default: 0] } }

    /// A 503 (KMS JSON or `/v1`) is what an outage may answer; anything else is a failure of the test.
    func record(_ error: any Error, of id: String) {
        let status =
            switch error {
            case let error as KMSError: error.statusCode
            case let error as PlatformError: error.statusCode
            default: 0
            }
        if status == 503 {
            unavailable.withLock { $0 += 1 }
        } else {
            failures.withLock { $0.append("\(id): \(error)") }
        }
    }
}

/// The PostgreSQL cluster `scripts/test` started: its data directory (`SEALED_TEST_POSTGRES_DATA`), its `pg_ctl`
/// (`SEALED_TEST_POSTGRES_CTL`) and the user that owns it when the tests run as root (`SEALED_TEST_POSTGRES_OS_USER`).
struct PostgresCluster: Sendable {
    let data: String
    let control: String
    let user: String?

    /// The cluster, or `nil` on a local run that did not say where it is (a CI run throws instead).
    static func located() throws -> PostgresCluster? {
        guard try PostgresFixture.located() != nil else { return nil }
        let environment = ProcessInfo.processInfo.environment
        guard let data = environment["SEALED_TEST_POSTGRES_DATA"], let control = environment["SEALED_TEST_POSTGRES_CTL"]
        else {
            if TestEnvironment.isCI {
                throw TestEnvironment.Missing(description: "SEALED_TEST_POSTGRES_DATA or _CTL is unset with CI=true")
            }
            print("note: skipping, SEALED_TEST_POSTGRES_DATA and SEALED_TEST_POSTGRES_CTL unset (scripts/test sets them)")
            return nil
        }
        let user = environment["SEALED_TEST_POSTGRES_OS_USER"].flatMap { $0.isEmpty ? nil : $0 }
        return PostgresCluster(data: data, control: control, user: user)
    }

    /// `pg_ctl stop -m fast`: sessions are ended at once, as when the server goes away.
    func stop() async throws { try await pgctl(["-D", data, "-m", "fast", "-w", "-t", "60", "stop"]) }

    /// `pg_ctl restart` of the stopped cluster: it starts with the options it last ran with (`postmaster.opts`),
    /// logging where `scripts/test` logs.
    func start() async throws {
        let log = URL(fileURLWithPath: data).deletingLastPathComponent().appendingPathComponent("postgres.log").path
        try await pgctl(["-D", data, "-l", log, "-w", "-t", "60", "restart"])
    }

    private func pgctl(_ arguments: [String]) async throws {
        let run =
            if let user {
                try await ChildProcess.run(
                    URL(fileURLWithPath: "/usr/sbin/runuser"),
                    arguments: ["-u", user, "--", control] + arguments,
                    deadline: .seconds(90)
                )
            } else {
                try await ChildProcess.run(URL(fileURLWithPath: control), arguments: arguments, deadline: .seconds(90))
            }
        try #require(run.status == 0, "pg_ctl \(arguments.joined(separator: " ")): \(run.errors)")
    }
}
