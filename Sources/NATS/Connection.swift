public import Logging
public import NIOCore
import NIOPosix
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
    let state: Mutex<State>

    /// The subscription id of the muxed reply subscription `<replyPrefix>.*`.
    static let replySID: UInt64 = 1

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
        self.replyPrefix = "\(options.inboxPrefix).\(Self.randomToken())"
        var state = State(servers: servers)
        state.subscriptions[Self.replySID] = State.SubscriptionEntry(
            subject: "\(replyPrefix).*",
            queue: nil,
            continuation: nil
        )
        self.state = Mutex(state)
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
    public var isConnected: Bool { state.withLock { $0.phase == .connected } }

    /// Waits until the connection is up.
    ///
    /// - Throws: The error the connection closed with, or ``NATSError/Code/connectionClosed``.
    public func waitUntilConnected() async throws {
        let (stream, continuation) = AsyncThrowingStream<Void, any Error>.makeStream()
        let id: UInt64? = try state.withLock { state in
            switch state.phase {
            case .connected: return nil
            case .closed(let error): throw error ?? NATSError(.connectionClosed, "the connection is closed")
            default:
                let id = state.nextWaiterID
                state.nextWaiterID += 1
                state.connectWaiters[id] = continuation
                return id
            }
        }
        guard let id else { return }
        defer { _ = state.withLock { $0.connectWaiters.removeValue(forKey: id) } }
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
        let (channel, maxPayload) = try currentChannel()
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
        let (sid, channel): (UInt64, (any Channel)?) = try state.withLock { state in
            if case .closed = state.phase { throw NATSError(.connectionClosed, "the connection is closed") }
            let sid = state.nextSID
            state.nextSID += 1
            state.subscriptions[sid] = State.SubscriptionEntry(
                subject: subject,
                queue: queue,
                continuation: continuation
            )
            return (sid, state.phase == .connected || state.phase == .handshaking ? state.channel : nil)
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
        let (channel, id): (any Channel, UInt64) = try state.withLock { state in
            let channel = try state.connectedChannel()
            let id = state.nextWaiterID
            state.nextWaiterID += 1
            state.flushWaiters[id] = continuation
            state.pongQueue.append(id)
            return (channel, id)
        }
        defer { _ = state.withLock { $0.flushWaiters.removeValue(forKey: id) } }
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
        let running = requestClose()
        if running {
            let (stream, continuation) = AsyncStream<Void>.makeStream()
            let registered = state.withLock { state -> Bool in
                if case .closed = state.phase { return false }
                state.closedWaiters.append(continuation)
                return true
            }
            if registered {
                for await _ in stream { break }
            }
        }
    }

    // MARK: - Service

    /// Connects and keeps the connection up until ``close()`` or a graceful shutdown.
    ///
    /// - Throws: The last connect error when no server accepted the first connection (unless
    ///   ``ConnectionOptions/retryOnFailedConnect``), or when ``ConnectionOptions/maxReconnectAttempts``
    ///   consecutive reconnects failed; ``NATSError/Code/invalidArgument`` when called twice.
    public func run() async throws {
        let alreadyStarted = state.withLock { state in
            defer { state.started = true }
            return state.started
        }
        guard !alreadyStarted else { throw NATSError.invalidArgument("run() was already called on this connection") }
        try await withGracefulShutdownHandler {
            try await self.supervise()
        } onGracefulShutdown: {
            _ = self.requestClose()
        }
    }

    private func supervise() async throws {
        var index = 0
        var failures = 0
        var everConnected = false
        while true {
            let (servers, closing) = state.withLock { ($0.servers, $0.closeRequested) }
            if closing || Task.isCancelled {
                finishClosed(nil)
                return
            }
            let server = servers[index % servers.count]
            index += 1
            do {
                let (channel, epoch) = try await connectOnce(to: server)
                failures = 0
                everConnected = true
                logger.info("NATS connected", metadata: ["server": "\(server)"])
                await runConnected(channel, epoch: epoch)
                if !state.withLock({ $0.closeRequested }) {
                    logger.warning("NATS connection lost; reconnecting", metadata: ["server": "\(server)"])
                }
            } catch {
                let natsError = error as? NATSError ?? NATSError(.connectionFailed, "\(error)")
                failures += 1
                logger.debug(
                    "NATS connect attempt failed",
                    metadata: ["server": "\(server)", "error": "\(natsError)", "failures": "\(failures)"]
                )
                if state.withLock({ $0.closeRequested }) { continue }
                if !everConnected && !options.retryOnFailedConnect && failures >= servers.count {
                    finishClosed(natsError)
                    throw natsError
                }
                if let limit = options.maxReconnectAttempts, everConnected, failures >= limit {
                    let gaveUp = NATSError(
                        .connectionClosed,
                        "gave up after \(failures) reconnect attempts; last error: \(natsError.reason)"
                    )
                    finishClosed(gaveUp)
                    throw gaveUp
                }
                if failures % servers.count == 0 {
                    await sleepUnlessClosed(backoffDelay(round: failures / servers.count))
                }
            }
        }
    }

    /// The delay after `round` failed rounds over the server list: doubling from `reconnectDelay`, capped
    /// at `maxReconnectDelay`, uniformly jittered over its upper half.
    func backoffDelay(round: Int) -> Duration {
        var delay = options.reconnectDelay
        for _ in 1..<max(1, min(round, 30)) where delay < options.maxReconnectDelay { delay *= 2 }
        delay = min(delay, options.maxReconnectDelay)
        return delay * Double.random(in: 0.5...1.0)
    }

    private func sleepUnlessClosed(_ delay: Duration) async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let id: UInt64? = state.withLock { state in
            if state.closeRequested { return nil }
            let id = state.nextWaiterID
            state.nextWaiterID += 1
            state.wakeups[id] = continuation
            return id
        }
        guard let id else { return }
        let clock = self.clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(for: delay) }
            group.addTask { for await _ in stream { return } }
            await group.next()
            group.cancelAll()
        }
        let removed = state.withLock { $0.wakeups.removeValue(forKey: id) }
        removed?.finish()
    }

    private func connectOnce(to server: ServerAddress) async throws -> (any Channel, UInt64) {
        let epoch = state.withLock { state in
            state.epoch += 1
            state.phase = .connecting
            return state.epoch
        }
        let handshake = eventLoopGroup.any().makePromise(of: Void.self)
        let logger = self.logger
        let connectTimeout = TimeAmount.nanoseconds(Self.nanoseconds(options.connectTimeout))
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ProtocolHandler(
                            connection: self,
                            epoch: epoch,
                            server: server,
                            handshake: handshake,
                            logger: logger
                        )
                    )
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: server.host, port: server.port).get()
        } catch {
            let failure = NATSError(.connectionFailed, "cannot connect to \(server): \(error)")
            handshake.fail(failure)
            throw failure
        }
        do {
            let future = handshake.futureResult
            try await withTimeout(options.connectTimeout, "handshake with \(server)") { try await future.get() }
            return (channel, epoch)
        } catch {
            handshake.fail(error)
            channel.close(promise: nil)
            throw error as? NATSError ?? NATSError(.connectionFailed, "handshake with \(server) failed: \(error)")
        }
    }

    private func runConnected(_ channel: any Channel, epoch: UInt64) async {
        if state.withLock({ $0.closeRequested }) { channel.close(promise: nil) }
        let interval = options.pingInterval
        let clock = self.clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    do { try await clock.sleep(for: interval) } catch { return }
                    if !self.sendLivenessPing(epoch: epoch) { return }
                }
            }
            try? await channel.closeFuture.get()
            group.cancelAll()
        }
        channelClosed(epoch: epoch)
    }

    /// Pings the server; drops the connection when too many pings went unanswered.
    private func sendLivenessPing(epoch: UInt64) -> Bool {
        let (channel, stale): ((any Channel)?, Bool) = state.withLock { state in
            guard state.epoch == epoch, state.phase == .connected, let channel = state.channel else {
                return (nil, false)
            }
            if state.pingsOutstanding >= options.maxPingsOutstanding { return (channel, true) }
            state.pingsOutstanding += 1
            state.pongQueue.append(0)
            return (channel, false)
        }
        guard let channel else { return false }
        if stale {
            logger.warning("NATS server stopped answering pings; dropping the connection")
            channel.close(promise: nil)
            return false
        }
        var buffer = channel.allocator.buffer(capacity: 8)
        ProtocolEncoder.ping(into: &buffer)
        channel.writeAndFlush(buffer, promise: nil)
        return true
    }

    /// Marks the connection as closing; returns whether ``run()`` is running (and must be waited for).
    private func requestClose() -> Bool {
        let (running, channel, wakeups): (Bool, (any Channel)?, [AsyncStream<Void>.Continuation]) = state.withLock {
            state in
            state.closeRequested = true
            let wakeups = Array(state.wakeups.values)
            state.wakeups.removeAll()
            if case .closed = state.phase { return (false, nil, wakeups) }
            return (state.started, state.channel, wakeups)
        }
        for wakeup in wakeups { wakeup.finish() }
        channel?.close(promise: nil)
        if !running { finishClosed(nil) }
        return running
    }

    /// Ends everything: subscriptions, requests, waiters. Idempotent.
    private func finishClosed(_ error: NATSError?) {
        let taken = state.withLock { state -> State.Taken? in
            if case .closed = state.phase { return nil }
            state.phase = .closed(error)
            state.closeRequested = true
            return state.takeAll()
        }
        guard let taken else { return }
        taken.channel?.close(promise: nil)
        let closed = NATSError(.connectionClosed, "the connection is closed")
        for subscription in taken.subscriptions {
            if let error { subscription.finish(throwing: error) } else { subscription.finish() }
        }
        for request in taken.requests { request.finish(throwing: closed) }
        for flush in taken.flushWaiters { flush.finish(throwing: closed) }
        for waiter in taken.connectWaiters { waiter.finish(throwing: error ?? closed) }
        for waiter in taken.closedWaiters { waiter.finish() }
        for wakeup in taken.wakeups { wakeup.finish() }
    }

    // MARK: - Internals used by requests and JetStream

    struct Inbox {
        var token: String
        var subject: String
        var stream: AsyncThrowingStream<Message, any Error>
    }

    /// Opens a reply subject on the muxed subscription; every message to it goes to `stream` until
    /// ``closeInbox(_:)``. When the connection drops, the stream throws ``NATSError/Code/connectionLost``.
    func openInbox() -> Inbox {
        let (stream, continuation) = AsyncThrowingStream<Message, any Error>.makeStream()
        let token = state.withLock { state in
            state.nextToken += 1
            let token = String(state.nextToken)
            state.requests[token] = continuation
            return token
        }
        return Inbox(token: token, subject: "\(replyPrefix).\(token)", stream: stream)
    }

    func closeInbox(_ token: String) {
        let removed = state.withLock { $0.requests.removeValue(forKey: token) }
        removed?.finish()
    }

    private func currentChannel() throws -> (any Channel, Int?) {
        try state.withLock { state in (try state.connectedChannel(), state.info?.maxPayload) }
    }

    private func write(_ buffer: ByteBuffer, to channel: any Channel) async throws {
        do {
            try await channel.writeAndFlush(buffer)
        } catch {
            throw NATSError(.connectionLost, "the connection dropped while writing: \(error)")
        }
    }

    private func unsubscribe(_ sid: UInt64) async {
        let (entry, channel): (State.SubscriptionEntry?, (any Channel)?) = state.withLock { state in
            let entry = state.subscriptions.removeValue(forKey: sid)
            return (entry, state.phase == .connected ? state.channel : nil)
        }
        entry?.continuation?.finish()
        if let channel, entry != nil {
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

    /// A duration in nanoseconds, saturated at `Int64.max`/`.min` (the JetStream API's own bound) instead of trapping.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (total, sumOverflow) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return sumOverflow ? (seconds < 0 ? .min : .max) : total
    }

    static func randomToken(length: Int = 22) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}

// MARK: - Callbacks from the channel handler (on the event loop)

extension Connection {
    /// Builds `CONNECT`, the `SUB` of every live subscription, and `PING`, and makes `channel` current.
    func handshake(epoch: UInt64, channel: any Channel, info: ServerInfo, server: ServerAddress) throws -> ByteBuffer {
        try state.withLock { state in
            guard state.epoch == epoch, !state.closeRequested else {
                throw NATSError(.connectionClosed, "the connection is closing")
            }
            if info.tlsRequired == true {
                throw NATSError(.connectionFailed, "the server requires TLS, which this client does not support")
            }
            state.phase = .handshaking
            state.channel = channel
            state.info = info
            state.pongQueue.removeAll()
            state.pingsOutstanding = 0
            if options.discoverServers { state.discover(info.connectURLs) }
            var buffer = channel.allocator.buffer(capacity: 512)
            try ProtocolEncoder.connect(
                info: info,
                credentials: server.credentials ?? options.credentials,
                name: options.name,
                into: &buffer
            )
            for (sid, subscription) in state.subscriptions.sorted(by: { $0.key < $1.key }) {
                ProtocolEncoder.subscribe(
                    subject: subscription.subject,
                    queue: subscription.queue,
                    sid: sid,
                    into: &buffer
                )
            }
            ProtocolEncoder.ping(into: &buffer)
            return buffer
        }
    }

    func handshakeCompleted(epoch: UInt64) {
        let waiters: [AsyncThrowingStream<Void, any Error>.Continuation] = state.withLock { state in
            guard state.epoch == epoch, state.phase == .handshaking else { return [] }
            state.phase = .connected
            let waiters = Array(state.connectWaiters.values)
            state.connectWaiters.removeAll()
            return waiters
        }
        for waiter in waiters {
            waiter.yield(())
            waiter.finish()
        }
    }

    func deliver(_ message: InboundMessage) {
        if message.sid == Self.replySID {
            let prefixLength = replyPrefix.utf8.count + 1
            guard message.subject.utf8.count > prefixLength else { return }
            let token = String(message.subject.dropFirst(replyPrefix.count + 1))
            let continuation = state.withLock { $0.requests[token] }
            continuation?.yield(message.message)
            return
        }
        guard let continuation = state.withLock({ $0.subscriptions[message.sid]?.continuation }) else { return }
        if case .dropped = continuation.yield(message.message) {
            logger.warning(
                "NATS slow consumer: subscription buffer full, message dropped",
                metadata: ["sid": "\(message.sid)"]
            )
        }
    }

    func pongReceived(epoch: UInt64) {
        let waiter: AsyncThrowingStream<Void, any Error>.Continuation? = state.withLock { state in
            guard state.epoch == epoch else { return nil }
            state.pingsOutstanding = 0
            guard !state.pongQueue.isEmpty else { return nil }
            let id = state.pongQueue.removeFirst()
            return state.flushWaiters.removeValue(forKey: id)
        }
        waiter?.yield(())
        waiter?.finish()
    }

    func infoUpdated(epoch: UInt64, info: ServerInfo) {
        state.withLock { state in
            guard state.epoch == epoch else { return }
            state.info = info
            if options.discoverServers { state.discover(info.connectURLs) }
        }
        if info.lameDuckMode == true {
            logger.info("NATS server entered lame duck mode")
        }
    }

    func serverError(_ text: String) {
        logger.warning("NATS server error", metadata: ["error": "\(text)"])
    }

    /// The channel of `epoch` closed: requests and flushes in flight fail with `connectionLost`.
    func channelClosed(epoch: UInt64) {
        let taken:
            (
                [AsyncThrowingStream<Message, any Error>.Continuation],
                [AsyncThrowingStream<Void, any Error>.Continuation]
            )? =
                state.withLock { state in
                    guard state.epoch == epoch, state.channel != nil || state.phase == .handshaking else { return nil }
                    state.channel = nil
                    if case .closed = state.phase {} else { state.phase = .reconnecting }
                    let requests = Array(state.requests.values)
                    state.requests.removeAll()
                    let flushes = Array(state.flushWaiters.values)
                    state.flushWaiters.removeAll()
                    state.pongQueue.removeAll()
                    state.pingsOutstanding = 0
                    return (requests, flushes)
                }
        guard let (requests, flushes) = taken else { return }
        let lost = NATSError(.connectionLost, "the connection to the server was lost")
        for request in requests { request.finish(throwing: lost) }
        for flush in flushes { flush.finish(throwing: lost) }
    }
}

// MARK: - State

extension Connection {
    struct State: Sendable {
        enum Phase: Sendable, Equatable {
            case idle, connecting, handshaking, connected, reconnecting
            case closed(NATSError?)
        }

        struct SubscriptionEntry: Sendable {
            var subject: String
            var queue: String?
            /// `nil` for the muxed reply subscription, whose messages go to `requests`.
            var continuation: AsyncThrowingStream<Message, any Error>.Continuation?
        }

        struct Taken {
            var channel: (any Channel)?
            var subscriptions: [AsyncThrowingStream<Message, any Error>.Continuation]
            var requests: [AsyncThrowingStream<Message, any Error>.Continuation]
            var flushWaiters: [AsyncThrowingStream<Void, any Error>.Continuation]
            var connectWaiters: [AsyncThrowingStream<Void, any Error>.Continuation]
            var closedWaiters: [AsyncStream<Void>.Continuation]
            var wakeups: [AsyncStream<Void>.Continuation]
        }

        var phase = Phase.idle
        var started = false
        var closeRequested = false
        var epoch: UInt64 = 0
        var channel: (any Channel)?
        var info: ServerInfo?
        var servers: [ServerAddress]
        var nextSID: UInt64 = 2
        var subscriptions: [UInt64: SubscriptionEntry] = [:]
        var nextToken: UInt64 = 0
        var requests: [String: AsyncThrowingStream<Message, any Error>.Continuation] = [:]
        var nextWaiterID: UInt64 = 1
        /// The ids of the flushes waiting for each `PONG`, in order; 0 for a liveness ping.
        var pongQueue: [UInt64] = []
        var flushWaiters: [UInt64: AsyncThrowingStream<Void, any Error>.Continuation] = [:]
        var pingsOutstanding = 0
        var connectWaiters: [UInt64: AsyncThrowingStream<Void, any Error>.Continuation] = [:]
        var closedWaiters: [AsyncStream<Void>.Continuation] = []
        var wakeups: [UInt64: AsyncStream<Void>.Continuation] = [:]

        init(servers: [ServerAddress]) {
            self.servers = servers
        }

        func connectedChannel() throws -> any Channel {
            switch phase {
            case .connected:
                guard let channel else { throw NATSError(.notConnected, "not connected") }
                return channel
            case .closed:
                throw NATSError(.connectionClosed, "the connection is closed")
            default:
                throw NATSError(.notConnected, "not connected (reconnecting)")
            }
        }

        mutating func discover(_ urls: [String]?) {
            for url in urls ?? [] {
                guard let address = try? ServerAddress(parsing: url) else { continue }
                if !servers.contains(where: { $0.host == address.host && $0.port == address.port }) {
                    servers.append(address)
                }
            }
        }

        mutating func takeAll() -> Taken {
            let taken = Taken(
                channel: channel,
                subscriptions: subscriptions.values.compactMap(\.continuation),
                requests: Array(requests.values),
                flushWaiters: Array(flushWaiters.values),
                connectWaiters: Array(connectWaiters.values),
                closedWaiters: closedWaiters,
                wakeups: Array(wakeups.values)
            )
            channel = nil
            subscriptions.removeAll()
            requests.removeAll()
            flushWaiters.removeAll()
            pongQueue.removeAll()
            connectWaiters.removeAll()
            closedWaiters.removeAll()
            wakeups.removeAll()
            return taken
        }
    }
}
