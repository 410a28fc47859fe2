import Logging
import NIOCore
import NIOPosix
import SealedSupport
import ServiceLifecycle
import Synchronization

// MARK: - Service

extension Connection {
    /// Connects and keeps the connection up until ``close()`` or a graceful shutdown.
    ///
    /// - Throws: The last connect error when no server accepted the first connection (unless
    ///   ``ConnectionOptions/retryOnFailedConnect``), or when ``ConnectionOptions/maxReconnectAttempts``
    ///   consecutive reconnects failed; ``NATSError/Code/invalidArgument`` when called twice.
    public func run() async throws {
        let start = state.withLock { $0.start() }
        if case .fail(let error) = start { throw error }
        try await withGracefulShutdownHandler {
            try await self.supervise(start)
        } onGracefulShutdown: {
            self.perform(self.state.withLock { $0.requestClose(waiter: nil) })
        }
    }

    /// The run loop: performs the state machine's `.retry`, `.connect`, `.backoff` and `.stop`.
    private func supervise(_ start: StateMachine.Action) async throws {
        var action = start
        while true {
            switch action {
            case .retry:
                let (handshake, waiter) = AsyncThrowingStream<Void, any Error>.makeStream()
                action = state.withLock { $0.nextAttempt(waiter: waiter, cancelled: Task.isCancelled) }
                if case .connect(let server, let epoch) = action {
                    action = await attempt(server, epoch: epoch, handshake: handshake)
                }
            case .backoff(let round):
                await backoff(backoffDelay(round: round))
                action = .retry
            case .stop(let teardown):
                perform(.stop(teardown))
                if let error = teardown.error { throw error }
                return
            default:
                assertionFailure("not a run loop action: \(action)")
                return
            }
        }
    }

    /// One attempt: connect, handshake, stay connected until the channel closes. Returns the next step.
    private func attempt(
        _ server: ServerAddress,
        epoch: UInt64,
        handshake: AsyncThrowingStream<Void, any Error>
    ) async -> StateMachine.Action {
        do {
            let channel = try await connect(to: server, epoch: epoch, handshake: handshake)
            logger.info("NATS connected", metadata: ["server": "\(server)"])
            await runConnected(channel, epoch: epoch)
            if !state.withLock({ $0.isClosing }) {
                logger.warning("NATS connection lost; reconnecting", metadata: ["server": "\(server)"])
            }
            return .retry
        } catch {
            let natsError = error as? NATSError ?? NATSError(.connectionFailed, "\(error)")
            logger.debug(
                "NATS connect attempt failed",
                metadata: ["server": "\(server)", "error": "\(natsError)"]
            )
            return state.withLock { $0.attemptFailed(natsError) }
        }
    }

    private func connect(
        to server: ServerAddress,
        epoch: UInt64,
        handshake: AsyncThrowingStream<Void, any Error>
    ) async throws -> any Channel {
        let logger = self.logger
        let connectTimeout = TimeAmount.nanoseconds(options.connectTimeout.nanoseconds)
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(ProtocolDecoder()),
                        ProtocolHandler(connection: self, epoch: epoch, server: server, logger: logger)
                    )
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: server.host, port: server.port).get()
        } catch {
            throw NATSError(.connectionFailed, "cannot connect to \(server): \(error)")
        }
        do {
            try await withTimeout(options.connectTimeout, "handshake with \(server)") {
                for try await _ in handshake { return }
                throw NATSError(.connectionClosed, "the connection is closing")
            }
            return channel
        } catch {
            let failure =
                error as? NATSError ?? NATSError(.connectionFailed, "handshake with \(server) failed: \(error)")
            perform(state.withLock { $0.channelFailed(failure, epoch: epoch) }, epoch: epoch)
            channel.close(promise: nil)
            throw failure
        }
    }

    /// Pings the server while the channel is open; the channel's close ends the connection.
    private func runConnected(_ channel: any Channel, epoch: UInt64) async {
        let interval = options.pingInterval
        let clock = self.clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    do { try await clock.sleep(for: interval) } catch { return }
                    let action = self.state.withLock { $0.pingTimerFired(epoch: epoch) }
                    self.perform(action, epoch: epoch)
                    guard case .sendPing = action else { return }
                }
            }
            try? await channel.closeFuture.get()
            group.cancelAll()
        }
        perform(state.withLock { $0.channelClosed(epoch: epoch) }, epoch: epoch)
    }

    /// The delay after `round` failed rounds over the server list: doubling from `reconnectDelay`, capped
    /// at `maxReconnectDelay`, uniformly jittered over its upper half.
    func backoffDelay(round: Int) -> Duration {
        var delay = options.reconnectDelay
        for _ in 1..<max(1, min(round, 30)) where delay < options.maxReconnectDelay { delay *= 2 }
        delay = min(delay, options.maxReconnectDelay)
        return delay * Double.random(in: 0.5...1.0)
    }

    /// Sleeps `delay`, or less when ``close()`` is called meanwhile.
    private func backoff(_ delay: Duration) async {
        let (stream, wakeup) = AsyncThrowingStream<Void, any Error>.makeStream()
        guard state.withLock({ $0.backoffStarted(wakeup: wakeup) }) else { return }
        let clock = self.clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(for: delay) }
            group.addTask { _ = try? await stream.first { _ in true } }
            await group.next()
            group.cancelAll()
        }
        state.withLock { $0.backoffEnded() }?.finish()
    }
}

// MARK: - Events from the channel handler (on the event loop)

extension Connection {
    func channelActive(_ channel: any Channel, epoch: UInt64) {
        perform(state.withLock { $0.channelActive(channel, epoch: epoch) }, epoch: epoch)
    }

    func received(_ operation: ServerOp, epoch: UInt64) {
        perform(state.withLock { $0.received(operation, epoch: epoch) }, epoch: epoch)
        if case .info(let info) = operation, info.lameDuckMode == true {
            logger.info("NATS server entered lame duck mode")
        }
    }

    func channelClosed(epoch: UInt64) {
        perform(state.withLock { $0.channelClosed(epoch: epoch) }, epoch: epoch)
    }

    func channelFailed(_ error: NATSError, epoch: UInt64) {
        let (wasConnected, action) = state.withLock { ($0.isConnected, $0.channelFailed(error, epoch: epoch)) }
        if wasConnected, case .drop = action {
            logger.warning("NATS connection failed", metadata: ["error": "\(error)"])
        }
        perform(action, epoch: epoch)
    }
}

// MARK: - Performing actions

extension Connection {
    /// Performs what the state machine decided; `epoch` is the attempt the event came from.
    func perform(_ action: StateMachine.Action, epoch: UInt64 = 0) {
        switch action {
        case .none, .retry, .backoff, .connect, .fail:
            break
        case .sendConnect(let channel, let info, let server, let subscriptions):
            var buffer = channel.allocator.buffer(capacity: 512)
            do {
                try ProtocolEncoder.connect(
                    info: info,
                    credentials: server.credentials ?? options.credentials,
                    name: options.name,
                    into: &buffer
                )
            } catch {
                channelFailed(NATSError(.connectionFailed, "cannot encode CONNECT: \(error)"), epoch: epoch)
                return
            }
            for subscription in subscriptions {
                ProtocolEncoder.subscribe(
                    subject: subscription.subject,
                    queue: subscription.queue,
                    sid: subscription.sid,
                    into: &buffer
                )
            }
            ProtocolEncoder.ping(into: &buffer)
            channel.writeAndFlush(buffer, promise: nil)
        case .sendPing(let channel):
            var buffer = channel.allocator.buffer(capacity: 8)
            ProtocolEncoder.ping(into: &buffer)
            channel.writeAndFlush(buffer, promise: nil)
        case .sendPong(let channel):
            var buffer = channel.allocator.buffer(capacity: 8)
            ProtocolEncoder.pong(into: &buffer)
            channel.writeAndFlush(buffer, promise: nil)
        case .resume(let waiters):
            for waiter in waiters {
                waiter.yield(())
                waiter.finish()
            }
        case .deliver(let message, let inbox):
            if case .dropped = inbox.yield(message.message), message.sid != StateMachine.replySID {
                logger.warning(
                    "NATS slow consumer: subscription buffer full, message dropped",
                    metadata: ["sid": "\(message.sid)"]
                )
            }
        case .serverError(let text):
            logger.warning("NATS server error", metadata: ["error": "\(text)"])
        case .closeChannel(let channel):
            channel.close(promise: nil)
        case .dropStale(let channel):
            logger.warning("NATS server stopped answering pings; dropping the connection")
            channel.close(promise: nil)
        case .drop(let loss):
            loss.channel?.close(promise: nil)
            loss.attempt?.finish(throwing: loss.error)
            let lost = NATSError(.connectionLost, "the connection to the server was lost")
            for request in loss.requests { request.finish(throwing: lost) }
            for flush in loss.flushes { flush.finish(throwing: lost) }
            loss.wakeup?.finish()
        case .stop(let teardown):
            teardown.channel?.close(promise: nil)
            let closed = NATSError(.connectionClosed, "the connection is closed")
            teardown.attempt?.finish(throwing: closed)
            for subscription in teardown.subscriptions {
                if let error = teardown.error { subscription.finish(throwing: error) } else { subscription.finish() }
            }
            for request in teardown.requests { request.finish(throwing: closed) }
            for flush in teardown.flushes { flush.finish(throwing: closed) }
            for waiter in teardown.connectWaiters { waiter.finish(throwing: teardown.error ?? closed) }
            for waiter in teardown.closeWaiters { waiter.finish() }
        }
    }
}
