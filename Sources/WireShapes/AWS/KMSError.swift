import Foundation
import SealedSupport

/// The JSON body of an AWS JSON 1.1 error response: `{"__type": "…", "message": "…"}`.
///
/// `__type` may carry a namespace prefix (`com.amazonaws.kms#NotFoundException`) and services spell the message
/// member `message` or `Message`; decoding accepts both and ``code`` drops the prefix.
public struct AWSErrorShape: Codable, Sendable, Hashable {
    /// The error type as sent, possibly with a `prefix#`.
    public var type: String
    /// The error message, if any.
    public var message: String?

    public init(type: String, message: String?) {
        self.type = type
        self.message = message
    }

    /// The error code: ``type`` without any `prefix#` (and without a `:suffix`, as botocore strips it).
    public var code: String { Self.code(fromType: type) }

    /// Strips a `prefix#` and a `:suffix` from an `__type` or `X-Amzn-ErrorType` value.
    public static func code(fromType type: String) -> String {
        var code = Substring(type)
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        return String(code).trimmingCharacters(in: .whitespaces)
    }

    enum CodingKeys: String, CodingKey {
        case type = "__type"
        case message
        case upperMessage = "Message"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        message =
            try container.decodeIfPresent(String.self, forKey: .message)
            ?? container.decodeIfPresent(String.self, forKey: .upperMessage)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encodeIfPresent(message, forKey: .message)
    }
}

/// An error returned by AWS KMS (or a KMS-compatible service): AWS's error code, its message and the HTTP status.
///
/// Errors compare by ``code`` alone, so `catch let error as KMSError where error == .notFound` reads naturally
/// through the static members (``notFound`` is `KMSError(code: .notFoundException)`).
public struct KMSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An AWS error code: an open set, with static members for the codes of the KMS service model.
    public struct Code: WireEnumeration {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let accessDeniedException: Code = "AccessDeniedException"
        public static let alreadyExistsException: Code = "AlreadyExistsException"
        public static let conflictException: Code = "ConflictException"
        public static let dependencyTimeoutException: Code = "DependencyTimeoutException"
        public static let disabledException: Code = "DisabledException"
        public static let dryRunOperationException: Code = "DryRunOperationException"
        public static let incorrectKeyException: Code = "IncorrectKeyException"
        public static let invalidAliasNameException: Code = "InvalidAliasNameException"
        public static let invalidArnException: Code = "InvalidArnException"
        public static let invalidCiphertextException: Code = "InvalidCiphertextException"
        public static let invalidGrantTokenException: Code = "InvalidGrantTokenException"
        public static let invalidKeyUsageException: Code = "InvalidKeyUsageException"
        public static let invalidMarkerException: Code = "InvalidMarkerException"
        public static let keyUnavailableException: Code = "KeyUnavailableException"
        public static let kmsInternalException: Code = "KMSInternalException"
        public static let kmsInvalidStateException: Code = "KMSInvalidStateException"
        public static let limitExceededException: Code = "LimitExceededException"
        public static let malformedPolicyDocumentException: Code = "MalformedPolicyDocumentException"
        public static let notFoundException: Code = "NotFoundException"
        public static let tagException: Code = "TagException"
        public static let throttlingException: Code = "ThrottlingException"
        public static let unrecognizedClientException: Code = "UnrecognizedClientException"
        public static let unsupportedOperationException: Code = "UnsupportedOperationException"
        public static let validationException: Code = "ValidationException"
        public static let invalidSignatureException: Code = "InvalidSignatureException"
        public static let incompleteSignature: Code = "IncompleteSignature"
        public static let expiredTokenException: Code = "ExpiredTokenException"
        public static let serializationException: Code = "SerializationException"
        public static let unknownOperationException: Code = "UnknownOperationException"
        /// The response named no error code.
        public static let unknownError: Code = "UnknownError"

        /// The HTTP status AWS KMS answers with for this code: 500 for ``kmsInternalException`` and
        /// ``keyUnavailableException``, 503 for ``dependencyTimeoutException``, and 400 for
        /// every other code (KMS answers 400 even for `AccessDeniedException`).
        public var defaultStatus: Int {
            switch self {
            case .kmsInternalException, .keyUnavailableException: 500
            case .dependencyTimeoutException: 503
            default: 400
            }
        }
    }

    /// AWS's error code (the `__type` without its `prefix#`).
    public let code: Code
    /// AWS's error message; empty when the response had none.
    public let message: String
    /// The HTTP status of the response.
    public let statusCode: Int

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The error code.
    ///   - message: The message.
    ///   - statusCode: The HTTP status; the code's ``Code/defaultStatus`` when omitted.
    public init(code: Code, message: String = "", statusCode: Int? = nil) {
        self.code = code
        self.message = message
        self.statusCode = statusCode ?? code.defaultStatus
    }

    /// The wire shape of this error.
    public var shape: AWSErrorShape { AWSErrorShape(type: code.rawValue, message: message) }

    public static let accessDenied = KMSError(code: .accessDeniedException)
    public static let alreadyExists = KMSError(code: .alreadyExistsException)
    public static let dependencyTimeout = KMSError(code: .dependencyTimeoutException)
    public static let disabled = KMSError(code: .disabledException)
    public static let incorrectKey = KMSError(code: .incorrectKeyException)
    public static let invalidAliasName = KMSError(code: .invalidAliasNameException)
    public static let invalidArn = KMSError(code: .invalidArnException)
    public static let invalidCiphertext = KMSError(code: .invalidCiphertextException)
    public static let invalidGrantToken = KMSError(code: .invalidGrantTokenException)
    public static let invalidKeyUsage = KMSError(code: .invalidKeyUsageException)
    public static let invalidState = KMSError(code: .kmsInvalidStateException)
    public static let internalError = KMSError(code: .kmsInternalException)
    public static let limitExceeded = KMSError(code: .limitExceededException)
    public static let malformedPolicyDocument = KMSError(code: .malformedPolicyDocumentException)
    public static let notFound = KMSError(code: .notFoundException)
    public static let tag = KMSError(code: .tagException)
    public static let throttling = KMSError(code: .throttlingException)
    public static let unsupportedOperation = KMSError(code: .unsupportedOperationException)
    public static let validation = KMSError(code: .validationException)

    /// Codes AWS SDKs treat as throttling (botocore's standard retry mode).
    public static let throttlingCodes: Set<Code> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
        "PriorRequestNotComplete", "EC2ThrottledException",
    ]

    /// Whether a retry may succeed: throttling, or a server-side failure (HTTP 5xx).
    public var isRetryable: Bool {
        Self.throttlingCodes.contains(code) || statusCode >= 500 || statusCode == 429
            || code == .kmsInternalException || code == .dependencyTimeoutException
    }

    public var description: String {
        message.isEmpty ? "\(code) (HTTP \(statusCode))" : "\(code): \(message) (HTTP \(statusCode))"
    }
}

extension KMSError: CodedError {}
