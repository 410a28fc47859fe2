public import EventBus
import Foundation
import NATS

extension JetStreamTransport {
    public func read(topic: String, from offset: UInt64, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try await awaitConnection()
        try TopicConfiguration.validateName(topic, what: "topic name")
        guard limit >= 1 else { throw BusError.invalidArgument("limit must be at least 1") }
        let stream = streamName(topic)
        let subject = subject(topic)
        let start = max(offset, 1)
        let first = try await readAvailable(topic, stream: stream, subject: subject, from: start, limit: limit)
        guard first.isEmpty, wait > .zero else { return first }
        // Long poll: listen on the topic's subject, look again (closing the race with a publish that came
        // in between), then look again whenever something is published, until the wait runs out.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: wait)
        let arrivals = ChangeSignal()
        do {
            return try await connection.subscribe(to: subject) { subscription in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await _ in subscription { arrivals.signal(subject) }
                    }
                    defer { group.cancelAll() }
                    var retryDelay = Duration.milliseconds(5)
                    while true {
                        try Task.checkCancellation()
                        let version = arrivals.version(of: subject)
                        let events = try await readAvailable(
                            topic,
                            stream: stream,
                            subject: subject,
                            from: start,
                            limit: limit
                        )
                        let remaining = clock.now.duration(to: deadline)
                        if !events.isEmpty || remaining <= .zero { return events }
                        if version > 0 {
                            // A message arrived but the stream had not stored it yet when we looked: look
                            // again shortly, as well as on the next arrival.
                            await arrivals.wait(
                                for: subject,
                                after: version,
                                timeout: min(retryDelay, remaining),
                                time: MonotonicTime(clock)
                            )
                            retryDelay = min(retryDelay * 2, .milliseconds(200))
                        } else {
                            await arrivals.wait(
                                for: subject,
                                after: version,
                                timeout: remaining,
                                time: MonotonicTime(clock)
                            )
                        }
                    }
                }
            }
        } catch let error as BusError {
            throw error
        } catch {
            throw Self.map(error)
        }
    }

    /// The events from `offset` on that the stream holds now, up to `limit`.
    private func readAvailable(
        _ topic: String,
        stream: String,
        subject: String,
        from offset: UInt64,
        limit: Int
    ) async throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        var next = offset
        while events.count < limit {
            let message: StoredMessage
            do {
                message = try await jetStream.getMessage(stream: stream, sequence: next, nextBySubject: subject)
            } catch let error as JetStreamError where error.code == Self.noMessageFound || error.status == 404 {
                if error.code == .streamNotFound { throw BusError.noSuchTopic(topic) }
                break
            } catch {
                throw Self.map(error)
            }
            events.append(
                StoredEvent(
                    offset: message.sequence,
                    eventID: message.headers?["Nats-Msg-Id"] ?? "",
                    payload: message.payload,
                    publishTime: message.time ?? Date(timeIntervalSince1970: 0)
                )
            )
            next = message.sequence + 1
        }
        return events
    }

    /// `JSNoMessageFoundErr`.
    private static let noMessageFound = JetStreamError.Code(rawValue: 10037)
}
