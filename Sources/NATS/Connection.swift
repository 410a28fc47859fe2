public import Logging
public import NIOCore
import NIOPosix
import SealedSupport
public import ServiceLifecycle
import Synchronization

/// A connection to a NATS server or cluster: publish, subscribe, request-reply and flush, with automatic
/// reconnection.
///
/// A `Connection` is a `Service`: its ``run()`` connects, keeps the connection alive (answers server
/// pings, pings an idle server), reconnects with bounded, jittered backoff across the server list, and
/// subscribes again after each reconnect. It returns after ``close()`` or a graceful shutdown. For a
/// scoped use, ``withConnection(to:options:logger:_:)`` runs it around a closure.
///
/// Delivery guarantees are those of core NATS: a ``publish(subject:payload:headers:replyTo:)`` that
/// returns has been written to the socket; one that throws ``NATSError/Code/notConnected`` was not sent.
/// A ``request(subject:payload:headers:timeout:)`` in flight when the connection drops throws
/// ``NATSError/Code/connectionLost`` at once, and every request has a timeout, so no caller waits forever.
public final class Connection: Service, Sendable {
    /// The servers given at creation (servers discovered later join the reconnect list but not this).
    public let servers: [ServerAddress]
    let options: ConnectionOptions
    let logger: Logger
    let clock: any Clock<Duration>
    let eventLoopGroup: any EventLoopGroup
    /// This connection's reply prefix: `<inboxPrefix>.<random>`; requests reply to `<replyPrefix>.<token>`.
    let replyPrefix: String
    /// Everything that changes, as a state machine; its actions are performed outside the lock.
    let state: Mutex<StateMachine>

    typealias StateMachine = ConnectionStateMachine<any Channel, Inbox.Continuation, Waiter>
    typealias Waiter = AsyncThrowingStream<Void, any Error>.Continuation

    /// Creates a connection; nothing happens until ``run()``.
    ///
    /// - Parameters:
    ///   - servers: The servers to connect to, tried in order and then round-robin on reconnect.
    ///   - options: Credentials, timeouts and reconnect policy.
    ///   - logger: Where connection events go (never credentials or payloads).
    ///   - clock: The clock for timeouts, pings and backoff.
    ///   - eventLoopGroup: The NIO event loops for the socket; NIO's shared singleton group when `nil`.
    /// - Throws: ``NATSError/Code/invalidArgument`` when `servers` is empty or the inbox prefix is invalid.
    public init(
        servers: [ServerAddress],
        options: ConnectionOptions = ConnectionOptions(),
        logger: Logger,
        clock: any Clock<Duration> = ContinuousClock(),
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) throws {
        guard !servers.isEmpty else { throw NATSError.invalidArgument("no server given") }
        try ProtocolEncoder.validateSubject(options.inboxPrefix, what: "inbox prefix")
        self.servers = servers
        self.options = options
        self.logger = logger
        self.clock = clock
        self.eventLoopGroup = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        let replyPrefix = Self.inbox(prefix: options.inboxPrefix)
        self.replyPrefix = replyPrefix
        self.state = Mutex(StateMachine(servers: servers, options: options, replyPrefix: replyPrefix))
    }

    /// Creates a connection from a comma-separated URL list (`nats://h1:4222,nats://user:pass@h2:4223`).
    ///
    /// - Throws: ``NATSError/Code/invalidArgument`` when a URL is invalid.
    public convenience init(
        urls: String,
        options: ConnectionOptions = ConnectionOptions(),
        logger: Logger,
        clock: any Clock<Duration> = ContinuousClock()
    ) throws {
        try self.init(servers: ServerAddress.parseList(urls), options: options, logger: logger, clock: clock)
    }

    /// Connects to `urls`, runs `body` with the connected connection, then closes it.
    ///
    /// - Throws: The connect error (for example ``NATSError/Code/authorizationViolation`` or
    ///   ``NATSError/Code/connectionFailed``) when no server accepts the connection, or what `body` throws.
    public static func withConnection<Result>(
        to urls: String,
        options: ConnectionOptions = ConnectionOptions(),
        logger: Logger,
        _ body: (Connection) async throws -> Result
    ) async throws -> Result {
        let connection = try Connection(urls: urls, options: options, logger: logger)
        return try await connection.withRunning(body)
    }

    /// Runs ``run()`` in a child task, waits until connected, runs `body`, then closes.
    public func withRunning<Result>(_ body: (Connection) async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.run() }
            let result: Result
            do {
                try await waitUntilConnected()
                result = try await body(self)
            } catch {
                await close()
                group.cancelAll()
                throw error
            }
            await close()
            try await group.waitForAll()
            return result
        }
    }

    // MARK: - Status

    /// The `INFO` of the server currently (or last) connected.
    public var serverInfo: ServerInfo? { state.withLock { $0.info } }

    /// Whether the connection is up right now.
    public var isConnected: Bool { state.withLock { $0.isConnected } }

    /// Waits until the connection is up.
    ///
    /// - Throws: The error the connection closed with, or ``NATSError/Code/connectionClosed``.
    public func waitUntilConnected() async throws {
        let (stream, continuation) = AsyncThrowingStream<Void, any Error>.makeStream()
        guard let id = try state.withLock({ try $0.waitUntilConnected(continuation) }) else { return }
        defer { state.withLock { $0.cancelWait(id) }?.finish() }
        for try await _ in stream { return }
        try Task.checkCancellation()
        throw NATSError(.connectionClosed, "the connection is closed")
    }

    // MARK: - Publish, subscribe, request, flush

    /// Publishes a message.
    ///
    /// - Parameters:
    ///   - subject: The subject (no spaces, no empty tokens).
    ///   - payload: The payload.
    ///   - headers: Headers to send with it (`HPUB`).
    ///   - replyTo: A reply subject for the receivers.
    /// - Throws: ``NATSError/Code/invalidArgument`` or ``NATSError/Code/maxPayloadExceeded`` (nothing
    ///   sent), ``NATSError/Code/notConnected`` while reconnecting (nothing sent),
    ///   ``NATSError/Code/connectionLost`` when the write failed, ``NATSError/Code/connectionClosed``.
    public func publish(
        subject: String,
        payload: [UInt8],
        headers: Headers? = nil,
        replyTo: String? = nil
    ) async throws {
        let (channel, maxPayload) = try state.withLock { try $0.publishChannel() }
        var buffer = channel.allocator.buffer(capacity: payload.count + subject.utf8.count + 64)
        try ProtocolEncoder.publish(
            subject: subject,
            replyTo: replyTo,
            headers: headers,
            payload: payload,
            maxPayload: maxPayload,
            into: &buffer
        )
        try await write(buffer, to: channel)
    }

    /// Sends a request and waits for the first reply, on the connection's muxed reply subscription.
    ///
    /// - Parameters:
    ///   - subject: The subject to send the request to.
    ///   - payload: The request payload.
    ///   - headers: Request headers.
    ///   - timeout: How long to wait for the reply; the connection's `requestTimeout` when `nil`.
    /// - Returns: The reply.
    /// - Throws: ``NATSError/Code/noResponders`` when nobody subscribes to `subject`,
    ///   ``NATSError/Code/timeout``, ``NATSError/Code/connectionLost`` when the connection dropped while
    ///   waiting, and the errors of ``publish(subject:payload:headers:replyTo:)``.
    public func request(
        subject: String,
        payload: [UInt8],
        headers: Headers? = nil,
        timeout: Duration? = nil
    ) async throws -> Message {
        let inbox = openInbox()
        defer { closeInbox(inbox.token) }
        try await publish(subject: subject, payload: payload, headers: headers, replyTo: inbox.subject)
        let stream = inbox.stream
        let reply = try await withTimeout(timeout ?? options.requestTimeout, "request to \(subject)") {
            for try await message in stream { return message }
            throw NATSError(.connectionClosed, "the connection closed while waiting for a reply")
        }
        if reply.status == 503 {
            throw NATSError(.noResponders, "no responders on \(subject)")
        }
        return reply
    }

    /// Subscribes to `subject` for the duration of `body`.
    ///
    /// The subscription is registered with the server by the time its `SUB` is written; call
    /// ``flush(timeout:)`` first when another connection must see it immediately.
    ///
    /// - Parameters:
    ///   - subject: The subject, wildcards allowed.
    ///   - queue: A queue group; each message goes to one member of the group.
    ///   - body: Reads the messages from the ``Subscription``; the subscription ends when it returns.
    /// - Returns: What `body` returns.
    /// - Throws: ``NATSError/Code/invalidArgument``, ``NATSError/Code/connectionClosed``, or what `body`
    ///   throws.
    public func subscribe<Result>(
        to subject: String,
        queue: String? = nil,
        _ body: (Subscription) async throws -> Result
    ) async throws -> Result {
        try ProtocolEncoder.validateSubject(subject)
        if let queue { try ProtocolEncoder.validateQueue(queue) }
        let (stream, continuation) = AsyncThrowingStream<Message, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(max(1, options.subscriptionBufferLimit))
        )
        let (sid, channel) = try state.withLock {
            try $0.subscribe(subject: subject, queue: queue, inbox: continuation)
        }
        if let channel {
            var buffer = channel.allocator.buffer(capacity: subject.utf8.count + 32)
            ProtocolEncoder.subscribe(subject: subject, queue: queue, sid: sid, into: &buffer)
            // A failed write means the connection dropped; the next handshake subscribes again.
            try? await channel.writeAndFlush(buffer)
        }
        let subscription = Subscription(subject: subject, queue: queue, stream: stream)
        let result: Result
        do {
            result = try await body(subscription)
        } catch {
            await unsubscribe(sid)
            throw error
        }
        await unsubscribe(sid)
        return result
    }

    /// Sends `PING` and waits for the server's `PONG`: everything written before has been processed.
    ///
    /// - Throws: ``NATSError/Code/notConnected``, ``NATSError/Code/connectionLost``,
    ///   ``NATSError/Code/timeout``.
    public func flush(timeout: Duration? = nil) async throws {
        let (stream, continuation) = AsyncThrowingStream<Void, any Error>.makeStream()
        let channel = try state.withLock { try $0.flush(continuation) }
        var buffer = channel.allocator.buffer(capacity: 8)
        ProtocolEncoder.ping(into: &buffer)
        try await write(buffer, to: channel)
        try await withTimeout(timeout ?? options.requestTimeout, "flush") {
            for try await _ in stream { return }
            throw NATSError(.connectionClosed, "the connection closed during flush")
        }
    }

    /// Closes the connection: flushes what was written (briefly), stops reconnecting, ends every
    /// subscription and fails every request in flight with ``NATSError/Code/connectionClosed``. Waits
    /// until ``run()`` has returned.
    public func close() async {
        if isConnected {
            try? await flush(timeout: .seconds(1))
        }
        let (stream, continuation) = AsyncThrowingStream<Void, any Error>.makeStream()
        perform(state.withLock { $0.requestClose(waiter: continuation) })
        do { for try await _ in stream {} } catch {}
    }

    // MARK: - Internals used by requests and JetStream

    struct Inbox {
        typealias Continuation = AsyncThrowingStream<Message, any Error>.Continuation
        var token: String
        var subject: String
        var stream: AsyncThrowingStream<Message, any Error>
    }

    /// Opens a reply subject on the muxed subscription; every message to it goes to `stream` until
    /// ``closeInbox(_:)``. When the connection drops, the stream throws ``NATSError/Code/connectionLost``.
    func openInbox() -> Inbox {
        let (stream, continuation) = AsyncThrowingStream<Message, any Error>.makeStream()
        let token = state.withLock { $0.openInbox(continuation) }
        return Inbox(token: token, subject: "\(replyPrefix).\(token)", stream: stream)
    }

    func closeInbox(_ token: String) {
        state.withLock { $0.closeInbox(token) }?.finish()
    }

    private func write(_ buffer: ByteBuffer, to channel: any Channel) async throws {
        do {
            try await channel.writeAndFlush(buffer)
        } catch {
            throw NATSError(.connectionLost, "the connection dropped while writing: \(error)")
        }
    }

    private func unsubscribe(_ sid: UInt64) async {
        guard let removed = state.withLock({ $0.unsubscribe(sid) }) else { return }
        removed.inbox?.finish()
        if let channel = removed.channel {
            var buffer = channel.allocator.buffer(capacity: 24)
            ProtocolEncoder.unsubscribe(sid: sid, into: &buffer)
            try? await channel.writeAndFlush(buffer)
        }
    }

    /// Runs `operation`, throwing ``NATSError/Code/timeout`` when it takes longer than `timeout`.
    func withTimeout<T: Sendable>(
        _ timeout: Duration,
        _ what: @autoclosure () -> String,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let clock = self.clock
        let result = try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await clock.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let result else {
            try Task.checkCancellation()
            throw NATSError(.timeout, "\(what()) timed out after \(timeout)")
        }
        return result
    }

    /// A fresh inbox subject, `<prefix>.<22 random alphanumerics>` (about 131 bits): the connection's reply prefix and
    /// JetStream's inboxes for one fetch or one batch.
    static func inbox(prefix: String) -> String {
        let token = Random.token(length: 22, alphabet: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        return "\(prefix).\(token)"
    }
}
