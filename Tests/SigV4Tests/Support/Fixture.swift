import Foundation
import SealedTesting
import SigV4
import Synchronization

/// A KMS-shaped request, credentials, a fixed time and a verifier for them, for the round-trip tests.
enum Fixture {
    /// 2026-11-29T10:15:00Z.
    static let now = Date(timeIntervalSince1970: 1_795_947_300)
    static let region = "us-east-1"
    static let service = "kms"

    static let longTerm = Credentials(accessKeyId: "AKIAFIXTURE00000001", secretAccessKey: "fixture/long+term=secret")
    static let session = Credentials(
        accessKeyId: "ASIAFIXTURE00000002",
        secretAccessKey: "fixture/session+secret",
        sessionToken: "FwoGZXIvYXdzEJr//////////wEaDFixtureSessionToken+/=="
    )
    static let sessionExpiration = now.addingTimeInterval(3600)

    static let body = Array(#"{"KeyId":"alias/payments","Plaintext":"aGVsbG8="}"#.utf8)

    static func request(body: [UInt8] = body) -> Request {
        Request(
            method: "POST",
            path: "/",
            headers: [
                (name: "Host", value: "kms.us-east-1.amazonaws.com"),
                (name: "Content-Type", value: "application/x-amz-json-1.1"),
                (name: "X-Amz-Target", value: "TrentService.Encrypt"),
                (name: "User-Agent", value: "fixture/1.0"),
            ],
            payload: .body(body)
        )
    }

    /// Whom the long-term key belongs to, as the lookup says; the session's lookup names nobody.
    static let longTermOwner = "arn:aws:iam::000000000000:user/fixture"

    /// The lookup: the two fixture credentials.
    static func secret(for accessKeyId: String) -> Verifier.Secret? {
        switch accessKeyId {
        case longTerm.accessKeyId:
            Verifier.Secret(secretAccessKey: longTerm.secretAccessKey, owner: longTermOwner)
        case session.accessKeyId:
            Verifier.Secret(
                secretAccessKey: session.secretAccessKey,
                sessionToken: session.sessionToken,
                expiration: sessionExpiration
            )
        default:
            nil
        }
    }

    static func verifier(
        now: Date = now,
        options: Verifier.Options = Verifier.Options(),
        keyCache: SigningKeyCache? = SigningKeyCache(),
        lookup: @escaping Verifier.CredentialLookup = { Fixture.secret(for: $0) }
    ) -> Verifier {
        Verifier(
            region: region,
            services: [service, "sts"],
            options: options,
            keyCache: keyCache,
            now: { now },
            credentials: lookup
        )
    }

    /// `request` signed in its headers, the signer's headers set on it.
    static func signed(
        _ request: Request = request(),
        credentials: Credentials = longTerm,
        region: String = region,
        service: String = service,
        date: Date = now,
        options: Signer.Options = Signer.Options()
    ) -> Request {
        let signature = Signer(options: options).sign(
            request,
            credentials: credentials,
            region: region,
            service: service,
            date: date
        )
        var signed = request
        signed.headers = applying(signature.headers, to: request.headers)
        return signed
    }

    /// `request` presigned, its query replaced by the presigned one.
    static func presigned(
        _ request: Request,
        credentials: Credentials = longTerm,
        date: Date = now,
        expires: Duration = .seconds(300),
        options: Signer.Options = Signer.Options()
    ) -> Request {
        let signature = Signer(options: options).presign(
            request,
            credentials: credentials,
            region: region,
            service: service,
            date: date,
            expires: expires
        )
        var signed = request
        signed.query = signature.query
        return signed
    }
}

extension Request {
    /// The value of the first header of that name, any case.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The request with a header set (earlier ones of that name removed), or removed when `value` is nil.
    func setting(_ name: String, _ value: String?) -> Request {
        var copy = self
        copy.headers.removeAll { $0.name.lowercased() == name.lowercased() }
        if let value { copy.headers.append((name: name, value: value)) }
        return copy
    }
}

extension TestClock {
    /// The wall-clock time `start` plus how far this clock has been advanced, for a verifier's `now`.
    func date(from start: Date) -> Date {
        let (seconds, attoseconds) = now.offset.components
        return start.addingTimeInterval(TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18)
    }
}

/// A count shared with escaping closures.
final class Counter: Sendable {
    private let count = Mutex(0)

    var value: Int { count.withLock { $0 } }

    func increment() {
        count.withLock { $0 += 1 }
    }
}
