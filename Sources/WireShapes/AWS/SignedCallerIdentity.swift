public import Foundation
import SealedSupport

/// A signed STS `GetCallerIdentity` request that a caller hands to a server instead of its secret, so that the server
/// learns who the caller is from STS itself (the way HashiCorp Vault's AWS IAM auth method works).
///
/// The caller signs `POST /` with the body `Action=GetCallerIdentity&Version=2011-06-15` for the service `sts`, with
/// the server's **audience** header (``audienceHeader``, the server's id) among the signed headers, and sends the
/// headers and body, not its credentials. The server checks the request's shape (``check(audience:now:maximumAge:)``),
/// forwards it unchanged to STS, and takes the caller's ARN from STS's answer: a forged signature is refused by STS,
/// a request made for another server names another audience, and one older than ``defaultMaximumAge`` is refused.
///
/// On the wire it is one header, ``header``: the JSON `{"method", "headers": [[name, value]…], "body"}` in base64.
public struct SignedCallerIdentity: Sendable, Hashable {
    /// The header that carries it.
    public static let header = "X-Sealed-Caller-Identity"
    /// The signed header naming the server the request is meant for.
    public static let audienceHeader = "X-Sealed-Server-ID"
    /// The only body accepted.
    public static let body = "Action=GetCallerIdentity&Version=\(STSProtocol.version)"
    /// How old a signed request may be: 15 minutes, as STS's own limit.
    public static let defaultMaximumAge: TimeInterval = 900
    /// The longest encoded header accepted.
    public static let maximumEncodedSize = 8192

    /// The HTTP method (`POST`).
    public var method: String
    /// The headers as signed and sent: `Host`, `Content-Type`, `X-Amz-Date`, `X-Sealed-Server-ID`,
    /// `X-Amz-Security-Token` for session credentials, and `Authorization`.
    public var headers: [(name: String, value: String)]
    public var requestBody: String

    public init(method: String = "POST", headers: [(name: String, value: String)], body: String = SignedCallerIdentity.body) {
        self.method = method
        self.headers = headers
        self.requestBody = body
    }

    /// The first header of this name (case-insensitive).
    public func value(of name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    // MARK: - The header

    /// The header's value: base64 of the JSON document.
    public var encoded: String {
        let document: JSONValue = [
            "method": .string(method),
            "headers": .array(headers.map { [.string($0.name), .string($0.value)] }),
            "body": .string(requestBody),
        ]
        return Base64.encode(document.serialized())
    }

    /// Reads a header's value.
    ///
    /// - Throws: ``CallerIdentityRefusal`` `malformed` for anything but the documented shape, or a value over
    ///   ``maximumEncodedSize``.
    public init(encoded: String) throws(CallerIdentityRefusal) {
        guard encoded.utf8.count <= Self.maximumEncodedSize else {
            throw CallerIdentityRefusal(.malformed, "the \(Self.header) header is over \(Self.maximumEncodedSize) bytes")
        }
        guard let bytes = try? Base64.decode(encoded), let document = try? JSONParser.parse(bytes),
            case .string(let method)? = document["method"], case .string(let body)? = document["body"],
            case .array(let pairs)? = document["headers"]
        else { throw CallerIdentityRefusal(.malformed, "the \(Self.header) header is not a signed request") }
        var headers: [(name: String, value: String)] = []
        for pair in pairs {
            guard case .array(let parts) = pair, parts.count == 2, case .string(let name) = parts[0],
                case .string(let value) = parts[1]
            else { throw CallerIdentityRefusal(.malformed, "a header of the signed request is not [name, value]") }
            headers.append((name: name, value: value))
        }
        self.init(method: method, headers: headers, body: body)
    }

    // MARK: - Checks before STS is asked

    /// What the server checks before it forwards the request to STS: a `POST` of exactly the `GetCallerIdentity`
    /// body, signed with SigV4 for `sts`, whose signed headers include `host` and the audience header, whose audience
    /// is `audience`, and whose `X-Amz-Date` is at most `maximumAge` old (and not more than that in the future).
    ///
    /// - Returns: The access key id it claims (for records; STS decides whether it is real).
    /// - Throws: ``CallerIdentityRefusal``: `notGetCallerIdentity`, `wrongAudience`, `expired`, `malformed`.
    public func check(
        audience: String,
        now: Date,
        maximumAge: TimeInterval = SignedCallerIdentity.defaultMaximumAge
    ) throws(CallerIdentityRefusal) -> String {
        guard method == "POST", requestBody == Self.body else {
            throw CallerIdentityRefusal(
                .notGetCallerIdentity,
                "the signed request must be POST \(Self.body), nothing else"
            )
        }
        guard let authorization = value(of: "Authorization"), let parsed = Authorization(authorization) else {
            throw CallerIdentityRefusal(.malformed, "the signed request has no SigV4 Authorization header")
        }
        guard parsed.service == "sts" else {
            throw CallerIdentityRefusal(.notGetCallerIdentity, "the signed request is signed for \(parsed.service), not sts")
        }
        guard parsed.signedHeaders.contains("host"), parsed.signedHeaders.contains(Self.audienceHeader.lowercased()) else {
            throw CallerIdentityRefusal(
                .wrongAudience,
                "the signed request must sign the host and \(Self.audienceHeader) headers"
            )
        }
        guard value(of: Self.audienceHeader) == audience else {
            throw CallerIdentityRefusal(.wrongAudience, "the signed request is meant for another server")
        }
        guard let dateText = value(of: "X-Amz-Date"), let date = Self.amzDate(dateText) else {
            throw CallerIdentityRefusal(.malformed, "the signed request has no valid X-Amz-Date")
        }
        guard abs(now.timeIntervalSince(date)) <= maximumAge else {
            throw CallerIdentityRefusal(
                .expired,
                "the signed request was made at \(dateText); requests older than \(Int(maximumAge / 60)) minutes are refused"
            )
        }
        return parsed.accessKeyId
    }

    /// The parts of a SigV4 `Authorization` header the checks need.
    struct Authorization {
        var accessKeyId: String
        var service: String
        var signedHeaders: Set<String>

        init?(_ header: String) {
            guard header.hasPrefix("AWS4-HMAC-SHA256 ") else { return nil }
            var credential: String?
            var signed: String?
            for part in header.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
                let item = part.trimmingCharacters(in: .whitespaces)
                if item.hasPrefix("Credential=") { credential = String(item.dropFirst("Credential=".count)) }
                if item.hasPrefix("SignedHeaders=") { signed = String(item.dropFirst("SignedHeaders=".count)) }
            }
            // Credential=AKID/DATE/REGION/SERVICE/aws4_request
            guard let scope = credential?.split(separator: "/", omittingEmptySubsequences: false), scope.count == 5,
                !scope[0].isEmpty, scope[4] == "aws4_request", let signed
            else { return nil }
            accessKeyId = String(scope[0])
            service = String(scope[3])
            signedHeaders = Set(signed.split(separator: ";").map(String.init))
        }
    }

    /// The date of an `X-Amz-Date` value such as `20261205T013000Z`.
    public static func amzDate(_ text: String) -> Date? {
        guard text.utf8.count == 16 else { return nil }
        let utf8 = Array(text.utf8)
        let iso = String(decoding: utf8[0..<4], as: UTF8.self) + "-" + String(decoding: utf8[4..<6], as: UTF8.self) + "-"
            + String(decoding: utf8[6..<8], as: UTF8.self) + "T" + String(decoding: utf8[9..<11], as: UTF8.self) + ":"
            + String(decoding: utf8[11..<13], as: UTF8.self) + ":" + String(decoding: utf8[13..<15], as: UTF8.self) + "Z"
        guard utf8[8] == UInt8(ascii: "T"), utf8[15] == UInt8(ascii: "Z") else { return nil }
        return ISO8601.parse(iso)
    }

    public static func == (lhs: SignedCallerIdentity, rhs: SignedCallerIdentity) -> Bool {
        lhs.method == rhs.method && lhs.requestBody == rhs.requestBody
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(requestBody)
        for header in headers {
            hasher.combine(header.name)
            hasher.combine(header.value)
        }
    }
}

/// Why a signed caller identity was refused before or by STS.
public struct CallerIdentityRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: WireEnumeration {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// Not the documented header shape.
        public static let malformed: Code = "MalformedCallerIdentity"
        /// Another action, method or body, or signed for another service.
        public static let notGetCallerIdentity: Code = "NotGetCallerIdentity"
        /// Made for another server, or without the audience among the signed headers.
        public static let wrongAudience: Code = "WrongAudience"
        /// Older than the maximum age (or dated in the future beyond it).
        public static let expired: Code = "ExpiredCallerIdentity"
        /// Signed for another STS endpoint than the server's.
        public static let wrongEndpoint: Code = "WrongEndpoint"
        /// STS refused it (a forged signature, an unknown or expired key).
        public static let rejectedBySTS: Code = "RejectedBySTS"
        /// STS could not be reached or answered something else.
        public static let stsUnavailable: Code = "STSUnavailable"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension CallerIdentityRefusal: CodedError {}

/// Who answers for a signed caller identity: STS (``KMS/STSClient`` conforms).
public protocol CallerIdentityResolver: Sendable {
    /// The identity STS confirms for `request`.
    ///
    /// - Throws: ``CallerIdentityRefusal`` (`rejectedBySTS`, `stsUnavailable`, `wrongEndpoint`).
    func callerIdentity(of request: SignedCallerIdentity) async throws(CallerIdentityRefusal) -> GetCallerIdentityResponse
}
