public import Foundation

/// A topic's name and retention.
public struct TopicConfiguration: Sendable, Hashable, Codable {
    /// The name: `[a-z0-9][a-z0-9._-]{0,99}`.
    public var name: String
    /// Events older than this many seconds are dropped; `nil` keeps them regardless of age.
    public var retentionSeconds: Int?
    /// At most this many payload bytes are kept, the oldest events dropped first; `nil` for no limit.
    public var retentionBytes: Int?

    /// Creates a configuration.
    public init(name: String, retentionSeconds: Int? = nil, retentionBytes: Int? = nil) {
        self.name = name
        self.retentionSeconds = retentionSeconds
        self.retentionBytes = retentionBytes
    }

    /// The longest age retention a topic may have: 100 years of 365 days. Every transport turns it into
    /// microseconds or nanoseconds in 64 bits, which this keeps far from overflowing; leave retention out to keep
    /// events regardless of age.
    public static let maximumRetentionSeconds = 100 * 365 * 86_400
    /// The largest size retention a topic may have: 2^53 bytes (8 PiB); leave it out for no limit.
    public static let maximumRetentionBytes = 1 << 53

    /// Checks the name and the retention limits.
    ///
    /// - Throws: ``BusError/Code/invalidName`` for a bad name, ``BusError/Code/invalidArgument`` for a
    ///   retention that is not positive or above ``maximumRetentionSeconds`` / ``maximumRetentionBytes``.
    public func validate() throws {
        try Self.validateName(name, what: "topic name")
        if let retentionSeconds, !(1...Self.maximumRetentionSeconds).contains(retentionSeconds) {
            throw BusError.invalidArgument(
                "retentionSeconds must be between 1 and \(Self.maximumRetentionSeconds) (100 years)"
            )
        }
        if let retentionBytes, !(1...Self.maximumRetentionBytes).contains(retentionBytes) {
            throw BusError.invalidArgument("retentionBytes must be between 1 and \(Self.maximumRetentionBytes)")
        }
    }

    /// Checks a topic or consumer group name against `[a-z0-9][a-z0-9._-]{0,99}`.
    ///
    /// - Throws: ``BusError/Code/invalidName``.
    public static func validateName(_ name: String, what: String = "name") throws {
        let bytes = Array(name.utf8)
        func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard let first = bytes.first, bytes.count <= 100, isLowerAlphanumeric(first),
            bytes.allSatisfy({
                isLowerAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
            })
        else {
            throw BusError(.invalidName, "invalid \(what) (expected [a-z0-9][a-z0-9._-]{0,99})")
        }
    }
}

/// A topic's configuration and its current extent.
public struct TopicInfo: Sendable, Hashable {
    /// The configuration.
    public var configuration: TopicConfiguration
    /// How many events the topic holds now (after retention).
    public var eventCount: Int
    /// The offset of the oldest event held; `nil` when the topic is empty.
    public var firstOffset: UInt64?
    /// The offset of the newest event held; `nil` when the topic is empty.
    public var lastOffset: UInt64?
    /// The payload bytes held (JetStream: the stream's stored bytes, headers and subjects included).
    public var bytes: Int

    /// Creates a description.
    public init(
        configuration: TopicConfiguration,
        eventCount: Int = 0,
        firstOffset: UInt64? = nil,
        lastOffset: UInt64? = nil,
        bytes: Int = 0
    ) {
        self.configuration = configuration
        self.eventCount = eventCount
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.bytes = bytes
    }

    /// The topic's name.
    public var name: String { configuration.name }
}

/// An event to append to a topic.
public struct OutgoingEvent: Sendable, Hashable {
    /// The de-duplication key: the envelope's `metaData.eventId`.
    public var eventID: String
    /// The envelope JSON, opaque to the transport.
    public var payload: [UInt8]

    /// Creates an event.
    public init(eventID: String, payload: [UInt8]) {
        self.eventID = eventID
        self.payload = payload
    }
}

/// An event as a topic holds it.
public struct StoredEvent: Sendable, Hashable {
    /// Its place in the topic: 1-based, increasing (JetStream: the stream sequence). Offsets may have
    /// gaps (events removed by retention; JetStream: messages deleted from the stream).
    public var offset: UInt64
    /// The de-duplication key it was published with.
    public var eventID: String
    /// The envelope JSON.
    public var payload: [UInt8]
    /// When the transport stored it.
    public var publishTime: Date

    /// Creates a stored event.
    public init(offset: UInt64, eventID: String, payload: [UInt8], publishTime: Date) {
        self.offset = offset
        self.eventID = eventID
        self.payload = payload
        self.publishTime = publishTime
    }
}
