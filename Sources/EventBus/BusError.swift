import SealedSupport

/// An error from the event bus or one of its transports.
///
/// Errors compare by ``code`` alone; ``reason`` is for people and logs and never holds a payload.
public struct BusError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an open set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A topic of that name already exists.
        public static let topicExists = Code("topicExists")
        /// No topic of that name exists.
        public static let noSuchTopic = Code("noSuchTopic")
        /// A topic or consumer group name does not match `[a-z0-9][a-z0-9._-]{0,99}`.
        public static let invalidName = Code("invalidName")
        /// An argument (limit, offset, retention, empty event id) is invalid; nothing was changed.
        public static let invalidArgument = Code("invalidArgument")
        /// An event's payload is larger than the transport accepts; nothing of its batch was stored.
        public static let payloadTooLarge = Code("payloadTooLarge")
        /// The transport cannot be reached or did not answer in time (for example NATS is down or
        /// electing a leader). An event whose publish failed with this code may still have been stored:
        /// publish it again with the same event id.
        public static let unavailable = Code("unavailable")
        /// The transport's store failed or answered something unexpected.
        public static let storageFailure = Code("storageFailure")
        /// The transport was closed.
        public static let closed = Code("closed")
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

    package static func noSuchTopic(_ name: String) -> BusError { .init(.noSuchTopic, "no topic named \(name)") }
    package static func topicExists(_ name: String) -> BusError { .init(.topicExists, "topic \(name) already exists") }
    package static func invalidArgument(_ reason: String) -> BusError { .init(.invalidArgument, reason) }
}

extension BusError: CodedError {}
