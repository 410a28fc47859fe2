public import Foundation
import Synchronization

/// A transport that keeps everything in memory, for unit tests of code built on ``Transport``.
///
/// It behaves as the SQLite transport does (whole batches, de-duplication for as long as the topic holds
/// the id, retention on publish and at read time, redelivery after
/// ``EmbeddedTransportConfiguration/redeliveryTimeout``) but forgets everything when released.
public final class InMemoryTransport: Transport {
    private struct Topic {
        var configuration: TopicConfiguration
        var events: [StoredEvent] = []
        var offsetsByID: [String: UInt64] = [:]
        var nextOffset: UInt64 = 1
        var bytes = 0

        mutating func prune(now: Date) {
            var drop = 0
            if let seconds = configuration.retentionSeconds {
                let cutoff = now.addingTimeInterval(-Double(seconds))
                drop = events.prefix(while: { $0.publishTime < cutoff }).count
            }
            if let limit = configuration.retentionBytes {
                var remaining = bytes - events.prefix(drop).reduce(0) { $0 + $1.payload.count }
                while drop < events.count, remaining > limit {
                    remaining -= events[drop].payload.count
                    drop += 1
                }
            }
            guard drop > 0 else { return }
            for event in events.prefix(drop) {
                offsetsByID.removeValue(forKey: event.eventID)
                bytes -= event.payload.count
            }
            events.removeFirst(drop)
        }

        var info: TopicInfo {
            TopicInfo(
                configuration: configuration,
                eventCount: events.count,
                firstOffset: events.first?.offset,
                lastOffset: events.last?.offset,
                bytes: bytes
            )
        }
    }

    private struct State {
        var topics: [String: Topic] = [:]
        var committed: [GroupCursors.Key: UInt64] = [:]
        var cursors = GroupCursors()
    }

    private let state = Mutex(State())
    private let signal = ChangeSignal()
    private let configuration: EmbeddedTransportConfiguration
    private let time: MonotonicTime
    private let now: @Sendable () -> Date

    /// Creates an empty transport.
    ///
    /// - Parameters:
    ///   - configuration: Redelivery timeout and payload limit.
    ///   - clock: The clock for waits and redelivery.
    ///   - now: The wall clock for publish times and age retention.
    public init(
        configuration: EmbeddedTransportConfiguration = EmbeddedTransportConfiguration(),
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.time = MonotonicTime(clock)
        self.now = now
    }

    public func createTopic(_ configuration: TopicConfiguration) async throws -> TopicInfo {
        try configuration.validate()
        return try state.withLock { state in
            guard state.topics[configuration.name] == nil else { throw BusError.topicExists(configuration.name) }
            let topic = Topic(configuration: configuration)
            state.topics[configuration.name] = topic
            return topic.info
        }
    }

    public func deleteTopic(named name: String) async throws {
        try TopicConfiguration.validateName(name, what: "topic name")
        try state.withLock { state in
            guard state.topics.removeValue(forKey: name) != nil else { throw BusError.noSuchTopic(name) }
            state.committed = state.committed.filter { $0.key.topic != name }
            state.cursors.removeTopic(name)
        }
        signal.signal(name)
    }

    public func topics() async throws -> [TopicInfo] {
        let now = now()
        return state.withLock { state in
            state.topics.keys.sorted().compactMap { name in
                state.topics[name]?.prune(now: now)
                return state.topics[name]?.info
            }
        }
    }

    public func topic(named name: String) async throws -> TopicInfo? {
        try TopicConfiguration.validateName(name, what: "topic name")
        let now = now()
        return state.withLock { state in
            state.topics[name]?.prune(now: now)
            return state.topics[name]?.info
        }
    }

    public func publish(_ events: [OutgoingEvent], to topic: String) async throws -> [UInt64] {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try configuration.validate(events)
        let now = now()
        let offsets = try state.withLock { state -> [UInt64] in
            guard var stored = state.topics[topic] else { throw BusError.noSuchTopic(topic) }
            stored.prune(now: now)
            var offsets: [UInt64] = []
            for event in events {
                if let existing = stored.offsetsByID[event.eventID] {
                    offsets.append(existing)
                    continue
                }
                let offset = stored.nextOffset
                stored.nextOffset += 1
                stored.events.append(
                    StoredEvent(offset: offset, eventID: event.eventID, payload: event.payload, publishTime: now)
                )
                stored.offsetsByID[event.eventID] = offset
                stored.bytes += event.payload.count
                offsets.append(offset)
            }
            stored.prune(now: now)
            state.topics[topic] = stored
            return offsets
        }
        signal.signal(topic)
        return offsets
    }

    public func read(topic: String, from offset: UInt64, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try validateLimit(limit)
        return try await signal.poll(topic, wait: wait, time: time) {
            let now = now()
            return .found(
                try state.withLock { state -> [StoredEvent] in
                    guard state.topics[topic] != nil else { throw BusError.noSuchTopic(topic) }
                    state.topics[topic]?.prune(now: now)
                    return Array(state.topics[topic]!.events.lazy.filter { $0.offset >= offset }.prefix(limit))
                }
            )
        }
    }

    public func fetch(group: String, topic: String, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        try validateLimit(limit)
        let key = GroupCursors.Key(topic: topic, group: group)
        return try await signal.poll(topic, wait: wait, time: time) {
            let now = now()
            let elapsed = time.elapsed()
            let (events, due) = try state.withLock { state -> ([StoredEvent], Duration?) in
                guard state.topics[topic] != nil else { throw BusError.noSuchTopic(topic) }
                state.topics[topic]?.prune(now: now)
                let committed = state.committed[key] ?? 0
                let start = state.cursors.nextOffset(for: key, committed: committed, now: elapsed)
                let events = Array(state.topics[topic]!.events.lazy.filter { $0.offset >= start }.prefix(limit))
                if let last = events.last {
                    state.cursors.handOut(
                        key,
                        through: last.offset,
                        deadline: elapsed + configuration.redeliveryTimeout
                    )
                }
                return (events, state.cursors.deadline(for: key, committed: committed))
            }
            return .found(events, due: due)
        }
    }

    public func commit(group: String, topic: String, offset: UInt64) async throws {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        try state.withLock { state in
            guard let stored = state.topics[topic] else { throw BusError.noSuchTopic(topic) }
            guard offset >= 1 else { throw BusError.invalidArgument("offsets start at 1") }
            guard offset < stored.nextOffset else {
                throw BusError.invalidArgument("offset \(offset) is beyond the end of topic \(topic)")
            }
            let key = GroupCursors.Key(topic: topic, group: group)
            state.committed[key] = max(state.committed[key] ?? 0, offset)
        }
    }

    public func committedOffset(group: String, topic: String) async throws -> UInt64? {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        return try state.withLock { state in
            guard state.topics[topic] != nil else { throw BusError.noSuchTopic(topic) }
            return state.committed[GroupCursors.Key(topic: topic, group: group)]
        }
    }
}
