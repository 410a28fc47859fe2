public import Foundation
import SealedSupport

/// How a stream keeps messages (`retention`).
public struct RetentionPolicy: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The wire value.
    public let rawValue: String
    /// Wraps a wire value.
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Keep messages until a limit (age, count, bytes) removes them.
    public static let limits = RetentionPolicy(rawValue: "limits")
    /// Keep messages while some consumer has not acknowledged them.
    public static let interest = RetentionPolicy(rawValue: "interest")
    /// Remove each message once one consumer acknowledged it.
    public static let workQueue = RetentionPolicy(rawValue: "workqueue")

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Where a stream stores messages (`storage`).
public struct StorageType: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The wire value.
    public let rawValue: String
    /// Wraps a wire value.
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// On disk in the server's store directory.
    public static let file = StorageType(rawValue: "file")
    /// In memory only.
    public static let memory = StorageType(rawValue: "memory")

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// What a full stream does with a new message (`discard`).
public struct DiscardPolicy: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The wire value.
    public let rawValue: String
    /// Wraps a wire value.
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Remove the oldest messages to make room.
    public static let old = DiscardPolicy(rawValue: "old")
    /// Refuse the new message.
    public static let new = DiscardPolicy(rawValue: "new")

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// How a consumer expects acknowledgements (`ack_policy`).
public struct AckPolicy: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The wire value.
    public let rawValue: String
    /// Wraps a wire value.
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Each message must be acknowledged.
    public static let explicit = AckPolicy(rawValue: "explicit")
    /// Acknowledging a message acknowledges every earlier one.
    public static let all = AckPolicy(rawValue: "all")
    /// No acknowledgements.
    public static let none = AckPolicy(rawValue: "none")

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Where a new consumer starts (`deliver_policy`, with `opt_start_seq` for ``byStartSequence(_:)``).
public struct DeliverPolicy: Sendable, Hashable, CustomStringConvertible {
    /// The wire value of `deliver_policy`.
    public let rawValue: String
    /// The first stream sequence, for `by_start_sequence`.
    public let startSequence: UInt64?

    /// Wraps a wire value.
    public init(rawValue: String, startSequence: UInt64? = nil) {
        self.rawValue = rawValue
        self.startSequence = startSequence
    }

    public var description: String { startSequence.map { "\(rawValue)(\($0))" } ?? rawValue }

    /// From the first message in the stream.
    public static let all = DeliverPolicy(rawValue: "all")
    /// From the last message in the stream.
    public static let last = DeliverPolicy(rawValue: "last")
    /// Only messages published after the consumer was created.
    public static let new = DeliverPolicy(rawValue: "new")
    /// The last message of each subject.
    public static let lastPerSubject = DeliverPolicy(rawValue: "last_per_subject")

    /// From stream sequence `sequence` (an offset).
    public static func byStartSequence(_ sequence: UInt64) -> DeliverPolicy {
        DeliverPolicy(rawValue: "by_start_sequence", startSequence: sequence)
    }
}

/// A stream's configuration (the fields this client manages; others keep the server's defaults).
public struct StreamConfig: Sendable, Hashable, Codable {
    /// The stream name (no `.`, `*`, `>` or whitespace).
    public var name: String
    /// The subjects it stores.
    public var subjects: [String]
    /// How it keeps messages.
    public var retention: RetentionPolicy
    /// The most messages kept; -1 for no limit.
    public var maxMessages: Int64
    /// The most bytes kept; -1 for no limit.
    public var maxBytes: Int64
    /// The longest a message is kept; zero for no limit.
    public var maxAge: Duration
    /// The largest message accepted; -1 for the server's limit.
    public var maxMessageSize: Int32
    /// Where messages are stored.
    public var storage: StorageType
    /// How many servers hold a copy (1, 3 or 5 in a cluster).
    public var replicas: Int
    /// How long `Nats-Msg-Id` values are remembered for de-duplication; the server's default (2 minutes)
    /// when `nil`.
    public var duplicateWindow: Duration?
    /// What a full stream does with a new message.
    public var discard: DiscardPolicy

    /// Creates a configuration with unlimited retention on file storage and one replica.
    public init(
        name: String,
        subjects: [String],
        retention: RetentionPolicy = .limits,
        maxMessages: Int64 = -1,
        maxBytes: Int64 = -1,
        maxAge: Duration = .zero,
        maxMessageSize: Int32 = -1,
        storage: StorageType = .file,
        replicas: Int = 1,
        duplicateWindow: Duration? = nil,
        discard: DiscardPolicy = .old
    ) {
        self.name = name
        self.subjects = subjects
        self.retention = retention
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
        self.maxAge = maxAge
        self.maxMessageSize = maxMessageSize
        self.storage = storage
        self.replicas = replicas
        self.duplicateWindow = duplicateWindow
        self.discard = discard
    }

    enum CodingKeys: String, CodingKey {
        case name, subjects, retention, storage, discard
        case maxMessages = "max_msgs"
        case maxBytes = "max_bytes"
        case maxAge = "max_age"
        case maxMessageSize = "max_msg_size"
        case replicas = "num_replicas"
        case duplicateWindow = "duplicate_window"
        case maxConsumers = "max_consumers"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        subjects = try container.decodeIfPresent([String].self, forKey: .subjects) ?? []
        retention = try container.decodeIfPresent(RetentionPolicy.self, forKey: .retention) ?? .limits
        maxMessages = try container.decodeIfPresent(Int64.self, forKey: .maxMessages) ?? -1
        maxBytes = try container.decodeIfPresent(Int64.self, forKey: .maxBytes) ?? -1
        maxAge = .nanoseconds(try container.decodeIfPresent(Int64.self, forKey: .maxAge) ?? 0)
        maxMessageSize = try container.decodeIfPresent(Int32.self, forKey: .maxMessageSize) ?? -1
        storage = try container.decodeIfPresent(StorageType.self, forKey: .storage) ?? .file
        replicas = try container.decodeIfPresent(Int.self, forKey: .replicas) ?? 1
        duplicateWindow = try container.decodeIfPresent(Int64.self, forKey: .duplicateWindow).map { .nanoseconds($0) }
        discard = try container.decodeIfPresent(DiscardPolicy.self, forKey: .discard) ?? .old
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(subjects, forKey: .subjects)
        try container.encode(retention, forKey: .retention)
        try container.encode(-1, forKey: .maxConsumers)
        try container.encode(maxMessages, forKey: .maxMessages)
        try container.encode(maxBytes, forKey: .maxBytes)
        try container.encode(maxAge.nanoseconds, forKey: .maxAge)
        try container.encode(maxMessageSize, forKey: .maxMessageSize)
        try container.encode(storage, forKey: .storage)
        try container.encode(replicas, forKey: .replicas)
        try container.encodeIfPresent(duplicateWindow.map(\.nanoseconds), forKey: .duplicateWindow)
        try container.encode(discard, forKey: .discard)
    }
}

/// A stream's counters.
public struct StreamState: Sendable, Hashable, Decodable {
    /// Messages stored.
    public var messages: UInt64
    /// Bytes stored.
    public var bytes: UInt64
    /// The first stored sequence.
    public var firstSequence: UInt64
    /// The last stored sequence.
    public var lastSequence: UInt64
    /// How many consumers the stream has.
    public var consumerCount: Int

    enum CodingKeys: String, CodingKey {
        case messages, bytes
        case firstSequence = "first_seq"
        case lastSequence = "last_seq"
        case consumerCount = "consumer_count"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        messages = try container.decodeIfPresent(UInt64.self, forKey: .messages) ?? 0
        bytes = try container.decodeIfPresent(UInt64.self, forKey: .bytes) ?? 0
        firstSequence = try container.decodeIfPresent(UInt64.self, forKey: .firstSequence) ?? 0
        lastSequence = try container.decodeIfPresent(UInt64.self, forKey: .lastSequence) ?? 0
        consumerCount = try container.decodeIfPresent(Int.self, forKey: .consumerCount) ?? 0
    }
}

/// Where a clustered stream or consumer lives.
public struct ClusterInfo: Sendable, Hashable, Decodable {
    /// One replica.
    public struct Peer: Sendable, Hashable, Decodable {
        /// The server name.
        public var name: String
        /// Whether it is up to date with the leader.
        public var current: Bool?
        /// Whether it is offline.
        public var offline: Bool?
    }

    /// The cluster name.
    public var name: String?
    /// The server name of the leader.
    public var leader: String?
    /// The other replicas.
    public var replicas: [Peer]?
}

/// A stream's configuration and state.
public struct StreamInfo: Sendable, Hashable, Decodable {
    /// The configuration.
    public var config: StreamConfig
    /// The counters.
    public var state: StreamState
    /// The placement, in a cluster.
    public var cluster: ClusterInfo?
}

/// A durable pull consumer's configuration.
public struct ConsumerConfig: Sendable, Hashable, Codable {
    /// The durable name (a consumer group), which is also the consumer's name.
    public var durableName: String
    /// Where it starts.
    public var deliverPolicy: DeliverPolicy
    /// How it expects acknowledgements.
    public var ackPolicy: AckPolicy
    /// How long a delivered, unacknowledged message waits before redelivery; the server's default
    /// (30 seconds) when `nil`.
    public var ackWait: Duration?
    /// How many times a message is delivered at most; `nil` for no limit.
    public var maxDeliver: Int?
    /// Only messages on this subject (wildcards allowed).
    public var filterSubject: String?
    /// How many messages may be delivered and unacknowledged at once; the server's default when `nil`.
    public var maxAckPending: Int?

    /// Creates a configuration for a durable pull consumer with explicit acks from the first message.
    public init(
        durableName: String,
        deliverPolicy: DeliverPolicy = .all,
        ackPolicy: AckPolicy = .explicit,
        ackWait: Duration? = nil,
        maxDeliver: Int? = nil,
        filterSubject: String? = nil,
        maxAckPending: Int? = nil
    ) {
        self.durableName = durableName
        self.deliverPolicy = deliverPolicy
        self.ackPolicy = ackPolicy
        self.ackWait = ackWait
        self.maxDeliver = maxDeliver
        self.filterSubject = filterSubject
        self.maxAckPending = maxAckPending
    }

    enum CodingKeys: String, CodingKey {
        case durableName = "durable_name"
        case deliverPolicy = "deliver_policy"
        case optStartSequence = "opt_start_seq"
        case ackPolicy = "ack_policy"
        case ackWait = "ack_wait"
        case maxDeliver = "max_deliver"
        case filterSubject = "filter_subject"
        case maxAckPending = "max_ack_pending"
        case replayPolicy = "replay_policy"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        durableName = try container.decodeIfPresent(String.self, forKey: .durableName) ?? ""
        deliverPolicy = DeliverPolicy(
            rawValue: try container.decodeIfPresent(String.self, forKey: .deliverPolicy) ?? "all",
            startSequence: try container.decodeIfPresent(UInt64.self, forKey: .optStartSequence)
        )
        ackPolicy = try container.decodeIfPresent(AckPolicy.self, forKey: .ackPolicy) ?? .explicit
        ackWait = try container.decodeIfPresent(Int64.self, forKey: .ackWait).map { .nanoseconds($0) }
        let maxDeliver = try container.decodeIfPresent(Int.self, forKey: .maxDeliver)
        self.maxDeliver = maxDeliver.flatMap { $0 > 0 ? $0 : nil }
        let filter = try container.decodeIfPresent(String.self, forKey: .filterSubject)
        filterSubject = filter?.isEmpty == true ? nil : filter
        maxAckPending = try container.decodeIfPresent(Int.self, forKey: .maxAckPending)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(durableName, forKey: .durableName)
        try container.encode(deliverPolicy.rawValue, forKey: .deliverPolicy)
        try container.encodeIfPresent(deliverPolicy.startSequence, forKey: .optStartSequence)
        try container.encode(ackPolicy, forKey: .ackPolicy)
        try container.encodeIfPresent(ackWait.map(\.nanoseconds), forKey: .ackWait)
        try container.encode(maxDeliver ?? -1, forKey: .maxDeliver)
        try container.encodeIfPresent(filterSubject, forKey: .filterSubject)
        try container.encodeIfPresent(maxAckPending, forKey: .maxAckPending)
        try container.encode("instant", forKey: .replayPolicy)
    }
}

/// A pair of consumer and stream sequences.
public struct SequencePair: Sendable, Hashable, Decodable {
    /// The consumer sequence.
    public var consumerSequence: UInt64
    /// The stream sequence.
    public var streamSequence: UInt64

    enum CodingKeys: String, CodingKey {
        case consumerSequence = "consumer_seq"
        case streamSequence = "stream_seq"
    }
}

/// A consumer's configuration and progress.
public struct ConsumerInfo: Sendable, Hashable, Decodable {
    /// The stream.
    public var streamName: String
    /// The consumer name.
    public var name: String
    /// The configuration.
    public var config: ConsumerConfig
    /// The last delivered sequences.
    public var delivered: SequencePair
    /// The acknowledgement floor: everything up to it is acknowledged.
    public var ackFloor: SequencePair
    /// Delivered messages waiting for an acknowledgement.
    public var numAckPending: Int
    /// Messages delivered more than once and not yet acknowledged.
    public var numRedelivered: Int
    /// Pull requests waiting.
    public var numWaiting: Int
    /// Messages not yet delivered.
    public var numPending: UInt64
    /// The placement, in a cluster.
    public var cluster: ClusterInfo?

    enum CodingKeys: String, CodingKey {
        case streamName = "stream_name"
        case name, config, delivered, cluster
        case ackFloor = "ack_floor"
        case numAckPending = "num_ack_pending"
        case numRedelivered = "num_redelivered"
        case numWaiting = "num_waiting"
        case numPending = "num_pending"
    }
}

/// The acknowledgement of a JetStream publish.
public struct PubAck: Sendable, Hashable, Decodable {
    /// The stream that stored the message.
    public var stream: String
    /// The message's stream sequence (its offset).
    public var sequence: UInt64
    /// Whether the stream had already stored a message with this `Nats-Msg-Id` (and did not store it
    /// again); ``sequence`` is then the original's.
    public var duplicate: Bool

    enum CodingKeys: String, CodingKey {
        case stream
        case sequence = "seq"
        case duplicate
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        stream = try container.decode(String.self, forKey: .stream)
        sequence = try container.decode(UInt64.self, forKey: .sequence)
        duplicate = try container.decodeIfPresent(Bool.self, forKey: .duplicate) ?? false
    }
}

/// A message read directly from a stream by sequence.
public struct StoredMessage: Sendable, Hashable {
    /// The subject it was published to.
    public var subject: String
    /// Its stream sequence.
    public var sequence: UInt64
    /// Its headers, if any.
    public var headers: Headers?
    /// Its payload.
    public var payload: [UInt8]
    /// When the stream stored it, if the server said.
    public var time: Date?

}
