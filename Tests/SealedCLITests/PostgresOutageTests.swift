import Foundation
import KMS
import PlatformClient
import SealedTesting
import Synchronization
import Testing

/// The platform's database cut off for a few seconds under a mixed load on two `sealed serve --database …` replicas
/// (no new connection accepted, every session ended; other tests' databases on the shared server are untouched), then
/// let in again: requests should fail with 503 while it is cut off (never 500), the same replicas serve again afterwards
/// without a restart, nothing acknowledged is lost, and the one audit chain verifies.
@Suite(.serialized)
struct PostgresOutageTests {
    /// Also: no request waits past a client's deadline (each worker's client gives up after 20 s, which would be a
    /// failure here), and both replicas stop on SIGTERM afterwards (``ServeProcess/stop()`` kills, and reports it, a
    /// replica still running a minute later).
    @Test
    func cuttingTheDatabaseOffUnderLoadFailsWith503AndLosesNothing() async throws {
        guard let postgres = try PostgresFixture.located() else { return }
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

                // The outage, scoped to this test's database (other tests share the server): no new connection is
                // accepted, and every session of the replicas is ended; four seconds later connections are allowed again.
                let name = try #require(a.database.flatMap { URLComponents(string: $0)?.path.dropFirst() })
                try await postgres.administer("ALTER DATABASE \"\(name)\" ALLOW_CONNECTIONS false")
                do {
                    try await postgres.administer(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'"
                    )
                    try await Task.sleep(for: .seconds(4))
                } catch {
                    try? await postgres.administer("ALTER DATABASE \"\(name)\" ALLOW_CONNECTIONS true")
                    throw error
                }
                try await postgres.administer("ALTER DATABASE \"\(name)\" ALLOW_CONNECTIONS true")
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
            print(
                "note: \(ledger.unavailable.withLock { $0 }) requests answered 503 during the outage, the slowest after "
                    + "\(ledger.slowest503.withLock { $0 })"
            )

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
            for (name, replica) in [("B", b), ("A", a)] {
                let status = replica.stop()
                let errors = replica.errors.suffix(2_000)
                #expect(status == 0, "replica \(name) did not stop on SIGTERM (status \(status)); its log: \(errors)")
            }
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
        let started = ContinuousClock.now
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
            ledger.record(error, of: id, after: .now - started)
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
    /// The longest a step took that ended in a 503 (reported, not asserted: no timed assertions).
    let slowest503 = Mutex(Duration.zero)

    func successes(on replica: String) -> Int { succeeded.withLock { $0[replica, default: 0] } }

    /// A 503 (KMS JSON or `/v1`) is what an outage may answer; anything else is a failure of the test.
    func record(_ error: any Error, of id: String, after duration: Duration) {
        let status =
            switch error {
            case let error as KMSError: error.statusCode
            case let error as PlatformError: error.statusCode
            default: 0
            }
        if status == 503 {
            unavailable.withLock { $0 += 1 }
            slowest503.withLock { $0 = max($0, duration) }
        } else {
            failures.withLock { $0.append("\(id): \(error)") }
        }
    }
}
