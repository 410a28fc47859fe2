import SealedSupport

/// A failure on the client's side of a call: the service could not be reached, did not answer in time, or
/// answered with something that is not a valid response; or the client is misconfigured.
///
/// Errors the service itself reports are ``KMSError`` and ``STSError``. Errors compare by ``code`` alone. The
/// ``reason`` never holds credentials, plaintext or key material.
public struct ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an open set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No answer within the request timeout (connect, headers or body).
        public static let timeout = Code("timeout")
        /// The connection could not be made (refused, unreachable, TLS failure) or broke before a response.
        public static let connectionFailed = Code("connectionFailed")
        /// The response body ended before its declared length, or the connection closed mid-body.
        public static let truncatedResponse = Code("truncatedResponse")
        /// The response body is larger than ``ClientOptions/maxResponseBytes``.
        public static let responseTooLarge = Code("responseTooLarge")
        /// A successful response whose body is not the JSON or XML the operation returns.
        public static let malformedResponse = Code("malformedResponse")
        /// No credentials could be found (environment, profiles).
        public static let credentialsUnavailable = Code("credentialsUnavailable")
        /// The configuration (region, endpoint, profile) is incomplete or invalid.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// A request could not be encoded.
        public static let invalidRequest = Code("invalidRequest")
    }

    /// The error's code; the only part that takes part in equality.
    public let code: Code
    /// A human-readable reason.
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// Whether a retry may succeed: timeouts, connection failures and truncated responses.
    public var isRetryable: Bool {
        code == .timeout || code == .connectionFailed || code == .truncatedResponse
    }

    public var description: String { "\(code): \(reason)" }
}

extension ClientError: CodedError {}

/// How a ``KMSClient`` or ``STSClient`` retries, times out and bounds responses.
public struct ClientOptions: Sendable {
    /// Attempts per call, the first included (at least 1; default 3).
    public var maxAttempts: Int
    /// The backoff before retry `n` (from 1) is a random duration in `0...min(maxBackoff, baseBackoff * 2^(n-1))`:
    /// exponential backoff with full jitter.
    public var baseBackoff: Duration
    /// The cap of one backoff.
    public var maxBackoff: Duration
    /// The time one attempt may take, from connecting to the last byte of the body (default 30 s).
    public var timeout: Duration
    /// The largest response body accepted (default 4 MiB).
    public var maxResponseBytes: Int
    /// The `User-Agent` header.
    public var userAgent: String

    public init(
        maxAttempts: Int = 3,
        baseBackoff: Duration = .milliseconds(100),
        maxBackoff: Duration = .seconds(5),
        timeout: Duration = .seconds(30),
        maxResponseBytes: Int = 4 << 20,
        userAgent: String = "sealed-events-kms/1.0"
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseBackoff = baseBackoff
        self.maxBackoff = maxBackoff
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.userAgent = userAgent
    }

    /// A random backoff before the given retry (1 for the first retry): exponential backoff with full jitter.
    ///
    /// - Parameter retry: The retry number, from 1.
    /// - Returns: A duration in `0...min(maxBackoff, baseBackoff * 2^(retry-1))`.
    public func backoff(beforeRetry retry: Int) -> Duration {
        let exponent = min(retry - 1, 30)
        let ceiling = min(maxBackoff, baseBackoff * (1 << exponent))
        let nanoseconds = ceiling.nanoseconds
        guard nanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanoseconds))
    }
}
