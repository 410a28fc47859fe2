// The event-bus shapes of the `/v1` API (`/v1/topics/…`). Events themselves travel as their exact JSON bytes.

/// `POST /v1/topics`.
public struct TopicInput: Codable, Sendable, Hashable {
    public var name: String
    public var retentionSeconds: Int?
    public var retentionBytes: Int?

    public init(name: String, retentionSeconds: Int? = nil, retentionBytes: Int? = nil) {
        self.name = name
        self.retentionSeconds = retentionSeconds
        self.retentionBytes = retentionBytes
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case retentionSeconds = "RetentionSeconds"
        case retentionBytes = "RetentionBytes"
    }
}

/// `POST /v1/topics/{topic}/groups/{group}/commit`.
public struct CommitInput: Codable, Sendable, Hashable {
    public var offset: UInt64

    public init(offset: UInt64) { self.offset = offset }

    enum CodingKeys: String, CodingKey { case offset = "Offset" }
}

/// A topic and what it holds.
public struct TopicOutput: Codable, Sendable, Hashable {
    public var name: String
    public var retentionSeconds: Int?
    public var retentionBytes: Int?
    public var eventCount: Int
    public var firstOffset: UInt64?
    public var lastOffset: UInt64?
    public var bytes: Int

    public init(
        name: String,
        retentionSeconds: Int?,
        retentionBytes: Int?,
        eventCount: Int,
        firstOffset: UInt64?,
        lastOffset: UInt64?,
        bytes: Int
    ) {
        self.name = name
        self.retentionSeconds = retentionSeconds
        self.retentionBytes = retentionBytes
        self.eventCount = eventCount
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.bytes = bytes
    }

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case retentionSeconds = "RetentionSeconds"
        case retentionBytes = "RetentionBytes"
        case eventCount = "EventCount"
        case firstOffset = "FirstOffset"
        case lastOffset = "LastOffset"
        case bytes = "Bytes"
    }
}

/// `GET /v1/topics`: `{"Topics": [...]}`.
public struct TopicList: Codable, Sendable, Hashable {
    public var topics: [TopicOutput]
    public init(topics: [TopicOutput]) { self.topics = topics }
    enum CodingKeys: String, CodingKey { case topics = "Topics" }
}

/// `POST /v1/topics/{topic}/events`: the offsets of the published events, in order.
public struct OffsetsOutput: Codable, Sendable, Hashable {
    public var offsets: [UInt64]
    public init(offsets: [UInt64]) { self.offsets = offsets }
    enum CodingKeys: String, CodingKey { case offsets = "Offsets" }
}

/// A consumer group's committed offset (`GET …/groups/{group}` and `POST …/commit`); `null` before its first commit.
public struct CommittedOffsetOutput: Codable, Sendable, Hashable {
    public var committedOffset: UInt64?

    public init(committedOffset: UInt64?) { self.committedOffset = committedOffset }

    enum CodingKeys: String, CodingKey { case committedOffset = "CommittedOffset" }

    /// Writes `"CommittedOffset": null` rather than leaving the member out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(committedOffset, forKey: .committedOffset)
    }
}
