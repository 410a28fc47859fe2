public import Foundation
import SealedSupport

/// The verdict of a ``Verifier``: who signed a request, or why it is not accepted.
public enum Verification: Sendable {
    /// The signature is valid; the request was signed by this principal.
    case verified(Principal)
    /// The request is not accepted, for the reason given.
    case rejected(Rejection)

    /// The principal of a verified request, `nil` for a rejected one.
    public var principal: Principal? {
        if case .verified(let principal) = self { return principal }
        return nil
    }

    /// The rejection of a rejected request, `nil` for a verified one.
    public var rejection: Rejection? {
        if case .rejected(let rejection) = self { return rejection }
        return nil
    }
}

/// The identity that signed a verified request.
public struct Principal: Sendable, Hashable {
    /// The access key id the request was signed with.
    public var accessKeyId: String
    /// The credential scope of the signature.
    public var scope: CredentialScope
    /// The signing time (`X-Amz-Date`).
    public var signedAt: Date
    /// For a presigned URL, the end of its validity (`X-Amz-Date` plus `X-Amz-Expires`); `nil` for a request
    /// signed in its `Authorization` header.
    public var presignedUntil: Date?
    /// Whether the request carried the session token of temporary credentials.
    public var hasSessionToken: Bool
    /// Whom the access key belongs to, as the credential lookup said (``Verifier/Secret/owner``).
    public var owner: String?

    /// Creates a principal.
    public init(
        accessKeyId: String,
        scope: CredentialScope,
        signedAt: Date,
        presignedUntil: Date? = nil,
        hasSessionToken: Bool = false,
        owner: String? = nil
    ) {
        self.accessKeyId = accessKeyId
        self.scope = scope
        self.signedAt = signedAt
        self.presignedUntil = presignedUntil
        self.hasSessionToken = hasSessionToken
        self.owner = owner
    }
}

/// The credential scope of a signature: `date/region/service/aws4_request`.
public struct CredentialScope: Sendable, Hashable, CustomStringConvertible {
    /// The date, `YYYYMMDD`.
    public var date: String
    /// The region, such as `us-east-1`.
    public var region: String
    /// The service, such as `kms`.
    public var service: String

    /// Creates a scope.
    public init(date: String, region: String, service: String) {
        self.date = date
        self.region = region
        self.service = service
    }

    public var description: String {
        Canonical.scope(dateStamp: date, region: region, service: service)
    }
}

/// Why a ``Verifier`` did not accept a request.
///
/// Equality compares the ``reason`` only. Neither the ``detail`` nor anything else here ever holds the secret
/// access key, the session token or the signature the verifier expected.
public struct Rejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public var reason: Reason
    /// The access key id the request named, when it could be read; for audit records.
    public var accessKeyId: String?
    /// A sentence for logs and error messages, naming the element at fault but no secret.
    public var detail: String

    /// Creates a rejection.
    public init(_ reason: Reason, accessKeyId: String? = nil, detail: String) {
        self.reason = reason
        self.accessKeyId = accessKeyId
        self.detail = detail
    }

    public var description: String { "\(reason): \(detail)" }
}

extension Rejection: CodedError {
    package var code: Reason { reason }
}

extension Rejection {
    /// The kind of a ``Rejection``: an open set of reasons, compared by identity.
    ///
    /// The AWS error code a server would answer with is given for each; mapping to HTTP belongs to the
    /// server module.
    public struct Reason: Sendable, Hashable, CustomStringConvertible {
        private enum Code: UInt8, Hashable {
            case missingAuthentication
            case malformedAuthorization
            case unknownAccessKey
            case signatureMismatch
            case credentialScopeMismatch
            case requestTimeTooSkewed
            case requestExpired
            case missingSessionToken
            case invalidSessionToken
            case expiredSessionToken
            case payloadHashMismatch
            case unsignedPayloadNotAllowed
        }

        private let code: Code

        private init(_ code: Code) {
            self.code = code
        }

        /// Neither an `Authorization` header nor query authentication parameters (`MissingAuthenticationToken`).
        public static let missingAuthentication = Reason(.missingAuthentication)
        /// The `Authorization` header or the `X-Amz-` parameters cannot be read: unknown algorithm, missing or
        /// repeated component, bad date, bad `SignedHeaders`, a signed header that is absent, `host` not signed,
        /// both methods at once (`IncompleteSignature`, `AuthorizationHeaderMalformed`, `InvalidArgument`).
        public static let malformedAuthorization = Reason(.malformedAuthorization)
        /// The lookup knows no secret for the access key id (`InvalidClientTokenId`,
        /// `UnrecognizedClientException`).
        public static let unknownAccessKey = Reason(.unknownAccessKey)
        /// The signature does not match the request (`SignatureDoesNotMatch`, `InvalidSignatureException`).
        public static let signatureMismatch = Reason(.signatureMismatch)
        /// The credential scope names another date, region or service than the request and the verifier
        /// (`SignatureDoesNotMatch`, `AuthorizationHeaderMalformed`).
        public static let credentialScopeMismatch = Reason(.credentialScopeMismatch)
        /// The signing time is too far from the verifier's clock (`RequestTimeTooSkewed`, `SignatureExpired`).
        public static let requestTimeTooSkewed = Reason(.requestTimeTooSkewed)
        /// A presigned URL is used after `X-Amz-Date` plus `X-Amz-Expires` (`AccessDenied: Request has expired`).
        public static let requestExpired = Reason(.requestExpired)
        /// Session credentials were used without their session token (`InvalidClientTokenId`).
        public static let missingSessionToken = Reason(.missingSessionToken)
        /// The session token is not the one of the access key id, or long-term keys were sent with a token
        /// (`InvalidClientTokenId`).
        public static let invalidSessionToken = Reason(.invalidSessionToken)
        /// The session credentials have expired (`ExpiredToken`).
        public static let expiredSessionToken = Reason(.expiredSessionToken)
        /// `x-amz-content-sha256` does not match the body (`XAmzContentSHA256Mismatch`).
        public static let payloadHashMismatch = Reason(.payloadHashMismatch)
        /// `UNSIGNED-PAYLOAD` was used where the verifier requires a signed body.
        public static let unsignedPayloadNotAllowed = Reason(.unsignedPayloadNotAllowed)

        public var description: String {
            switch code {
            case .missingAuthentication: "missingAuthentication"
            case .malformedAuthorization: "malformedAuthorization"
            case .unknownAccessKey: "unknownAccessKey"
            case .signatureMismatch: "signatureMismatch"
            case .credentialScopeMismatch: "credentialScopeMismatch"
            case .requestTimeTooSkewed: "requestTimeTooSkewed"
            case .requestExpired: "requestExpired"
            case .missingSessionToken: "missingSessionToken"
            case .invalidSessionToken: "invalidSessionToken"
            case .expiredSessionToken: "expiredSessionToken"
            case .payloadHashMismatch: "payloadHashMismatch"
            case .unsignedPayloadNotAllowed: "unsignedPayloadNotAllowed"
            }
        }
    }
}
