import Crypto
public import Foundation
import SealedSupport

/// The parts of an HTTP request that SigV4 signs, as plain values.
///
/// Clients build one from the request they are about to send; servers build one from the request they
/// received. Nothing here depends on an HTTP library.
public struct Request: Sendable {
    /// The HTTP method, such as `GET` or `POST`, exactly as sent (it is not upper-cased).
    public var method: String
    /// The path exactly as it appears on the request line, before `?`: percent-encoded as sent, not decoded.
    ///
    /// See ``PathCanonicalization`` for how it becomes the canonical URI.
    public var path: String
    /// The query string exactly as sent, without the leading `?`; empty when there is none.
    public var query: String
    /// The header fields in the order they arrive or will be sent; names in any case, repeats allowed.
    ///
    /// Include `Host` (for HTTP/2, the `:authority` value under the name `host`): SigV4 requires it to be
    /// signed.
    public var headers: [(name: String, value: String)]
    /// The payload: the SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    public var payload: Payload

    /// Creates a request from its raw parts.
    ///
    /// - Parameters:
    ///   - method: The HTTP method.
    ///   - path: The path as sent on the wire (percent-encoded), without the query.
    ///   - query: The raw query string without `?`.
    ///   - headers: The header fields in order.
    ///   - payload: The payload hash; ``Payload/empty`` for a request without a body.
    public init(
        method: String,
        path: String,
        query: String = "",
        headers: [(name: String, value: String)] = [],
        payload: Payload = .empty
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.payload = payload
    }

    /// Creates a request whose query is built from unencoded items.
    ///
    /// Each name and value is URI-encoded the way SigV4 canonicalizes them (every byte but `A-Z a-z 0-9 - _ . ~`
    /// as `%XY`), so the query sent is already canonical.
    ///
    /// - Parameters:
    ///   - method: The HTTP method.
    ///   - path: The path as sent on the wire (percent-encoded), without the query.
    ///   - queryItems: Unencoded names and values, in the order to send them.
    ///   - headers: The header fields in order.
    ///   - payload: The payload hash.
    public init(
        method: String,
        path: String,
        queryItems: [(name: String, value: String)],
        headers: [(name: String, value: String)] = [],
        payload: Payload = .empty
    ) {
        var query: [UInt8] = []
        for (index, item) in queryItems.enumerated() {
            if index > 0 { query.append(UInt8(ascii: "&")) }
            PercentEncoding.append(item.name.utf8, to: &query)
            query.append(UInt8(ascii: "="))
            PercentEncoding.append(item.value.utf8, to: &query)
        }
        self.init(
            method: method,
            path: path,
            query: String(decoding: query, as: UTF8.self),
            headers: headers,
            payload: payload
        )
    }
}

/// The last line of the canonical request: the hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
///
/// Per "Create a signed AWS API request" (IAM User Guide, step 1, `HashedPayload`), the payload line is the
/// lowercase hex SHA-256 of the body, the hash of the empty string for no body. Amazon S3 also accepts the
/// literal `UNSIGNED-PAYLOAD`, announced in the `x-amz-content-sha256` header ("Signature Calculations for the
/// Authorization Header", Amazon S3 API Reference).
public struct Payload: Sendable, Hashable, CustomStringConvertible {
    /// The string on the canonical request's last line: 64 lowercase hex digits, or `UNSIGNED-PAYLOAD`.
    public let value: String

    private init(value: String) {
        self.value = value
    }

    /// The SHA-256 of a body.
    ///
    /// - Parameter body: The body bytes exactly as sent.
    /// - Returns: The payload whose value is the body's lowercase hex SHA-256.
    public static func body(_ body: some DataProtocol) -> Payload {
        Payload(value: SHA256.hash(data: body).withUnsafeBytes { Hex.encode($0) })
    }

    /// A SHA-256 computed elsewhere (for instance while streaming the body), given as hex.
    ///
    /// Upper-case digits are lower-cased to the canonical form.
    ///
    /// - Parameter hex: The digest as 64 hex digits.
    /// - Returns: The payload, or `nil` when `hex` is not 64 hex digits.
    public static func sha256(hex: String) -> Payload? {
        let lowered = hex.lowercased()
        guard Encoding.sha256FromLowercaseHex(lowered) != nil else { return nil }
        return Payload(value: lowered)
    }

    /// The payload of a request without a body: the SHA-256 of zero bytes.
    public static let empty = Payload(value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

    /// `UNSIGNED-PAYLOAD`: the signature does not cover the body.
    ///
    /// Only services that accept it (Amazon S3, and presigned S3 URLs) do; a ``Verifier`` accepts it only
    /// when ``Verifier/Options/allowsUnsignedPayload`` is set.
    public static let unsigned = Payload(value: unsignedValue)

    static let unsignedValue = "UNSIGNED-PAYLOAD"

    /// Whether this is ``unsigned``.
    public var isUnsigned: Bool { value == Self.unsignedValue }

    public var description: String { value }
}
