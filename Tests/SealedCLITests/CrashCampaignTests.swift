import Foundation
import KMS
import PlatformClient
import SealedTesting
import SigV4
import Synchronization
import Testing

/// The crash campaign: a mixed load (KMS keys and data keys, users, event types, access requests approved and
/// revoked, publishes, a consumer group's fetches and commits) against a live `sealed serve`, `kill -9` at a random
/// moment, a restart, again and again. After every kill the audit chain verifies; after every restart everything
/// acknowledged is there exactly once, every access request agrees with its reader role's trust policy, and the
/// consumer group's committed offset has not moved back.
///
/// `SEALED_CRASH_ROUNDS` sets the number of kills (8 by default, 50 for the full campaign); `SEALED_CRASH_SEED`
/// replays a campaign (the seed is printed with every failure).
@Suite struct CrashCampaignTests {
    typealias Server = EventPlatformTests.Server

    static let rounds = ProcessInfo.processInfo.environment["SEALED_CRASH_ROUNDS"].flatMap(Int.init) ?? 8
    static let seed = ProcessInfo.processInfo.environment["SEALED_CRASH_SEED"].flatMap(UInt64.init)
        ?? UInt64.random(in: 1...UInt64.max)
    static let topic = "campaign"
    static let readType = "pay.card.captured"

    @Test func everyAcknowledgedOperationSurvivesRepeatedKills() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        var random = SeededGenerator(seed: Self.seed)
        let ledger = Ledger()
        let reviewer = try await Self.setUp(server)
        var committedFloor: UInt64 = 0

        for round in 1...Self.rounds {
            if round > 1 { try server.start() }
            let load = try Load(server: server, reviewer: reviewer, ledger: ledger, round: round)
            let workers = Task { await load.run() }
            if round == 1 {
                // On a loaded machine a short window can pass before some kind of operation is acknowledged: the
                // first round lets each kind through once, so the campaign covers them all whatever the machine.
                try await eventually("every kind of operation acknowledged once", limit: .seconds(120)) {
                    ledger.counts.values.allSatisfy { $0 > 0 }
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...900, using: &random)))
            server.kill9()
            await workers.value

            let verify = try await ESDKCommandTests.sealed(["audit", "verify", "--data-dir", server.dataDirectory.path])
            let report = String(decoding: verify.stdout, as: UTF8.self)
            #expect(verify.status == 0, "round \(round), seed \(Self.seed): \(report)\(verify.stderr)")

            try server.start()
            committedFloor = try await Self.check(
                server,
                ledger,
                committedFloor: committedFloor,
                context: "round \(round), seed \(Self.seed)"
            )
            _ = server.stop()
        }
        // Every kind of operation was acknowledged at least once, or the campaign proved nothing about it.
        let counts = ledger.counts
        for (kind, count) in counts.sorted(by: { $0.key < $1.key }) {
            #expect(count > 0, "no \(kind) acknowledged in \(Self.rounds) rounds (seed \(Self.seed)): \(counts)")
        }
    }

    // MARK: - Set-up

    /// The owning team with a reviewer, two domains and their event types, the topic; the reviewer's credentials.
    static func setUp(_ server: Server) async throws -> Credentials {
        let admin = try server.client(try server.administrator)
        _ = try await admin.call("POST", ["iam", "teams"], body: ["TeamName": "owners"])
        let created = try await admin.call("POST", ["iam", "users"], body: ["UserName": "reviewer", "Team": "owners"])
        for (domain, type, classification) in [("pay", readType, "confidential"), ("load", "load.tick.sent", "public")] {
            _ = try await admin.call("POST", ["catalog", "domains"], body: ["Domain": domain, "Owner": "owners"])
            _ = try await admin.call(
                "POST",
                ["catalog", "event-types"],
                body: ["EventType": type, "Domain": domain, "Classification": classification]
            )
        }
        _ = try await admin.call("POST", ["topics"], body: ["Name": topic])
        return Credentials(
            accessKeyId: try #require(created["AccessKeyId"] as? String),
            secretAccessKey: try #require(created["SecretAccessKey"] as? String)
        )
    }

    // MARK: - The checks after a restart

    /// Checks everything the ledger holds; returns the committed offset of the group, the floor for the next round.
    static func check(_ server: Server, _ ledger: Ledger, committedFloor: UInt64, context: String) async throws
        -> UInt64
    {
        let admin = try server.client(try server.administrator)
        let kms = try server.kms()
        let state = ledger.state.withLock { $0 }

        // Users: each acknowledged one listed exactly once.
        let users = (try await admin.call("GET", ["iam", "users"])["Users"] as? [[String: Any]] ?? [])
            .compactMap { $0["UserName"] as? String }
        for name in state.users {
            #expect(users.filter { $0 == name }.count == 1, "user \(name): \(context)")
        }

        // Event types: each acknowledged one is in the catalog with its reader role.
        for type in state.eventTypes {
            let described = try await admin.call("GET", ["catalog", "event-types", type])
            let role = try #require((described["ReaderRoleArn"] as? String)?.split(separator: "/").last, "\(type)")
            _ = try await admin.call("GET", ["iam", "roles", String(role)])
        }

        // KMS: each acknowledged key is there; each acknowledged data key decrypts to its plaintext.
        for keyId in state.keys {
            let described = try await kms.describeKey(DescribeKeyRequest(keyId: keyId))
            #expect(described.keyMetadata?.keyId == keyId, "key \(keyId): \(context)")
        }
        for dataKey in state.dataKeys {
            let opened = try await kms.decrypt(
                DecryptRequest(ciphertextBlob: dataKey.blob, encryptionContext: ["eventType": readType])
            )
            #expect(opened.plaintext == dataKey.plaintext, "a data key opened to other bytes: \(context)")
        }

        // Access: acknowledged decisions hold, and every request agrees with the reader role's trust policy.
        let requests = try await admin.call("GET", ["access", "requests"])["AccessRequests"] as? [[String: Any]] ?? []
        var status: [String: String] = [:]
        var requester: [String: String] = [:]
        for request in requests {
            guard let id = request["RequestId"] as? String else { continue }
            status[id] = request["Status"] as? String
            requester[id] = request["Requester"] as? String
        }
        for id in state.approved {
            // A revocation sent but not acknowledged (the kill came first) may or may not have happened.
            let expected: Set<String> =
                state.revoked.contains(id)
                ? ["revoked"] : state.revoking.contains(id) ? ["approved", "revoked"] : ["approved"]
            #expect(
                status[id].map(expected.contains) == true,
                "request \(id) is \(status[id] ?? "missing"), \(expected) expected: \(context)"
            )
        }
        let type = try await admin.call("GET", ["catalog", "event-types", readType])
        let roleName = try #require((type["ReaderRoleArn"] as? String)?.split(separator: "/").last)
        let trusted = try trustedPrincipals(try await admin.call("GET", ["iam", "roles", String(roleName)]))
        for (id, state) in status {
            let principal = try #require(requester[id])
            let named = trusted.contains(principal)
            #expect(named == (state == "approved"), "request \(id) is \(state), trust policy names it: \(named); \(context)")
        }

        // Events: each acknowledged one at its offset, none stored twice, offsets dense.
        let events = try await EventPlatformTests.readAll(topic, client: admin)
        var stored: [String: UInt64] = [:]
        for event in events {
            #expect(stored.updateValue(event.offset, forKey: event.id) == nil, "\(event.id) is stored twice: \(context)")
        }
        #expect(events.map(\.offset) == (0..<events.count).map { UInt64($0 + 1) }, "offsets not dense: \(context)")
        for (id, offset) in state.published {
            #expect(stored[id] == offset, "\(id) acknowledged at \(offset), found at \(stored[id] ?? 0): \(context)")
        }

        // The group: never behind what was acknowledged, never back.
        let group = try await admin.call("GET", ["topics", topic, "groups", "g"])
        let committed = (group["CommittedOffset"] as? NSNumber)?.uint64Value ?? 0
        #expect(committed >= state.committed, "committed \(committed) < acknowledged \(state.committed): \(context)")
        #expect(committed >= committedFloor, "committed moved back from \(committedFloor) to \(committed): \(context)")
        return committed
    }

    /// The principals a trust policy names (`Statement[].Principal.AWS`).
    static func trustedPrincipals(_ role: [String: Any]) throws -> Set<String> {
        let fields = role["Role"] as? [String: Any] ?? role
        let text = try #require(fields["AssumeRolePolicyDocument"] as? String)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let statements = document["Statement"] as? [[String: Any]] ?? []
        return Set(statements.compactMap { ($0["Principal"] as? [String: Any])?["AWS"] as? String })
    }
}

extension CrashCampaignTests {
    /// What the server acknowledged, across every round.
    final class Ledger: Sendable {
        struct State {
            var users: [String] = []
            var eventTypes: [String] = []
            var keys: [String] = []
            var dataKeys: [(blob: Data, plaintext: Data)] = []
            var approved: [String] = []
            var revoking: Set<String> = []
            var revoked: Set<String> = []
            var published: [String: UInt64] = [:]
            var committed: UInt64 = 0
        }

        let state = Mutex(State())

        func note(_ change: (inout State) -> Void) { state.withLock { change(&$0) } }

        /// How many operations of each kind were acknowledged.
        var counts: [String: Int] {
            state.withLock { state in
                [
                    "users": state.users.count, "event types": state.eventTypes.count, "keys": state.keys.count,
                    "data keys": state.dataKeys.count, "approvals": state.approved.count,
                    "revocations": state.revoked.count, "events": state.published.count,
                    "commits": state.committed > 0 ? 1 : 0,
                ]
            }
        }
    }

    /// One round's workers: each repeats its operation until a call fails (the kill), noting what was acknowledged.
    struct Load: Sendable {
        let admin: PlatformClient
        let reviewer: PlatformClient
        let kms: KMSClient
        let server: Server.Endpoint
        let ledger: Ledger
        let round: Int

        init(server: Server, reviewer: Credentials, ledger: Ledger, round: Int) throws {
            admin = try server.client(try server.administrator)
            self.reviewer = try server.client(reviewer)
            kms = try server.kms()
            self.server = Server.Endpoint(server)
            self.ledger = ledger
            self.round = round
        }

        func run() async {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await repeatUntilRefused(keys) }
                group.addTask { await repeatUntilRefused(identities) }
                group.addTask { await repeatUntilRefused(access) }
                group.addTask { await repeatUntilRefused(publish) }
                group.addTask { await repeatUntilRefused(publish) }
                group.addTask { await repeatUntilRefused(consume) }
            }
        }

        func repeatUntilRefused(_ operation: @Sendable (Int) async throws -> Void) async {
            for step in 0..<100_000 {
                do { try await operation(step) } catch { return }
            }
        }

        var name: String { "r\(round)" }

        @Sendable func keys(_ step: Int) async throws {
            if step % 4 == 0 {
                let key = try await kms.createKey(CreateKeyRequest())
                if let id = key.keyMetadata?.keyId { ledger.note { $0.keys.append(id) } }
            } else {
                let dataKey = try await kms.generateDataKey(
                    GenerateDataKeyRequest(
                        keyId: "alias/sealed/pay",
                        encryptionContext: ["eventType": CrashCampaignTests.readType],
                        keySpec: .aes256
                    )
                )
                if let blob = dataKey.ciphertextBlob, let plaintext = dataKey.plaintext, step % 3 == 1 {
                    ledger.note { $0.dataKeys.append((blob, plaintext)) }
                }
            }
        }

        @Sendable func identities(_ step: Int) async throws {
            if step % 3 == 2 {
                let type = "load.\(name)-\(step).sent"
                _ = try await admin.call(
                    "POST",
                    ["catalog", "event-types"],
                    body: ["EventType": type, "Domain": "load", "Classification": "public"]
                )
                ledger.note { $0.eventTypes.append(type) }
            } else {
                let user = "\(name)-u\(step)"
                _ = try await admin.call("POST", ["iam", "users"], body: ["UserName": user])
                ledger.note { $0.users.append(user) }
            }
        }

        /// A new user asks for the confidential type; the reviewer approves; every other grant is revoked.
        @Sendable func access(_ step: Int) async throws {
            let user = "\(name)-reader\(step)"
            let created = try await admin.call("POST", ["iam", "users"], body: ["UserName": user])
            ledger.note { $0.users.append(user) }
            let credentials = Credentials(
                accessKeyId: created["AccessKeyId"] as? String ?? "",
                secretAccessKey: created["SecretAccessKey"] as? String ?? ""
            )
            let requester = try server.client(credentials)
            let request = try await requester.call(
                "POST",
                ["access", "requests"],
                body: ["EventType": CrashCampaignTests.readType, "Justification": "campaign", "DurationSeconds": 3600]
            )
            let id = request["RequestId"] as? String ?? ""
            let approved = try await reviewer.call("POST", ["access", "requests", id, "approve"], body: [:])
            guard approved["Status"] as? String == "approved" else { return }
            // Every other grant of the whole campaign is revoked (counted across rounds: a round cut short on a
            // busy machine may acknowledge a single approval).
            let count = ledger.state.withLock { state in
                state.approved.append(id)
                return state.approved.count
            }
            if count % 2 == 1 {
                ledger.note { $0.revoking.insert(id) }
                _ = try await reviewer.call("POST", ["access", "requests", id, "revoke"], body: ["Comment": "done"])
                ledger.note { $0.revoked.insert(id) }
            }
        }

        @Sendable func publish(_ step: Int) async throws {
            let ids = (0..<(step % 4 == 3 ? 3 : 1)).map { "\(name)-\(UUID().uuidString.prefix(8))-\($0)" }
            let answer = try await admin.call(
                "POST",
                ["topics", CrashCampaignTests.topic, "events"],
                json: EventPlatformTests.loadEvents(ids)
            )
            let offsets = (answer["Offsets"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.uint64Value }
            guard offsets.count == ids.count else { return }
            ledger.note { state in for (id, offset) in zip(ids, offsets) { state.published[id] = offset } }
        }

        @Sendable func consume(_ step: Int) async throws {
            let fetched = try await admin.call(
                "POST",
                ["topics", CrashCampaignTests.topic, "groups", "g", "fetch"],
                query: [("limit", "5")]
            )
            let offsets = (fetched["Events"] as? [[String: Any]] ?? []).compactMap {
                ($0["Offset"] as? NSNumber)?.uint64Value
            }
            guard let last = offsets.last else {
                try await Task.sleep(for: .milliseconds(20))
                return
            }
            _ = try await admin.call(
                "POST",
                ["topics", CrashCampaignTests.topic, "groups", "g", "commit"],
                body: ["Offset": last]
            )
            ledger.note { $0.committed = max($0.committed, last) }
        }
    }
}
