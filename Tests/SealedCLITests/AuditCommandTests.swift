import Foundation
import SealedTesting
import Testing

/// `sealed audit` against a real `sealed serve`: the trail of the requests made, an export, a graceful stop that
/// signs the final digest, and `verify` of the live store and of the export — untouched, then edited.
@Suite(.serialized)
struct AuditCommandTests {
    @Test func exportAndLiveStoreVerifyAndAnEditedExportIsCaught() async throws {
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        let server = try ServeCommandTests.RunningServer(dataDirectory: data)
        let environment = server.administratorEnvironment
        let endpoint = ["--endpoint-url", server.endpoint.absoluteString]
        for team in ["payments", "analytics"] {
            let created = try await ESDKCommandTests.sealed(
                ["iam", "create-team", team] + endpoint,
                environment: environment
            )
            #expect(created.status == 0, "\(created.stderr)")
        }
        // A refused call is in the trail too.
        let refused = try await ESDKCommandTests.sealed(
            ["iam", "create-team", "payments"] + endpoint,
            environment: environment
        )
        #expect(refused.status != 0)
        let query = try await ESDKCommandTests.sealed(
            ["audit", "query", "--errors-only", "--output", "json"] + endpoint,
            environment: environment
        )
        #expect(query.status == 0, "\(query.stderr)")
        let records = try #require(
            (try JSONSerialization.jsonObject(with: query.stdout) as? [String: Any])?["Records"] as? [[String: Any]]
        )
        #expect(records.map { $0["eventName"] as? String } == ["CreateTeam"])
        #expect(records.first?["errorCode"] as? String == "EntityAlreadyExists")

        let export = folder.appendingPathComponent("trail.json")
        let exported = try await ESDKCommandTests.sealed(
            ["audit", "export", "--file", export.path] + endpoint,
            environment: environment
        )
        #expect(exported.status == 0, "\(exported.stderr)")
        // The graceful stop signs a digest covering every record.
        #expect(server.stop() == 0)

        // The public key pinned outside the data directory.
        let pinned = folder.appendingPathComponent("pinned.pem")
        try FileManager.default.copyItem(at: data.appendingPathComponent("audit-public-key.pem"), to: pinned)
        let live = try await ESDKCommandTests.sealed(["audit", "verify", "--data-dir", data.path, "--public-key", pinned.path])
        #expect(live.status == 0, "\(live.stderr)")
        let liveReport = String(decoding: live.stdout, as: UTF8.self)
        #expect(liveReport.hasPrefix("OK"), "\(liveReport)")
        #expect(!liveReport.contains("not yet signed"), "the shutdown digest covers everything: \(liveReport)")
        #expect(!liveReport.contains("UNPINNED"))

        // #6: without --public-key the key comes from the directory itself: said, and an error with --strict.
        let unpinned = try await ESDKCommandTests.sealed(["audit", "verify", "--data-dir", data.path])
        #expect(unpinned.status == 0, "\(unpinned.stderr)")
        #expect(String(decoding: unpinned.stdout, as: UTF8.self).contains("UNPINNED"))
        #expect(unpinned.stderr.contains("UNPINNED"))
        let strict = try await ESDKCommandTests.sealed(["audit", "verify", "--data-dir", data.path, "--strict"])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("UNPINNED"), "\(strict.stderr)")

        // #6: another public key put into the directory fools neither the pinned nor the unpinned check.
        let realPEM = try Data(contentsOf: data.appendingPathComponent("audit-public-key.pem"))
        try Data(Self.otherPublicKeyPEM.utf8).write(to: data.appendingPathComponent("audit-public-key.pem"))
        let swapped = try await ESDKCommandTests.sealed(["audit", "verify", "--data-dir", data.path])
        #expect(swapped.status == 1, "a digest signed by the real key does not verify under the swapped one")
        let pinnedAfterSwap = try await ESDKCommandTests.sealed(
            ["audit", "verify", "--data-dir", data.path, "--public-key", pinned.path]
        )
        #expect(pinnedAfterSwap.status == 0, "\(pinnedAfterSwap.stderr)")
        try realPEM.write(to: data.appendingPathComponent("audit-public-key.pem"))

        let publicKey = pinned.path
        let clean = try await ESDKCommandTests.sealed(["audit", "verify", "--file", export.path, "--public-key", publicKey])
        #expect(clean.status == 0, "\(clean.stderr)")

        // One changed character in the second record's JSON.
        var text = try String(contentsOf: export, encoding: .utf8)
        let range = try #require(text.range(of: "analytics"))
        text.replaceSubrange(range, with: "analytica")
        try text.write(to: export, atomically: true, encoding: .utf8)
        let edited = try await ESDKCommandTests.sealed(["audit", "verify", "--file", export.path, "--public-key", publicKey])
        #expect(edited.status == 1)
        // Record 1 and 2 are the first team's intent and outcome; record 3 is the second team's intent.
        #expect(edited.stderr.contains("record 3"), "\(edited.stderr)")
        #expect(edited.stdout.isEmpty)
    }

    /// The two benchmark audit modes `scripts/bench` compares the audited server with: requests build their records
    /// but none is written (`build-only`), or there is no audit middleware at all (`off`). Either way the trail stays
    /// empty, while the same calls on a normal server (`full`, the default) are in it.
    @Test(arguments: [["--audit-mode", "build-only"], ["--audit-mode", "off"], ["--audit-mode", "full"], []])
    func benchmarkAuditModesLeaveTheTrailEmpty(options: [String]) async throws {
        let audited = options.isEmpty || options.last == "full"
        #expect(try await Self.createTeamRecords(arguments: options) == (audited ? 1 : 0))
    }

    @Test func anUnknownAuditModeIsRefusedAtStart() async throws {
        let run = try await ESDKCommandTests.sealed([
            "serve", "--data-dir", "/nonexistent-never-created", "--audit-mode", "none",
        ])
        #expect(run.status != 0)
        #expect(run.stderr.contains("--audit-mode must be full, build-only or off"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent-never-created"))
    }

    /// Commits as soon as the writer is free with `--audit-commit-interval 0`, and still records every call.
    @Test func aServerWithoutACommitIntervalRecordsEveryCall() async throws {
        #expect(try await Self.createTeamRecords(arguments: ["--audit-commit-interval", "0"]) == 1)
    }

    @Test(arguments: ["101", "-1", "soon"])
    func aCommitIntervalOutOfRangeIsRefusedAtStart(value: String) async throws {
        let run = try await ESDKCommandTests.sealed([
            "serve", "--data-dir", "/nonexistent-never-created", "--audit-commit-interval", value,
        ])
        #expect(run.status != 0)
        #expect(run.stderr.contains("--audit-commit-interval"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent-never-created"))
    }

    /// Starts a server with `arguments`, creates a team through it, and counts the trail's CreateTeam records.
    private static func createTeamRecords(arguments: [String] = []) async throws -> Int {
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        let server = try ServeCommandTests.RunningServer(dataDirectory: data, arguments: arguments)
        defer { _ = server.stop() }
        let credentials = server.administratorEnvironment
        let endpoint = ["--endpoint-url", server.endpoint.absoluteString]
        let created = try await ESDKCommandTests.sealed(
            ["iam", "create-team", "payments"] + endpoint,
            environment: credentials
        )
        #expect(created.status == 0, "\(created.stderr)")
        let query = try await ESDKCommandTests.sealed(
            ["audit", "query", "--event-name", "CreateTeam", "--output", "json"] + endpoint,
            environment: credentials
        )
        #expect(query.status == 0, "\(query.stderr)")
        let records = try #require(
            (try JSONSerialization.jsonObject(with: query.stdout) as? [String: Any])?["Records"] as? [[String: Any]]
        )
        // Each change has its intent record before its outcome: count the outcomes.
        let intents = records.filter { ($0["additionalEventData"] as? [String: Any])?["auditPhase"] as? String == "Intent" }
        #expect(intents.count == records.count - intents.count)
        return records.count - intents.count
    }

    /// A P-256 public key that is not the server's.
    static let otherPublicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoaNpN5luea0m2h2sWAzUt0pIbwDg
        KsefZzo6N/0Pofhkfq1Gh5YLjgm5oMakHBgAnC37dJ4asvkkd77v7JuasQ==
        -----END PUBLIC KEY-----

        """
}
