import SealedSupport

/// An error from the NATS client.
///
/// Errors compare by ``code`` alone; ``reason`` is for people and logs. No reason ever holds a password,
/// a token or a message payload.
public struct NATSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an open set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The server sent bytes that are not the NATS protocol, or a frame beyond the parser's limits.
        public static let protocolError = Code("protocolError")
        /// The server refused the credentials (`-ERR 'Authorization Violation'`).
        public static let authorizationViolation = Code("authorizationViolation")
        /// The server answered with `-ERR` for another reason.
        public static let serverError = Code("serverError")
        /// The client is between connections (reconnecting) and cannot send now; nothing was sent.
        public static let notConnected = Code("notConnected")
        /// The connection dropped while the operation was in flight; it may or may not have reached the server.
        public static let connectionLost = Code("connectionLost")
        /// The connection is closed for good (``Connection/close()`` or too many failed reconnects).
        public static let connectionClosed = Code("connectionClosed")
        /// No server could be reached (TCP connect or handshake failed on every server).
        public static let connectionFailed = Code("connectionFailed")
        /// The operation did not complete within its timeout.
        public static let timeout = Code("timeout")
        /// A request found no subscriber on its subject (status 503).
        public static let noResponders = Code("noResponders")
        /// An argument (subject, queue group, header, URL, size) is invalid; nothing was sent.
        public static let invalidArgument = Code("invalidArgument")
        /// The payload is larger than the server's `max_payload`; nothing was sent.
        public static let maxPayloadExceeded = Code("maxPayloadExceeded")
        /// A JetStream reply could not be decoded.
        public static let malformedResponse = Code("malformedResponse")
    }

    /// The error's code; the only part that takes part in equality.
    public let code: Code
    /// A human-readable reason.
    public let reason: String

    /// Creates an error with a code and a reason.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }

    static func protocolError(_ reason: String) -> NATSError { .init(.protocolError, reason) }
    static func invalidArgument(_ reason: String) -> NATSError { .init(.invalidArgument, reason) }
}

/// An error that the JetStream API returned (`{"error": {"code": …, "err_code": …, "description": …}}`).
///
/// Errors compare by ``code`` (the server's `err_code`) alone.
public struct JetStreamError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The JetStream API error code (`err_code`), an open set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The numeric `err_code` the server sent (0 when it sent none).
        public let rawValue: Int
        /// Wraps a numeric `err_code`.
        public init(rawValue: Int) { self.rawValue = rawValue }
        public var description: String { String(rawValue) }

        /// `JSStreamNotFoundErr`: stream not found.
        public static let streamNotFound = Code(rawValue: 10059)
        /// `JSConsumerNotFoundErr`: consumer not found.
        public static let consumerNotFound = Code(rawValue: 10014)
        /// `JSStreamNameExistErr`: a stream with this name but another configuration exists.
        public static let streamNameInUse = Code(rawValue: 10058)
        /// `JSStreamSubjectOverlapErr`: the subjects overlap another stream's.
        public static let subjectsOverlap = Code(rawValue: 10065)
        /// `JSClusterNotAvailErr` / `JSNotEnabledErr` family: JetStream is temporarily unavailable.
        public static let temporarilyUnavailable = Code(rawValue: 10008)
        /// `JSStreamInvalidConfigErr`: the stream configuration is invalid.
        public static let invalidStreamConfig = Code(rawValue: 10052)
        /// `JSStreamReplicasNotSupportedErr`: replicas > 1 without a cluster.
        public static let replicasNotSupported = Code(rawValue: 10074)
        /// `JSInsufficientResourcesErr`: not enough resources (for example peers for the replicas).
        public static let insufficientResources = Code(rawValue: 10023)
        /// `JSStorageResourcesExceededErr`: the servers lack the storage a stream's limits ask for.
        public static let storageResourcesExceeded = Code(rawValue: 10047)
        /// `JSClusterNoPeersErrF`: no suitable peers for placement — fewer current servers than the replicas need,
        /// while a cluster forms or when servers are down.
        public static let noSuitablePeers = Code(rawValue: 10005)
    }

    /// The JetStream `err_code`; the only part that takes part in equality.
    public let code: Code
    /// The HTTP-like status the server sent (`code`, for example 404 or 503).
    public let status: Int
    /// The server's description.
    public let errorDescription: String

    /// Creates an API error.
    public init(code: Code, status: Int, description: String) {
        self.code = code
        self.status = status
        self.errorDescription = description
    }

    public var description: String { "JetStream API error \(code.rawValue) (status \(status)): \(errorDescription)" }
}

extension NATSError: CodedError {}

extension JetStreamError: CodedError {}
