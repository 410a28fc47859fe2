public import EventBus
import Foundation
import NATS
import Synchronization

extension JetStreamTransport {
    public func fetch(group: String, topic: String, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try await awaitConnection()
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        guard limit >= 1 else { throw BusError.invalidArgument("limit must be at least 1") }
        let key = GroupKey(stream: streamName(topic), consumer: Self.escape(group))
        try await ensureConsumer(key, topic: topic)
        let jetStream = self.jetStream
        let fetch = {
            try await jetStream.fetch(stream: key.stream, consumer: key.consumer, batch: limit, expires: wait)
        }
        let messages: [JetStreamMessage]
        do {
            messages = try await fetch()
        } catch let error as JetStreamError where error.code == .consumerNotFound || error.code == .streamNotFound {
            // Deleted behind our back: create it again (or report the topic gone) and fetch once more.
            _ = state.withLock { $0.knownConsumers.remove(key) }
            try await ensureConsumer(key, topic: topic)
            do {
                messages = try await fetch()
            } catch {
                throw Self.map(error)
            }
        } catch {
            throw Self.map(error)
        }
        state.withLock { state in
            var deliveries = state.deliveries[key, default: [:]]
            for message in messages { deliveries[message.streamSequence] = message.ackSubject }
            if deliveries.count > Self.deliveriesKept {
                for sequence in deliveries.keys.sorted().prefix(deliveries.count - Self.deliveriesKept) {
                    deliveries.removeValue(forKey: sequence)
                }
            }
            state.deliveries[key] = deliveries
        }
        return messages.map { message in
            StoredEvent(
                offset: message.streamSequence,
                eventID: message.headers?["Nats-Msg-Id"] ?? "",
                payload: message.payload,
                publishTime: Date(timeIntervalSince1970: Double(message.timestamp) / 1e9)
            )
        }
    }

    public func commit(group: String, topic: String, offset: UInt64) async throws {
        try await awaitConnection()
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        guard offset >= 1 else { throw BusError.invalidArgument("offsets start at 1") }
        let key = GroupKey(stream: streamName(topic), consumer: Self.escape(group))
        let known = state.withLock { state -> (UInt64, String)? in
            state.deliveries[key]?.filter { $0.key <= offset }.max { $0.key < $1.key }
        }
        let ackSubject: String
        let acked: UInt64
        if let known {
            (acked, ackSubject) = known
        } else {
            // Not handed out by this instance: acknowledge the group's last delivery if the offset reaches it.
            guard let info = try await consumerInfo(key, topic: topic) else {
                throw BusError.invalidArgument("group \(group) was never handed offset \(offset) of \(topic)")
            }
            if info.ackFloor.streamSequence >= offset { return }
            guard info.delivered.streamSequence <= offset, info.delivered.streamSequence > info.ackFloor.streamSequence
            else {
                throw BusError.invalidArgument(
                    "group \(group) was not handed offset \(offset) of \(topic) through this transport; commit the "
                        + "last offset of a fetch"
                )
            }
            acked = info.delivered.streamSequence
            ackSubject = JetStream.ackSubject(stream: key.stream, consumer: key.consumer, delivered: info.delivered)
        }
        do {
            try await jetStream.ack(subject: ackSubject, timeout: configuration.requestTimeout)
        } catch {
            throw Self.map(error)
        }
        state.withLock { state in
            state.deliveries[key] = state.deliveries[key]?.filter { $0.key > acked }
        }
    }

    public func committedOffset(group: String, topic: String) async throws -> UInt64? {
        try await awaitConnection()
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        let key = GroupKey(stream: streamName(topic), consumer: Self.escape(group))
        guard let info = try await consumerInfo(key, topic: topic) else { return nil }
        let floor = info.ackFloor.streamSequence
        return floor > 0 ? floor : nil
    }

    /// The consumer's info, `nil` when the group does not exist.
    private func consumerInfo(_ key: GroupKey, topic: String) async throws -> ConsumerInfo? {
        do {
            return try await jetStream.consumerInfo(stream: key.stream, consumer: key.consumer)
        } catch let error as JetStreamError where error.code == .consumerNotFound {
            return nil
        } catch let error as JetStreamError where error.code == .streamNotFound {
            throw BusError.noSuchTopic(topic)
        } catch {
            throw Self.map(error)
        }
    }

    private func ensureConsumer(_ key: GroupKey, topic: String) async throws {
        if state.withLock({ $0.knownConsumers.contains(key) }) { return }
        let config = ConsumerConfig(
            durableName: key.consumer,
            deliverPolicy: .all,
            ackPolicy: .all,
            ackWait: configuration.ackWait
        )
        do {
            try await jetStream.createConsumer(stream: key.stream, config: config)
        } catch let error as JetStreamError where error.code == .streamNotFound {
            throw BusError.noSuchTopic(topic)
        } catch let error as JetStreamError {
            // An existing group created with other settings (say another ack wait) is used as it is.
            guard try await consumerInfo(key, topic: topic) != nil else { throw Self.map(error) }
        } catch {
            throw Self.map(error)
        }
        _ = state.withLock { $0.knownConsumers.insert(key) }
    }
}
