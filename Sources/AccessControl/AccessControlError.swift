import SealedSupport

/// Why an identity, role-session or access-request operation was refused.
///
/// A struct with an opaque ``Code``, as the other modules' errors: new reasons are not breaking changes, and two
/// errors are equal when their codes are. The ``message`` is a sentence for the caller; it never carries a secret
/// access key, a session token or key material. The server maps codes to AWS error names and HTTP statuses.
public struct AccessControlError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        /// A user, team, role, access key, access request, domain or event type that does not exist.
        public static let noSuchEntity: Code = "NoSuchEntity"
        /// The name is taken.
        public static let entityAlreadyExists: Code = "EntityAlreadyExists"
        /// A quota was reached (two access keys per user).
        public static let limitExceeded: Code = "LimitExceeded"
        /// A policy document did not parse; the message names the position.
        public static let malformedPolicyDocument: Code = "MalformedPolicyDocument"
        /// A parameter is missing or out of its range.
        public static let validationError: Code = "ValidationError"
        /// The caller may not do this.
        public static let accessDenied: Code = "AccessDenied"
        /// The entity is not in a state that allows the operation (approving a denied request, …).
        public static let invalidState: Code = "InvalidState"
        /// An access key with this id already exists.
        public static let accessKeyExists: Code = "AccessKeyExists"
        /// No access key has this id.
        public static let accessKeyNotFound: Code = "AccessKeyNotFound"
        /// The record changed since it was read (its stored version is not the one the change was based on).
        public static let concurrentModification: Code = "ConcurrentModification"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension AccessControlError: CodedError {}

extension AccessControlError {
    /// The `concurrentModification` error of a versioned store.
    public static func staleVersion(of record: String) -> AccessControlError {
        AccessControlError(
            .concurrentModification,
            "The \(record) was changed by another request since it was read; retry the operation."
        )
    }
}
