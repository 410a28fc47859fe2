import Crypto
public import Foundation
import SealedSupport

/// Signs requests with AWS Signature Version 4 (`AWS4-HMAC-SHA256`), in an `Authorization` header or in the
/// query string of a presigned URL.
///
/// The algorithm is the one of "Create a signed AWS API request" (IAM User Guide); the two ways to carry the
/// signature are those of "Authentication methods" in the same guide. A signer holds no credentials: they are
/// passed to each call, so one signer serves any number of identities, services and regions.
///
/// ```swift
/// let signer = Signer()
/// let signature = signer.sign(request, credentials: credentials, region: "us-east-1", service: "kms", date: .now)
/// for header in signature.headers { httpRequest.headers.replaceOrAdd(name: header.name, value: header.value) }
/// ```
public struct Signer: Sendable {
    /// How requests are canonicalized and which headers are added.
    public var options: Options
    /// Derived signing keys kept between calls, or `nil` to derive the key for every request.
    public var keyCache: SigningKeyCache?

    /// Creates a signer.
    ///
    /// - Parameters:
    ///   - options: How requests are canonicalized and which headers are added.
    ///   - keyCache: Where derived signing keys are kept; `nil` derives the key for every request.
    public init(options: Options = Options(), keyCache: SigningKeyCache? = SigningKeyCache()) {
        self.options = options
        self.keyCache = keyCache
    }

    /// Signs a request in the `Authorization` header.
    ///
    /// Every header of the request is signed, except the names in ``Options/unsignedHeaders``, plus the headers
    /// the signer adds: `X-Amz-Date`, `X-Amz-Security-Token` when the credentials have a session token (unless
    /// ``Options/signsSessionToken`` is off), and `x-amz-content-sha256` when
    /// ``Options/addsPayloadHashHeader`` is on. Headers of the request with those names, and any
    /// `Authorization` header, are ignored: the returned headers replace them.
    ///
    /// - Parameters:
    ///   - request: The request as it will be sent; it must carry its `Host` header.
    ///   - credentials: The credentials to sign with.
    ///   - region: The region of the credential scope, such as `us-east-1`.
    ///   - service: The service of the credential scope, such as `kms` or `sts`.
    ///   - date: The signing time; it becomes `X-Amz-Date`, rounded down to the second.
    /// - Returns: The headers to set on the request, with the intermediate strings for diagnostics.
    public func sign(
        _ request: Request,
        credentials: Credentials,
        region: String,
        service: String,
        date: Date
    ) -> HeaderSignature {
        let timestamp = Timestamp(date)
        let amzDate = timestamp.amzDate
        let scope = Canonical.scope(dateStamp: timestamp.dateStamp, region: region, service: service)

        var replaced: Set<String> = ["authorization", "x-amz-date"]
        var added: [(name: String, value: String)] = [(name: "X-Amz-Date", value: amzDate)]
        var unsignedToken: String? = nil
        if let token = credentials.sessionToken {
            replaced.insert("x-amz-security-token")
            if options.signsSessionToken {
                added.append((name: "X-Amz-Security-Token", value: token))
            } else {
                unsignedToken = token
            }
        }
        if options.addsPayloadHashHeader {
            replaced.insert("x-amz-content-sha256")
            added.append((name: "x-amz-content-sha256", value: request.payload.value))
        }

        var signedHeaders = headersToSign(request.headers, excluding: replaced)
        signedHeaders.append(contentsOf: added)
        let headers = CanonicalHeaders(signedHeaders)
        var query = Canonical.queryParameters(request.query)
        query.sort(by: QueryParameter.canonicallyPrecedes)

        let computed = compute(
            request: request,
            query: query,
            headers: headers,
            amzDate: amzDate,
            scope: scope,
            secretAccessKey: credentials.secretAccessKey,
            dateStamp: timestamp.dateStamp,
            region: region,
            service: service
        )
        let signedHeaderList = String(decoding: headers.signedHeaders, as: UTF8.self)
        let authorization =
            "\(Canonical.algorithm) Credential=\(credentials.accessKeyId)/\(scope), "
            + "SignedHeaders=\(signedHeaderList), Signature=\(computed.signature)"

        var result = added
        if let unsignedToken { result.append((name: "X-Amz-Security-Token", value: unsignedToken)) }
        result.append((name: "Authorization", value: authorization))
        return HeaderSignature(
            headers: result,
            authorization: authorization,
            signature: computed.signature,
            signedHeaders: signedHeaderList,
            canonicalRequest: String(decoding: computed.canonicalRequest, as: UTF8.self),
            stringToSign: String(decoding: computed.stringToSign, as: UTF8.self)
        )
    }

    /// Signs a request in its query string: a presigned URL.
    ///
    /// Per "Authentication methods" (IAM User Guide) and "Authenticating Requests: Using Query Parameters"
    /// (Amazon S3 API Reference), the query gains `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
    /// `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Security-Token` for session credentials, and then
    /// `X-Amz-Signature`. The signed headers are the request's own (normally just `host`), without `X-Amz-Date`.
    /// The payload line is ``Request/payload``: pass ``Payload/unsigned`` for Amazon S3's presigned URLs.
    ///
    /// - Parameters:
    ///   - request: The request to presign; its query must not already carry `X-Amz-` authentication
    ///     parameters.
    ///   - credentials: The credentials to sign with.
    ///   - region: The region of the credential scope.
    ///   - service: The service of the credential scope.
    ///   - date: The signing time, the start of the URL's validity.
    ///   - expires: How long the URL stays valid after `date`, between 1 second and 7 days (604,800 seconds,
    ///     the most SigV4 allows); fractions of a second are dropped.
    /// - Returns: The query string to send, with the intermediate strings for diagnostics.
    public func presign(
        _ request: Request,
        credentials: Credentials,
        region: String,
        service: String,
        date: Date,
        expires: Duration
    ) -> QuerySignature {
        let lifetime = expires.components.seconds
        precondition((1...Verifier.maximumPresignedLifetime).contains(lifetime), "expires must be 1 s to 7 days")
        let timestamp = Timestamp(date)
        let amzDate = timestamp.amzDate
        let scope = Canonical.scope(dateStamp: timestamp.dateStamp, region: region, service: service)

        var replaced: Set<String> = ["authorization", "x-amz-date"]
        if credentials.sessionToken != nil { replaced.insert("x-amz-security-token") }
        let headers = CanonicalHeaders(headersToSign(request.headers, excluding: replaced))
        let signedHeaderList = String(decoding: headers.signedHeaders, as: UTF8.self)

        var authentication: [(name: String, value: String)] = [
            (name: "X-Amz-Algorithm", value: Canonical.algorithm),
            (name: "X-Amz-Credential", value: "\(credentials.accessKeyId)/\(scope)"),
            (name: "X-Amz-Date", value: amzDate),
            (name: "X-Amz-Expires", value: String(lifetime)),
            (name: "X-Amz-SignedHeaders", value: signedHeaderList),
        ]
        if let token = credentials.sessionToken, options.signsSessionToken {
            authentication.append((name: "X-Amz-Security-Token", value: token))
        }
        var signedQuery = request.query.isEmpty ? "" : request.query + "&"
        signedQuery += Request(method: "", path: "", queryItems: authentication).query

        var query = Canonical.queryParameters(signedQuery)
        query.sort(by: QueryParameter.canonicallyPrecedes)
        let computed = compute(
            request: request,
            query: query,
            headers: headers,
            amzDate: amzDate,
            scope: scope,
            secretAccessKey: credentials.secretAccessKey,
            dateStamp: timestamp.dateStamp,
            region: region,
            service: service
        )
        var finalQuery = signedQuery + "&X-Amz-Signature=" + computed.signature
        if let token = credentials.sessionToken, !options.signsSessionToken {
            finalQuery += "&X-Amz-Security-Token=" + PercentEncoding.encode(token)
        }
        return QuerySignature(
            query: finalQuery,
            signature: computed.signature,
            signedHeaders: signedHeaderList,
            expiration: Timestamp(secondsSince1970: timestamp.secondsSince1970 + lifetime).date,
            canonicalRequest: String(decoding: computed.canonicalRequest, as: UTF8.self),
            stringToSign: String(decoding: computed.stringToSign, as: UTF8.self)
        )
    }

    private func headersToSign(
        _ headers: [(name: String, value: String)],
        excluding replaced: Set<String>
    ) -> [(name: String, value: String)] {
        var kept: [(name: String, value: String)] = []
        kept.reserveCapacity(headers.count + 3)
        for header in headers {
            let name = header.name.lowercased()
            if replaced.contains(name) || options.unsignedHeaders.contains(name) { continue }
            kept.append(header)
        }
        return kept
    }

    private func compute(
        request: Request,
        query: [QueryParameter],
        headers: CanonicalHeaders,
        amzDate: String,
        scope: String,
        secretAccessKey: String,
        dateStamp: String,
        region: String,
        service: String
    ) -> (canonicalRequest: [UInt8], stringToSign: [UInt8], signature: String) {
        let canonical = canonicalRequest(
            method: request.method,
            path: request.path,
            pathCanonicalization: options.pathCanonicalization,
            sortedQuery: query,
            headerLines: headers.lines,
            signedHeaders: headers.signedHeaders,
            payload: request.payload.value
        )
        let stringToSign = Canonical.stringToSign(canonicalRequest: canonical, amzDate: amzDate, scope: scope)
        var mac = keyCache.signingMAC(
            secretAccessKey: secretAccessKey,
            dateStamp: dateStamp,
            region: region,
            service: service
        )
        mac.update(data: stringToSign)
        let code = mac.finalize()
        return (canonical, stringToSign, code.withUnsafeBytes { Hex.encode($0) })
    }
}

extension Signer {
    /// How a ``Signer`` canonicalizes requests and which headers it adds.
    public struct Options: Sendable {
        /// How the path becomes the canonical URI: ``PathCanonicalization/normalized`` for every service but
        /// Amazon S3, ``PathCanonicalization/unnormalized`` for S3.
        public var pathCanonicalization: PathCanonicalization
        /// Whether header signing adds and signs `x-amz-content-sha256` with the payload value, as Amazon S3
        /// requires ("Signature Calculations for the Authorization Header", Amazon S3 API Reference).
        public var addsPayloadHashHeader: Bool
        /// Whether the session token is signed (the default). When off, `X-Amz-Security-Token` is added after
        /// signing and not covered by the signature, as a few services expect; a ``Verifier`` accepts such a
        /// token in a header but not in a presigned URL, where every query parameter is signed.
        public var signsSessionToken: Bool
        /// Lower-case names of request headers left out of the signature, because proxies and HTTP clients
        /// add or change them in transit.
        public var unsignedHeaders: Set<String>

        /// The headers the AWS SDKs leave unsigned: `authorization`, `expect`, `transfer-encoding`,
        /// `user-agent` and `x-amzn-trace-id`.
        public static let defaultUnsignedHeaders: Set<String> = [
            "authorization", "expect", "transfer-encoding", "user-agent", "x-amzn-trace-id",
        ]

        /// Creates options.
        ///
        /// - Parameters:
        ///   - pathCanonicalization: How the path becomes the canonical URI.
        ///   - addsPayloadHashHeader: Whether to add and sign `x-amz-content-sha256` in header signing.
        ///   - signsSessionToken: Whether the session token is signed.
        ///   - unsignedHeaders: Lower-case names of headers to leave unsigned.
        public init(
            pathCanonicalization: PathCanonicalization = .normalized,
            addsPayloadHashHeader: Bool = false,
            signsSessionToken: Bool = true,
            unsignedHeaders: Set<String> = Options.defaultUnsignedHeaders
        ) {
            self.pathCanonicalization = pathCanonicalization
            self.addsPayloadHashHeader = addsPayloadHashHeader
            self.signsSessionToken = signsSessionToken
            self.unsignedHeaders = unsignedHeaders
        }
    }
}

/// The result of signing a request in its headers.
public struct HeaderSignature: Sendable {
    /// The headers to set on the request, in this order: `X-Amz-Date`, `X-Amz-Security-Token` when there is a
    /// session token, `x-amz-content-sha256` when requested, and `Authorization` last.
    public var headers: [(name: String, value: String)]
    /// The value of the `Authorization` header.
    public var authorization: String
    /// The signature: 64 lowercase hex digits.
    public var signature: String
    /// The `SignedHeaders` list: lower-case names joined with `;`.
    public var signedHeaders: String
    /// The canonical request that was signed, for diagnostics; it holds the signed header values, session
    /// token included, so log it only where those may appear.
    public var canonicalRequest: String
    /// The string to sign, for diagnostics.
    public var stringToSign: String
}

/// The result of presigning a request: the query string of a presigned URL.
public struct QuerySignature: Sendable {
    /// The complete query string to send, without `?`: the request's own parameters, then the `X-Amz-`
    /// authentication parameters, `X-Amz-Signature` last (or just before an unsigned `X-Amz-Security-Token`).
    public var query: String
    /// The signature: 64 lowercase hex digits.
    public var signature: String
    /// The `X-Amz-SignedHeaders` list: lower-case names joined with `;`.
    public var signedHeaders: String
    /// When the URL stops being valid: `X-Amz-Date` plus `X-Amz-Expires`.
    public var expiration: Date
    /// The canonical request that was signed, for diagnostics; it holds the session token, so log it only
    /// where that may appear.
    public var canonicalRequest: String
    /// The string to sign, for diagnostics.
    public var stringToSign: String
}
