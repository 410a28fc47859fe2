import AccessControl
import AuditTrail
import Catalog
import Composition
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import HummingbirdTesting
import Logging
import SealedServerTesting
import Server
import Testing

@testable import Console

/// The console's routes in process, on a platform in memory: sign-in, sessions, CSRF, the headers, escaping, the
/// review rules on the page and the audit records.
struct ConsoleRouteTests {
    /// A platform with a `payments` team owning `payments.card.captured` (two approvals), two reviewers, a consumer and an
    /// outsider; its console.
    struct World {
        let fixture: PlatformFixture
        var console: Console
        let consumer: PlatformFixture.Keys
        let reviewer: PlatformFixture.Keys
        let second: PlatformFixture.Keys
        let outsider: PlatformFixture.Keys

        init(configuration: Console.Configuration = .init()) async throws {
            var logger = Logger(label: "console-tests")
            logger.logLevel = .warning
            fixture = try await PlatformFixture(logger: logger)
            let admin = fixture.platform.administratorARN
            _ = try await fixture.identities.createTeam("payments", by: .platform)
            _ = try await fixture.identities.createTeam("analytics", by: .platform)
            reviewer = try await fixture.user("rita", team: "payments")
            second = try await fixture.user("sam", team: "payments")
            consumer = try await fixture.user("carl", team: "analytics")
            outsider = try await fixture.user("olga", team: "analytics")
            _ = try await fixture.catalog.createDomain("payments", owner: "payments", by: admin)
            _ = try await fixture.catalog.createEventType(
                .init(
                    name: "payments.card.captured",
                    domain: "payments",
                    classification: .restricted,
                    regulations: ["PCI-DSS"],
                    sensitiveFields: ["/card"],
                    subjectField: nil,
                    algorithmSuite: "0x0578",
                    approvalsRequired: 2
                ),
                by: admin
            )
            console = try #require(Console(server: fixture.server, configuration: configuration))
        }

        func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            var server = fixture.server
            server.mounts.append(console)
            let app = Application(router: server.router(), logger: fixture.logger)
            try await app.test(.router) { client in try await body(client) }
        }
    }

    /// A browser's cookie and the CSRF token of the page it saw last.
    struct Browser {
        var cookie: String?
        var csrf: String?

        mutating func get(_ client: any TestClientProtocol, _ path: String) async throws -> TestResponse {
            var headers: HTTPFields = [.userAgent: "test-browser"]
            if let cookie { headers[.cookie] = "sealed_console=\(cookie)" }
            let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
            take(response)
            return response
        }

        mutating func post(
            _ client: any TestClientProtocol,
            _ path: String,
            _ fields: [(String, String)],
            csrf: String?? = .none
        ) async throws -> TestResponse {
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .userAgent: "test-browser"]
            if let cookie { headers[.cookie] = "sealed_console=\(cookie)" }
            var all = fields
            switch csrf {
            case .none: if let token = self.csrf { all.append(("csrf", token)) }
            case .some(.some(let token)): all.append(("csrf", token))
            case .some(.none): break
            }
            let body = all.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
            let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
            take(response)
            return response
        }

        private mutating func take(_ response: TestResponse) {
            if let set = response.headers[.setCookie], let value = set.split(separator: ";").first {
                let id = value.dropFirst("sealed_console=".count)
                cookie = id.isEmpty ? nil : String(id)
            }
            let html = String(buffer: response.body)
            if let range = html.range(of: #"name="csrf" value=""#) {
                csrf = String(html[range.upperBound...].prefix(64))
            }
        }

        static func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
        }

        /// Signs in with an access key; returns the final response.
        mutating func signIn(_ client: any TestClientProtocol, _ keys: PlatformFixture.Keys) async throws -> TestResponse {
            _ = try await get(client, "/console/sign-in")
            return try await post(client, "/console/sign-in", [("accessKeyId", keys.id), ("secret", keys.secret)])
        }
    }

    @Test func pagesNeedASessionAndSignInSetsAStrictCookie() async throws {
        let world = try await World()
        try await world.test { client in
            var browser = Browser()
            let home = try await browser.get(client, "/console")
            #expect(home.status == .seeOther)
            #expect(home.headers[.location] == "/console/sign-in")

            let form = try await browser.get(client, "/console/sign-in")
            #expect(form.status == .ok)
            let anonymous = try #require(browser.cookie)
            let cookie = try #require(form.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/console"))
            #expect(!cookie.contains("Secure"), "plain HTTP here")
            #expect(form.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("frame-ancestors 'none'") == true)
            #expect(form.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(form.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            #expect(form.headers[.cacheControl] == "no-store")

            let signedIn = try await browser.post(
                client,
                "/console/sign-in",
                [("accessKeyId", world.consumer.id), ("secret", world.consumer.secret)]
            )
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/console")
            #expect(browser.cookie != anonymous, "a new session id at sign-in")
            let page = try await browser.get(client, "/console")
            #expect(page.status == .ok)
            #expect(page.headers[.cacheControl] == "no-store")
            #expect(String(buffer: page.body).contains("arn:aws:iam::000000000000:user/carl"))
            let catalog = String(buffer: try await browser.get(client, "/console/catalog").body)
            for fact in ["alias/sealed/payments", "payments.card.captured", "restricted", "PCI-DSS", "/card", "0x0578"] {
                #expect(catalog.contains(fact), "the catalog shows \(fact)")
            }
        }
        let record = try #require(try await world.fixture.lastRecord())
        #expect(record.eventName == "ListEventTypes")
        #expect(record.userAgent?.hasPrefix("sealed-console/1 (test-browser)") == true)
        #expect(record.userIdentity.arn == "arn:aws:iam::000000000000:user/carl")
    }

    @Test func theSecureFlagIsSetWhenConfigured() async throws {
        let world = try await World(configuration: .init(secureCookies: true))
        try await world.test { client in
            var browser = Browser()
            let form = try await browser.get(client, "/console/sign-in")
            #expect(form.headers[.setCookie]?.contains("; Secure") == true)
        }
    }

    @Test func formsWithoutOrWithAWrongCSRFTokenAreRefused() async throws {
        let world = try await World()
        try await world.test { client in
            var browser = Browser()
            _ = try await browser.get(client, "/console/sign-in")
            let credentials = [("accessKeyId", world.consumer.id), ("secret", world.consumer.secret)]
            #expect(try await browser.post(client, "/console/sign-in", credentials, csrf: .some(nil)).status == .forbidden)
            #expect(
                try await browser.post(client, "/console/sign-in", credentials, csrf: String(repeating: "0", count: 64)).status
                    == .forbidden
            )
            _ = try await browser.signIn(client, world.consumer)
            _ = try await browser.get(client, "/console/catalog/payments.card.captured")
            let request = [("justification", "reports"), ("duration", "86400")]
            let path = "/console/catalog/payments.card.captured/request"
            #expect(try await browser.post(client, path, request, csrf: .some(nil)).status == .forbidden)
            #expect(try await browser.post(client, path, request, csrf: String(repeating: "a", count: 64)).status == .forbidden)
            #expect(try await world.fixture.access.list(status: nil, by: world.fixture.platform.administratorARN).isEmpty)
            #expect(try await browser.post(client, path, request).status == .seeOther)
            #expect(try await world.fixture.access.list(status: nil, by: world.fixture.platform.administratorARN).count == 1)
        }
    }

    @Test func wrongSecretsAreAuditedAndThrottled() async throws {
        let world = try await World()
        try await world.test { client in
            var browser = Browser()
            _ = try await browser.get(client, "/console/sign-in")
            let wrong = [("accessKeyId", world.consumer.id), ("secret", "not-the-secret")]
            let first = try await browser.post(client, "/console/sign-in", wrong)
            #expect(first.status == .unauthorized)
            let record = try #require(try await world.fixture.lastRecord())
            #expect(record.eventName == "ConsoleLogin" && record.errorCode == "FailedAuthentication")
            #expect(record.userIdentity.accessKeyId == world.consumer.id)
            let canonical = String(decoding: CanonicalJSON.encode(record.jsonValue), as: UTF8.self)
            #expect(!canonical.contains("not-the-secret"), "the secret tried is never recorded")
            var statuses: [HTTPResponse.Status] = []
            for _ in 1..<20 { statuses.append(try await browser.post(client, "/console/sign-in", wrong).status) }
            #expect(statuses.last == .tooManyRequests)
            // Throttled: even the right secret is refused now.
            let right = [("accessKeyId", world.consumer.id), ("secret", world.consumer.secret)]
            #expect(try await browser.post(client, "/console/sign-in", right).status == .tooManyRequests)
        }
    }

    @Test func reviewRulesAndEscapingOnThePages() async throws {
        let world = try await World()
        try await world.test { client in
            var consumer = Browser()
            _ = try await consumer.signIn(client, world.consumer)
            _ = try await consumer.get(client, "/console/catalog/payments.card.captured")
            let justification = "<script>alert(1)</script> quarterly \"report\""
            let made = try await consumer.post(
                client,
                "/console/catalog/payments.card.captured/request",
                [("justification", justification), ("duration", "604800")]
            )
            #expect(made.status == .seeOther)
            let home = String(buffer: try await consumer.get(client, "/console").body)
            #expect(home.contains("waits for 2 approval(s) from payments"))
            let id = try #require(try await world.fixture.access.list(status: .pending, by: world.fixture.identities.userARN("carl")).first?.id)

            var outsider = Browser()
            _ = try await outsider.signIn(client, world.outsider)
            let nothing = String(buffer: try await outsider.get(client, "/console/reviews").body)
            #expect(nothing.contains("Nothing to review"))

            var reviewer = Browser()
            _ = try await reviewer.signIn(client, world.reviewer)
            let reviews = String(buffer: try await reviewer.get(client, "/console/reviews").body)
            #expect(reviews.contains(id))
            #expect(!reviews.contains("<script>alert(1)</script>"))
            #expect(reviews.contains("&lt;script&gt;alert(1)&lt;/script&gt; quarterly &quot;report&quot;"))
            #expect(reviews.contains(#"aria-label="1 waiting for your review""#))
            #expect(reviews.contains("0 of 2</dd>"), "no approver named before the first approval")
            #expect(reviews.contains(#"<dd class="decide-by">"#) && reviews.contains("(in 7 days) (then it expires undecided)"))

            _ = try await reviewer.post(client, "/console/reviews/\(id)", [("decision", "approve"), ("comment", "ok")])
            let after = String(buffer: try await reviewer.get(client, "/console/reviews").body)
            #expect(after.contains("1 of 2 approvals; it stays pending"))
            _ = try await reviewer.post(client, "/console/reviews/\(id)", [("decision", "approve"), ("comment", "again")])
            let twice = String(buffer: try await reviewer.get(client, "/console/reviews").body)
            #expect(twice.contains("already approved access request \(id)"))

            // The consumer's cookie acts as the consumer only: approving their own request is refused.
            _ = try await consumer.get(client, "/console/reviews")
            _ = try await consumer.post(client, "/console/reviews/\(id)", [("decision", "approve"), ("comment", "me")])
            let request = try await world.fixture.access.show(id, by: world.fixture.platform.administratorARN)
            #expect(request.approvals.map(\.reviewer) == [world.fixture.identities.userARN("rita")])
            #expect(request.status == .pending)
        }
        let records = try await world.fixture.audit.tail(after: 0, limit: 10_000).map(\.record)
        let approvals = records.filter { $0.eventName == "ApproveAccessRequest" }
        #expect(approvals.filter(\.isIntent).count == 3, "an intent before every attempt")
        #expect(approvals.filter { !$0.isIntent && $0.errorCode == nil }.count == 1)
        #expect(approvals.allSatisfy { $0.userAgent?.hasPrefix("sealed-console/1") == true })
    }

    @Test func aDenialNeedsACommentAndReachesTheRequester() async throws {
        let world = try await World()
        try await world.test { client in
            var consumer = Browser()
            _ = try await consumer.signIn(client, world.consumer)
            _ = try await consumer.get(client, "/console/catalog/payments.card.captured")
            _ = try await consumer.post(
                client,
                "/console/catalog/payments.card.captured/request",
                [("justification", "dashboards"), ("duration", "3600")]
            )
            let id = try #require(
                try await world.fixture.access.list(status: .pending, by: world.fixture.identities.userARN("carl")).first?.id
            )
            var reviewer = Browser()
            _ = try await reviewer.signIn(client, world.reviewer)
            _ = try await reviewer.get(client, "/console/reviews")
            _ = try await reviewer.post(client, "/console/reviews/\(id)", [("decision", "deny"), ("comment", "")])
            let refused = String(buffer: try await reviewer.get(client, "/console/reviews").body)
            #expect(refused.contains("A denial needs a comment that tells the requester why."))
            _ = try await reviewer.post(client, "/console/reviews/\(id)", [("decision", "deny"), ("comment", "Use the aggregates")])
            #expect(String(buffer: try await reviewer.get(client, "/console/reviews").body).contains("Denied \(id)."))
            let home = String(buffer: try await consumer.get(client, "/console").body)
            #expect(home.contains("state-denied") && home.contains("Denied: Use the aggregates"))
            _ = try await reviewer.post(client, "/console/reviews/\(id)", [("decision", "maybe"), ("comment", "")])
            #expect(try await world.fixture.access.show(id, by: world.fixture.platform.administratorARN).status == .denied)
        }
    }

    @Test func signOutAndExpiredSessionsGoBackToSignIn() async throws {
        let clock = TestClock()
        let world = try await World()
        let console = Console(
            platform: try #require(world.fixture.server.platform),
            authentication: world.fixture.server.authentication,
            auditSink: world.fixture.server.auditSink,
            region: "us-east-1",
            account: "000000000000",
            configuration: .init(sessions: .init(idleTimeout: .seconds(60))),
            now: clock.read
        )
        var server = world.fixture.server
        server.mounts.append(console)
        let app = Application(router: server.router(), logger: world.fixture.logger)
        try await app.test(.router) { client in
            var browser = Browser()
            _ = try await browser.signIn(client, world.consumer)
            #expect(try await browser.get(client, "/console").status == .ok)
            let signedOut = try await browser.post(client, "/console/sign-out", [])
            #expect(signedOut.headers[.location] == "/console/sign-in")
            #expect(try await browser.get(client, "/console").status == .seeOther)

            var idle = Browser()
            _ = try await idle.signIn(client, world.consumer)
            #expect(try await idle.get(client, "/console").status == .ok)
            clock.advance(61)
            let expired = try await idle.get(client, "/console")
            #expect(expired.status == .seeOther)
            #expect(expired.headers[.location] == "/console/sign-in")
        }
    }

    @Test func aOneTimeLinkSignsInOnce() async throws {
        let world = try await World()
        let arn = world.fixture.identities.userARN("carl")
        let (token, _) = world.console.links.mint(arn: arn, accessKeyId: world.consumer.id)
        try await world.test { client in
            var browser = Browser()
            let page = try await browser.get(client, "/console/link?token=\(token)")
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains(arn))
            let used = try await browser.post(client, "/console/link", [("token", token)])
            #expect(used.status == .seeOther)
            #expect(try await browser.get(client, "/console").status == .ok)

            var other = Browser()
            _ = try await other.get(client, "/console/sign-in")
            let again = try await other.post(client, "/console/link", [("token", token)])
            #expect(again.status == .badRequest)
            #expect(String(buffer: again.body).contains("already used"))
        }
        // A deactivated key's link does not sign in, and its sessions end.
        let (second, _) = world.console.links.mint(arn: arn, accessKeyId: world.consumer.id)
        try await world.fixture.identities.deactivateAccessKey(world.consumer.id, by: .platform)
        try await world.test { client in
            var browser = Browser()
            _ = try await browser.get(client, "/console/sign-in")
            let refused = try await browser.post(client, "/console/link", [("token", second)])
            #expect(refused.status == .badRequest)
        }
    }
}
