import AuditTrail
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Server
import SigV4

/// Sign-in with an access key, sign-in with a one-time link, sign-out.
extension Console {
    func registerSignIn(in router: Router<ServerContext>) {
        router.get("/console/sign-in") { request, _ in
            if let id = ConsoleHTTP.sessionID(request), sessions.session(id)?.principal != nil {
                return ConsoleHTTP.redirect(to: "/console")
            }
            let (session, cookie) = anonymousSession(request)
            return signInPage(session, cookie: cookie)
        }
        router.post("/console/sign-in") { request, context in
            await page { try await signIn(request, context: context) }
        }
        router.get("/console/link") { request, context in
            await page {
                let (session, cookie) = anonymousSession(request)
                let token = request.uri.queryParameters.get("token") ?? ""
                let claim: SignInLinks.Claim
                do {
                    claim = try links.inspect(token)
                } catch {
                    failuresByAddress.recordFailure(from: context.sourceIP ?? "unknown")
                    return message(
                        "Sign-in link refused",
                        String(describing: error),
                        status: .badRequest,
                        next: "/console/sign-in",
                        nextLabel: "Sign in"
                    )
                }
                let values: [String: Any] = [
                    "title": "Sign in", "csrf": session.csrfToken, "token": token, "arn": claim.arn,
                    "accessKeyId": claim.accessKeyId, "expires": Format.date(claim.expiration, now: now()),
                ]
                return ConsoleHTTP.page(pages.render("link", values), cookie: cookie)
            }
        }
        router.post("/console/link") { request, context in
            await page { try await redeemLink(request, context: context) }
        }
        router.post("/console/sign-out") { request, context in
            await page {
                let (signedIn, _) = try await signedInForm(request, context: context)
                sessions.end(signedIn.session.id)
                return ConsoleHTTP.redirect(
                    to: "/console/sign-in",
                    cookie: ConsoleHTTP.clearedCookie(secure: configuration.secureCookies)
                )
            }
        }
    }

    /// The request's live session, or a new anonymous one with the cookie that names it.
    func anonymousSession(_ request: Request) -> (ConsoleSession, cookie: String?) {
        if let id = ConsoleHTTP.sessionID(request), let session = sessions.session(id) { return (session, nil) }
        let session = sessions.startAnonymous()
        return (session, ConsoleHTTP.cookie(session.id, secure: configuration.secureCookies))
    }

    func signInPage(
        _ session: ConsoleSession,
        cookie: String?,
        error: String? = nil,
        accessKeyId: String = "",
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var values: [String: Any] = ["title": "Sign in", "csrf": session.csrfToken, "accessKeyId": accessKeyId]
        if let error { values["error"] = error }
        return ConsoleHTTP.page(pages.render("sign-in", values), status: status, cookie: cookie)
    }

    /// `POST /console/sign-in`: the form's CSRF token, then the limits, then the secret.
    func signIn(_ request: Request, context: ServerContext) async throws -> Response {
        let form = try await ConsoleHTTP.form(request)
        guard let id = ConsoleHTTP.sessionID(request), let session = sessions.session(id),
            session.acceptsCSRFToken(form["csrf"])
        else { throw CSRFRefused() }
        let accessKeyId = String((form["accessKeyId"] ?? "").trimmingCharacters(in: .whitespaces).prefix(128))
        let secret = String((form["secret"] ?? "").prefix(256))
        let address = context.sourceIP ?? "unknown"
        let keyBucket = "key:" + accessKeyId
        if failuresByAddress.isThrottled(address) || failuresByKey.isThrottled(keyBucket) {
            // As the API's throttle: refused before anything is checked or recorded.
            return signInPage(
                session,
                cookie: nil,
                error: "Too many failed sign-ins from this address or for this access key. Wait a minute and try again.",
                accessKeyId: accessKeyId,
                status: .tooManyRequests
            )
        }
        var who = caller(request, context, nil)
        who.claimedAccessKeyId = accessKeyId
        let call = ConsoleAudit.Call(
            source: ConsoleAudit.signInSource,
            name: "ConsoleLogin",
            parameters: .object(["method": .string("AccessKey")]),
            readOnly: false
        )
        guard let principal = try await verify(accessKeyId: accessKeyId, secret: secret) else {
            failuresByAddress.recordFailure(from: address)
            failuresByKey.recordFailure(from: keyBucket)
            let refusal = ConsoleRefusal(code: "FailedAuthentication", message: "Failed authentication.")
            try await audit.record(call, caller: who, error: refusal)
            return signInPage(
                session,
                cookie: nil,
                error: "That access key id and secret do not sign in.",
                accessKeyId: accessKeyId,
                status: .unauthorized
            )
        }
        return try await open(principal, replacing: session, call: call, caller: who)
    }

    /// `POST /console/link`: the form's CSRF token, then the link (once), then its key (still active, still the
    /// principal's).
    func redeemLink(_ request: Request, context: ServerContext) async throws -> Response {
        let form = try await ConsoleHTTP.form(request)
        guard let id = ConsoleHTTP.sessionID(request), let session = sessions.session(id),
            session.acceptsCSRFToken(form["csrf"])
        else { throw CSRFRefused() }
        let address = context.sourceIP ?? "unknown"
        if failuresByAddress.isThrottled(address) {
            return message("Too many failed sign-ins", "Wait a minute and try again.", status: .tooManyRequests)
        }
        let call = ConsoleAudit.Call(
            source: ConsoleAudit.signInSource,
            name: "ConsoleLogin",
            parameters: .object(["method": .string("OneTimeLink")]),
            readOnly: false
        )
        let claim: SignInLinks.Claim
        do {
            claim = try links.redeem(form["token"] ?? "")
        } catch {
            failuresByAddress.recordFailure(from: address)
            try await audit.record(
                call,
                caller: caller(request, context, nil),
                error: ConsoleRefusal(code: "FailedAuthentication", message: error.description)
            )
            return message("Sign-in link refused", error.description, status: .badRequest, next: "/console/sign-in", nextLabel: "Sign in")
        }
        var who = caller(request, context, nil)
        who.claimedAccessKeyId = claim.accessKeyId
        guard let secret = try await authentication.credentials(claim.accessKeyId), secret.owner == claim.arn else {
            let refusal = ConsoleRefusal(code: "FailedAuthentication", message: "The link's access key is no longer active.")
            try await audit.record(call, caller: who, error: refusal)
            return message("Sign-in link refused", refusal.message, status: .badRequest, next: "/console/sign-in", nextLabel: "Sign in")
        }
        let principal = ConsolePrincipal(
            arn: claim.arn,
            accessKeyId: claim.accessKeyId,
            credentialExpiration: secret.expiration
        )
        return try await open(principal, replacing: session, call: call, caller: who)
    }

    /// Records the sign-in, then replaces the anonymous session with a signed-in one.
    func open(
        _ principal: ConsolePrincipal,
        replacing session: ConsoleSession,
        call: ConsoleAudit.Call,
        caller: ConsoleAudit.Caller
    ) async throws -> Response {
        var caller = caller
        caller.principal = principal
        try await audit.record(call, caller: caller, response: .object(["ConsoleLogin": .string("Success")]))
        let signedIn = sessions.signIn(principal, replacing: session.id)
        return ConsoleHTTP.redirect(to: "/console", cookie: ConsoleHTTP.cookie(signedIn.id, secure: configuration.secureCookies))
    }

    /// The principal of an active, long-term access key whose secret is `secret`; `nil` otherwise. The secrets are
    /// compared as SHA-256 digests in constant time, an unknown key against a decoy, so the time says nothing about
    /// either. Temporary credentials (a role session's) need their session token too, as a signature would: they
    /// sign in with a one-time link instead.
    func verify(accessKeyId: String, secret: String) async throws -> ConsolePrincipal? {
        guard !accessKeyId.isEmpty, !secret.isEmpty else { return nil }
        let stored = try await authentication.credentials(accessKeyId)
        let expected = SHA256.hash(data: Array((stored?.secretAccessKey ?? decoySecret).utf8))
        let given = SHA256.hash(data: Array(secret.utf8))
        let matches = ConstantTime.equal(Array(expected), Array(given))
        guard let stored, matches, stored.sessionToken == nil else { return nil }
        if let expiration = stored.expiration, expiration <= now() { return nil }
        guard let arn = stored.owner else { return nil }
        return ConsolePrincipal(arn: arn, accessKeyId: accessKeyId, credentialExpiration: stored.expiration)
    }
}
