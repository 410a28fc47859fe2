/// Where a topic's events live: an append-only log per topic, read by offset or through consumer groups.
///
/// Three implementations ship: the embedded SQLite transport (`SQLiteTransport`, in `Storage`), its
/// PostgreSQL counterpart for several replicas (`PostgresTransport`, in `PostgresStorage`) and the
/// NATS JetStream transport (`JetStreamTransport`, in `JetStreamBus`); ``InMemoryTransport`` serves
/// unit tests. Every implementation passes the same contract suite (`EventBusTests`).
///
/// Payloads are opaque: a transport never parses them. Names of topics and groups follow
/// ``TopicConfiguration/validateName(_:what:)``.
public protocol Transport: Sendable {
    /// Creates a topic.
    ///
    /// - Returns: The new topic, empty.
    /// - Throws: ``BusError/Code/topicExists``, ``BusError/Code/invalidName``,
    ///   ``BusError/Code/invalidArgument`` (retention not positive), ``BusError/Code/unavailable``.
    func createTopic(_ configuration: TopicConfiguration) async throws -> TopicInfo

    /// Deletes a topic, its events and its consumer groups' offsets.
    ///
    /// - Throws: ``BusError/Code/noSuchTopic``, ``BusError/Code/invalidName``, ``BusError/Code/unavailable``.
    func deleteTopic(named name: String) async throws

    /// Every topic, sorted by name.
    ///
    /// - Throws: ``BusError/Code/unavailable``.
    func topics() async throws -> [TopicInfo]

    /// One topic, or `nil` when there is none of that name.
    ///
    /// - Throws: ``BusError/Code/invalidName``, ``BusError/Code/unavailable``.
    func topic(named name: String) async throws -> TopicInfo?

    /// Appends the batch durably, in order, before returning their offsets.
    ///
    /// An event whose ``OutgoingEvent/eventID`` is already in the topic is not stored again: its existing
    /// offset is returned (embedded transports remember every id the topic holds; JetStream remembers ids
    /// for its de-duplication window, two minutes by default). A repeated id within one batch also maps
    /// to the first one's offset.
    ///
    /// Embedded transports store the whole batch or nothing. JetStream stores event by event: when it
    /// throws, a prefix of the batch may have been stored; publishing the batch again with the same ids
    /// stores each event once.
    ///
    /// - Returns: One offset per event, in the batch's order.
    /// - Throws: ``BusError/Code/noSuchTopic``, ``BusError/Code/payloadTooLarge`` (nothing of the batch
    ///   stored), ``BusError/Code/invalidArgument`` (an empty or malformed event id),
    ///   ``BusError/Code/unavailable`` (may have been stored: publish again with the same ids).
    func publish(_ events: [OutgoingEvent], to topic: String) async throws -> [UInt64]

    /// Up to `limit` events with offset >= `offset`, in offset order, waiting up to `wait` for the first
    /// one (long poll). Returns as soon as at least one event is available.
    ///
    /// - Parameters:
    ///   - topic: The topic.
    ///   - offset: The first offset wanted; 0 and 1 both mean "from the start". An offset older than the
    ///     retention starts at the oldest event held.
    ///   - limit: The most events to return (at least 1).
    ///   - wait: How long to wait when no event is there yet; `.zero` does not wait.
    /// - Returns: The events, possibly none (the wait ran out).
    /// - Throws: ``BusError/Code/noSuchTopic``, ``BusError/Code/invalidArgument`` (limit below 1),
    ///   ``BusError/Code/unavailable``.
    func read(topic: String, from offset: UInt64, limit: Int, wait: Duration) async throws -> [StoredEvent]

    /// Up to `limit` events for a consumer group, at least once, waiting up to `wait` for the first one.
    ///
    /// A group starts at the topic's oldest event and is created by its first fetch. Each fetch returns
    /// the events after the ones already handed out; events fetched but not committed are handed out
    /// again once the redelivery timeout has passed (embedded: counted from the group's latest fetch;
    /// JetStream: the consumer's `ack_wait`, per event), for example when a consumer crashed. Consumers of
    /// one group share its progress: a commit covers everything the group was handed up to that offset.
    ///
    /// - Throws: ``BusError/Code/noSuchTopic``, ``BusError/Code/invalidName`` (group),
    ///   ``BusError/Code/invalidArgument`` (limit below 1), ``BusError/Code/unavailable``.
    func fetch(group: String, topic: String, limit: Int, wait: Duration) async throws -> [StoredEvent]

    /// Records that the group processed every event up to and including `offset`.
    ///
    /// Commits only move forward: an offset at or below the committed one changes nothing. Use an offset
    /// the group was handed by ``fetch(group:topic:limit:wait:)`` (JetStream acknowledges a delivered
    /// message; it commits at most the last event delivered to the group).
    ///
    /// - Throws: ``BusError/Code/noSuchTopic``, ``BusError/Code/invalidName``,
    ///   ``BusError/Code/invalidArgument`` (an offset beyond the topic's end, or never delivered to the
    ///   group), ``BusError/Code/unavailable``.
    func commit(group: String, topic: String, offset: UInt64) async throws

    /// The group's committed offset, or `nil` when it has committed nothing (or does not exist).
    ///
    /// - Throws: ``BusError/Code/noSuchTopic``, ``BusError/Code/invalidName``, ``BusError/Code/unavailable``.
    func committedOffset(group: String, topic: String) async throws -> UInt64?
}

extension OutgoingEvent {
    /// Checks the event id: 1 to 256 bytes of UTF-8 without control characters (it travels in a header
    /// on some transports).
    ///
    /// - Throws: ``BusError/Code/invalidArgument``.
    public func validate() throws {
        let bytes = eventID.utf8
        guard !bytes.isEmpty, bytes.count <= 256, bytes.allSatisfy({ $0 >= 32 && $0 != 127 }) else {
            throw BusError.invalidArgument("an event id must be 1 to 256 bytes without control characters")
        }
    }
}

extension Transport {
    /// Publishes one event.
    ///
    /// - Returns: Its offset (the original's, when the id was a duplicate).
    /// - Throws: As ``publish(_:to:)``.
    public func publish(_ event: OutgoingEvent, to topic: String) async throws -> UInt64 {
        let offsets = try await publish([event], to: topic)
        guard let offset = offsets.first else {
            throw BusError(.storageFailure, "the transport returned no offset")
        }
        return offset
    }
}
