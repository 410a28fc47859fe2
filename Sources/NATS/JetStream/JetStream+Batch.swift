import Synchronization

/// One message of a pipelined batch: its payload and its `Nats-Msg-Id` for de-duplication.
public struct BatchMessage: Sendable, Hashable {
    public var payload: [UInt8]
    public var messageID: String

    /// Creates a batch message.
    public init(payload: [UInt8], messageID: String) {
        self.payload = payload
        self.messageID = messageID
    }
}

extension JetStream {
    /// Publishes `messages` to `subject` pipelined: sends them all, then collects the acknowledgements
    /// (PubAcks) that arrive within `timeout`.
    ///
    /// Nothing is retried: a message whose acknowledgement is absent from the result may or may not be
    /// stored; publish it again with ``publish(subject:payload:headers:messageID:timeout:attemptTimeout:)``
    /// and the same id. When a send fails, the messages after it are not sent.
    ///
    /// - Parameters:
    ///   - messages: The messages, sent in order.
    ///   - subject: The subject a stream listens on.
    ///   - timeout: How long to wait for the acknowledgements; the API timeout when `nil`.
    /// - Returns: For each index that got an answer, the PubAck, or the error it carried (a
    ///   ``JetStreamError``, or ``NATSError/Code/noResponders`` when no stream listens).
    public func publish(
        batch messages: [BatchMessage],
        to subject: String,
        timeout: Duration? = nil
    ) async -> [Int: Result<PubAck, any Error>] {
        let inbox = Connection.inbox(prefix: connection.options.inboxPrefix)
        let connection = self.connection
        let timeout = timeout ?? self.timeout
        do {
            return try await connection.subscribe(to: "\(inbox).*") { replies in
                var sent = 0
                do {
                    for (index, message) in messages.enumerated() {
                        try await connection.publish(
                            subject: subject,
                            payload: message.payload,
                            headers: ["Nats-Msg-Id": message.messageID],
                            replyTo: "\(inbox).\(index)"
                        )
                        sent += 1
                    }
                } catch {
                    // The rest are absent from the result.
                }
                guard sent > 0 else { return [:] }
                let expected = sent
                let collected = Mutex<[Int: Result<PubAck, any Error>]>([:])
                _ = try? await connection.withTimeout(timeout, "acknowledgements of a batch") {
                    for try await reply in replies {
                        guard let token = reply.subject.split(separator: ".").last, let index = Int(token) else {
                            continue
                        }
                        let result: Result<PubAck, any Error>
                        if reply.status == 503 {
                            result = .failure(NATSError(.noResponders, "no stream for \(subject)"))
                        } else {
                            result = Result {
                                try Self.decodeResponse(PubAck.self, from: reply.payload, what: "publish to \(subject)")
                            }
                        }
                        let count = collected.withLock { results in
                            results[index] = result
                            return results.count
                        }
                        if count >= expected { return }
                    }
                }
                return collected.withLock { $0 }
            }
        } catch {
            return [:]
        }
    }

    /// Acknowledges, by its ack subject, a message a durable consumer delivered, and waits for the server
    /// to confirm; with `ack_policy: all` this acknowledges every earlier message too.
    ///
    /// - Throws: ``NATSError`` as for ``JetStreamMessage/ack(timeout:)``.
    public func ack(subject ackSubject: String, timeout: Duration? = nil) async throws {
        let body = Array("+ACK".utf8)
        _ = try await connection.request(subject: ackSubject, payload: body, timeout: timeout ?? self.timeout)
    }

    /// The ack subject of the last message delivered to `consumer` (as its ``ConsumerInfo/delivered`` says).
    public static func ackSubject(stream: String, consumer: String, delivered: SequencePair) -> String {
        "$JS.ACK.\(stream).\(consumer).1.\(delivered.streamSequence).\(delivered.consumerSequence).0.0"
    }
}
