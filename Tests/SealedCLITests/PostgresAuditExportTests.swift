import AuditTrail
import Foundation
import Logging
import PostgresStorage
import SealedTesting
import Testing

/// An export of the audit trail kept in PostgreSQL is the file `sealed audit verify --file --public-key` reads: the
/// same command accepts it untouched and names the record an edit changed.
struct PostgresAuditExportTests {
    @Test func sealedAuditVerifyReadsAnExportOfTheTrailInPostgreSQL() async throws {
        guard let fixture = try PostgresFixture.located() else { return }
        let logger = Logger(label: "sealed.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let export = folder.appendingPathComponent("trail.json")
        let publicKey = folder.appendingPathComponent("audit-public-key.pem")
        try await fixture.withDatabase { url in
            try await PostgresDatabase.withDatabase(try PostgresURL(url), logger: logger) { database in
                let store = PostgresAuditStore(database: database)
                let key = AuditSigningKey.generate()
                let digests = DigestService(store: store, signingKey: key, clock: ContinuousClock(), logger: logger)
                for index in 1...12 {
                    try await store.record(Self.record(index))
                    if index % 5 == 0 { try await digests.signIfNeeded() }
                }
                _ = try await store.export(to: export, publicKey: key.publicKey)
                try key.writePublicKeyPEM(to: publicKey)
                await store.close()
            }
        }
        let clean = try await ESDKCommandTests.sealed(
            ["audit", "verify", "--file", export.path, "--public-key", publicKey.path]
        )
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(String(decoding: clean.stdout, as: UTF8.self).hasPrefix("OK"))

        var text = try String(contentsOf: export, encoding: .utf8)
        let range = try #require(text.range(of: "team-7"))
        text.replaceSubrange(range, with: "team-8")
        try text.write(to: export, atomically: true, encoding: .utf8)
        let edited = try await ESDKCommandTests.sealed(
            ["audit", "verify", "--file", export.path, "--public-key", publicKey.path]
        )
        #expect(edited.status == 1)
        #expect(edited.stderr.contains("record 7"), "\(edited.stderr)")
    }

    static func record(_ index: Int) -> Record {
        Record(
            eventTime: Date(timeIntervalSince1970: 1_795_000_000 + Double(index)),
            eventSource: .iam,
            eventName: "CreateTeam",
            awsRegion: "us-east-1",
            userIdentity: .iamUser(name: "admin", accountId: "000000000000"),
            requestParameters: ["teamName": .string("team-\(index)")],
            requestID: "req-\(index)",
            readOnly: false,
            recipientAccountId: "000000000000"
        )
    }
}
