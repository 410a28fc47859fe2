public import Foundation
import SealedSupport

/// Constants of the IAM query protocol (`Version=2010-05-08`).
public enum IAMProtocol {
    /// The API version every request names.
    public static let version = "2010-05-08"
}

/// An IAM role, as `CreateRole`, `GetRole` and `ListRoles` describe it.
public struct IAMRole: Sendable, Hashable {
    public var roleName: String
    public var roleId: String
    public var arn: String
    /// `/` or a path such as `/sealed/`.
    public var path: String
    public var createDate: Date?
    public var description: String?
    public var maxSessionDuration: Int?
    /// The trust policy, as JSON text (IAM sends it percent-encoded; this is decoded). `ListRoles` may omit it.
    public var assumeRolePolicyDocument: String?
    public var tags: [String: String]

    public init(
        roleName: String,
        roleId: String,
        arn: String,
        path: String,
        createDate: Date? = nil,
        description: String? = nil,
        maxSessionDuration: Int? = nil,
        assumeRolePolicyDocument: String? = nil,
        tags: [String: String] = [:]
    ) {
        self.roleName = roleName
        self.roleId = roleId
        self.arn = arn
        self.path = path
        self.createDate = createDate
        self.description = description
        self.maxSessionDuration = maxSessionDuration
        self.assumeRolePolicyDocument = assumeRolePolicyDocument
        self.tags = tags
    }
}

/// A customer managed policy, as `CreatePolicy` and `GetPolicy` describe it.
public struct IAMManagedPolicy: Sendable, Hashable {
    public var policyName: String
    public var policyId: String
    public var arn: String
    public var path: String
    /// The version in force, such as `v3`.
    public var defaultVersionId: String
    public var attachmentCount: Int?

    public init(
        policyName: String,
        policyId: String,
        arn: String,
        path: String,
        defaultVersionId: String,
        attachmentCount: Int? = nil
    ) {
        self.policyName = policyName
        self.policyId = policyId
        self.arn = arn
        self.path = path
        self.defaultVersionId = defaultVersionId
        self.attachmentCount = attachmentCount
    }
}

/// One version of a managed policy.
public struct IAMPolicyVersion: Sendable, Hashable {
    public var versionId: String
    public var isDefaultVersion: Bool
    /// The policy document as JSON text (decoded); `ListPolicyVersions` omits it.
    public var document: String?
    public var createDate: Date?

    public init(versionId: String, isDefaultVersion: Bool, document: String? = nil, createDate: Date? = nil) {
        self.versionId = versionId
        self.isDefaultVersion = isDefaultVersion
        self.document = document
        self.createDate = createDate
    }
}

/// What a principal has attached: a managed policy's name and ARN.
public struct IAMAttachedPolicy: Sendable, Hashable {
    public var policyName: String
    public var policyArn: String

    public init(policyName: String, policyArn: String) {
        self.policyName = policyName
        self.policyArn = policyArn
    }
}

/// An error returned by AWS IAM (or a compatible service): the `<Code>` and `<Message>` of its XML `ErrorResponse`
/// and the HTTP status. Errors compare by ``code`` alone.
public struct IAMError: AWSServiceError, Hashable {
    /// An IAM error code: an open set.
    public struct Code: WireEnumeration {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The role, policy, user or version does not exist.
        public static let noSuchEntity: Code = "NoSuchEntity"
        public static let entityAlreadyExists: Code = "EntityAlreadyExists"
        public static let malformedPolicyDocument: Code = "MalformedPolicyDocument"
        /// A quota, such as five versions of a managed policy.
        public static let limitExceeded: Code = "LimitExceeded"
        /// Deleting something still attached or in use.
        public static let deleteConflict: Code = "DeleteConflict"
        public static let invalidInput: Code = "InvalidInput"
        public static let concurrentModification: Code = "ConcurrentModification"
        public static let accessDenied: Code = "AccessDenied"
        public static let throttling: Code = "Throttling"
        public static let serviceFailure: Code = "ServiceFailure"
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

    public static let retryableCodes: Set<Code> = [.throttling, .concurrentModification]
}

extension IAMError: CodedError {}
