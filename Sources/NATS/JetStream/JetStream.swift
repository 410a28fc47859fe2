import Foundation
import SealedSupport
import Synchronization

/// JetStream over a ``Connection``: streams, publish with acknowledgement and de-duplication, durable
/// pull consumers.
///
/// Every call is a request to the `$JS.API` subjects; API failures throw ``JetStreamError`` with the
/// server's error code and description.
public struct JetStream: Sendable {
    /// The connection the API calls go over.
    public let connection: Connection
    /// The API subject prefix (`$JS.API`, or a domain's prefix).
    public let apiPrefix: String
    /// The timeout of each API call.
    public let timeout: Duration

    /// Creates a JetStream context.
    ///
    /// - Parameters:
    ///   - connection: The connection to use.
    ///   - apiPrefix: The API subject prefix.
    ///   - timeout: The timeout of each API call (and the default total time of a publish).
    public init(connection: Connection, apiPrefix: String = "$JS.API", timeout: Duration = .seconds(5)) {
        self.connection = connection
        self.apiPrefix = apiPrefix
        self.timeout = timeout
    }

    // MARK: - Streams

    /// Creates a stream. Creating an identical stream again succeeds.
    ///
    /// - Throws: ``JetStreamError`` (for example ``JetStreamError/Code/streamNameInUse`` for a different
    ///   configuration under the same name), ``NATSError``.
    @discardableResult
    public func createStream(_ config: StreamConfig) async throws -> StreamInfo {
        try Self.validateName(config.name, what: "stream name")
        return try await call("STREAM.CREATE.\(config.name)", body: try encode(config))
    }

    /// Changes a stream's configuration.
    ///
    /// - Throws: ``JetStreamError`` (for example ``JetStreamError/Code/streamNotFound``), ``NATSError``.
    @discardableResult
    public func updateStream(_ config: StreamConfig) async throws -> StreamInfo {
        try Self.validateName(config.name, what: "stream name")
        return try await call("STREAM.UPDATE.\(config.name)", body: try encode(config))
    }

    /// A stream's configuration and state.
    ///
    /// - Throws: ``JetStreamError`` (``JetStreamError/Code/streamNotFound``), ``NATSError``.
    public func streamInfo(_ name: String) async throws -> StreamInfo {
        try Self.validateName(name, what: "stream name")
        return try await call("STREAM.INFO.\(name)", body: [])
    }

    /// Deletes a stream and its messages and consumers.
    ///
    /// - Throws: ``JetStreamError`` (``JetStreamError/Code/streamNotFound``), ``NATSError``.
    public func deleteStream(_ name: String) async throws {
        try Self.validateName(name, what: "stream name")
        let _: SuccessResponse = try await call("STREAM.DELETE.\(name)", body: [])
    }

    /// Reads the message at `sequence` directly from a stream; with `nextBySubject`, the first message on
    /// that subject at or after `sequence`.
    ///
    /// - Throws: ``JetStreamError`` (no message at that sequence: code 10037), ``NATSError``.
    public func getMessage(
        stream: String,
        sequence: UInt64,
        nextBySubject subject: String? = nil
    ) async throws -> StoredMessage {
        try Self.validateName(stream, what: "stream name")
        if let subject { try ProtocolEncoder.validateSubject(subject) }
        let request = MessageGetRequest(seq: sequence, nextBySubject: subject)
        let response: MessageGetResponse = try await call("STREAM.MSG.GET.\(stream)", body: try encode(request))
        let raw = response.message
        guard let payload = try? Base64.decode(raw.data ?? "") else {
            throw NATSError(.malformedResponse, "stored message data is not base64")
        }
        var headers: Headers?
        if let encoded = raw.hdrs, !encoded.isEmpty {
            guard let block = try? Base64.decode(encoded) else {
                throw NATSError(.malformedResponse, "stored message headers are not base64")
            }
            headers = try Headers.parse(block[...])
        }
        return StoredMessage(
            subject: raw.subject,
            sequence: raw.seq,
            headers: headers,
            payload: payload,
            time: raw.time.flatMap(ISO8601.parse)
        )
    }

    /// The streams, all pages of them; only those listening on `subject` (wildcards match) when given.
    ///
    /// - Throws: ``JetStreamError``, or ``NATSError`` as for any request.
    public func streams(subject: String? = nil) async throws -> [StreamInfo] {
        if let subject { try ProtocolEncoder.validateSubject(subject) }
        var streams: [StreamInfo] = []
        while true {
            let request = StreamListRequest(offset: streams.count, subject: subject)
            let page: StreamListResponse = try await call("STREAM.LIST", body: try encode(request))
            let found = page.streams ?? []
            streams += found
            if found.isEmpty || streams.count >= page.total { return streams }
        }
    }

    // MARK: - Publish

    /// Publishes to a stream and waits for its acknowledgement.
    ///
    /// With a `messageID` (sent as `Nats-Msg-Id`), the stream stores the message once per duplicate
    /// window however often it is sent, so this retries after a lost connection or a lost reply until
    /// `timeout` runs out. Without one, it retries only when the message certainly was not stored (not
    /// connected, no responders during a leader election) and otherwise reports the failure.
    ///
    /// - Parameters:
    ///   - subject: A subject some stream stores.
    ///   - payload: The payload.
    ///   - headers: Headers to store with it.
    ///   - messageID: The de-duplication id.
    ///   - timeout: The total time for all attempts; twice the context's timeout when `nil`.
    ///   - attemptTimeout: How long one attempt waits for its acknowledgement.
    /// - Returns: The stream, the sequence, and whether it was a duplicate.
    /// - Throws: ``JetStreamError`` when the stream refused the message; ``NATSError`` with
    ///   ``NATSError/Code/noResponders`` (no stream for the subject), ``NATSError/Code/timeout``,
    ///   ``NATSError/Code/connectionLost``, ``NATSError/Code/notConnected`` when the time ran out.
    ///   A message whose publish threw may still have been stored; retry with the same `messageID`.
    public func publish(
        subject: String,
        payload: [UInt8],
        headers: Headers? = nil,
        messageID: String? = nil,
        timeout: Duration? = nil,
        attemptTimeout: Duration = .seconds(2)
    ) async throws -> PubAck {
        var headers = headers ?? Headers()
        if let messageID { headers["Nats-Msg-Id"] = messageID }
        let sendHeaders = headers.isEmpty ? nil : headers
        let idempotent = messageID != nil
        return try await retrying(
            for: timeout ?? timeout2x,
            clock: connection.clock,
            shouldRetry: { error in
                guard let error = error as? NATSError else { return false }
                switch error.code {
                case .notConnected, .noResponders: return true
                case .connectionLost, .timeout: return idempotent
                default: return false
                }
            },
            { remaining in
                let reply = try await connection.request(
                    subject: subject,
                    payload: payload,
                    headers: sendHeaders,
                    timeout: min(remaining, attemptTimeout)
                )
                return try Self.decodeResponse(PubAck.self, from: reply.payload, what: "publish to \(subject)")
            }
        )
    }

    private var timeout2x: Duration { timeout * 2 }

    // MARK: - Consumers

    /// Creates (or, with the same configuration, finds) a durable pull consumer on a stream.
    ///
    /// - Throws: ``JetStreamError`` (for example ``JetStreamError/Code/streamNotFound``), ``NATSError``.
    @discardableResult
    public func createConsumer(stream: String, config: ConsumerConfig) async throws -> ConsumerInfo {
        try Self.validateName(stream, what: "stream name")
        try Self.validateName(config.durableName, what: "durable name")
        let request = CreateConsumerRequest(streamName: stream, config: config)
        return try await call("CONSUMER.DURABLE.CREATE.\(stream).\(config.durableName)", body: try encode(request))
    }

    /// A consumer's configuration and progress.
    ///
    /// - Throws: ``JetStreamError`` (``JetStreamError/Code/consumerNotFound``), ``NATSError``.
    public func consumerInfo(stream: String, consumer: String) async throws -> ConsumerInfo {
        try Self.validateName(stream, what: "stream name")
        try Self.validateName(consumer, what: "consumer name")
        return try await call("CONSUMER.INFO.\(stream).\(consumer)", body: [])
    }

    /// Deletes a consumer.
    ///
    /// - Throws: ``JetStreamError`` (``JetStreamError/Code/consumerNotFound``), ``NATSError``.
    public func deleteConsumer(stream: String, consumer: String) async throws {
        try Self.validateName(stream, what: "stream name")
        try Self.validateName(consumer, what: "consumer name")
        let _: SuccessResponse = try await call("CONSUMER.DELETE.\(stream).\(consumer)", body: [])
    }

    /// Fetches up to `batch` messages from a pull consumer.
    ///
    /// Waits up to `expires` for the first message, then returns as soon as the batch is full or no
    /// further message is available right away (the pull request is sent with `no_wait` and `expires`).
    /// With `expires` zero it does not wait at all. Messages come back in delivery order; acknowledge each
    /// with ``JetStreamMessage/ack()``, or it is delivered again after the consumer's `ack_wait`.
    ///
    /// - Parameters:
    ///   - stream: The stream.
    ///   - consumer: The durable consumer.
    ///   - batch: The most messages to return (at least 1).
    ///   - expires: How long to wait for the first message.
    /// - Returns: The messages, possibly none.
    /// - Throws: ``JetStreamError`` with ``JetStreamError/Code/consumerNotFound`` or
    ///   ``JetStreamError/Code/streamNotFound`` when the consumer does not exist, ``JetStreamError`` when the server refused the pull request (status 400 or 409, with
    ///   ``JetStreamError/status`` set), ``NATSError/Code/connectionLost`` when the connection dropped
    ///   before any message arrived.
    public func fetch(
        stream: String,
        consumer: String,
        batch: Int,
        expires: Duration = .seconds(1)
    ) async throws -> [JetStreamMessage] {
        try Self.validateName(stream, what: "stream name")
        try Self.validateName(consumer, what: "consumer name")
        guard batch >= 1 else { throw NATSError.invalidArgument("batch must be at least 1") }
        let expiresNanoseconds = max(0, expires.nanoseconds)
        let request =
            expiresNanoseconds > 0
            ? #"{"batch":\#(batch),"expires":\#(expiresNanoseconds),"no_wait":true}"#
            : #"{"batch":\#(batch),"no_wait":true}"#
        // Pulled messages keep their own subject, so they cannot be told apart on the muxed reply
        // subscription: each fetch has its own inbox.
        let inbox = Connection.inbox(prefix: connection.options.inboxPrefix)
        let connection = self.connection
        let margin = min(timeout, .seconds(2))
        let nextSubject = "\(apiPrefix).CONSUMER.MSG.NEXT.\(stream).\(consumer)"
        return try await connection.subscribe(to: inbox) { replies in
            try await connection.publish(subject: nextSubject, payload: Array(request.utf8), replyTo: inbox)
            let collected = Mutex<[JetStreamMessage]>([])
            do {
                // The server ends the request itself (404/408) at `expires`; the margin only guards against
                // a lost status message or a dropped connection.
                try await connection.withTimeout(expires + margin, "fetch from \(stream).\(consumer)") {
                    for try await reply in replies {
                        if let status = reply.status {
                            switch status {
                            case 100: continue  // idle heartbeat
                            case 404, 408: return  // no (more) messages / request expired
                            case 503: throw NATSError(.noResponders, "no consumer \(consumer) on stream \(stream)")
                            default:
                                throw JetStreamError(
                                    code: JetStreamError.Code(rawValue: 0),
                                    status: status,
                                    description: reply.headers?.statusDescription ?? "pull request failed"
                                )
                            }
                        }
                        let message = try JetStreamMessage(message: reply, connection: connection)
                        let count = collected.withLock { messages in
                            messages.append(message)
                            return messages.count
                        }
                        if count >= batch { return }
                    }
                }
            } catch {
                let partial = collected.withLock { $0 }
                if !partial.isEmpty { return partial }
                guard let error = error as? NATSError, error.code == .timeout else { throw error }
                // Not even a status came back. The API does not answer pull requests for a consumer that
                // does not exist, so ask whether it does (this throws `consumerNotFound` if not).
                _ = try await consumerInfo(stream: stream, consumer: consumer)
                return []
            }
            return collected.withLock { $0 }
        }
    }

    // MARK: - Internals

    private func call<Response: Decodable>(_ api: String, body: [UInt8]) async throws -> Response {
        let subject = "\(apiPrefix).\(api)"
        let reply: Message
        do {
            reply = try await connection.request(subject: subject, payload: body, timeout: timeout)
        } catch let error as NATSError where error.code == .noResponders {
            throw NATSError(.noResponders, "no JetStream responder on \(subject) (is JetStream enabled?)")
        }
        return try Self.decodeResponse(Response.self, from: reply.payload, what: subject)
    }

    /// Reads a JetStream API reply: an `error` member is a ``JetStreamError``, a reply that is not `Response` a
    /// `malformedResponse` ``NATSError``.
    package static func decodeResponse<Response: Decodable>(
        _ type: Response.Type,
        from payload: [UInt8],
        what: String
    ) throws -> Response {
        let decoder = JSONDecoder()
        let data = Data(payload)
        if let probe = try? decoder.decode(ErrorProbe.self, from: data), let error = probe.error {
            throw JetStreamError(
                code: JetStreamError.Code(rawValue: error.errCode ?? 0),
                status: error.code,
                description: error.description ?? "unknown error"
            )
        }
        do {
            return try decoder.decode(Response.self, from: data)
        } catch {
            throw NATSError(.malformedResponse, "cannot decode the reply to \(what): \(error)")
        }
    }

    private func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// Stream and consumer names become subject tokens: no `.`, `*`, `>`, whitespace or control bytes.
    static func validateName(_ name: String, what: String) throws {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty,
            bytes.allSatisfy({
                $0 > 32 && $0 != 127 && $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: ">")
            })
        else { throw NATSError.invalidArgument("invalid \(what)") }
    }

    /// Runs `attempt` until it succeeds, `shouldRetry` says no, or `total` is used up; between attempts it
    /// waits a doubling, jittered delay (50 ms to 1 s).
    private func retrying<C: Clock<Duration>, T>(
        for total: Duration,
        clock: C,
        shouldRetry: (any Error) -> Bool,
        _ attempt: (Duration) async throws -> T
    ) async throws -> T {
        let deadline = clock.now.advanced(by: total)
        var delay = Duration.milliseconds(50)
        while true {
            let remaining = clock.now.duration(to: deadline)
            do {
                return try await attempt(max(remaining, .milliseconds(1)))
            } catch {
                let left = clock.now.duration(to: deadline)
                guard shouldRetry(error), left > .zero, !Task.isCancelled else { throw error }
                try await clock.sleep(for: min(delay * Double.random(in: 0.5...1.0), left))
                delay = min(delay * 2, .seconds(1))
                if clock.now.duration(to: deadline) <= .zero { throw error }
            }
        }
    }
}

private struct ErrorProbe: Decodable {
    struct APIError: Decodable {
        var code: Int
        var errCode: Int?
        var description: String?

        enum CodingKeys: String, CodingKey {
            case code, description
            case errCode = "err_code"
        }
    }

    var error: APIError?
}

private struct SuccessResponse: Decodable {
    var success: Bool?
}

private struct CreateConsumerRequest: Encodable {
    var streamName: String
    var config: ConsumerConfig

    enum CodingKeys: String, CodingKey {
        case streamName = "stream_name"
        case config
    }
}

private struct MessageGetResponse: Decodable {
    struct Raw: Decodable {
        var subject: String
        var seq: UInt64
        var hdrs: String?
        var data: String?
        var time: String?
    }

    var message: Raw
}

private struct MessageGetRequest: Encodable {
    var seq: UInt64
    var nextBySubject: String?

    enum CodingKeys: String, CodingKey {
        case seq
        case nextBySubject = "next_by_subj"
    }
}

private struct StreamListRequest: Encodable {
    var offset: Int
    var subject: String?
}

private struct StreamListResponse: Decodable {
    var total: Int
    var streams: [StreamInfo]?
}
