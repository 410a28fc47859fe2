public import EventBus
import Foundation
public import Logging
public import NATS
public import ServiceLifecycle
import Synchronization

/// The event bus on NATS JetStream: a topic is a stream, a consumer group a durable pull consumer, an offset
/// a stream sequence.
///
/// **Mapping.** Topic `orders.v1` is stream `SEALED-orders_dv1` (the name escaped: `_` becomes `__`,
/// `.` becomes `_d`, since stream names cannot hold dots) on the one subject `sealed.topics.orders.v1`,
/// file storage, ``Configuration/replicas`` copies, `max_age`/`max_bytes` from the retention, oldest
/// discarded first. Group `billing` is the durable pull consumer `billing` with `ack_policy: all`, so
/// committing offset N acknowledges everything up to N, and `ack_wait` ``Configuration/ackWait``.
///
/// **Publishing** sends each event with `Nats-Msg-Id` = its event id and waits for the stream's
/// acknowledgement (PubAck). A batch is pipelined: all events go out before the acknowledgements are
/// collected; events whose acknowledgement did not come are sent again one by one, with the same id, until
/// ``Configuration/publishTimeout``. So a batch is stored event by event, not atomically, and under a fault
/// a retried event may land after later events of its batch. De-duplication holds within the stream's
/// duplicate window (``Configuration/duplicateWindow``, at most the topic's age retention).
///
/// **Reading** from an offset uses the stream's message-get API (`next_by_subj`), one request per event; a
/// long poll subscribes to the topic's subject and reads again whenever a message arrives.
///
/// **Committing** acknowledges a message the group was handed through this transport instance (or, when
/// this instance does not know it, the group's last delivered message if the offset reaches it).
///
/// A `JetStreamTransport` is a `Service`: ``run()`` runs its NATS connection (connect, reconnect) until a
/// graceful shutdown; ``withRunning(_:)`` scopes it to a closure.
public final class JetStreamTransport: Transport, Service {
    /// How the transport lays out topics and talks to JetStream.
    public struct Configuration: Sendable {
        /// How many servers keep a copy of each topic (1, 3 or 5; more than 1 needs a cluster).
        public var replicas: Int
        /// How long an event handed to a consumer group waits for a commit before it is delivered again.
        public var ackWait: Duration
        /// How long event ids are remembered for de-duplication (capped at a topic's age retention).
        public var duplicateWindow: Duration
        /// The total time one event's publish may take, retries included.
        public var publishTimeout: Duration
        /// How long one JetStream API call (and one pipelined batch's acknowledgements) may take.
        public var requestTimeout: Duration
        /// The largest payload accepted, in bytes; the server's `max_payload` (less the header) caps it.
        public var maxEventBytes: Int
        /// The subject prefix of topics: topic `t` is subject `<prefix>.t`.
        public var subjectPrefix: String
        /// The prefix of stream names.
        public var streamPrefix: String
        /// The NATS connection's options (credentials, reconnect policy, timeouts).
        public var connection: ConnectionOptions

        /// Creates a configuration.
        public init(
            replicas: Int = 1,
            ackWait: Duration = .seconds(30),
            duplicateWindow: Duration = .seconds(120),
            publishTimeout: Duration = .seconds(10),
            requestTimeout: Duration = .seconds(5),
            maxEventBytes: Int = 1 << 20,
            subjectPrefix: String = "sealed.topics",
            streamPrefix: String = "SEALED-",
            connection: ConnectionOptions = ConnectionOptions()
        ) {
            self.replicas = replicas
            self.ackWait = ackWait
            self.duplicateWindow = duplicateWindow
            self.publishTimeout = publishTimeout
            self.requestTimeout = requestTimeout
            self.maxEventBytes = maxEventBytes
            self.subjectPrefix = subjectPrefix
            self.streamPrefix = streamPrefix
            self.connection = connection
        }
    }

    private struct GroupKey: Hashable {
        var stream: String
        var consumer: String
    }

    private struct State {
        var knownStreams: Set<String> = []
        var knownConsumers: Set<GroupKey> = []
        /// The ack subject of the latest delivery of each stream sequence handed to a group.
        var deliveries: [GroupKey: [UInt64: String]] = [:]
    }

    /// The NATS connection (run by ``run()``).
    public let connection: Connection
    private let jetStream: JetStream
    private let configuration: Configuration
    private let logger: Logger
    private let state = Mutex(State())
    private static let deliveriesKept = 10_000

    /// Creates a transport for a server list; nothing connects until ``run()``.
    ///
    /// - Parameters:
    ///   - servers: Comma-separated NATS URLs (`nats://h1:4222,nats://h2:4222`).
    ///   - configuration: Replicas, timeouts, names.
    ///   - logger: Where connection events and retries go (never payloads or credentials).
    /// - Throws: ``BusError/Code/invalidArgument`` for a bad URL list or prefix.
    public init(servers: String, configuration: Configuration = Configuration(), logger: Logger) throws {
        guard !configuration.subjectPrefix.isEmpty, !configuration.streamPrefix.contains(".") else {
            throw BusError.invalidArgument("invalid subject or stream prefix")
        }
        do {
            connection = try Connection(urls: servers, options: configuration.connection, logger: logger)
        } catch {
            throw BusError.invalidArgument("invalid NATS server list: \(error)")
        }
        jetStream = JetStream(connection: connection, timeout: configuration.requestTimeout)
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs the NATS connection until ``close()`` or a graceful shutdown.
    ///
    /// - Throws: The connection's error when no server accepts it.
    public func run() async throws {
        try await connection.run()
    }

    /// Runs the connection around `body`: waits until connected, runs `body`, closes.
    ///
    /// - Throws: ``BusError/Code/unavailable`` when no server accepts the connection, or what `body` throws.
    public func withRunning<Result>(_ body: (JetStreamTransport) async throws -> Result) async throws -> Result {
        do {
            return try await connection.withRunning { _ in try await body(self) }
        } catch let error as NATSError {
            throw Self.map(error)
        }
    }

    /// Closes the connection.
    public func close() async {
        await connection.close()
    }

    /// Waits (up to the request timeout) while the connection is being made or remade, so a request that arrives
    /// during start-up or a reconnect is served instead of failing at once.
    private func awaitConnection() async throws {
        if connection.isConnected { return }
        let connection = self.connection
        guard try await withDeadline(configuration.requestTimeout, { try await connection.waitUntilConnected() }) != nil
        else {
            throw BusError(.unavailable, "NATS: not connected within \(configuration.requestTimeout)")
        }
    }

    // MARK: - Topics

    public func createTopic(_ topic: TopicConfiguration) async throws -> TopicInfo {
        try await awaitConnection()
        try topic.validate()
        let stream = streamName(topic.name)
        if try await streamInfo(stream) != nil { throw BusError.topicExists(topic.name) }
        var duplicateWindow = configuration.duplicateWindow
        if let seconds = topic.retentionSeconds { duplicateWindow = min(duplicateWindow, .seconds(seconds)) }
        let config = StreamConfig(
            name: stream,
            subjects: [subject(topic.name)],
            maxBytes: Int64(topic.retentionBytes ?? -1),
            maxAge: .seconds(topic.retentionSeconds ?? 0),
            storage: .file,
            replicas: configuration.replicas,
            duplicateWindow: duplicateWindow,
            discard: .old
        )
        let info: StreamInfo
        do {
            info = try await jetStream.createStream(config)
        } catch let error as JetStreamError where error.code == .streamNameInUse || error.code == .subjectsOverlap {
            throw BusError.topicExists(topic.name)
        } catch let error as JetStreamError where error.code == .storageResourcesExceeded {
            throw BusError.invalidArgument(
                "retentionBytes is more than the JetStream servers can store (\(error.errorDescription))"
            )
        } catch {
            throw Self.map(error)
        }
        _ = state.withLock { $0.knownStreams.insert(stream) }
        return topicInfo(info, name: topic.name)
    }

    public func deleteTopic(named name: String) async throws {
        try await awaitConnection()
        try TopicConfiguration.validateName(name, what: "topic name")
        let stream = streamName(name)
        do {
            try await jetStream.deleteStream(stream)
        } catch let error as JetStreamError where error.code == .streamNotFound {
            throw BusError.noSuchTopic(name)
        } catch {
            throw Self.map(error)
        }
        state.withLock { state in
            state.knownStreams.remove(stream)
            state.knownConsumers = state.knownConsumers.filter { $0.stream != stream }
            state.deliveries = state.deliveries.filter { $0.key.stream != stream }
        }
    }

    public func topics() async throws -> [TopicInfo] {
        try await awaitConnection()
        var result: [TopicInfo] = []
        var offset = 0
        let prefix = configuration.subjectPrefix + "."
        while true {
            let request = #"{"offset":\#(offset),"subject":"\#(configuration.subjectPrefix).>"}"#
            let page: StreamListResponse = try await api("STREAM.LIST", body: Array(request.utf8))
            let streams = page.streams ?? []
            for info in streams {
                guard info.config.subjects.count == 1, let subject = info.config.subjects.first,
                    subject.hasPrefix(prefix)
                else { continue }
                let name = String(subject.dropFirst(prefix.count))
                guard (try? TopicConfiguration.validateName(name)) != nil, streamName(name) == info.config.name else {
                    continue
                }
                result.append(topicInfo(info, name: name))
            }
            offset += streams.count
            if streams.isEmpty || offset >= page.total { break }
        }
        return result.sorted { $0.configuration.name < $1.configuration.name }
    }

    public func topic(named name: String) async throws -> TopicInfo? {
        try await awaitConnection()
        try TopicConfiguration.validateName(name, what: "topic name")
        return try await streamInfo(streamName(name)).map { topicInfo($0, name: name) }
    }

    // MARK: - Publish

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
        var results = await pipelined(events, subject: subject)
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

    /// Sends every event before waiting, then collects the acknowledgements that come within the request
    /// timeout. Missing ones are absent from the result.
    private func pipelined(_ events: [OutgoingEvent], subject: String) async -> [Int: Result<PubAck, any Error>] {
        let inbox = "\(configuration.connection.inboxPrefix).\(Self.token())"
        let connection = self.connection
        let timeout = configuration.requestTimeout
        do {
            return try await connection.subscribe(to: "\(inbox).*") { replies in
                var sent = 0
                do {
                    for (index, event) in events.enumerated() {
                        try await connection.publish(
                            subject: subject,
                            payload: event.payload,
                            headers: ["Nats-Msg-Id": event.eventID],
                            replyTo: "\(inbox).\(index)"
                        )
                        sent += 1
                    }
                } catch {
                    // The rest go one by one, with retries.
                }
                guard sent > 0 else { return [:] }
                let expected = sent
                let collected = Mutex<[Int: Result<PubAck, any Error>]>([:])
                _ = try? await withDeadline(timeout) {
                    for try await reply in replies {
                        guard let token = reply.subject.split(separator: ".").last, let index = Int(token) else {
                            continue
                        }
                        let result: Result<PubAck, any Error>
                        if reply.status == 503 {
                            result = .failure(NATSError(.noResponders, "no stream for \(subject)"))
                        } else {
                            result = Result { try Self.decode(PubAck.self, from: reply.payload) }
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

    // MARK: - Read

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
            let request = #"{"seq":\#(next),"next_by_subj":"\#(subject)"}"#
            let response: MessageGetResponse
            do {
                response = try await api("STREAM.MSG.GET.\(stream)", body: Array(request.utf8))
            } catch let error as JetStreamError where error.code == Self.noMessageFound || error.status == 404 {
                if error.code == .streamNotFound { throw BusError.noSuchTopic(topic) }
                break
            }
            let event = try response.message.event()
            events.append(event)
            next = event.offset + 1
        }
        return events
    }

    // MARK: - Consumer groups

    public func fetch(group: String, topic: String, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try await awaitConnection()
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        guard limit >= 1 else { throw BusError.invalidArgument("limit must be at least 1") }
        let key = GroupKey(stream: streamName(topic), consumer: Self.escape(group))
        try await ensureConsumer(key, topic: topic)
        let messages: [JetStreamMessage]
        do {
            messages = try await jetStream.fetch(
                stream: key.stream,
                consumer: key.consumer,
                batch: limit,
                expires: wait
            )
        } catch let error as JetStreamError where error.code == .consumerNotFound || error.code == .streamNotFound {
            // Deleted behind our back: create it again (or report the topic gone) and fetch once more.
            _ = state.withLock { $0.knownConsumers.remove(key) }
            try await ensureConsumer(key, topic: topic)
            do {
                messages = try await jetStream.fetch(
                    stream: key.stream,
                    consumer: key.consumer,
                    batch: limit,
                    expires: wait
                )
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
            ackSubject =
                "$JS.ACK.\(key.stream).\(key.consumer).1.\(acked).\(info.delivered.consumerSequence).0.0"
        }
        do {
            _ = try await connection.request(
                subject: ackSubject,
                payload: Array("+ACK".utf8),
                timeout: configuration.requestTimeout
            )
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

    // MARK: - Helpers

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

    /// The topic's stream name, checking once that it exists.
    private func requireStream(_ topic: String) async throws -> String {
        let stream = streamName(topic)
        if state.withLock({ $0.knownStreams.contains(stream) }) { return stream }
        guard try await streamInfo(stream) != nil else { throw BusError.noSuchTopic(topic) }
        _ = state.withLock { $0.knownStreams.insert(stream) }
        return stream
    }

    private func streamInfo(_ stream: String) async throws -> StreamInfo? {
        do {
            return try await jetStream.streamInfo(stream)
        } catch let error as JetStreamError where error.code == .streamNotFound {
            return nil
        } catch {
            throw Self.map(error)
        }
    }

    private func topicInfo(_ info: StreamInfo, name: String) -> TopicInfo {
        let maxAge = info.config.maxAge.components.seconds
        let empty = info.state.messages == 0
        return TopicInfo(
            configuration: TopicConfiguration(
                name: name,
                retentionSeconds: maxAge > 0 ? Int(maxAge) : nil,
                retentionBytes: info.config.maxBytes > 0 ? Int(info.config.maxBytes) : nil
            ),
            eventCount: Int(info.state.messages),
            firstOffset: empty ? nil : info.state.firstSequence,
            lastOffset: empty ? nil : info.state.lastSequence,
            bytes: Int(info.state.bytes)
        )
    }

    private func maxEventBytes() -> Int {
        // The server counts the header block (`NATS/1.0`, `Nats-Msg-Id: <id>`) against max_payload too.
        guard let serverLimit = connection.serverInfo?.maxPayload, serverLimit > 0 else {
            return configuration.maxEventBytes
        }
        return min(configuration.maxEventBytes, serverLimit - 300)
    }

    private func subject(_ topic: String) -> String { "\(configuration.subjectPrefix).\(topic)" }

    private func streamName(_ topic: String) -> String { configuration.streamPrefix + Self.escape(topic) }

    /// Makes a topic or group name a valid stream or consumer name, one to one: `_` → `__`, `.` → `_d`.
    static func escape(_ name: String) -> String {
        var escaped = ""
        for character in name {
            switch character {
            case "_": escaped += "__"
            case ".": escaped += "_d"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// `JSNoMessageFoundErr`.
    private static let noMessageFound = JetStreamError.Code(rawValue: 10037)

    private func api<Response: Decodable>(_ api: String, body: [UInt8]) async throws -> Response {
        let reply: Message
        do {
            reply = try await connection.request(
                subject: "$JS.API.\(api)",
                payload: body,
                timeout: configuration.requestTimeout
            )
        } catch {
            throw Self.map(error)
        }
        return try Self.decode(Response.self, from: reply.payload)
    }

    /// A JetStream API reply: the NATS module's reading (an API error is a ``JetStreamError``), with a reply that
    /// cannot be read as a storage failure of the bus.
    static func decode<Response: Decodable>(_ type: Response.Type, from payload: [UInt8]) throws -> Response {
        do {
            return try JetStream.decodeResponse(type, from: payload, what: "a JetStream request")
        } catch let error as NATSError where error.code == .malformedResponse {
            throw BusError(.storageFailure, error.reason)
        }
    }

    static func map(_ error: any Error) -> BusError {
        switch error {
        case let error as BusError:
            return error
        case let error as NATSError:
            switch error.code {
            case .maxPayloadExceeded: return BusError(.payloadTooLarge, error.reason)
            case .invalidArgument: return BusError(.invalidArgument, error.reason)
            case .connectionClosed: return BusError(.closed, error.reason)
            default: return BusError(.unavailable, "NATS: \(error)")
            }
        case let error as JetStreamError:
            switch error.code {
            case .temporarilyUnavailable, .insufficientResources, .noSuitablePeers:
                return BusError(.unavailable, "JetStream: \(error.errorDescription)")
            case .invalidStreamConfig, .replicasNotSupported:
                return BusError(.invalidArgument, "JetStream: \(error.errorDescription)")
            default:
                if error.status == 503 { return BusError(.unavailable, "JetStream: \(error.errorDescription)") }
                return BusError(.storageFailure, "JetStream: \(error)")
            }
        default:
            return BusError(.storageFailure, "JetStream transport: \(type(of: error))")
        }
    }

    private static func token() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return String((0..<22).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}

/// Runs `operation`, giving up (returning `nil`) after `timeout`.
private func withDeadline<T: Sendable>(
    _ timeout: Duration,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}

private struct StreamListResponse: Decodable {
    var total: Int
    var streams: [StreamInfo]?
}

private struct MessageGetResponse: Decodable {
    struct Raw: Decodable {
        var subject: String
        var seq: UInt64
        var hdrs: String?
        var data: String?
        var time: String?

        func event() throws -> StoredEvent {
            guard let payload = Data(base64Encoded: data ?? "") else {
                throw BusError(.storageFailure, "a stored message's data is not base64")
            }
            var eventID = ""
            if let hdrs, let block = Data(base64Encoded: hdrs) {
                eventID = Self.messageID(in: Array(block)) ?? ""
            }
            return StoredEvent(
                offset: seq,
                eventID: eventID,
                payload: Array(payload),
                publishTime: time.flatMap(Self.parseTime) ?? Date(timeIntervalSince1970: 0)
            )
        }

        /// The `Nats-Msg-Id` value of a `NATS/1.0` header block.
        static func messageID(in block: [UInt8]) -> String? {
            let text = String(decoding: block, as: UTF8.self)
            for line in text.split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                if line[line.startIndex..<colon].lowercased() == "nats-msg-id" {
                    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }

        /// Parses RFC 3339 with up to nanoseconds (`2026-11-29T10:15:00.123456789Z`).
        static func parseTime(_ text: String) -> Date? {
            var base = text
            var fraction = 0.0
            if let dot = text.firstIndex(of: ".") {
                let rest = text[text.index(after: dot)...]
                let digits = rest.prefix(while: \.isNumber)
                fraction = Double("0." + digits) ?? 0
                base = String(text[..<dot]) + String(rest.dropFirst(digits.count))
            }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            return formatter.date(from: base).map { $0.addingTimeInterval(fraction) }
        }
    }

    var message: Raw
}
