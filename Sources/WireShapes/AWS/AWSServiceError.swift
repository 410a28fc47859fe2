/// The errors of AWS's XML services (STS, IAM, S3): a code from the service's open set, AWS's message, and the HTTP
/// status. ``STSError``, ``IAMError`` and ``S3Error`` share this shape, and their description and retry rule.
public protocol AWSServiceError: Error, Sendable, CustomStringConvertible {
    associatedtype Code: WireEnumeration
    var code: Code { get }
    var message: String { get }
    var statusCode: Int { get }
    /// The service's own codes that a retry may overcome, beside AWS's throttling codes and HTTP 5xx or 429.
    static var retryableCodes: Set<Code> { get }

    init(code: Code, message: String, statusCode: Int)
}

extension AWSServiceError {
    /// Whether a retry may succeed: one of ``retryableCodes``, AWS's throttling codes, or HTTP 5xx or 429.
    public var isRetryable: Bool {
        Self.retryableCodes.contains(code) || KMSError.throttlingCodes.contains(KMSError.Code(rawValue: code.rawValue))
            || statusCode >= 500 || statusCode == 429
    }

    public var description: String {
        message.isEmpty ? "\(code) (HTTP \(statusCode))" : "\(code): \(message) (HTTP \(statusCode))"
    }
}
