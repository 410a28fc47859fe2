import Foundation
import SealedTesting
import SigV4
import Testing

/// One way for a request to fail verification, and the reason the verifier must give.
struct FailureCase: Sendable, CustomTestStringConvertible {
    let name: String
    let reason: Rejection.Reason
    var verifierNow: Date = Fixture.now
    var options = Verifier.Options()
    let request: @Sendable () -> Request

    var testDescription: String { "\(reason): \(name)" }

    static let all: [FailureCase] = [
        FailureCase(name: "no Authorization header and no query authentication", reason: .missingAuthentication) {
            Fixture.request()
        },

        FailureCase(name: "unsupported algorithm", reason: .malformedAuthorization) {
            let signed = Fixture.signed()
            let value = signed.header("Authorization")!.replacingOccurrences(
                of: "AWS4-HMAC-SHA256",
                with: "AWS4-HMAC-SHA512"
            )
            return signed.setting("Authorization", value)
        },
        FailureCase(name: "Authorization without Signature", reason: .malformedAuthorization) {
            let signed = Fixture.signed()
            let value = signed.header("Authorization")!.replacing(/, Signature=[0-9a-f]+/, with: "")
            return signed.setting("Authorization", value)
        },
        FailureCase(name: "Authorization repeats a component", reason: .malformedAuthorization) {
            let signed = Fixture.signed()
            let value = signed.header("Authorization")!
            return signed.setting("Authorization", value + ", SignedHeaders=host")
        },
        FailureCase(name: "signature is not hex", reason: .malformedAuthorization) {
            let signed = Fixture.signed()
            let value = signed.header("Authorization")!.replacing(
                /Signature=[0-9a-f]+/,
                with: "Signature=" + String(repeating: "z", count: 64)
            )
            return signed.setting("Authorization", value)
        },
        FailureCase(name: "signature is upper-case hex", reason: .malformedAuthorization) {
            let signed = Fixture.signed()
            let value = signed.header("Authorization")!
            let signature = value.firstMatch(of: /Signature=([0-9a-f]+)/)!.1
            return signed.setting(
                "Authorization",
                value.replacingOccurrences(of: signature, with: signature.uppercased())
            )
        },
        FailureCase(name: "credential without aws4_request", reason: .malformedAuthorization) {
            let signed = Fixture.signed()
            let value = signed.header("Authorization")!.replacingOccurrences(of: "/aws4_request", with: "")
            return signed.setting("Authorization", value)
        },
        FailureCase(name: "host is not signed", reason: .malformedAuthorization) {
            Fixture.signed(Fixture.request().setting("Host", nil))
        },
        FailureCase(name: "SignedHeaders out of order", reason: .malformedAuthorization) {
            let signed = Fixture.signed()
            let value = signed.header("Authorization")!.replacingOccurrences(
                of: "SignedHeaders=content-type;host;",
                with: "SignedHeaders=host;content-type;"
            )
            return signed.setting("Authorization", value)
        },
        FailureCase(name: "a signed header is missing from the request", reason: .malformedAuthorization) {
            Fixture.signed().setting("X-Amz-Target", nil)
        },
        FailureCase(name: "no X-Amz-Date", reason: .malformedAuthorization) {
            Fixture.signed().setting("X-Amz-Date", nil)
        },
        FailureCase(name: "X-Amz-Date is not a calendar date", reason: .malformedAuthorization) {
            Fixture.signed().setting("X-Amz-Date", "20261131T101500Z")
        },
        FailureCase(name: "signed in the header and in the query", reason: .malformedAuthorization) {
            let presigned = Fixture.presigned(Fixture.request())
            return Fixture.signed(presigned)
        },
        FailureCase(name: "presigned for more than 7 days", reason: .malformedAuthorization) {
            var presigned = Fixture.presigned(Fixture.request())
            presigned.query = presigned.query.replacingOccurrences(
                of: "X-Amz-Expires=300",
                with: "X-Amz-Expires=604801"
            )
            return presigned
        },
        FailureCase(name: "presigned without X-Amz-Credential", reason: .malformedAuthorization) {
            var presigned = Fixture.presigned(Fixture.request())
            presigned.query = presigned.query.replacing(/X-Amz-Credential=[^&]*&/, with: "")
            return presigned
        },
        FailureCase(
            name: "presigned where presigned URLs are not accepted",
            reason: .malformedAuthorization,
            options: Verifier.Options(allowsPresignedURLs: false)
        ) {
            Fixture.presigned(Fixture.request())
        },
        FailureCase(
            name: "X-Amz-Target present but not signed",
            reason: .malformedAuthorization,
            options: Verifier.Options(headersSignedWhenPresent: ["x-amz-target"])
        ) {
            let target = Fixture.request().header("X-Amz-Target")
            return Fixture.signed(Fixture.request().setting("X-Amz-Target", nil)).setting("X-Amz-Target", target)
        },

        FailureCase(name: "unknown access key id", reason: .unknownAccessKey) {
            Fixture.signed(credentials: Credentials(accessKeyId: "AKIAUNKNOWN", secretAccessKey: "whatever"))
        },

        FailureCase(name: "wrong secret", reason: .signatureMismatch) {
            Fixture.signed(
                credentials: Credentials(accessKeyId: Fixture.longTerm.accessKeyId, secretAccessKey: "not-the-secret")
            )
        },
        FailureCase(name: "body changed after signing", reason: .signatureMismatch) {
            var signed = Fixture.signed()
            signed.payload = .body(Array(#"{"KeyId":"alias/other","Plaintext":"aGVsbG8="}"#.utf8))
            return signed
        },
        FailureCase(name: "signed header changed after signing", reason: .signatureMismatch) {
            Fixture.signed().setting("X-Amz-Target", "TrentService.Decrypt")
        },

        FailureCase(name: "scoped to another region", reason: .credentialScopeMismatch) {
            Fixture.signed(region: "eu-west-1")
        },
        FailureCase(name: "scoped to a service not served", reason: .credentialScopeMismatch) {
            Fixture.signed(service: "s3")
        },
        FailureCase(name: "scope date is not the date of X-Amz-Date", reason: .credentialScopeMismatch) {
            let signed = Fixture.signed()
            let value = signed.header("Authorization")!.replacingOccurrences(of: "/20261129/", with: "/20261128/")
            return signed.setting("Authorization", value)
        },

        FailureCase(name: "signed 15 minutes and 1 second ago", reason: .requestTimeTooSkewed) {
            Fixture.signed(date: Fixture.now.addingTimeInterval(-901))
        },
        FailureCase(name: "signed 15 minutes and 1 second ahead", reason: .requestTimeTooSkewed) {
            Fixture.signed(date: Fixture.now.addingTimeInterval(901))
        },
        FailureCase(name: "presigned URL dated 15 minutes and 1 second ahead", reason: .requestTimeTooSkewed) {
            Fixture.presigned(Fixture.request(), date: Fixture.now.addingTimeInterval(901))
        },
        FailureCase(
            name: "presigned URL used 1 second after it expired",
            reason: .requestExpired,
            verifierNow: Fixture.now.addingTimeInterval(301)
        ) {
            Fixture.presigned(Fixture.request(), expires: .seconds(300))
        },

        FailureCase(name: "session credentials without their token", reason: .missingSessionToken) {
            var credentials = Fixture.session
            credentials.sessionToken = nil
            return Fixture.signed(credentials: credentials)
        },
        FailureCase(name: "another session token", reason: .invalidSessionToken) {
            var credentials = Fixture.session
            credentials.sessionToken = "FwoGZXIvYXdzEJr//////////wEaDOtherSessionToken+/=="
            return Fixture.signed(credentials: credentials)
        },
        FailureCase(name: "a session token with long-term keys", reason: .invalidSessionToken) {
            var credentials = Fixture.longTerm
            credentials.sessionToken = "FwoGZXIvYXdzEJr//////////wEaDInventedToken=="
            return Fixture.signed(credentials: credentials)
        },
        FailureCase(
            name: "session credentials past their expiration",
            reason: .expiredSessionToken,
            verifierNow: Fixture.sessionExpiration
        ) {
            Fixture.signed(credentials: Fixture.session, date: Fixture.sessionExpiration)
        },

        FailureCase(name: "x-amz-content-sha256 is not the hash of the body", reason: .payloadHashMismatch) {
            var signed = Fixture.signed(options: Signer.Options(addsPayloadHashHeader: true))
            signed.payload = .body(Array("tampered".utf8))
            return signed
        },
        FailureCase(name: "UNSIGNED-PAYLOAD where it is not allowed", reason: .unsignedPayloadNotAllowed) {
            var request = Fixture.request()
            request.payload = .unsigned
            var signed = Fixture.signed(request, options: Signer.Options(addsPayloadHashHeader: true))
            signed.payload = .body(Fixture.body)
            return signed
        },
    ]
}

struct VerifierTests {
    @Test("a request signed by the fixture signer verifies")
    func roundTrip() async throws {
        let verification = try await Fixture.verifier().verify(Fixture.signed())
        let principal = try #require(verification.principal)
        #expect(principal.accessKeyId == Fixture.longTerm.accessKeyId)
        #expect(principal.scope == CredentialScope(date: "20261129", region: "us-east-1", service: "kms"))
        #expect(principal.signedAt == Fixture.now)
        #expect(principal.presignedUntil == nil)
        #expect(!principal.hasSessionToken)
        #expect(principal.owner == Fixture.longTermOwner, "the lookup's owner is handed on")
    }

    @Test("each failure gives its reason, and no secret or signature", arguments: FailureCase.all)
    func failure(_ failure: FailureCase) async throws {
        let verifier = Fixture.verifier(now: failure.verifierNow, options: failure.options)
        let verification = try await verifier.verify(failure.request())
        let rejection = try #require(verification.rejection, "\(failure.name) verified")
        #expect(rejection.reason == failure.reason, "\(rejection)")

        let text = "\(rejection) \(String(reflecting: rejection)) \(rejection.detail)"
        for secret in [
            Fixture.longTerm.secretAccessKey, Fixture.session.secretAccessKey, Fixture.session.sessionToken!,
        ] {
            #expect(!text.contains(secret))
        }
        #expect(text.firstMatch(of: /[0-9a-f]{64}/) == nil, "a signature or hash in \(text)")
    }

    @Test("the failure table covers every reason")
    func failureTableIsComplete() {
        let reasons: Set<Rejection.Reason> = [
            .missingAuthentication, .malformedAuthorization, .unknownAccessKey, .signatureMismatch,
            .credentialScopeMismatch, .requestTimeTooSkewed, .requestExpired, .missingSessionToken,
            .invalidSessionToken, .expiredSessionToken, .payloadHashMismatch, .unsignedPayloadNotAllowed,
        ]
        #expect(Set(FailureCase.all.map(\.reason)) == reasons)
    }

    @Test(
        "header signatures are accepted within 15 minutes of the clock, either way",
        arguments: [(-901, false), (-900, true), (-60, true), (0, true), (60, true), (900, true), (901, false)]
    )
    func clockWindow(offset: Int, accepted: Bool) async throws {
        // The clock starts 901 seconds before the signing time and moves forward by 901 + offset.
        let clock = TestClock()
        let start = Fixture.now.addingTimeInterval(-901)
        let verifier = Verifier(
            region: Fixture.region,
            services: [Fixture.service],
            now: { clock.date(from: start) },
            credentials: { Fixture.secret(for: $0) }
        )
        let request = Fixture.signed()
        clock.advance(by: .seconds(901 + offset))
        let verification = try await verifier.verify(request)
        if accepted {
            #expect(verification.principal != nil)
        } else {
            #expect(verification.rejection?.reason == .requestTimeTooSkewed)
        }
    }

    @Test("a narrower clock skew is honoured")
    func customSkew() async throws {
        let options = Verifier.Options(allowedClockSkew: .seconds(60))
        let verifier = Fixture.verifier(now: Fixture.now.addingTimeInterval(61), options: options)
        #expect(try await verifier.verify(Fixture.signed()).rejection?.reason == .requestTimeTooSkewed)
        let lenient = Fixture.verifier(now: Fixture.now.addingTimeInterval(60), options: options)
        #expect(try await lenient.verify(Fixture.signed()).principal != nil)
    }

    @Test("a presigned URL is valid from 15 minutes before its date to its expiry")
    func presignedWindow() async throws {
        let clock = TestClock()
        let start = Fixture.now.addingTimeInterval(-901)
        let verifier = Verifier(
            region: Fixture.region,
            services: [Fixture.service],
            now: { clock.date(from: start) },
            credentials: { Fixture.secret(for: $0) }
        )
        let request = Fixture.presigned(Fixture.request(), expires: .seconds(300))

        #expect(try await verifier.verify(request).rejection?.reason == .requestTimeTooSkewed)
        clock.advance(by: .seconds(1))  // 15 minutes before its date
        #expect(try await verifier.verify(request).principal != nil)
        clock.advance(by: .seconds(900 + 300))  // its last second
        #expect(try await verifier.verify(request).principal?.presignedUntil == Fixture.now.addingTimeInterval(300))
        clock.advance(by: .seconds(1))
        #expect(try await verifier.verify(request).rejection?.reason == .requestExpired)
    }

    // MARK: Session tokens

    @Test("a signed session token verifies, in the header and in a presigned URL")
    func sessionToken() async throws {
        let verifier = Fixture.verifier()
        let header = try #require(try await verifier.verify(Fixture.signed(credentials: Fixture.session)).principal)
        #expect(header.accessKeyId == Fixture.session.accessKeyId)
        #expect(header.hasSessionToken)

        let presigned = Fixture.presigned(Fixture.request(), credentials: Fixture.session)
        #expect(presigned.query.contains("X-Amz-Security-Token="))
        let query = try #require(try await verifier.verify(presigned).principal)
        #expect(query.hasSessionToken)
    }

    @Test("an unsigned session token is accepted in a header but not in a presigned URL")
    func unsignedSessionToken() async throws {
        let verifier = Fixture.verifier()
        let options = Signer.Options(signsSessionToken: false)

        let signed = Fixture.signed(credentials: Fixture.session, options: options)
        #expect(!signed.header("Authorization")!.contains("x-amz-security-token"))
        #expect(signed.header("X-Amz-Security-Token") == Fixture.session.sessionToken)
        #expect(try await verifier.verify(signed).principal?.hasSessionToken == true)

        let presigned = Fixture.presigned(Fixture.request(), credentials: Fixture.session, options: options)
        #expect(try await verifier.verify(presigned).rejection?.reason == .signatureMismatch)
    }

    @Test("session credentials are refused from their expiration on")
    func sessionExpiration() async throws {
        let justBefore = Fixture.sessionExpiration.addingTimeInterval(-1)
        let request = Fixture.signed(credentials: Fixture.session, date: justBefore)
        #expect(try await Fixture.verifier(now: justBefore).verify(request).principal != nil)
        let atExpiration = Fixture.verifier(now: Fixture.sessionExpiration)
        #expect(try await atExpiration.verify(request).rejection?.reason == .expiredSessionToken)
    }

    // MARK: Presigned URLs

    @Test(
        "presigned URLs round-trip through the verifier",
        arguments: [PathCanonicalization.normalized, .unnormalized]
    )
    func presignRoundTrip(_ pathCanonicalization: PathCanonicalization) async throws {
        var request = Request(
            method: "GET",
            path: "/objects/a%20b/c$d/~x",
            queryItems: [(name: "list-type", value: "2"), (name: "prefix", value: "reports/2026 Q4+")],
            headers: [(name: "Host", value: "sealed.example:8443"), (name: "X-Amz-Meta-Tag", value: "  one   two ")],
            payload: .empty
        )
        #expect(request.query == "list-type=2&prefix=reports%2F2026%20Q4%2B")
        if pathCanonicalization == .unnormalized { request.payload = .unsigned }  // S3's presigned URLs

        let signer = Signer(options: Signer.Options(pathCanonicalization: pathCanonicalization))
        let signature = signer.presign(
            request,
            credentials: Fixture.longTerm,
            region: Fixture.region,
            service: Fixture.service,
            date: Fixture.now,
            expires: .seconds(900)
        )
        #expect(signature.query.hasPrefix(request.query + "&X-Amz-Algorithm=AWS4-HMAC-SHA256&"))
        #expect(signature.query.hasSuffix("&X-Amz-Signature=" + signature.signature))
        #expect(signature.signedHeaders == "host;x-amz-meta-tag")

        var received = request
        received.query = signature.query
        let verifier = Fixture.verifier(options: Verifier.Options(pathCanonicalization: pathCanonicalization))
        let principal = try #require(try await verifier.verify(received).principal)
        #expect(principal.presignedUntil == signature.expiration)
        #expect(principal.signedAt == Fixture.now)

        // Parameters may arrive in any order.
        var shuffled = received
        shuffled.query = signature.query.split(separator: "&").reversed().joined(separator: "&")
        #expect(try await verifier.verify(shuffled).principal != nil)

        // The other path rule gives another canonical URI for this path, so the signature no longer matches.
        let other: PathCanonicalization = pathCanonicalization == .normalized ? .unnormalized : .normalized
        let mismatched = Fixture.verifier(options: Verifier.Options(pathCanonicalization: other))
        #expect(try await mismatched.verify(received).rejection?.reason == .signatureMismatch)
    }

    @Test("UNSIGNED-PAYLOAD verifies where allowed, whatever the body")
    func unsignedPayloadAllowed() async throws {
        var request = Fixture.request()
        request.payload = .unsigned
        var signed = Fixture.signed(request, options: Signer.Options(addsPayloadHashHeader: true))
        #expect(signed.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD")
        signed.payload = .body(Array("any body at all".utf8))
        let verifier = Fixture.verifier(options: Verifier.Options(allowsUnsignedPayload: true))
        #expect(try await verifier.verify(signed).principal != nil)
    }

    @Test("a signed x-amz-content-sha256 that matches the body verifies")
    func payloadHashHeader() async throws {
        let signed = Fixture.signed(options: Signer.Options(addsPayloadHashHeader: true))
        #expect(signed.header("x-amz-content-sha256") == Payload.body(Fixture.body).value)
        #expect(try await Fixture.verifier().verify(signed).principal != nil)
    }

    // MARK: Lookup and cache

    @Test("malformed, mis-scoped and stale requests cost no credential lookup")
    func lookupIsLazy() async throws {
        let lookups = Counter()
        let verifier = Fixture.verifier { accessKeyId in
            lookups.increment()
            return Fixture.secret(for: accessKeyId)
        }
        _ = try await verifier.verify(Fixture.request())
        _ = try await verifier.verify(Fixture.signed(region: "eu-west-1"))
        _ = try await verifier.verify(Fixture.signed(date: Fixture.now.addingTimeInterval(-3600)))
        _ = try await verifier.verify(Fixture.signed().setting("X-Amz-Target", nil))
        #expect(lookups.value == 0)
        _ = try await verifier.verify(Fixture.signed())
        #expect(lookups.value == 1)
    }

    @Test("an error of the credential lookup is thrown, not turned into a verdict")
    func lookupErrorIsThrown() async throws {
        struct StoreUnavailable: Error {}
        let verifier = Fixture.verifier { _ in throw StoreUnavailable() }
        await #expect(throws: StoreUnavailable.self) {
            try await verifier.verify(Fixture.signed())
        }
    }

    @Test("verification gives the same verdicts with and without the signing key cache")
    func cacheIsTransparent() async throws {
        let cache = SigningKeyCache()
        let cached = Fixture.verifier(keyCache: cache)
        let uncached = Fixture.verifier(keyCache: nil)
        let requests = [
            Fixture.signed(),
            Fixture.signed(credentials: Fixture.session),
            Fixture.signed(credentials: Credentials(accessKeyId: Fixture.longTerm.accessKeyId, secretAccessKey: "x")),
            Fixture.signed(service: "sts"),
        ]
        for _ in 0..<3 {
            for request in requests {
                let withCache = try await cached.verify(request)
                let withoutCache = try await uncached.verify(request)
                #expect(withCache.principal == withoutCache.principal)
                #expect(withCache.rejection == withoutCache.rejection)
            }
        }
        // One key per (secret, date, region, service): long-term/kms, session/kms, long-term/sts.
        #expect(cache.count == 3)
        cache.removeAll()
        #expect(cache.count == 0)
        #expect(try await cached.verify(requests[0]).principal != nil)
        #expect(cache.count == 1)
    }

    @Test("the signing key cache stays within its capacity")
    func cacheIsBounded() async throws {
        let cache = SigningKeyCache(capacity: 2)
        let signer = Signer(keyCache: cache)
        for day in 0..<5 {
            let date = Fixture.now.addingTimeInterval(TimeInterval(day * 86_400))
            let signature = signer.sign(
                Fixture.request(),
                credentials: Fixture.longTerm,
                region: Fixture.region,
                service: Fixture.service,
                date: date
            )
            let uncached = Signer(keyCache: nil).sign(
                Fixture.request(),
                credentials: Fixture.longTerm,
                region: Fixture.region,
                service: Fixture.service,
                date: date
            )
            #expect(signature.signature == uncached.signature)
            #expect(cache.count <= 2)
        }
    }

    @Test("verifiers are usable from many tasks at once")
    func concurrentVerification() async throws {
        let verifier = Fixture.verifier()
        let request = Fixture.signed()
        let verified = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<64 {
                group.addTask { try await verifier.verify(request).principal != nil }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(verified == 64)
    }
}
