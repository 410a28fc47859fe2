import SealedSupport
public import WireShapes

/// Why the table service refused a request, in DynamoDB's terms: the ``code`` is the error code DynamoDB answers
/// (`ValidationException`, `ConditionalCheckFailedException`, …) and the ``message`` its sentence.
///
/// A struct with an open ``Code`` rather than an enum, so new reasons are not breaking changes; two errors are equal
/// when their codes are. Messages name attributes, tables and placeholders, never an attribute value other than a
/// key's: items hold wrapped keys.
public struct TableError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A DynamoDB error code.
    public struct Code: WireEnumeration {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let accessDenied: Code = "AccessDeniedException"
        public static let conditionalCheckFailed: Code = "ConditionalCheckFailedException"
        public static let idempotentParameterMismatch: Code = "IdempotentParameterMismatchException"
        public static let internalServerError: Code = "InternalServerError"
        public static let resourceInUse: Code = "ResourceInUseException"
        public static let resourceNotFound: Code = "ResourceNotFoundException"
        public static let transactionCanceled: Code = "TransactionCanceledException"
        public static let unknownOperation: Code = "UnknownOperationException"
        public static let validation: Code = "ValidationException"
    }

    public var code: Code
    /// A sentence for people, in DynamoDB's words where DynamoDB has some.
    public var message: String
    /// For ``Code/transactionCanceled``: one reason per entry of the transaction, in order (`None` for the entries
    /// that did not fail).
    public var cancellationReasons: [DynamoDBCancellationReason]?

    public init(_ code: Code, _ message: String, cancellationReasons: [DynamoDBCancellationReason]? = nil) {
        self.code = code
        self.message = message
        self.cancellationReasons = cancellationReasons
    }

    public var description: String { "\(code): \(message)" }

    /// The JSON error body DynamoDB sends: `__type` with the service's namespace, `message`, and the reasons.
    public var shape: DynamoDBErrorShape {
        DynamoDBErrorShape(code: code.rawValue, message: message, cancellationReasons: cancellationReasons)
    }

    static func validation(_ message: String) -> TableError { TableError(.validation, message) }

    /// DynamoDB's sentence for an invalid parameter.
    static func invalidParameter(_ detail: String) -> TableError {
        TableError(.validation, "One or more parameter values were invalid: \(detail)")
    }

    /// DynamoDB's sentence for one member that fails its constraint.
    package static func constraint(_ member: String, _ value: String, _ constraint: String) -> TableError {
        TableError(
            .validation,
            "1 validation error detected: Value '\(value)' at '\(member)' failed to satisfy constraint: \(constraint)"
        )
    }

    static func tableNotFound(_ name: String) -> TableError {
        TableError(.resourceNotFound, "Requested resource not found: Table: \(name) not found")
    }

    static var keyMismatch: TableError { validation("The provided key element does not match the schema") }

    static var conditionFailed: TableError { TableError(.conditionalCheckFailed, "The conditional request failed") }
}

extension TableError: CodedError {}
