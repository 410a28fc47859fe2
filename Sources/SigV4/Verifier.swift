import Crypto
public import Foundation
import SealedSupport

/// Verifies SigV4-signed requests on a server: says who signed a request, or why it is not accepted.
///
/// Given a request as received, the verifier reads the signature from the `Authorization` header or from the
/// query string of a presigned URL ("Authentication methods", IAM User Guide), checks the credential scope
/// against its region and services, the signing time against its clock, looks the access key id up, rebuilds the
/// canonical request and compares the signatures in constant time ("Create a signed AWS API request", IAM User
/// Guide, which describes the same steps AWS runs to verify). Session credentials must present their session
/// token, before their expiration.
///
/// Cheap checks come first, so a malformed, mis-scoped or stale request costs no credential lookup. A failed
/// verification is a ``Verification/rejected(_:)`` verdict, not an error; `verify` throws only what the
/// credential lookup throws.
///
/// ```swift
/// let verifier = Verifier(region: "us-east-1", services: ["kms", "sts"]) { accessKeyId in
///     try await store.secret(forAccessKeyId: accessKeyId)
/// }
/// switch try await verifier.verify(request) {
/// case .verified(let principal): ...
/// case .rejected(let rejection): ...
/// }
/// ```
public struct Verifier: Sendable {
    /// Finds the secret of an access key id, or `nil` when the id is unknown.
    public typealias CredentialLookup = @Sendable (_ accessKeyId: String) async throws -> Secret?

    /// The region every credential scope must name.
    public var region: String
    /// The services a credential scope may name; ``Principal/scope`` tells which one a request used.
    public var services: Set<String>
    /// How requests are canonicalized and what is accepted.
    public var options: Options
    /// Derived signing keys kept between requests, or `nil` to derive the key for every request.
    public var keyCache: SigningKeyCache?

    private let now: @Sendable () -> Date
    private let lookup: CredentialLookup

    /// The longest lifetime SigV4 allows a presigned URL: 7 days.
    static let maximumPresignedLifetime: Int64 = 604_800

    /// Creates a verifier.
    ///
    /// - Parameters:
    ///   - region: The region every credential scope must name.
    ///   - services: The services a credential scope may name.
    ///   - options: How requests are canonicalized and what is accepted.
    ///   - keyCache: Where derived signing keys are kept; `nil` derives the key for every request.
    ///   - now: The clock the signing time is checked against.
    ///   - lookup: Finds the secret of an access key id.
    public init(
        region: String,
        services: Set<String>,
        options: Options = Options(),
        keyCache: SigningKeyCache? = SigningKeyCache(),
        now: @escaping @Sendable () -> Date = { Date() },
        credentials lookup: @escaping CredentialLookup
    ) {
        self.region = region
        self.services = services
        self.options = options
        self.keyCache = keyCache
        self.now = now
        self.lookup = lookup
    }

    /// Verifies a received request.
    ///
    /// - Parameter request: The request as received: method, raw path and query, every header, and the SHA-256
    ///   of the body as ``Payload/body(_:)``. Passing ``Payload/unsigned`` means the body was not hashed: the
    ///   payload line is then taken from `x-amz-content-sha256` (or is `UNSIGNED-PAYLOAD` without it), and
    ///   checking the body against that header is left to the caller.
    /// - Returns: ``Verification/verified(_:)`` with the signer, or ``Verification/rejected(_:)`` with the reason.
    /// - Throws: Only what the credential lookup throws.
    public func verify(_ request: Request) async throws -> Verification {
        let claim: Claim
        let canonical: [UInt8]
        do {
            claim = try parse(request)
            try checkScope(claim)
            try checkTime(claim)
            let payload = try payloadLine(request, claim: claim)
            canonical = try canonicalRequest(request, claim: claim, payload: payload)
        } catch {
            return .rejected(error)
        }

        guard let secret = try await lookup(claim.accessKeyId) else {
            return .rejected(
                Rejection(
                    .unknownAccessKey,
                    accessKeyId: claim.accessKeyId,
                    detail: "the access key id \(claim.accessKeyId) is not known"
                )
            )
        }

        let stringToSign = Canonical.stringToSign(
            canonicalRequest: canonical,
            amzDate: claim.amzDate,
            scope: claim.scope.description
        )
        var mac = keyCache.signingMAC(
            secretAccessKey: secret.secretAccessKey,
            dateStamp: claim.scope.date,
            region: claim.scope.region,
            service: claim.scope.service
        )
        mac.update(data: stringToSign)
        // swift-crypto compares an authentication code with bytes in constant time.
        guard mac.finalize() == claim.signature else {
            return .rejected(
                Rejection(
                    .signatureMismatch,
                    accessKeyId: claim.accessKeyId,
                    detail: "the signature does not match the request signed with \(claim.accessKeyId)"
                )
            )
        }

        if let rejection = checkSession(claim, secret: secret) {
            return .rejected(rejection)
        }
        return .verified(
            Principal(
                accessKeyId: claim.accessKeyId,
                scope: claim.scope,
                signedAt: claim.timestamp.date,
                presignedUntil: claim.expires.map {
                    Timestamp(secondsSince1970: claim.timestamp.secondsSince1970 + $0).date
                },
                hasSessionToken: claim.sessionToken != nil,
                owner: secret.owner
            )
        )
    }
}

extension Verifier {
    /// What a ``Verifier`` accepts and how it canonicalizes requests.
    public struct Options: Sendable {
        /// How the path becomes the canonical URI; it must match what the clients of this server use.
        public var pathCanonicalization: PathCanonicalization
        /// How far the signing time may be from the verifier's clock, either way: 15 minutes by default, as
        /// AWS allows (`RequestTimeTooSkewed`). For a presigned URL it bounds only how far in the future the
        /// signing time may be; the end of its validity is `X-Amz-Expires`.
        public var allowedClockSkew: Duration
        /// Whether a request may declare `x-amz-content-sha256: UNSIGNED-PAYLOAD`, leaving its body unsigned.
        /// Off by default.
        public var allowsUnsignedPayload: Bool
        /// The longest `X-Amz-Expires` accepted in a presigned URL; at most 7 days, which SigV4 never exceeds.
        public var maximumPresignedLifetime: Duration
        /// Whether a request may be signed in its query string (a presigned URL). On by default; a server whose
        /// operations AWS never lets anyone presign turns it off.
        public var allowsPresignedURLs: Bool
        /// Lower-case names of headers that must be among the signed headers whenever the request carries them,
        /// such as `x-amz-target`, which names the operation: without it a signature covering only `host` would
        /// let anyone who saw the request replay it as another operation.
        public var headersSignedWhenPresent: [String]

        /// Creates options.
        ///
        /// - Parameters:
        ///   - pathCanonicalization: How the path becomes the canonical URI.
        ///   - allowedClockSkew: How far the signing time may be from the clock.
        ///   - allowsUnsignedPayload: Whether `UNSIGNED-PAYLOAD` is accepted.
        ///   - maximumPresignedLifetime: The longest `X-Amz-Expires` accepted.
        ///   - allowsPresignedURLs: Whether query-string signatures are accepted.
        ///   - headersSignedWhenPresent: Headers that must be signed when present (lower-case names).
        public init(
            pathCanonicalization: PathCanonicalization = .normalized,
            allowedClockSkew: Duration = .seconds(15 * 60),
            allowsUnsignedPayload: Bool = false,
            maximumPresignedLifetime: Duration = .seconds(604_800),
            allowsPresignedURLs: Bool = true,
            headersSignedWhenPresent: [String] = []
        ) {
            self.pathCanonicalization = pathCanonicalization
            self.allowedClockSkew = allowedClockSkew
            self.allowsUnsignedPayload = allowsUnsignedPayload
            self.maximumPresignedLifetime = maximumPresignedLifetime
            self.allowsPresignedURLs = allowsPresignedURLs
            self.headersSignedWhenPresent = headersSignedWhenPresent
        }
    }

    /// What the credential lookup knows of an access key id.
    ///
    /// The description, debug description and mirror never show the secret or the token.
    public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// The secret access key.
        public var secretAccessKey: String
        /// The session token that requests with this access key id must carry, for temporary credentials;
        /// `nil` for long-term keys, whose requests must carry none.
        public var sessionToken: String?
        /// When the credentials stop being valid, for temporary credentials.
        public var expiration: Date?
        /// Whom the credential store says the access key belongs to (an IAM principal's ARN, say), read in the same
        /// lookup as the secret. The verifier never consults it; it is handed on as ``Principal/owner`` once the
        /// signature has verified.
        public var owner: String?

        /// Creates a secret.
        ///
        /// - Parameters:
        ///   - secretAccessKey: The secret access key.
        ///   - sessionToken: The session token of temporary credentials.
        ///   - expiration: When temporary credentials expire.
        ///   - owner: Whom the access key belongs to.
        public init(secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil, owner: String? = nil) {
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
            self.expiration = expiration
            self.owner = owner
        }

        public var description: String {
            "Secret(secretAccessKey: <redacted>, sessionToken: \(sessionToken == nil ? "nil" : "<redacted>"), "
                + "expiration: \(expiration.map { "\($0)" } ?? "nil"), owner: \(owner ?? "nil"))"
        }

        public var debugDescription: String { description }

        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "secretAccessKey": "<redacted>",
                    "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
                    "expiration": expiration as Any,
                    "owner": owner as Any,
                ]
            )
        }
    }
}

// MARK: - The steps

/// What a request claims about its signature, read from the `Authorization` header or the query.
private struct Claim {
    var accessKeyId: String
    var scope: CredentialScope
    var signedHeaders: Substring
    var signature: [UInt8]
    var amzDate: String
    var timestamp: Timestamp
    /// `X-Amz-Expires`, for a presigned URL.
    var expires: Int64?
    var sessionToken: String?
    /// The canonical query: every parameter but `X-Amz-Signature` in a presigned URL, sorted.
    var query: [QueryParameter]
}

extension Verifier {
    private func malformed(_ detail: String, accessKeyId: String? = nil) -> Rejection {
        Rejection(.malformedAuthorization, accessKeyId: accessKeyId, detail: detail)
    }

    private func parse(_ request: Request) throws(Rejection) -> Claim {
        var query = Canonical.queryParameters(request.query)
        let authorization = request.headers.first {
            Encoding.equalsIgnoringASCIICase($0.name.utf8, lowercase: "authorization".utf8)
        }
        let presigned = query.contains { $0.nameEquals("X-Amz-Algorithm") || $0.nameEquals("X-Amz-Signature") }

        let algorithm: Substring
        let credential: Substring
        let signedHeaders: Substring
        let signatureHex: Substring
        let amzDate: Substring
        var expires: Int64? = nil
        var sessionToken: String? = nil

        switch (authorization, presigned) {
        case (nil, false):
            throw Rejection(
                .missingAuthentication,
                detail: "the request has neither an Authorization header nor X-Amz- query authentication"
            )
        case (.some, true):
            throw malformed("the request is signed both in the Authorization header and in the query")
        case (.some(let header), false):
            // "Authentication methods": AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…
            // Split on the header's contiguous UTF-8 bytes (no per-byte calls into Substring's views), then cut into
            // substrings of the value.
            var value = header.value
            let ranges: AuthorizationHeader.Parts
            switch value.withUTF8({ AuthorizationHeader.parts(of: $0) }) {
            case .success(let parts): ranges = parts
            case .failure(let problem): throw malformed(problem.detail)
            }
            let utf8 = value.utf8
            func part(_ range: Range<Int>) -> Substring {
                let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
                return Substring(utf8[start..<utf8.index(start, offsetBy: range.count)])
            }
            (algorithm, credential) = (part(ranges.algorithm), part(ranges.credential))
            (signedHeaders, signatureHex) = (part(ranges.signedHeaders), part(ranges.signature))
            guard let date = firstHeader("x-amz-date", in: request) else {
                throw malformed("the request has no X-Amz-Date header")
            }
            amzDate = date
            sessionToken = firstHeader("x-amz-security-token", in: request).map(String.init)
        case (nil, true):
            guard options.allowsPresignedURLs else {
                throw malformed("presigned URLs are not accepted here; sign the request in its Authorization header")
            }
            // "Authenticating Requests: Using Query Parameters" (Amazon S3 API Reference).
            var found: [String: String] = [:]
            var signatureIndex: Int? = nil
            for (index, parameter) in query.enumerated() {
                let name = String(decoding: parameter.name, as: UTF8.self)
                guard name.hasPrefix("X-Amz-") else { continue }
                switch name {
                case "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                    "X-Amz-Signature", "X-Amz-Security-Token":
                    guard found.updateValue(parameter.decodedValue, forKey: name) == nil else {
                        throw malformed("the query repeats \(name)")
                    }
                    if name == "X-Amz-Signature" { signatureIndex = index }
                default:
                    continue
                }
            }
            guard let a = found["X-Amz-Algorithm"], let c = found["X-Amz-Credential"], let d = found["X-Amz-Date"],
                let e = found["X-Amz-Expires"], let h = found["X-Amz-SignedHeaders"],
                let s = found["X-Amz-Signature"], let signatureIndex
            else {
                throw malformed(
                    "a presigned URL needs X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, "
                        + "X-Amz-SignedHeaders and X-Amz-Signature"
                )
            }
            (algorithm, credential, amzDate, signedHeaders, signatureHex) = (a[...], c[...], d[...], h[...], s[...])
            let configured = options.maximumPresignedLifetime.components.seconds
            let maximum = max(1, min(configured, Self.maximumPresignedLifetime))
            guard e.utf8.count <= 7, e.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let lifetime = Int64(e),
                (1...maximum).contains(lifetime)
            else {
                throw malformed("X-Amz-Expires must be a number of seconds from 1 to \(maximum)")
            }
            expires = lifetime
            sessionToken =
                found["X-Amz-Security-Token"] ?? firstHeader("x-amz-security-token", in: request).map(String.init)
            query.remove(at: signatureIndex)
        }

        guard algorithm.utf8.elementsEqual(Canonical.algorithm.utf8) else {
            throw malformed("the algorithm must be \(Canonical.algorithm)")
        }

        // Credential: access key id / date / region / service / aws4_request.
        var parts: [Substring] = []
        parts.reserveCapacity(5)
        credential.utf8.forEachPiece(separatedBy: UInt8(ascii: "/")) { parts.append(Substring($0)) }
        guard parts.count == 5, parts.allSatisfy({ !$0.isEmpty }),
            parts[4].utf8.elementsEqual(Canonical.terminator.utf8)
        else {
            throw malformed("the credential must be access-key-id/date/region/service/aws4_request")
        }
        let accessKeyId = String(parts[0])
        let scope = CredentialScope(date: String(parts[1]), region: String(parts[2]), service: String(parts[3]))

        guard let signature = Encoding.sha256FromLowercaseHex(signatureHex) else {
            throw malformed("the signature must be 64 lowercase hex digits", accessKeyId: accessKeyId)
        }
        try checkSignedHeaders(signedHeaders, accessKeyId: accessKeyId)
        var signedList = signedHeaders
        for name in options.headersSignedWhenPresent where !signedList.withUTF8({ $0.containsPiece(name.utf8) }) {
            let present = request.headers.contains {
                Encoding.equalsIgnoringASCIICase($0.name.utf8, lowercase: name.utf8)
            }
            if present { throw malformed("the \(name) header must be signed", accessKeyId: accessKeyId) }
        }
        guard let timestamp = Timestamp(amzDate: amzDate) else {
            throw malformed("X-Amz-Date must be YYYYMMDDTHHMMSSZ", accessKeyId: accessKeyId)
        }

        query.sort(by: QueryParameter.canonicallyPrecedes)
        return Claim(
            accessKeyId: accessKeyId,
            scope: scope,
            signedHeaders: signedHeaders,
            signature: signature,
            amzDate: String(amzDate),
            timestamp: timestamp,
            expires: expires,
            sessionToken: sessionToken,
            query: query
        )
    }

    /// `SignedHeaders` must be lower-case names, sorted, without repeats, and include `host`.
    private func checkSignedHeaders(_ list: Substring, accessKeyId: String) throws(Rejection) {
        var list = list
        // On the list's contiguous bytes: walking a Substring's view calls into the standard library for every byte.
        let problem = list.withUTF8 { bytes -> String? in
            var previous: Slice<UnsafeBufferPointer<UInt8>>? = nil
            var hasHost = false
            var problem: String? = nil
            bytes.forEachPiece(separatedBy: UInt8(ascii: ";")) { name in
                guard problem == nil else { return }
                guard !name.isEmpty, !name.contains(where: { (0x41...0x5A).contains($0) || $0 <= 0x20 }) else {
                    problem = "SignedHeaders must list lower-case header names"
                    return
                }
                if let previous, !previous.lexicographicallyPrecedes(name) {
                    problem = "SignedHeaders must be sorted and without repeats"
                    return
                }
                if name.elementsEqual("host".utf8) { hasHost = true }
                previous = name
            }
            return problem ?? (hasHost ? nil : "the host header must be signed")
        }
        if let problem { throw malformed(problem, accessKeyId: accessKeyId) }
    }

    private func checkScope(_ claim: Claim) throws(Rejection) {
        let scope = claim.scope
        func mismatch(_ detail: String) -> Rejection {
            Rejection(.credentialScopeMismatch, accessKeyId: claim.accessKeyId, detail: detail)
        }
        guard scope.date.utf8.elementsEqual(claim.amzDate.utf8.prefix(8)) else {
            throw mismatch("the credential scope date \(scope.date) is not the date of X-Amz-Date \(claim.amzDate)")
        }
        guard scope.region == region else {
            throw mismatch("the credential scope region \(scope.region) should be \(region)")
        }
        guard services.contains(scope.service) else {
            throw mismatch("the credential scope service \(scope.service) is not served here")
        }
    }

    private func checkTime(_ claim: Claim) throws(Rejection) {
        let now = Timestamp(self.now()).secondsSince1970
        let signed = claim.timestamp.secondsSince1970
        let skew = options.allowedClockSkew.components.seconds
        if let expires = claim.expires {
            guard now >= signed - skew else {
                throw Rejection(
                    .requestTimeTooSkewed,
                    accessKeyId: claim.accessKeyId,
                    detail: "the presigned URL is dated \(claim.amzDate), more than \(skew) s ahead of the server"
                )
            }
            guard now <= signed + expires else {
                throw Rejection(
                    .requestExpired,
                    accessKeyId: claim.accessKeyId,
                    detail: "the presigned URL expired \(expires) s after \(claim.amzDate)"
                )
            }
        } else {
            guard abs(now - signed) <= skew else {
                throw Rejection(
                    .requestTimeTooSkewed,
                    accessKeyId: claim.accessKeyId,
                    detail: "the request time \(claim.amzDate) is more than \(skew) s from the server time "
                        + Timestamp(secondsSince1970: now).amzDate
                )
            }
        }
    }

    /// The last line of the canonical request.
    ///
    /// `x-amz-content-sha256`, when present, states the payload line the client signed: `UNSIGNED-PAYLOAD` if
    /// allowed, else a hash that must equal the body's. Without it, the body's hash is the payload line.
    private func payloadLine(_ request: Request, claim: Claim) throws(Rejection) -> String {
        guard let declared = firstHeader("x-amz-content-sha256", in: request) else {
            return request.payload.value
        }
        if declared == Payload.unsignedValue {
            guard options.allowsUnsignedPayload else {
                throw Rejection(
                    .unsignedPayloadNotAllowed,
                    accessKeyId: claim.accessKeyId,
                    detail: "UNSIGNED-PAYLOAD is not accepted here; sign the body"
                )
            }
            return Payload.unsignedValue
        }
        if request.payload.isUnsigned { return String(declared) }
        guard declared == request.payload.value else {
            throw Rejection(
                .payloadHashMismatch,
                accessKeyId: claim.accessKeyId,
                detail: "x-amz-content-sha256 does not match the SHA-256 of the body"
            )
        }
        return request.payload.value
    }

    private func canonicalRequest(_ request: Request, claim: Claim, payload: String) throws(Rejection) -> [UInt8] {
        var signedHeaders = claim.signedHeaders
        // On the list's contiguous bytes, as in `checkSignedHeaders`.
        let built = signedHeaders.withUTF8 { list -> Result<[UInt8], Rejection> in
            var lines: [UInt8] = []
            lines.reserveCapacity(256)
            var missing: String? = nil
            list.forEachPiece(separatedBy: UInt8(ascii: ";")) { name in
                guard missing == nil else { return }
                lines.append(contentsOf: name)
                lines.append(UInt8(ascii: ":"))
                var found = false
                for header in request.headers {
                    guard Encoding.equalsIgnoringASCIICase(header.name.utf8, lowercase: name) else { continue }
                    if found { lines.append(UInt8(ascii: ",")) }
                    Canonical.appendTrimmedValue(header.value.utf8, to: &lines)
                    found = true
                }
                guard found else {
                    missing = String(decoding: name, as: UTF8.self)
                    return
                }
                lines.append(0x0A)
            }
            if let missing {
                return .failure(
                    malformed(
                        "the signed header \(missing) is missing from the request",
                        accessKeyId: claim.accessKeyId
                    )
                )
            }
            return .success(
                SigV4.canonicalRequest(
                    method: request.method,
                    path: request.path,
                    pathCanonicalization: options.pathCanonicalization,
                    sortedQuery: claim.query,
                    headerLines: lines,
                    signedHeaders: list,
                    payload: payload
                )
            )
        }
        return try built.get()
    }

    /// Session credentials need their token, compared in constant time, before their expiration.
    private func checkSession(_ claim: Claim, secret: Secret) -> Rejection? {
        switch (secret.sessionToken, claim.sessionToken) {
        case (nil, nil):
            break
        case (.some, nil):
            return Rejection(
                .missingSessionToken,
                accessKeyId: claim.accessKeyId,
                detail: "the access key id \(claim.accessKeyId) needs its session token (X-Amz-Security-Token)"
            )
        case (nil, .some):
            return Rejection(
                .invalidSessionToken,
                accessKeyId: claim.accessKeyId,
                detail: "the access key id \(claim.accessKeyId) takes no session token"
            )
        case (.some(let expected), .some(let presented)):
            guard Encoding.constantTimeEquals(expected.utf8, presented.utf8) else {
                return Rejection(
                    .invalidSessionToken,
                    accessKeyId: claim.accessKeyId,
                    detail: "the session token is not the one of \(claim.accessKeyId)"
                )
            }
        }
        if let expiration = secret.expiration, now() >= expiration {
            return Rejection(
                .expiredSessionToken,
                accessKeyId: claim.accessKeyId,
                detail: "the session credentials of \(claim.accessKeyId) have expired"
            )
        }
        return nil
    }

    /// The first value of a header, trimmed; `lowercaseName` must be lower-case.
    private func firstHeader(_ lowercaseName: StaticString, in request: Request) -> Substring? {
        lowercaseName.withUTF8Buffer { name in
            for header in request.headers where Encoding.equalsIgnoringASCIICase(header.name.utf8, lowercase: name) {
                return Substring(header.value).trimmingWhitespace()
            }
            return nil
        }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        let utf8 = self.utf8
        guard let first = utf8.firstIndex(where: { !Canonical.isWhitespace($0) }),
            let last = utf8.lastIndex(where: { !Canonical.isWhitespace($0) })
        else { return self[endIndex...] }
        return self[first...last]
    }
}
