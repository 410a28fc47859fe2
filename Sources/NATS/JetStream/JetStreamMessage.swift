import SealedSupport

/// A message fetched from a pull consumer, with its place in the stream and the means to acknowledge it.
public struct JetStreamMessage: Sendable {
    /// The subject it was published to.
    public let subject: String
    /// Its headers, if any.
    public let headers: Headers?
    /// Its payload.
    public let payload: [UInt8]
    /// The stream.
    public let stream: String
    /// The consumer that delivered it.
    public let consumer: String
    /// Its stream sequence (the offset in the topic).
    public let streamSequence: UInt64
    /// The consumer's delivery sequence.
    public let consumerSequence: UInt64
    /// How many times it has been delivered, this time included (1 on first delivery).
    public let deliveryCount: UInt64
    /// How many messages were still pending for the consumer when this one was sent.
    public let pending: UInt64
    /// When it was stored, in nanoseconds since the Unix epoch.
    public let timestamp: Int64
    /// The `$JS.ACK.…` subject acknowledgements go to.
    public let ackSubject: String
    private let connection: Connection

    /// Parses a delivered message; its reply subject must be a `$JS.ACK` subject, either
    /// `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<time>.<pending>` or the form with domain
    /// and account hash (`$JS.ACK.<domain>.<hash>.<stream>.…[.<token>]`).
    init(message: Message, connection: Connection) throws {
        guard let reply = message.replyTo else {
            throw NATSError(.malformedResponse, "a JetStream message without an ack subject")
        }
        let tokens = reply.split(separator: ".", omittingEmptySubsequences: false)
        guard tokens.count >= 9, tokens[0] == "$JS", tokens[1] == "ACK" else {
            throw NATSError(.malformedResponse, "not a JetStream ack subject")
        }
        // v1: 9 tokens; v2: 11 or 12 tokens with domain and account hash after "ACK".
        let base: Int
        switch tokens.count {
        case 9: base = 2
        case 11, 12: base = 4
        default: throw NATSError(.malformedResponse, "unexpected JetStream ack subject with \(tokens.count) tokens")
        }
        guard let delivered = UInt64(tokens[base + 2]), let streamSequence = UInt64(tokens[base + 3]),
            let consumerSequence = UInt64(tokens[base + 4]), let timestamp = Int64(tokens[base + 5]),
            let pending = UInt64(tokens[base + 6])
        else { throw NATSError(.malformedResponse, "non-numeric field in JetStream ack subject") }
        self.subject = message.subject
        self.headers = message.headers
        self.payload = message.payload
        self.stream = String(tokens[base])
        self.consumer = String(tokens[base + 1])
        self.deliveryCount = delivered
        self.streamSequence = streamSequence
        self.consumerSequence = consumerSequence
        self.timestamp = timestamp
        self.pending = pending
        self.ackSubject = reply
        self.connection = connection
    }

    /// Acknowledges the message and waits until the server confirms it (`+ACK` as a request), so an
    /// acknowledged message is never delivered again to this consumer.
    ///
    /// - Throws: ``NATSError`` (``NATSError/Code/timeout``, ``NATSError/Code/connectionLost``,
    ///   ``NATSError/Code/noResponders`` when the consumer is gone). The message is then redelivered
    ///   after `ack_wait` unless a retry succeeds.
    public func ack(timeout: Duration? = nil) async throws {
        try await send("+ACK", timeout: timeout)
    }

    /// Rejects the message for now: it is delivered again, after `delay` when given.
    ///
    /// - Throws: ``NATSError`` as for ``ack(timeout:)``.
    public func nak(delay: Duration? = nil, timeout: Duration? = nil) async throws {
        if let delay {
            try await send(#"-NAK {"delay":\#(delay.nanoseconds)}"#, timeout: timeout)
        } else {
            try await send("-NAK", timeout: timeout)
        }
    }

    /// Rejects the message for good: it is not delivered again.
    ///
    /// - Throws: ``NATSError`` as for ``ack(timeout:)``.
    public func term(timeout: Duration? = nil) async throws {
        try await send("+TERM", timeout: timeout)
    }

    /// Says the message is still being worked on, which restarts its `ack_wait`.
    ///
    /// - Throws: ``NATSError`` as for ``ack(timeout:)``.
    public func inProgress(timeout: Duration? = nil) async throws {
        try await send("+WPI", timeout: timeout)
    }

    private func send(_ body: String, timeout: Duration?) async throws {
        _ = try await connection.request(subject: ackSubject, payload: Array(body.utf8), timeout: timeout)
    }
}
