import SealedSupport

/// An error from the Encryption SDK.
///
/// Errors compare by ``code`` alone. Every failure to authenticate a message — a wrong tag, a wrong
/// commitment, a bad signature, a truncated or extended body — is the single code
/// ``Code/authenticationFailure`` with a fixed reason, so a caller (or an attacker watching the
/// caller) learns nothing about which check failed.
public struct EncryptionSDKError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an open set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The message failed authentication, or its body is not what the header promised.
        public static let authenticationFailure = Code("authenticationFailure")
        /// The message header is malformed or names something this implementation does not know.
        public static let malformedMessage = Code("malformedMessage")
        /// The header holds more encrypted data keys than the configured maximum.
        public static let tooManyEncryptedDataKeys = Code("tooManyEncryptedDataKeys")
        /// The commitment policy forbids this algorithm suite.
        public static let commitmentPolicyViolation = Code("commitmentPolicyViolation")
        /// No keyring could decrypt any of the message's encrypted data keys.
        public static let noDecryptableDataKey = Code("noDecryptableDataKey")
        /// The encryption context is invalid (reserved keys, too long, missing required keys, or a
        /// reproduced context that disagrees with the stored one).
        public static let invalidEncryptionContext = Code("invalidEncryptionContext")
        /// An argument (frame length, key, suite, limit) is invalid.
        public static let invalidArgument = Code("invalidArgument")
        /// Materials returned by a keyring or materials manager break the ESDK's rules.
        public static let invalidMaterials = Code("invalidMaterials")
        /// The operation needs a capability the crypto library does not provide.
        public static let unsupported = Code("unsupported")
        /// A keyring could not wrap the data key (for example a remote key service failed).
        public static let keyringFailure = Code("keyringFailure")
        /// A streaming decrypt would need to hold back more plaintext than allowed.
        public static let bufferLimitExceeded = Code("bufferLimitExceeded")
    }

    /// The error's code; the only part that takes part in equality.
    public let code: Code
    /// A human-readable reason. It never holds key material, plaintext or message bytes.
    public let reason: String
    /// The errors behind this one, when a keyring tried several keys (the KMS keyring's `KMSError`s, for
    /// example), so a caller can tell "access denied" from "corrupted" without reading ``reason``.
    public let underlyingErrors: [any Error & Sendable]

    public init(_ code: Code, _ reason: String, underlyingErrors: [any Error & Sendable] = []) {
        self.code = code
        self.reason = reason
        self.underlyingErrors = underlyingErrors
    }

    /// The one error every authentication failure turns into.
    public static let authenticationFailure = EncryptionSDKError(
        .authenticationFailure,
        "the message could not be authenticated"
    )

    static func malformed(_ reason: String) -> EncryptionSDKError { .init(.malformedMessage, reason) }
    static func invalidArgument(_ reason: String) -> EncryptionSDKError { .init(.invalidArgument, reason) }
    static func invalidMaterials(_ reason: String) -> EncryptionSDKError { .init(.invalidMaterials, reason) }
    static func invalidContext(_ reason: String) -> EncryptionSDKError { .init(.invalidEncryptionContext, reason) }

    public var description: String { "\(code): \(reason)" }
}

extension EncryptionSDKError: CodedError {}
