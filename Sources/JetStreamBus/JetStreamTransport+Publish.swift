public import EventBus
import NATS
import Synchronization

extension JetStreamTransport {
    public func publish(_ events: [OutgoingEvent], to topic: String) async throws -> [UInt64] {
        try await awaitConnection()
        try TopicConfiguration.validateName(topic, what: "topic name")
        let limit = maxEventBytes()
        for (index, event) in events.enumerated() {
            try event.validate()
            if event.payload.count > limit {
                throw BusError(
                    .payloadTooLarge,
                    "event \(index) of the batch has \(event.payload.count) bytes; the limit is \(limit)"
                )
            }
        }
        guard !events.isEmpty else {
            _ = try await requireStream(topic)
            return []
        }
        let stream = try await requireStream(topic)
        let subject = subject(topic)
        let batch = events.map { BatchMessage(payload: $0.payload, messageID: $0.eventID) }
        var results = await jetStream.publish(batch: batch, to: subject, timeout: configuration.requestTimeout)
        for (index, event) in events.enumerated() {
            if case .success = results[index] { continue }
            if case .failure(let error as JetStreamError) = results[index] {
                throw Self.map(error)
            }
            do {
                let ack = try await jetStream.publish(
                    subject: subject,
                    payload: event.payload,
                    messageID: event.eventID,
                    timeout: configuration.publishTimeout,
                    attemptTimeout: min(configuration.requestTimeout, .seconds(2))
                )
                results[index] = .success(ack)
            } catch let error as NATSError where error.code == .noResponders {
                // No stream listens: was the topic deleted?
                if try await streamInfo(stream) == nil {
                    _ = state.withLock { $0.knownStreams.remove(stream) }
                    throw BusError.noSuchTopic(topic)
                }
                throw Self.map(error)
            } catch {
                throw Self.map(error)
            }
        }
        return try events.indices.map { index in
            guard case .success(let ack) = results[index] else {
                throw BusError(.unavailable, "no acknowledgement for event \(index)")
            }
            return ack.sequence
        }
    }
}
