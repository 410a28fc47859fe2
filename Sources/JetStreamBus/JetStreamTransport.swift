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

    struct GroupKey: Hashable {
        var stream: String
        var consumer: String
    }

    struct State {
        var knownStreams: Set<String> = []
        var knownConsumers: Set<GroupKey> = []
        /// The ack subject of the latest delivery of each stream sequence handed to a group.
        var deliveries: [GroupKey: [UInt64: String]] = [:]
    }

    /// The NATS connection (run by ``run()``).
    public let connection: Connection
    let jetStream: JetStream
    let configuration: Configuration
    let logger: Logger
    let state = Mutex(State())
    static let deliveriesKept = 10_000

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
    func awaitConnection() async throws {
        if connection.isConnected { return }
        let connection = self.connection
        guard try await withDeadline(configuration.requestTimeout, { try await connection.waitUntilConnected() }) != nil
        else {
            throw BusError(.unavailable, "NATS: not connected within \(configuration.requestTimeout)")
        }
    }

    // MARK: - Names

    func maxEventBytes() -> Int {
        // The server counts the header block (`NATS/1.0`, `Nats-Msg-Id: <id>`) against max_payload too.
        guard let serverLimit = connection.serverInfo?.maxPayload, serverLimit > 0 else {
            return configuration.maxEventBytes
        }
        return min(configuration.maxEventBytes, serverLimit - 300)
    }

    func subject(_ topic: String) -> String { "\(configuration.subjectPrefix).\(topic)" }

    func streamName(_ topic: String) -> String { configuration.streamPrefix + Self.escape(topic) }

    /// Makes a topic or group name a valid stream or consumer name, one to one: `_` → `__`, `.` → `_d`.
    static func escape(_ name: String) -> String {
        var escaped = ""
        for scalar in name.unicodeScalars {  // scalars: a `.` with a combining mark after it is still a `.`
            switch scalar {
            case "_": escaped += "__"
            case ".": escaped += "_d"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
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
