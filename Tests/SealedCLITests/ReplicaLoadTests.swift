import Foundation
import KMS
import PlatformClient
import SealedTesting
import Synchronization
import Testing

/// Issue 19's concurrency run: two `sealed serve --database …` replicas on one PostgreSQL database, each appending
/// audit records (KMS Decrypt) and bus events (single publishes) as fast as its clients can for
/// `SEALED_REPLICA_LOAD_SECONDS` (default 30), with digests signed during the load. Afterwards the one audit chain
/// verifies and holds exactly one successful record per acknowledged call, and the topic's offsets run 1…n with every
/// acknowledged event stored once, at the offset it was acknowledged with.
///
/// `scripts/test` runs this suite alone, after the others, so that its load does not slow theirs. Skipped without
/// `SEALED_TEST_POSTGRES_URL`, failed without it under `CI=true`.
@Suite(.serialized)
struct ReplicaLoadTests {
    /// What the clients saw: acknowledged publishes (event id → offset), acknowledged Decrypts per replica, failures.
    final class Tally: Sendable {
        let published = Mutex<[String: UInt64]>([:])
        let decrypts = Mutex<[String: Int]>([:])
        let failures = Mutex<[String]>([])
    }

    static var seconds: Int {
        ProcessInfo.processInfo.environment["SEALED_REPLICA_LOAD_SECONDS"].flatMap { Int($0) } ?? 30
    }

    @Test func twoReplicasFlatOutKeepOneChainAndGapFreeOffsets() async throws {
        try await ServeReplicaTests.withReplicas(arguments: ["--digest-interval", "5"]) { a, second, _ in
            let b = try #require(second)
            let adminA = try a.client(try a.administrator)
            let adminB = try b.client(try b.administrator)
            try await ServeReplicaTests.prepareLoad(adminA)
            let kmsA = try a.kms()
            let keyID = try #require(try await kmsA.createKey(CreateKeyRequest(description: "load")).keyMetadata?.keyId)
            let blob = try #require(try await kmsA.encrypt(EncryptRequest(keyId: keyID, plaintext: Self.plaintext)).ciphertextBlob)
            try await eventually("B knows the event type created on A", limit: .seconds(30)) {
                (try? await adminB.call("GET", ["catalog", "event-types", "load.tick.sent"])) != nil
            }

            let tally = Tally()
            let end = ContinuousClock.now.advanced(by: .seconds(Self.seconds))
            await Self.load(blob, on: [("a", adminA, try a.kms()), ("b", adminB, try b.kms())], until: end, into: tally)
            let failures = tally.failures.withLock { $0 }
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            let published = tally.published.withLock { $0 }
            let decrypts = tally.decrypts.withLock { $0 }
            for name in ["a", "b"] {
                let publishedThere = published.keys.filter { $0.hasPrefix(name) }.count
                #expect(decrypts[name, default: 0] > 0, "no Decrypt acknowledged on \(name)")
                #expect(publishedThere > 0, "no publish acknowledged on \(name)")
            }

            // The bus: offsets 1…n, each acknowledged event stored once at its offset, nothing else stored.
            let events = try await EventPlatformTests.readAll(ServeReplicaTests.topic, client: adminB)
            #expect(events.map(\.offset) == (0..<events.count).map { UInt64($0 + 1) }, "offsets have a gap")
            var stored: [String: UInt64] = [:]
            for event in events {
                #expect(stored.updateValue(event.offset, forKey: event.id) == nil, "\(event.id) stored twice")
            }
            #expect(stored == published, "stored \(stored.count) events, acknowledged \(published.count)")

            // The audit trail: one chain across both replicas, one successful record per acknowledged call.
            let trail = try await Self.trail(through: a)
            #expect(trail.digests > 0, "no digest signed during the load")
            #expect(trail.decrypts == decrypts.values.reduce(0, +))
            #expect(trail.publishes == published.count)
            try await ServeReplicaTests.verifyAudit(through: b, keyFrom: a)
            print(
                "ReplicaLoadTests: \(Self.seconds) s, \(published.count) events and \(decrypts.values.reduce(0, +)) "
                    + "Decrypts acknowledged (A \(decrypts["a", default: 0]), B \(decrypts["b", default: 0])), "
                    + "\(trail.records) audit records, \(trail.digests) digests"
            )
            #expect(a.stop() == 0)
            #expect(b.stop() == 0)
        }
    }
    static let plaintext = Data("flat out".utf8)

    /// An export through `replica`: its records, digests, and successful Decrypt and PublishEvents records (intents of
    /// effects not counted).
    static func trail(through replica: ServeProcess) async throws -> (records: Int, digests: Int, decrypts: Int, publishes: Int) {
        let export = try await ServeReplicaTests.export(through: replica)
        defer { try? FileManager.default.removeItem(at: export.file) }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: export.file)) as? [String: Any])
        let records = try #require(json["Records"] as? [[String: Any]])
        let succeeded = { (name: String) in
            records.filter {
                let phase = ($0["additionalEventData"] as? [String: Any])?["auditPhase"] as? String
                return $0["eventName"] as? String == name && $0["errorCode"] == nil && phase != "Intent"
            }.count
        }
        return (records.count, export.digests, succeeded("Decrypt"), succeeded("PublishEvents"))
    }

    /// Three publishers and three decrypters on each replica (name, `/v1` client, KMS client) until `end`.
    static func load(_ blob: Data, on replicas: [(String, PlatformClient, KMSClient)], until end: ContinuousClock.Instant, into tally: Tally) async {
        await withTaskGroup(of: Void.self) { group in
            for (name, client, kms) in replicas {
                for worker in 0..<3 {
                    group.addTask { await publish(as: "\(name)\(worker)", through: client, until: end, into: tally) }
                    group.addTask { await decrypt(blob, as: name, through: kms, until: end, into: tally) }
                }
            }
        }
    }

    /// Publishes events `PREFIX-0`, `PREFIX-1`, … one per request until `end`; stops at the first failure.
    static func publish(as prefix: String, through client: PlatformClient, until end: ContinuousClock.Instant, into tally: Tally) async {
        var step = 0
        while ContinuousClock.now < end {
            let id = "\(prefix)-\(step)"
            step += 1
            do {
                let answer = try await client.call("POST", ["topics", ServeReplicaTests.topic, "events"], json: ServeReplicaTests.event(id: id))
                guard let offset = ((answer["Offsets"] as? [Any])?.first as? NSNumber)?.uint64Value else {
                    tally.failures.withLock { $0.append("publish \(id) answered no offset: \(answer)") }
                    return
                }
                tally.published.withLock { $0[id] = offset }
            } catch {
                tally.failures.withLock { $0.append("publish \(id): \(error)") }
                return
            }
        }
    }

    /// Decrypts `blob` until `end`, counting each acknowledged Decrypt under `name`; stops at the first failure.
    static func decrypt(_ blob: Data, as name: String, through kms: KMSClient, until end: ContinuousClock.Instant, into tally: Tally) async {
        while ContinuousClock.now < end {
            do {
                let opened = try await kms.decrypt(DecryptRequest(ciphertextBlob: blob))
                guard opened.plaintext == plaintext else {
                    tally.failures.withLock { $0.append("Decrypt on \(name) answered other plaintext") }
                    return
                }
                tally.decrypts.withLock { $0[name, default: 0] += 1 }
            } catch {
                tally.failures.withLock { $0.append("Decrypt on \(name): \(error)") }
                return
            }
        }
    }
}
