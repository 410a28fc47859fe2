import AccessControl
import AuditTrail
import Catalog
import Composition
import Foundation
import Logging
import SealedServerTesting
import SealedSupport
import Server
import Subjects
import Testing

/// `sealed subjects …` against a live server whose platform keeps subjects' branch keys in memory (the keystore is
/// not what is tested here): the receipt, the audit record it names, the fence, and the subject id nowhere.
struct SubjectsCommandTests {
    static let subject = "cli-subject-91c2@example.com"

    /// Runs the `sealed` binary as the user `keys` (the server runs in this process).
    static func sealed(
        _ arguments: [String],
        as keys: PlatformFixture.Keys,
        port: Int,
        stdin: Data? = nil
    ) async throws
        -> ESDKCommandTests.Run
    {
        let environment = [
            "AWS_ACCESS_KEY_ID": keys.id, "AWS_SECRET_ACCESS_KEY": keys.secret,
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_CONFIG_FILE": "/nonexistent", "AWS_ENDPOINT_URL": "http://127.0.0.1:\(port)",
            "AWS_REGION": "us-east-1",
        ]
        return try await ESDKCommandTests.sealed(arguments, stdin: stdin, environment: environment)
    }

    @Test func eraseShowAndLiftFenceFromTheCommandLine() async throws {
        var logger = Logger(label: "subjects-cli")
        logger.logLevel = .warning
        let fixture = try await PlatformFixture(logger: logger)
        let admin = fixture.platform.administratorARN
        _ = try await fixture.identities.createTeam("payments", by: .platform)
        let checkout = try await fixture.user("checkout", team: "payments")
        _ = try await fixture.catalog.createDomain("payments", owner: "payments", by: admin)
        let server = SealedServer(fixture.platform, configuration: .init(host: "127.0.0.1", port: 0), logger: logger)
        try await withLiveServer(server, logger: logger) { port in
            let created = try await Self.sealed(
                [
                    "catalog", "create-event-type", "payments.order.placed", "--domain", "payments",
                    "--subject-field", "/customer/id", "--output", "json",
                ],
                as: fixture.admin,
                port: port
            )
            try #require(created.status == 0, "\(created.stderr)")
            let type = try JSONSerialization.jsonObject(with: created.stdout) as? [String: Any]
            #expect(type?["SubjectField"] as? String == "/customer/id")
            let key = try await fixture.platform.subjects.resolve(
                subjectID: Self.subject,
                eventType: "payments.order.placed",
                by: fixture.identities.userARN("checkout")
            )
            let pseudonym = key.pseudonym

            let text = try await Self.sealed(
                ["subjects", "erase", "-", "--domain", "payments", "--reason", "Art. 17 ticket 7"],
                as: checkout,
                port: port,
                stdin: Data((Self.subject + "\n").utf8)
            )
            try #require(text.status == 0, "\(text.stderr)")
            let printed = String(decoding: text.stdout, as: UTF8.self)
            #expect(printed.contains(pseudonym) && printed.contains("payments") && printed.contains("audit record "))
            #expect(!printed.contains(Self.subject))

            // Again, as JSON: the same erasure, nothing more destroyed; the receipt names its audit record.
            let json = try await Self.sealed(
                ["subjects", "erase", Self.subject, "--domain", "payments", "--reason", "again", "--output", "json"],
                as: checkout,
                port: port
            )
            try #require(json.status == 0, "\(json.stderr)")
            let erasure = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
            let receipts = try #require(erasure["Receipts"] as? [[String: Any]])
            #expect(receipts.count == 1 && receipts.first?["KeysDestroyed"] as? Int == 3)
            #expect(receipts.first?["Pseudonym"] as? String == pseudonym)
            let recordID = try #require(erasure["AuditRecordId"] as? String)
            let records = try await fixture.audit.tail(after: 0, limit: 10_000).map(\.record)
            let record = try #require(records.first { $0.eventID == recordID })
            #expect(record.eventName == "EraseSubject" && record.requestParameters?["reason"]?.stringValue == "again")

            let shown = try await Self.sealed(["subjects", "show", Self.subject], as: checkout, port: port)
            try #require(shown.status == 0, "\(shown.stderr)")
            let show = String(decoding: shown.stdout, as: UTF8.self)
            #expect(show.contains("fence       standing") && show.contains("Art. 17 ticket 7"), "\(show)")

            let unauthorized = try await Self.sealed(
                ["subjects", "lift-fence", Self.subject, "--domain", "payments", "--reason", "r"],
                as: try await fixture.user("outsider"),
                port: port
            )
            #expect(unauthorized.status != 0 && unauthorized.stderr.contains("AccessDenied"), "\(unauthorized.stderr)")
            #expect(!unauthorized.stderr.contains(Self.subject))
            let lifted = try await Self.sealed(
                ["subjects", "lift-fence", Self.subject, "--domain", "payments", "--reason", "consent again"],
                as: checkout,
                port: port
            )
            try #require(lifted.status == 0, "\(lifted.stderr)")
            #expect(String(decoding: lifted.stdout, as: UTF8.self).contains("fence       lifted"))

            let help = try await Self.sealed(["subjects", "erase", "--help"], as: checkout, port: port)
            #expect(String(decoding: help.stdout, as: UTF8.self).contains("--reason"))
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cli-subjects-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try await fixture.platform.audit.export(file, 1)
        #expect(try Data(contentsOf: file).range(of: Data(Self.subject.utf8)) == nil)
    }
}
