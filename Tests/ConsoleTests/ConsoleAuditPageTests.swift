import AccessControl
import AuditTrail
import Composition
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SealedServerTesting
import Server
import Testing

@testable import Console

/// The audit pages in process, on the platform of ``ConsoleRouteTests/World`` with an auditor (a team allowed
/// `audit:Read` on the trail): filters, newest-first pages across which no record is missed or repeated, the refusal
/// of everyone else, a record's escaped JSON, the verification, the export the CLI's verifier accepts, the usage
/// report.
struct ConsoleAuditPageTests {
    typealias Browser = ConsoleRouteTests.Browser
    static let type = "payments.card.captured"

    /// The world, an auditor, and records: 23 decrypts of ``type`` (every fourth refused), 12 of another type.
    static func world() async throws -> (ConsoleRouteTests.World, auditor: PlatformFixture.Keys) {
        let world = try await ConsoleRouteTests.World()
        let identities = world.fixture.identities
        _ = try await identities.createTeam("auditors", by: .platform)
        let policy =
            #"{"Statement":{"Effect":"Allow","Action":"audit:Read","Resource":"arn:sealed:audit::000000000000:trail"}}"#
        try await identities.putTeamPolicy("auditors", name: "read-trail", document: policy, by: .platform)
        let auditor = try await world.fixture.user("audrey", team: "auditors")
        for index in 0..<35 {
            let mine = index % 3 != 2 && index < 34
            try await world.fixture.audit.record(
                decrypt(
                    mine ? type : "orders.placed",
                    session: "s\(index)",
                    error: index % 4 == 0 ? "AccessDeniedException" : nil
                )
            )
        }
        return (world, auditor)
    }

    static func decrypt(
        _ eventType: String,
        session: String,
        error: String? = nil,
        note: String = ""
    ) -> AuditTrail.Record {
        AuditTrail.Record(
            eventTime: Date(),
            eventSource: .kms,
            eventName: "Decrypt",
            awsRegion: "us-east-1",
            userIdentity: .assumedRole(
                roleName: "reader-\(eventType)",
                sessionName: session,
                accountId: "000000000000",
                accessKeyId: "ASIAEXAMPLE"
            ),
            sourceIPAddress: "10.0.0.7",
            userAgent: "test",
            requestParameters: .object([
                "encryptionContext": .object(["eventType": .string(eventType), "note": .string(note)]),
                "keyId": .string("alias/sealed/payments"),
            ]),
            errorCode: error,
            requestID: UUID().uuidString,
            readOnly: true,
            resources: [.kmsKey(arn: "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab")],
            recipientAccountId: "000000000000"
        )
    }

    /// The sequence numbers of the rows of a trail page, top to bottom.
    static func rows(_ html: String) -> [Int64] {
        html.split(separator: "data-sequence=\"").dropFirst().compactMap { Int64($0.prefix { $0 != "\"" }) }
    }

    /// The target of the link with `id`, unescaped, if the page has it.
    static func link(_ html: String, _ id: String) -> String? {
        guard let marker = html.range(of: "id=\"\(id)\""),
            let start = html[..<marker.lowerBound].range(of: "href=\"", options: .backwards)
        else { return nil }
        return String(html[start.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func theTrailIsFilteredAndPagedNewestFirstWithoutMissingOrRepeatingARecord() async throws {
        let (world, auditor) = try await Self.world()
        let query = AuditQuery(eventType: Self.type, eventName: "Decrypt")
        let expected = try await world.fixture.audit.query(query).map(\.sequence).reversed() as [Int64]
        #expect(expected.count == 23)
        try await world.test { client in
            var browser = Browser()
            _ = try await browser.signIn(client, auditor)
            let first = try await browser.get(client, "/console/audit?eventType=\(Self.type)&eventName=Decrypt&limit=5")
            #expect(first.status == .ok)
            var html = String(buffer: first.body)
            #expect(html.contains(#"value="payments.card.captured""#), "the form shows the filter")
            var seen: [[Int64]] = [Self.rows(html)]
            while let older = Self.link(html, "page-older") {
                html = String(buffer: try await browser.get(client, older).body)
                seen.append(Self.rows(html))
            }
            #expect(seen.flatMap { $0 } == expected, "every matching record once, newest first")
            #expect(seen.dropLast().allSatisfy { $0.count == 5 } && seen.last?.count == 3)
            #expect(Self.link(html, "page-newest") != nil && Self.link(html, "page-older") == nil)
            // Back up with "Newer": the pages above the oldest, in the same order.
            var upward: [[Int64]] = [Self.rows(html)]
            while let newer = Self.link(html, "page-newer") {
                html = String(buffer: try await browser.get(client, newer).body)
                upward.append(Self.rows(html))
            }
            #expect(upward.reversed().flatMap { $0 } == expected)
            #expect(Self.link(html, "page-newer") == nil, "the newest page has nothing newer")

            // Errors only, and a key by its alias: what the store's query answers.
            let errors = String(
                buffer: try await browser.get(client, "/console/audit?errorsOnly=true&eventName=Decrypt").body
            )
            let refused = try await world.fixture.audit.query(
                AuditQuery(eventName: "Decrypt", errorsOnly: true, newestFirst: true)
            )
            #expect(Self.rows(errors) == refused.map(\.sequence))
            #expect(errors.contains("AccessDeniedException") && errors.contains("checked"))
            let none = String(buffer: try await browser.get(client, "/console/audit?key=alias/none").body)
            #expect(Self.rows(none).isEmpty && none.contains("No record matches these filters"))

            let bad = try await browser.get(client, "/console/audit?since=yesterday")
            #expect(bad.status == .badRequest)
            #expect(String(buffer: bad.body).contains("since must be an ISO 8601 time"))
            let day = String(buffer: try await browser.get(client, "/console/audit?until=2000-01-01").body)
            #expect(Self.rows(day).isEmpty, "a day is a time: nothing before 2000")
        }
        // Each page view is recorded as the API's LookupEvents, with its filters, from the console.
        let record = try #require(try await world.fixture.lastRecord())
        #expect(
            record.eventName == "LookupEvents" && record.userIdentity.arn == "arn:aws:iam::000000000000:user/audrey"
        )
        #expect(record.requestParameters?["until"]?.stringValue == "2000-01-01")
        #expect(record.userAgent?.hasPrefix("sealed-console/1") == true)
    }

    @Test func onlyAuditorsSeeTheAuditPages() async throws {
        let (world, auditor) = try await Self.world()
        try await world.test { client in
            var consumer = Browser()
            _ = try await consumer.signIn(client, world.consumer)
            let home = String(buffer: try await consumer.get(client, "/console").body)
            #expect(!home.contains(#"href="/console/audit""#), "no Audit link for a principal without audit:Read")
            for path in [
                "/console/audit", "/console/audit/records/1", "/console/audit/export", "/console/audit/usage",
                "/console/audit/verify",
            ] {
                let refused = try await consumer.get(client, path)
                #expect(refused.status == .forbidden, "\(path)")
                let page = String(buffer: refused.body)
                #expect(page.contains("audit:Read") && !page.contains("data-sequence"), "\(path)")
            }
            var signedOut = Browser()
            #expect(try await signedOut.get(client, "/console/audit").headers[.location] == "/console/sign-in")

            var reader = Browser()
            _ = try await reader.signIn(client, auditor)
            let page = String(buffer: try await reader.get(client, "/console").body)
            #expect(page.contains(#"href="/console/audit""#))
        }
        let refusals = try await world.fixture.audit.query(AuditQuery(errorsOnly: true, newestFirst: true))
            .map(\.record).filter { $0.userIdentity.arn == "arn:aws:iam::000000000000:user/carl" }
        #expect(
            Set(refusals.map(\.eventName)) == ["LookupEvents", "ExportEvents", "GetUsageReport", "VerifyAuditTrail"]
        )
        #expect(refusals.allSatisfy { $0.errorCode == "AccessDenied" })
    }

    @Test func aRecordPageShowsItsEscapedJSONAndItsPlaceInTheChain() async throws {
        let (world, auditor) = try await Self.world()
        try await world.fixture.audit.record(Self.decrypt(Self.type, session: "x", note: "<script>alert(1)</script>"))
        let stored = try #require(try await world.fixture.audit.tail(after: 35, limit: 1).first)
        try await world.test { client in
            var browser = Browser()
            _ = try await browser.signIn(client, auditor)
            let page = try await browser.get(client, "/console/audit/records/\(stored.sequence)")
            #expect(page.status == .ok)
            let html = String(buffer: page.body)
            #expect(!html.contains("<script>alert(1)"))
            #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(html.contains(stored.hash.hex) && html.contains(stored.previousHash.hex))
            #expect(html.contains("&quot;sequenceNumber&quot;: \(stored.sequence)"))
            #expect(try await browser.get(client, "/console/audit/records/9999").status == .notFound)
            #expect(try await browser.get(client, "/console/audit/records/abc").status == .badRequest)
        }
    }

    @Test func theExportDownloadIsTheFileTheCLIVerifies() async throws {
        let (world, auditor) = try await Self.world()
        try await world.test { client in
            var browser = Browser()
            _ = try await browser.signIn(client, auditor)
            let export = try await browser.get(client, "/console/audit/export")
            #expect(export.status == .ok)
            let disposition = try #require(export.headers[HTTPField.Name("Content-Disposition")!])
            #expect(disposition.hasPrefix("attachment; filename=\"sealed-audit-export-"))
            #expect(export.headers[.cacheControl] == "no-store")
            let key = try await browser.get(client, "/console/audit/public-key")
            #expect(
                key.headers[HTTPField.Name("Content-Disposition")!] == "attachment; filename=\"audit-public-key.pem\""
            )
            // `sealed audit verify --file F --public-key PEM` runs exactly this.
            let report = try Export.verify(
                Data(export.body.readableBytesView),
                publicKey: try AuditSigningKey.publicKey(pem: String(buffer: key.body))
            )
            #expect(report.isValid, "\(report)")
            #expect(report.firstSequence == 1 && (report.lastSequence ?? 0) >= 35)
        }
        let exports = try await world.fixture.audit.query(AuditQuery(eventName: "ExportEvents"))
        #expect(exports.count == 1 && exports[0].record.errorCode == nil)
    }

    @Test func verificationRunsWhenAskedAndNamesTheBrokenRecord() async throws {
        let (world, auditor) = try await Self.world()
        let signer = DigestService(
            store: world.fixture.audit,
            signingKey: world.fixture.platform.audit.signingKey,
            clock: ContinuousClock(),
            logger: world.fixture.logger
        )
        try await signer.signIfNeeded()
        try await world.test { client in
            var browser = Browser()
            _ = try await browser.signIn(client, auditor)
            let before = String(buffer: try await browser.get(client, "/console/audit").body)
            #expect(before.contains("not verified from the console since the server started"))
            #expect(
                before.contains("#1, signed") && before.contains("<span class=\"state state-approved\">valid</span>")
            )
            let verified = try await browser.get(client, "/console/audit/verify")
            #expect(verified.status == .ok)
            #expect(String(buffer: verified.body).contains("The chain verifies"))
            let after = String(buffer: try await browser.get(client, "/console/audit").body)
            #expect(after.contains("verified</span> through record"))

            // A record rewritten with every later hash recomputed: the signed digest's head no longer matches.
            await world.fixture.audit.forge(
                3,
                as: Self.decrypt("orders.placed", session: "forged"),
                keepingDigests: { _ in true }
            )
            let broken = try await browser.get(client, "/console/audit/verify")
            #expect(broken.status == .conflict)
            let html = String(buffer: broken.body)
            #expect(html.contains("The chain is broken at record"), "\(html)")
            #expect(String(buffer: try await browser.get(client, "/console/audit").body).contains("broken at record"))
        }
    }

    @Test func theUsageReportHasTheStoresNumbers() async throws {
        let (world, auditor) = try await Self.world()
        let since = Date().addingTimeInterval(-3600)
        let until = Date().addingTimeInterval(3600)
        let report = try await world.fixture.server.auditRoutes!.usageReport(since: since, until: until)
        #expect(report.rows.count == 35, "one row per role session")
        try await world.test { client in
            var browser = Browser()
            _ = try await browser.signIn(client, auditor)
            let path = "/console/audit/usage?since=\(Self.iso(since))&until=\(Self.iso(until))"
            let page = try await browser.get(client, path)
            #expect(page.status == .ok)
            let html = String(buffer: page.body)
            let decrypts = report.rows.reduce(0) { $0 + $1.successfulDecrypts }
            let denials = report.rows.reduce(0) { $0 + $1.denials }
            #expect(
                html.contains(#"id="total-decrypts">\#(decrypts)<"#)
                    && html.contains(#"id="total-denials">\#(denials)<"#)
            )
            #expect(decrypts == 26 && denials == 9)
            for row in report.rows {
                #expect(
                    html.contains(
                        "<td class=\"arn\">\(row.principalARN ?? "")</td><td class=\"number\">\(row.successfulDecrypts)</td>"
                            + "<td class=\"number\">\(row.denials)</td>"
                    )
                )
            }
            let reversed = try await browser.get(client, "/console/audit/usage?since=2026-12-05&until=2026-12-04")
            #expect(reversed.status == .badRequest)
            #expect(String(buffer: reversed.body).contains("since must not be after until"))
        }
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }
}
