import AccessControl
public import AuditTrail
import Catalog
import Crypto
public import EventBus
public import Foundation
import HTTPTypes
public import Hummingbird
public import KeyService
public import Tables
import Logging
import NIOCore
import SealedSupport
public import Server
import SigV4
import WireShapes

/// The web console at `/console`: server-rendered pages over the platform's services, for people who are not at a
/// terminal (reviewers, auditors, consuming teams).
///
/// - **Sign-in** with an access key id and its secret (checked as a signature would be: the store's active,
///   long-term key, compared in constant time, never stored), or with a one-time link that `sealed console login`
///   gets from `POST /v1/console/links` (``SignInLinks``). Failed sign-ins are audited (`ConsoleLogin`) and
///   throttled per source address and per access key.
/// - **Sessions** (``SessionStore``): a random 256-bit id in an HttpOnly, `SameSite=Strict` cookie (`Secure` when
///   ``Configuration/secureCookies``), idle and absolute expiry, sign-out; they end when their access key is
///   deactivated. Every form carries the session's CSRF token.
/// - **Pages** act as the signed-in principal through the platform's own services (the same authorization as the
///   API) and are audited like the API's calls (``ConsoleAudit``), with `userAgent` `sealed-console/1 (…)`.
/// - **Headers**: a strict Content-Security-Policy, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`,
///   `Cache-Control: no-store` on every page.
public struct Console: RouteMount {
    /// How the console runs.
    public struct Configuration: Sendable {
        /// Marks the session cookie `Secure`: set it when browsers reach the server over TLS (a terminating proxy).
        public var secureCookies: Bool
        /// Session lifetimes and how many sessions are kept.
        public var sessions: SessionStore.Policy
        /// How long a one-time sign-in link works.
        public var linkLifetime: Duration
        /// Failed sign-ins one source address may have, and how fast they are forgiven.
        public var failuresPerAddress: SignatureFailureLimiter.Policy
        /// Failed sign-ins one access key id may have, and how fast they are forgiven.
        public var failuresPerKey: SignatureFailureLimiter.Policy

        public init(
            secureCookies: Bool = false,
            sessions: SessionStore.Policy = SessionStore.Policy(),
            linkLifetime: Duration = .seconds(300),
            failuresPerAddress: SignatureFailureLimiter.Policy = .init(burst: 20, refill: .seconds(15)),
            failuresPerKey: SignatureFailureLimiter.Policy = .init(burst: 10, refill: .seconds(60))
        ) {
            self.secureCookies = secureCookies
            self.sessions = sessions
            self.linkLifetime = linkLifetime
            self.failuresPerAddress = failuresPerAddress
            self.failuresPerKey = failuresPerKey
        }
    }

    public let configuration: Configuration
    let platform: Platform
    let authentication: Authentication
    let audit: ConsoleAudit
    let sessions: SessionStore
    let links: SignInLinks
    /// The audit trail the audit pages read (the server's `/v1/audit` routes); `nil` hides them.
    let trail: AuditRoutes?
    /// The outcome of the newest verification of the trail run from the console.
    let verifications = LastVerification()
    let failuresByAddress: SignatureFailureLimiter
    let failuresByKey: SignatureFailureLimiter
    /// The bus the topics pages read; `nil` hides them.
    let bus: (any Transport)?
    /// Opens events for the signed-in principal; `nil` without a key service.
    let opener: ConsoleOpener?
    let pages = Pages()
    let now: @Sendable () -> Date
    /// What an unknown access key's secret is compared with, so that it takes as long as a known one.
    let decoySecret = Hex.encode(Random.bytes(20))

    /// Creates the console of a platform.
    ///
    /// - Parameters:
    ///   - platform: The services the pages call, as the signed-in principal.
    ///   - authentication: The access keys sign-in checks (the server's).
    ///   - auditSink: Where the console's records go (the server's); `nil` runs unaudited (tests).
    ///   - region: The region of the records.
    ///   - account: The account of the records.
    ///   - bus: The bus the topics pages read; `nil` hides them.
    ///   - keyService: The key service events are opened with, as the principal's reader-role session; `nil` shows
    ///     events sealed only.
    ///   - tables: The platform's tables, where subject-keyed events' branch keys live.
    ///   - trail: The audit trail the audit pages read (the server's ``Server/AuditRoutes``); `nil` for none.
    ///   - configuration: Cookies, lifetimes and limits.
    ///   - now: The clock of sessions and links.
    public init(
        platform: Platform,
        authentication: Authentication,
        auditSink: (any AuditSink)?,
        region: String,
        account: String,
        bus: (any Transport)? = nil,
        keyService: KeyService? = nil,
        tables: TableService? = nil,
        trail: AuditRoutes? = nil,
        configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.platform = platform
        self.authentication = authentication
        let audit = ConsoleAudit(sink: auditSink, region: region, account: account)
        self.audit = audit
        self.bus = bus
        self.opener = keyService.map {
            ConsoleOpener(identities: platform.identities, keyService: $0, tables: tables, audit: audit)
        }
        self.sessions = SessionStore(policy: configuration.sessions, now: now)
        self.links = SignInLinks(lifetime: configuration.linkLifetime, now: now)
        self.trail = trail
        self.failuresByAddress = SignatureFailureLimiter(policy: configuration.failuresPerAddress)
        self.failuresByKey = SignatureFailureLimiter(policy: configuration.failuresPerKey)
        self.now = now
    }

    /// The console of `server`, on its platform, credentials and audit trail; `nil` for a key service only.
    public init?(server: SealedServer, configuration: Configuration = Configuration()) {
        guard let platform = server.platform else { return nil }
        self.init(
            platform: platform,
            authentication: server.authentication,
            auditSink: server.auditSink,
            region: server.configuration.region,
            account: server.configuration.accountID,
            bus: server.busRoutes?.transport,
            keyService: server.keyService,
            tables: server.tables,
            trail: server.auditRoutes,
            configuration: configuration
        )
    }

    public func register(in router: Router<ServerContext>, v1: RouterGroup<AuthenticatedContext>) {
        let links = self.links
        v1.on(.createConsoleLink) { _, context in
            let (token, expiration) = links.mint(arn: context.principal.arn, accessKeyId: context.principal.accessKeyId)
            // The answer is the link; the audit record (the API's) never holds it.
            return try PlatformJSON.response(
                ConsoleLinkOutput(path: "/console/link?token=\(token)", expiration: expiration)
            )
        }
        router.get("/console/static/console.css") { _, _ in
            var headers = ConsoleHTTP.securityHeaders
            headers[.contentType] = "text/css; charset=utf-8"
            headers[.cacheControl] = "public, max-age=3600"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: Pages.stylesheet)))
        }
        registerSignIn(in: router)
        registerPages(in: router)
        registerMatrix(in: router)
        registerTopics(in: router)
        registerAuditPages(in: router)
    }
}

/// A request's signed-in session, as a page sees it.
struct SignedIn: Sendable {
    var session: ConsoleSession
    var principal: ConsolePrincipal
    var caller: ConsoleAudit.Caller
}

/// The request has no live signed-in session: it goes to sign-in.
struct SignInRequired: Error {}
/// A form without this session's CSRF token.
struct CSRFRefused: Error {}

extension Console {
    /// The signed-in session of `request`, whose access key is still active and still the same principal's.
    ///
    /// - Throws: ``SignInRequired`` otherwise (the session, if any, is ended).
    func signedIn(_ request: Request, context: ServerContext) async throws -> SignedIn {
        guard let id = ConsoleHTTP.sessionID(request), let session = sessions.session(id),
            let principal = session.principal
        else { throw SignInRequired() }
        guard let secret = try await authentication.credentials(principal.accessKeyId), secret.owner == principal.arn
        else {
            sessions.end(id)
            throw SignInRequired()
        }
        return SignedIn(session: session, principal: principal, caller: caller(request, context, principal))
    }

    /// The form of a post by a signed-in session, its CSRF token checked.
    func signedInForm(_ request: Request, context: ServerContext) async throws -> (SignedIn, Form) {
        let signedIn = try await signedIn(request, context: context)
        let form = try await ConsoleHTTP.form(request)
        guard signedIn.session.acceptsCSRFToken(form["csrf"]) else { throw CSRFRefused() }
        return (signedIn, form)
    }

    func caller(_ request: Request, _ context: ServerContext, _ principal: ConsolePrincipal?) -> ConsoleAudit.Caller {
        ConsoleAudit.Caller(
            principal: principal,
            sourceIP: context.sourceIP,
            browser: request.headers[.userAgent],
            requestID: context.requestID
        )
    }

    /// Runs a page's handler, turning the console's refusals into pages: sign-in for a missing session, 403 for a
    /// bad CSRF token, 503 when the audit trail is down.
    func page(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch is SignInRequired {
            return ConsoleHTTP.redirect(to: "/console/sign-in", cookie: ConsoleHTTP.clearedCookie(secure: configuration.secureCookies))
        } catch is CSRFRefused {
            return message(
                "Form refused",
                "This form did not come from your console session (its CSRF token is missing or wrong). Reload the page and try again.",
                status: .forbidden
            )
        } catch is AuditUnavailable {
            return message("Audit trail unavailable", "The audit trail could not record this request, so nothing was done or shown.", status: .serviceUnavailable)
        } catch let error as ConsoleRefusal {
            return message("Request refused", error.message, status: .badRequest)
        } catch let error as AccessControlError {
            return message("Request refused", error.message, status: error.status)
        } catch {
            return message("Something went wrong", "The request could not be completed.", status: .internalServerError)
        }
    }

    /// A page with one message and a way on.
    func message(
        _ heading: String,
        _ text: String,
        status: HTTPResponse.Status,
        next: String = "/console",
        nextLabel: String = "Back to the console"
    ) -> Response {
        ConsoleHTTP.page(
            pages.render("message", ["title": heading, "heading": heading, "message": text, "next": next, "nextLabel": nextLabel]),
            status: status
        )
    }
}
