import Foundation
import KMS
import PlatformClient
import SealedTesting
import SigV4
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Two `sealed serve --database …` replicas on one PostgreSQL database (the cluster `scripts/test` starts), with real
/// clients alternating between them: our KMS client and CLI, and boto3 (the peers' Python). Skipped without
/// `SEALED_TEST_POSTGRES_URL`, failed without it under `CI=true`.
@Suite(.serialized)
struct ServeReplicaTests {
    static let topic = "replicated"

    /// Keys, identities, the access workflow, the bus and the audit trail, each used across the two replicas.
    @Test func twoReplicasServeOnePlatform() async throws {
        try await Self.withTwoReplicas { a, b in
            // Keys: created on A, used on B, opened on A; boto3 on B opens what our client sealed on A.
            let kmsA = try a.kms()
            let kmsB = try b.kms()
            let keyID = try #require(
                try await kmsA.createKey(CreateKeyRequest(description: "replicated")).keyMetadata?.keyId
            )
            let sealed = try #require(
                try await kmsB.encrypt(
                    EncryptRequest(keyId: keyID, plaintext: Data("across".utf8), encryptionContext: ["tenant": "t"])
                ).ciphertextBlob
            )
            let opened = try await kmsA.decrypt(
                DecryptRequest(ciphertextBlob: sealed, encryptionContext: ["tenant": "t"])
            )
            #expect(opened.plaintext == Data("across".utf8))
            let boto = try await Self.boto3(
                b,
                ["op": "decrypt", "blob": sealed.base64EncodedString(), "context": ["tenant": "t"]]
            )
            #expect(boto["plaintext"] as? String == Data("across".utf8).base64EncodedString(), "\(boto)")

            // A key disabled on A is refused on B from the next request on.
            _ = try await kmsA.disableKey(DisableKeyRequest(keyId: keyID))
            await #expect(throws: (any Error).self) {
                _ = try await kmsB.encrypt(EncryptRequest(keyId: keyID, plaintext: Data("no".utf8)))
            }

            // An access key deleted on A is refused on B at once.
            let adminA = try a.client(try a.administrator)
            let adminB = try b.client(try b.administrator)
            let temporary = try await a.user("temporary", by: adminA)
            let temporaryOnB = try KMSClient(
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(temporary),
                endpoint: b.endpoint,
                options: ClientOptions(maxAttempts: 1, timeout: .seconds(20))
            )
            let before = try await Self.refusalCode { _ = try await temporaryOnB.listKeys(ListKeysRequest()) }
            #expect(before == "AccessDeniedException", "known but without policies: \(before)")
            _ = try await adminA.call("DELETE", ["iam", "access-keys", temporary.accessKeyId])
            let after = try await Self.refusalCode { _ = try await temporaryOnB.listKeys(ListKeysRequest()) }
            #expect(after == "UnrecognizedClientException", "deleted on A: \(after)")

            // The access workflow: requested on B, approved on A, the grant opens on B (boto3 STS), revoked on B,
            // refused on A.
            _ = try await adminA.call("POST", ["iam", "teams"], body: ["TeamName": "owners"])
            let reviewer = try await Self.created(
                try await adminA.call("POST", ["iam", "users"], body: ["UserName": "reviewer", "Team": "owners"])
            )
            _ = try await adminA.call("POST", ["catalog", "domains"], body: ["Domain": "pay", "Owner": "owners"])
            let type = "pay.card.captured"
            // The catalog B keeps in memory follows A's commit through the change feed (bounded wait).
            try await eventually("B knows the domain created on A", limit: .seconds(30)) {
                (try? await adminB.call(
                    "POST",
                    ["catalog", "event-types"],
                    body: ["EventType": type, "Domain": "pay", "Classification": "confidential"]
                )) != nil
            }
            let described = try await adminA.call("GET", ["catalog", "event-types", type])
            let roleArn = try #require(described["ReaderRoleArn"] as? String)
            let reader = try await a.user("reader", by: adminA)
            let requesterB = try b.client(reader)
            let request = try await requesterB.call(
                "POST",
                ["access", "requests"],
                body: ["EventType": type, "Justification": "replicas", "DurationSeconds": 3600]
            )
            let requestID = try #require(request["RequestId"] as? String)
            let reviewerA = try a.client(reviewer)
            try await eventually("A knows the request made on B", limit: .seconds(30)) {
                let approved = try? await reviewerA.call(
                    "POST",
                    ["access", "requests", requestID, "approve"],
                    body: [:]
                )
                return approved?["Status"] as? String == "approved"
            }
            // The trust policy's version is checked on every AssumeRole: the grant counts at once on B, and its
            // revocation on B at once on A (no wait for the change feed).
            let assumed = try await Self.boto3(b, ["op": "assume", "role": roleArn], as: reader)
            #expect(assumed["ok"] as? Bool == true, "the grant approved on A opens on B: \(assumed)")
            try await eventually("B knows the approval made on A", limit: .seconds(30)) {
                let revoked = try? await b.client(reviewer).call(
                    "POST",
                    ["access", "requests", requestID, "revoke"],
                    body: ["Comment": "done"]
                )
                return revoked?["Status"] as? String == "revoked"
            }
            let refused = try await Self.boto3(a, ["op": "assume", "role": roleArn], as: reader)
            #expect(refused["ok"] as? Bool == false, "the grant revoked on B is refused on A: \(refused)")
            #expect(refused["code"] as? String == "AccessDenied", "\(refused)")

            // The bus: a topic made on A, publishes alternating between the replicas get gap-free offsets, a
            // consumer group continues on A where it stopped on B.
            _ = try await adminA.call("POST", ["catalog", "domains"], body: ["Domain": "load", "Owner": "owners"])
            _ = try await adminA.call(
                "POST",
                ["catalog", "event-types"],
                body: ["EventType": "load.tick.sent", "Domain": "load", "Classification": "public"]
            )
            try await eventually("B knows the event type created on A", limit: .seconds(30)) {
                (try? await adminB.call("GET", ["catalog", "event-types", "load.tick.sent"])) != nil
            }
            _ = try await adminA.call("POST", ["topics"], body: ["Name": Self.topic])
            var offsets: [UInt64] = []
            for index in 1...10 {
                let client = index % 2 == 0 ? adminA : adminB
                let answer = try await client.call(
                    "POST",
                    ["topics", Self.topic, "events"],
                    json: Self.event(id: "e\(index)")
                )
                offsets += (answer["Offsets"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.uint64Value }
            }
            #expect(offsets == Array(1...10))
            #expect(try await Self.consume(b, max: 6) == Array(1...6))
            #expect(try await Self.consume(a, max: nil) == Array(7...10))

            // One audit chain: exported through B, verified with the public key A serves.
            try await Self.verifyAudit(through: b, keyFrom: a)

            // B's cached keys and access keys waited for reads of the cache epoch, and saw it move (the key disabled
            // and the access key deleted on A).
            let (status, metrics) = try await ConsoleCommandTests.get(b.endpoint.appendingPathComponent("metrics"))
            #expect(status == 200)
            let reads = Self.metric(#"sealed_cache_epoch_reads_total{outcome="read"}"#, in: metrics)
            let waiters = Self.metric("sealed_cache_epoch_waiters_total", in: metrics)
            let changes = Self.metric("sealed_cache_epoch_changes_total", in: metrics)
            #expect(
                reads > 0 && waiters >= reads && changes >= 2,
                "reads \(reads), waiters \(waiters), changes \(changes)"
            )
            #expect(Self.metric(#"sealed_cache_epoch_reads_total{outcome="failed"}"#, in: metrics) == 0)
            #expect(b.stop() == 0)
            #expect(a.stop() == 0)
        }
    }

    /// A replica given another root key is refused before it serves anything; so is the first start on an empty
    /// database without somewhere to write the administrator's credentials, and a start without a root key.
    @Test func aReplicaWithAnotherRootKeyOrWithoutOneIsRefused() async throws {
        guard let postgres = try PostgresFixture.located() else { return }
        try await postgres.withDatabase { url in
            let folder = try ESDKCommandTests.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let empty = try await ESDKCommandTests.sealed(
                ["serve", "--database", url, "--port", "0"],
                environment: ["SEALED_ROOT_KEY": Self.newRootKey()]
            )
            #expect(empty.status != 0)
            #expect(empty.stderr.contains("--admin-credentials-file"), "\(empty.stderr)")

            let noKey = try await ESDKCommandTests.sealed(
                ["serve", "--database", url, "--port", "0"],
                environment: [:]
            )
            #expect(noKey.status != 0)
            #expect(noKey.stderr.contains("root key"), "\(noKey.stderr)")

            // A root key file others may read is refused, as in a data directory.
            let keyFile = folder.appendingPathComponent("root.key")
            try Data(Self.newRootKey().utf8).write(to: keyFile)
            _ = chmod(keyFile.path, 0o644)
            let readable = try await ESDKCommandTests.sealed(
                ["serve", "--database", url, "--port", "0", "--root-key-file", keyFile.path]
            )
            #expect(readable.status != 0)
            #expect(readable.stderr.contains("readable by its owner only"), "\(readable.stderr)")

            let credentials = folder.appendingPathComponent("admin.credentials")
            let first = try ServeProcess(
                database: url,
                rootKey: Self.newRootKey(),
                administratorCredentials: credentials
            )
            defer { first.remove() }
            let mode = try FileManager.default.attributesOfItem(atPath: credentials.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)

            let other = try await ESDKCommandTests.sealed(
                ["serve", "--database", url, "--port", "0"],
                environment: ["SEALED_ROOT_KEY": Self.newRootKey()]
            )
            #expect(other.status != 0)
            #expect(other.stderr.contains("root key does not open the database"), "\(other.stderr)")
            #expect(!String(decoding: other.stdout, as: UTF8.self).contains("listening"))
        }
    }

    /// `kill -9` of the replica that signs the digests while both take publishes: every acknowledged event is stored
    /// once, at the offset it was acknowledged with, offsets have no gap, the other replica signs the next digest,
    /// and the one audit chain verifies.
    @Test func killDashNineOfTheLeaderLosesNothingAndTheSurvivorSignsTheDigests() async throws {
        try await Self.withReplicas(arguments: ["--digest-interval", "1"], startSecond: false) { a, _, start in
            let adminA = try a.client(try a.administrator)
            try await Self.prepareLoad(adminA)
            // A signs first, so it holds the digests' leadership before B starts.
            try await eventually("A signs a digest", limit: .seconds(60)) {
                try await Self.export(through: a).digests > 0
            }
            let b = try start()
            let adminB = try b.client(try b.administrator)
            try await eventually("B knows the event type", limit: .seconds(30)) {
                (try? await adminB.call("GET", ["catalog", "event-types", "load.tick.sent"])) != nil
            }

            // Publishers on both replicas: B's until each has 40 acknowledged, A's until the kill refuses them.
            let ledger = Ledger()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (name, client) in [("a", adminA), ("b", adminB)] {
                    for worker in 0..<2 {
                        group.addTask {
                            for step in 0..<(name == "a" ? 100_000 : 40) {
                                let id = "\(name)\(worker)-\(step)"
                                guard
                                    let answer = try? await client.call(
                                        "POST",
                                        ["topics", Self.topic, "events"],
                                        json: Self.event(id: id)
                                    ),
                                    let offset = ((answer["Offsets"] as? [Any])?.first as? NSNumber)?.uint64Value
                                else {
                                    // Only the killed replica may refuse.
                                    #expect(name == "a" && ledger.killed.withLock { $0 }, "\(id) refused")
                                    return
                                }
                                ledger.acknowledged.withLock { $0[id] = offset }
                            }
                        }
                    }
                }
                try await eventually("some publishes on both replicas", limit: .seconds(60)) {
                    ledger.acknowledged.withLock { $0.keys.filter { $0.hasPrefix("a") }.count >= 10 }
                }
                ledger.killed.withLock { $0 = true }
                a.kill9()
                try await group.waitForAll()
            }

            let events = try await EventPlatformTests.readAll(Self.topic, client: adminB)
            #expect(events.map(\.offset) == (0..<events.count).map { UInt64($0 + 1) }, "offsets have a gap")
            var stored: [String: UInt64] = [:]
            for event in events {
                #expect(stored.updateValue(event.offset, forKey: event.id) == nil, "\(event.id) stored twice")
            }
            let acknowledged = ledger.acknowledged.withLock { $0 }
            for (id, offset) in acknowledged {
                #expect(stored[id] == offset, "\(id) acknowledged at \(offset), stored at \(stored[id] ?? 0)")
            }
            #expect(acknowledged.keys.filter { $0.hasPrefix("b") }.count == 80)

            // A is dead: whatever digest is signed from now on, B signs.
            let signed = try await Self.export(through: b).digests
            _ = try await adminB.call("POST", ["iam", "users"], body: ["UserName": "after"])
            try await eventually("B signs a digest after A died", limit: .seconds(90), every: .milliseconds(500)) {
                try await Self.export(through: b).digests > signed
            }
            try await Self.verifyAudit(through: b, keyFrom: b)
            #expect(b.stop() == 0)
        }
    }
}

// MARK: - Helpers

extension ServeReplicaTests {
    /// What the publishers had acknowledged, and whether the kill came.
    final class Ledger: Sendable {
        let acknowledged = Mutex<[String: UInt64]>([:])
        let killed = Mutex(false)
    }

    /// A fresh database with replica A started (it installs the database, writing the administrator's credentials),
    /// then B unless `startSecond` is false; `body` gets both (B started by the third argument when it was not).
    static func withReplicas(
        arguments: [String] = [],
        startSecond: Bool = true,
        _ body: (ServeProcess, ServeProcess?, () throws -> ServeProcess) async throws -> Void
    ) async throws {
        guard let postgres = try PostgresFixture.located() else { return }
        try await postgres.withDatabase { url in
            let folder = try ESDKCommandTests.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let rootKey = newRootKey()
            let credentials = folder.appendingPathComponent("admin.credentials")
            let a = try ServeProcess(
                database: url,
                rootKey: rootKey,
                administratorCredentials: credentials,
                arguments: arguments
            )
            defer { a.remove() }
            var started: [ServeProcess] = []
            defer { for replica in started { replica.remove() } }
            let start = {
                let replica = try ServeProcess(
                    database: url,
                    rootKey: rootKey,
                    administratorCredentials: credentials,
                    arguments: arguments
                )
                started.append(replica)
                return replica
            }
            try await body(a, startSecond ? try start() : nil, start)
        }
    }

    /// What the load tests publish: the team `owners`, its domain `load`, the public event type `load.tick.sent`,
    /// and the topic.
    static func prepareLoad(_ admin: PlatformClient) async throws {
        _ = try await admin.call("POST", ["iam", "teams"], body: ["TeamName": "owners"])
        _ = try await admin.call("POST", ["catalog", "domains"], body: ["Domain": "load", "Owner": "owners"])
        _ = try await admin.call(
            "POST",
            ["catalog", "event-types"],
            body: ["EventType": "load.tick.sent", "Domain": "load", "Classification": "public"]
        )
        _ = try await admin.call("POST", ["topics"], body: ["Name": topic])
    }

    static func withTwoReplicas(_ body: (ServeProcess, ServeProcess) async throws -> Void) async throws {
        try await withReplicas { a, b, _ in try await body(a, try #require(b)) }
    }

    /// The value of the Prometheus sample `name` (with its labels) in `exposition`, 0 when absent.
    static func metric(_ name: String, in exposition: String) -> Double {
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1)) ?? 0
        }
        return 0
    }

    static func newRootKey() -> String {
        Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    static func created(_ answer: [String: Any]) async throws -> Credentials {
        Credentials(
            accessKeyId: try #require(answer["AccessKeyId"] as? String),
            secretAccessKey: try #require(answer["SecretAccessKey"] as? String)
        )
    }

    /// The error code a call is refused with (`AccessDeniedException`, `UnrecognizedClientException`, …).
    static func refusalCode(_ call: () async throws -> Void) async throws -> String {
        do {
            try await call()
        } catch {
            for code in ["AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException"]
            where "\(error)".contains(code) {
                return code
            }
            return "\(error)"
        }
        return "accepted"
    }

    static func event(id: String) -> [UInt8] {
        Array(
            #"{"metaData":{"eventId":"\#(id)","eventType":"load.tick.sent","domain":"load","source":"s"},"data":{}}"#
                .utf8
        )
    }

    /// `sealed consume --group g` against `replica`: the offsets printed.
    static func consume(_ replica: ServeProcess, max: Int?) async throws -> [UInt64] {
        var arguments = ["consume", "--topic", topic, "--group", "g", "--output", "text"]
        if let max { arguments += ["--max", "\(max)"] }
        let run = try await replica.cli(arguments, json: false)
        return String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").compactMap {
            $0.split(separator: " ").first.flatMap { UInt64($0) }
        }
    }

    /// `sealed audit export` through `replica`: the export's record and digest counts.
    static func export(through replica: ServeProcess) async throws -> (file: URL, records: Int, digests: Int) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).json")
        _ = try await replica.cli(["audit", "export", "--file", file.path], json: false)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        return (file, (json["Records"] as? [Any])?.count ?? 0, (json["Digests"] as? [Any])?.count ?? 0)
    }

    /// `sealed audit verify --file` over an export through `replica`, with the public key `keyFrom` serves.
    static func verifyAudit(through replica: ServeProcess, keyFrom other: ServeProcess) async throws {
        let export = try await export(through: replica)
        defer { try? FileManager.default.removeItem(at: export.file) }
        #expect(export.records > 0)
        let pem = try await other.client(try other.administrator).raw("GET", ["audit", "public-key"])
        let key = export.file.deletingPathExtension().appendingPathExtension("pem")
        try pem.write(to: key)
        defer { try? FileManager.default.removeItem(at: key) }
        let verified = try await ESDKCommandTests.sealed([
            "audit", "verify", "--file", export.file.path, "--public-key", key.path, "--max-unsigned-age", "3600",
        ])
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    /// One boto3 call against `replica` as `credentials` (the administrator's by default): `decrypt` (`blob`,
    /// `context`) answers `plaintext`; `assume` (`role`) answers `ok`.
    static func boto3(
        _ replica: ServeProcess,
        _ job: [String: Any],
        as credentials: Credentials? = nil
    ) async throws -> [String: Any] {
        let python = try #require(try TestEnvironment.peerPython(), "the peers' Python (boto3)")
        let caller = try credentials ?? replica.administrator
        var job = job
        job["endpoint"] = replica.endpoint.absoluteString
        job["key"] = caller.accessKeyId
        job["secret"] = caller.secretAccessKey
        let run = try await ChildProcess.run(
            python,
            arguments: [
                "-c", botoScript, String(decoding: try JSONSerialization.data(withJSONObject: job), as: UTF8.self),
            ],
            environment: ["NO_PROXY": "*", "no_proxy": "*", "AWS_CONFIG_FILE": "/nonexistent"],
            deadline: .seconds(60)
        )
        try #require(run.status == 0, "boto3: \(run.errors)")
        return try #require(try JSONSerialization.jsonObject(with: run.standardOutput) as? [String: Any])
    }

    static let botoScript = """
        import base64, json, sys
        import boto3, botocore.exceptions
        job = json.loads(sys.argv[1])
        session = boto3.session.Session(
            aws_access_key_id=job["key"], aws_secret_access_key=job["secret"], region_name="us-east-1")
        if job["op"] == "decrypt":
            kms = session.client("kms", endpoint_url=job["endpoint"])
            answer = kms.decrypt(CiphertextBlob=base64.b64decode(job["blob"]), EncryptionContext=job["context"])
            print(json.dumps({"plaintext": base64.b64encode(answer["Plaintext"]).decode()}))
        elif job["op"] == "assume":
            sts = session.client("sts", endpoint_url=job["endpoint"])
            try:
                sts.assume_role(RoleArn=job["role"], RoleSessionName="replica-test")
                print(json.dumps({"ok": True}))
            except botocore.exceptions.ClientError as error:
                print(json.dumps({"ok": False, "code": error.response["Error"]["Code"]}))
        """
}
