import SealedSupport

/// An error returned by Amazon DynamoDB (or a service speaking its JSON 1.0 protocol: moto, `sealed serve`):
/// the error code without its namespace, the message, the HTTP status, and, for a cancelled transaction, why each
/// entry failed.
///
/// Errors compare by ``code`` alone, so `catch let error as DynamoDBError where error == .resourceNotFound` reads
/// naturally. Failures to reach the service stay ``ClientError``s.
public struct DynamoDBError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A DynamoDB error code: an open set, with static members for the codes a keystore meets.
    public struct Code: WireEnumeration {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let accessDeniedException: Code = "AccessDeniedException"
        public static let conditionalCheckFailedException: Code = "ConditionalCheckFailedException"
        public static let internalServerError: Code = "InternalServerError"
        public static let itemCollectionSizeLimitExceededException: Code = "ItemCollectionSizeLimitExceededException"
        public static let limitExceededException: Code = "LimitExceededException"
        public static let provisionedThroughputExceededException: Code = "ProvisionedThroughputExceededException"
        public static let requestLimitExceeded: Code = "RequestLimitExceeded"
        public static let resourceInUseException: Code = "ResourceInUseException"
        public static let resourceNotFoundException: Code = "ResourceNotFoundException"
        public static let serializationException: Code = "SerializationException"
        public static let throttlingException: Code = "ThrottlingException"
        public static let transactionCanceledException: Code = "TransactionCanceledException"
        public static let transactionConflictException: Code = "TransactionConflictException"
        public static let transactionInProgressException: Code = "TransactionInProgressException"
        public static let unrecognizedClientException: Code = "UnrecognizedClientException"
        public static let validationException: Code = "ValidationException"
        /// The response named no error code.
        public static let unknownError: Code = "UnknownError"
    }

    /// The error code (the `__type` without its `com.amazonaws.dynamodb.v20120810#` namespace).
    public let code: Code
    /// The message; empty when the response had none.
    public let message: String
    /// The HTTP status of the response.
    public let statusCode: Int
    /// For `TransactionCanceledException`, one reason per entry of the transaction, in order (`Code` `None` for the
    /// entries that did not fail); empty otherwise.
    public let cancellationReasons: [DynamoDBCancellationReason]

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The error code.
    ///   - message: The message.
    ///   - statusCode: The HTTP status; 500 for `InternalServerError`, 400 for every other code when omitted.
    ///   - cancellationReasons: The per-entry reasons of a cancelled transaction.
    public init(
        code: Code,
        message: String = "",
        statusCode: Int? = nil,
        cancellationReasons: [DynamoDBCancellationReason] = []
    ) {
        self.code = code
        self.message = message
        self.statusCode = statusCode ?? (code == .internalServerError ? 500 : 400)
        self.cancellationReasons = cancellationReasons
    }

    /// The error a wire shape describes (as a server in process returns it).
    ///
    /// - Parameters:
    ///   - shape: The error body.
    ///   - statusCode: The HTTP status it came with, if any.
    public init(_ shape: DynamoDBErrorShape, statusCode: Int? = nil) {
        self.init(
            code: Code(rawValue: shape.code),
            message: shape.message ?? "",
            statusCode: statusCode,
            cancellationReasons: shape.cancellationReasons ?? []
        )
    }

    /// The wire shape of this error.
    public var shape: DynamoDBErrorShape {
        DynamoDBErrorShape(
            code: code.rawValue,
            message: message.isEmpty ? nil : message,
            cancellationReasons: cancellationReasons.isEmpty ? nil : cancellationReasons
        )
    }

    public static let resourceNotFound = DynamoDBError(code: .resourceNotFoundException)
    public static let conditionalCheckFailed = DynamoDBError(code: .conditionalCheckFailedException)
    public static let transactionCanceled = DynamoDBError(code: .transactionCanceledException)
    public static let accessDenied = DynamoDBError(code: .accessDeniedException)
    public static let validation = DynamoDBError(code: .validationException)

    /// Whether a condition of the request failed: `ConditionalCheckFailedException`, or a cancelled transaction
    /// one of whose entries failed its condition (reason `ConditionalCheckFailed`).
    public var isConditionFailure: Bool {
        code == .conditionalCheckFailedException
            || (code == .transactionCanceledException
                && cancellationReasons.contains { $0.code == "ConditionalCheckFailed" })
    }

    /// Codes botocore's standard retry mode treats as throttling or transient, for DynamoDB.
    static let retryableCodes: Set<Code> = [
        .provisionedThroughputExceededException, .requestLimitExceeded, .throttlingException,
        .transactionInProgressException, .limitExceededException, "Throttling", "ThrottledException",
        "RequestThrottledException", "TooManyRequestsException", "RequestThrottled", "SlowDown",
    ]

    /// Whether a retry may succeed: throttling, or a server-side failure (HTTP 5xx).
    public var isRetryable: Bool {
        Self.retryableCodes.contains(code) || statusCode >= 500 || statusCode == 429
    }

    public var description: String {
        var text = message.isEmpty ? "\(code) (HTTP \(statusCode))" : "\(code): \(message) (HTTP \(statusCode))"
        if !cancellationReasons.isEmpty {
            text += "; reasons: " + cancellationReasons.map { $0.code ?? "None" }.joined(separator: ", ")
        }
        return text
    }
}

extension DynamoDBError: CodedError {}

extension DynamoDBError: RetryableServiceError {}
