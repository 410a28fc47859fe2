public import Foundation
import SealedSupport

/// `AssumeRole` input (STS query protocol, `Version=2011-06-15`).
public struct AssumeRoleRequest: Sendable, Hashable {
    /// The ARN of the role to assume.
    public var roleArn: String
    /// A name for the session (2–64 characters of `[\w+=,.@-]`); it appears in the assumed-role ARN.
    public var roleSessionName: String
    /// The session lifetime in seconds (900 up to the role's maximum; STS defaults to 3600).
    public var durationSeconds: Int?
    /// The external id the role's trust policy may require.
    public var externalId: String?
    /// A session policy (JSON) that further limits the session's permissions.
    public var policy: String?

    public init(
        roleArn: String,
        roleSessionName: String,
        durationSeconds: Int? = nil,
        externalId: String? = nil,
        policy: String? = nil
    ) {
        self.roleArn = roleArn
        self.roleSessionName = roleSessionName
        self.durationSeconds = durationSeconds
        self.externalId = externalId
        self.policy = policy
    }

    /// The form parameters of the request, `Action` and `Version` first.
    public var parameters: [(name: String, value: String)] {
        var parameters: [(name: String, value: String)] = [
            (name: "Action", value: "AssumeRole"), (name: "Version", value: STSProtocol.version),
            (name: "RoleArn", value: roleArn), (name: "RoleSessionName", value: roleSessionName),
        ]
        if let durationSeconds { parameters.append((name: "DurationSeconds", value: String(durationSeconds))) }
        if let externalId { parameters.append((name: "ExternalId", value: externalId)) }
        if let policy { parameters.append((name: "Policy", value: policy)) }
        return parameters
    }
}

/// Temporary credentials from STS, with their expiration.
///
/// The description and mirror show the access key id and expiration only.
public struct SessionCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String
    public var expiration: Date

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String, expiration: Date) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        "SessionCredentials(accessKeyId: \(accessKeyId), secretAccessKey: <redacted>, sessionToken: <redacted>, "
            + "expiration: \(expiration))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyId": accessKeyId, "secretAccessKey": "<redacted>", "sessionToken": "<redacted>",
                "expiration": expiration,
            ]
        )
    }
}

/// `AssumeRole` output.
public struct AssumeRoleResponse: Sendable, Hashable {
    public var credentials: SessionCredentials
    /// The assumed-role ARN: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    public var assumedRoleArn: String?
    /// `ROLEID:SESSION`.
    public var assumedRoleId: String?
    public var packedPolicySize: Int?

    public init(
        credentials: SessionCredentials,
        assumedRoleArn: String?,
        assumedRoleId: String?,
        packedPolicySize: Int?
    ) {
        self.credentials = credentials
        self.assumedRoleArn = assumedRoleArn
        self.assumedRoleId = assumedRoleId
        self.packedPolicySize = packedPolicySize
    }
}

/// `GetCallerIdentity` output.
public struct GetCallerIdentityResponse: Sendable, Hashable {
    public var account: String?
    public var arn: String?
    public var userId: String?

    public init(account: String?, arn: String?, userId: String?) {
        self.account = account
        self.arn = arn
        self.userId = userId
    }
}

/// Constants of the STS query protocol.
public enum STSProtocol {
    /// The API version every request names.
    public static let version = "2011-06-15"
    /// The XML namespace of responses.
    public static let namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
    /// The request content type.
    public static let contentType = "application/x-www-form-urlencoded; charset=utf-8"
}

/// An error returned by AWS STS (or a compatible service): the `<Code>` and `<Message>` of its XML `ErrorResponse`
/// and the HTTP status. Errors compare by ``code`` alone.
public struct STSError: AWSServiceError, Hashable {
    /// An STS error code: an open set.
    public struct Code: WireEnumeration {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The caller may not assume the role (its policy or the role's trust policy refuses), or may not call.
        public static let accessDenied: Code = "AccessDenied"
        public static let expiredToken: Code = "ExpiredToken"
        public static let invalidClientTokenId: Code = "InvalidClientTokenId"
        public static let signatureDoesNotMatch: Code = "SignatureDoesNotMatch"
        public static let malformedPolicyDocument: Code = "MalformedPolicyDocument"
        public static let packedPolicyTooLarge: Code = "PackedPolicyTooLarge"
        public static let regionDisabled: Code = "RegionDisabledException"
        public static let validationError: Code = "ValidationError"
        public static let throttling: Code = "Throttling"
        public static let unknownError: Code = "UnknownError"
    }

    public let code: Code
    public let message: String
    public let statusCode: Int

    public init(code: Code, message: String = "", statusCode: Int = 400) {
        self.code = code
        self.message = message
        self.statusCode = statusCode
    }

    public static let accessDenied = STSError(code: .accessDenied, statusCode: 403)
    public static let expiredToken = STSError(code: .expiredToken)

    public static let retryableCodes: Set<Code> = [.throttling]
}

extension STSError: CodedError {}
