/// The life of a ``Connection`` as a value: each event returns the action the connection then performs.
///
/// No I/O happens here. The connection feeds it what its channel and its run loop observe (an attempt
/// starts, the channel becomes active, the server sends `INFO`, `PONG` or `-ERR`, the channel closes, a
/// close is requested) and what its callers ask (subscribe, flush, wait), and executes the returned action
/// outside its lock: write a frame, close a channel, resume or fail the continuations the action hands over.
///
/// The channel and the two kinds of continuation are type parameters, so the transitions are tested with
/// plain values and without sockets. Events that name an `epoch` come from one connection attempt; the
/// events of an attempt that is no longer current are ignored.
struct ConnectionStateMachine<Channel, Inbox, Waiter> {
    enum State {
        /// ``Connection/run()`` has not been called.
        case idle
        /// An attempt: the socket connects, then the server's `INFO` is awaited.
        case connecting(Attempt)
        /// `CONNECT` was sent; the `PONG` to the `PING` after it is awaited.
        case handshaking(Attempt, channel: Channel)
        /// The connection is up.
        case connected(Link)
        /// Between attempts; `wakeup` ends a backoff early.
        case disconnected(wakeup: Waiter?)
        /// A close was requested while the run loop runs; it stops at its next step.
        case closing
        /// For good, with the error that closed the connection (`nil` for ``Connection/close()``).
        case closed(NATSError?)
    }

    /// One connection attempt; `waiter` learns how its handshake ends.
    struct Attempt {
        var epoch: UInt64
        var server: ServerAddress
        var waiter: Waiter
        var channel: Channel?
    }

    /// A connection that completed its handshake.
    struct Link {
        var epoch: UInt64
        var channel: Channel
        var pingsOutstanding = 0
        /// For each `PING` in flight, in order, the flush waiting for its `PONG` (`nil` for a liveness ping).
        var pongs: [Waiter?] = []
    }

    /// A subscription to send again after each reconnect.
    struct Subscriber {
        var subject: String
        var queue: String?
        /// `nil` for the muxed reply subscription, whose messages go to the request inboxes.
        var inbox: Inbox?
    }

    /// A `SUB` the handshake sends again.
    struct Resubscription: Hashable, Sendable {
        var sid: UInt64
        var subject: String
        var queue: String?
    }

    /// What the caller must end when an attempt or a connection goes away.
    struct Loss {
        /// The channel to close.
        var channel: Channel?
        /// The attempt's waiter, failed with `error`.
        var attempt: Waiter?
        var error: NATSError
        /// Requests and flushes in flight, failed with ``NATSError/Code/connectionLost``.
        var requests: [Inbox] = []
        var flushes: [Waiter] = []
        /// A backoff to cut short.
        var wakeup: Waiter?
    }

    /// Everything to end when the connection closes for good.
    struct Teardown {
        /// The error that closed the connection: subscriptions and connect waiters fail with it; `nil` ends
        /// subscriptions normally and fails the rest with ``NATSError/Code/connectionClosed``.
        var error: NATSError?
        var channel: Channel?
        var attempt: Waiter?
        var subscriptions: [Inbox] = []
        var requests: [Inbox] = []
        var flushes: [Waiter] = []
        var connectWaiters: [Waiter] = []
        /// Resumed normally: ``Connection/close()`` callers and a backoff.
        var closeWaiters: [Waiter] = []
    }

    enum Action {
        case none
        /// Run loop: open attempt `epoch` to the server.
        case connect(ServerAddress, epoch: UInt64)
        /// Run loop: go on with the next attempt now.
        case retry
        /// Run loop: wait the backoff of `round` failed rounds over the server list, then retry.
        case backoff(round: Int)
        /// Run loop: stop; end everything in the teardown and throw its error, if any.
        case stop(Teardown)
        /// Refuse the call.
        case fail(NATSError)
        /// Write `CONNECT`, a `SUB` for each subscription, then `PING`.
        case sendConnect(Channel, ServerInfo, ServerAddress, [Resubscription])
        case sendPing(Channel)
        case sendPong(Channel)
        /// Resume these waiters (the handshake completed, or a flush's `PONG` arrived).
        case resume([Waiter])
        case deliver(InboundMessage, to: Inbox)
        /// The server reported an error on a working connection: log it.
        case serverError(String)
        case closeChannel(Channel)
        /// The server stopped answering pings: close its channel.
        case dropStale(Channel)
        /// An attempt or connection ended: close its channel and fail what waited on it.
        case drop(Loss)
    }

    /// The subscription id of the muxed reply subscription `<replyPrefix>.*`.
    static var replySID: UInt64 { 1 }

    private(set) var state = State.idle
    /// The `INFO` of the server currently (or last) connected.
    private(set) var info: ServerInfo?
    /// The servers to try, with those discovered since.
    private(set) var servers: [ServerAddress]
    let options: ConnectionOptions
    let replyPrefix: String
    private var started = false
    private(set) var epoch: UInt64 = 0
    private var nextServer = 0
    /// Consecutive failed attempts, and whether any attempt ever connected.
    private var failures = 0
    private var everConnected = false
    private var subscribers: [UInt64: Subscriber]
    private var nextSID: UInt64 = 2
    private(set) var requests: [String: Inbox] = [:]
    private var nextToken: UInt64 = 0
    private var connectWaiters: [UInt64: Waiter] = [:]
    private var nextWaiterID: UInt64 = 1
    private var closeWaiters: [Waiter] = []

    init(servers: [ServerAddress], options: ConnectionOptions, replyPrefix: String) {
        self.servers = servers
        self.options = options
        self.replyPrefix = replyPrefix
        self.subscribers = [Self.replySID: Subscriber(subject: "\(replyPrefix).*", queue: nil, inbox: nil)]
    }

    var isConnected: Bool {
        if case .connected = state { return true }
        return false
    }

    /// The attempt the channel events are for; events of other attempts are stale.
    private var currentEpoch: UInt64? {
        switch state {
        case .connecting(let attempt), .handshaking(let attempt, _): return attempt.epoch
        case .connected(let link): return link.epoch
        default: return nil
        }
    }

    /// Whether a close was requested or happened.
    var isClosing: Bool {
        switch state {
        case .closing, .closed: return true
        default: return false
        }
    }
}

// MARK: - The run loop

extension ConnectionStateMachine {
    /// ``Connection/run()`` starts: `.retry`, `.stop` when closed before it ran, `.fail` when it runs already.
    mutating func start() -> Action {
        guard !started else { return .fail(NATSError.invalidArgument("run() was already called on this connection")) }
        started = true
        guard case .idle = state else { return .stop(Teardown()) }
        state = .disconnected(wakeup: nil)
        return .retry
    }

    /// The run loop is ready for its next attempt: `.connect` to the next server in turn, or `.stop` when a
    /// close was requested or the run task is cancelled.
    mutating func nextAttempt(waiter: Waiter, cancelled: Bool = false) -> Action {
        guard case .disconnected = state, !cancelled else { return .stop(close(error: nil)) }
        epoch += 1
        let server = servers[nextServer % servers.count]
        nextServer += 1
        state = .connecting(Attempt(epoch: epoch, server: server, waiter: waiter))
        return .connect(server, epoch: epoch)
    }

    /// The current attempt failed with `error`: `.retry`, `.backoff` after each round over the server list,
    /// or `.stop` when giving up (or closing).
    mutating func attemptFailed(_ error: NATSError) -> Action {
        switch state {
        case .connecting, .handshaking, .disconnected: break
        default: return .stop(close(error: nil))
        }
        failures += 1
        if !everConnected && !options.retryOnFailedConnect && failures >= servers.count {
            return .stop(close(error: error))
        }
        if let limit = options.maxReconnectAttempts, everConnected, failures >= limit {
            let reason = "gave up after \(failures) reconnect attempts; last error: \(error.reason)"
            return .stop(close(error: NATSError(.connectionClosed, reason)))
        }
        state = .disconnected(wakeup: nil)
        return failures % servers.count == 0 ? .backoff(round: failures / servers.count) : .retry
    }

    /// A backoff starts; `false` when a close was requested, so there is nothing to wait for.
    mutating func backoffStarted(wakeup: Waiter) -> Bool {
        guard case .disconnected = state else { return false }
        state = .disconnected(wakeup: wakeup)
        return true
    }

    /// The backoff ended; returns its wakeup to finish.
    mutating func backoffEnded() -> Waiter? {
        guard case .disconnected(let wakeup) = state else { return nil }
        state = .disconnected(wakeup: nil)
        return wakeup
    }
}

// MARK: - The channel

extension ConnectionStateMachine {
    mutating func channelActive(_ channel: Channel, epoch: UInt64) -> Action {
        guard case .connecting(var attempt) = state, attempt.epoch == epoch else { return .closeChannel(channel) }
        attempt.channel = channel
        state = .connecting(attempt)
        return .none
    }

    /// The server sent `operation` on the channel of attempt `epoch`.
    mutating func received(_ operation: ServerOp, epoch: UInt64) -> Action {
        if case .msg(let message) = operation { return deliver(message) }
        guard currentEpoch == epoch else { return .none }
        switch state {
        case .connecting(let attempt):
            guard case .info(let info) = operation else {
                return .drop(dropAttempt(NATSError.protocolError("the server did not start with INFO")))
            }
            return handshake(attempt, info: info)
        case .handshaking(let attempt, let channel):
            switch operation {
            case .pong:
                state = .connected(Link(epoch: epoch, channel: channel))
                failures = 0
                everConnected = true
                let waiters = connectWaiters.sorted { $0.key < $1.key }.map(\.value)
                connectWaiters.removeAll()
                return .resume([attempt.waiter] + waiters)
            case .err(let text):
                let lowered = text.lowercased()
                let refused =
                    lowered.contains("authorization") || lowered.contains("authentication")
                    ? NATSError(.authorizationViolation, "the server rejected the credentials: \(text)")
                    : NATSError(.serverError, "the server refused the connection: \(text)")
                return .drop(dropAttempt(refused))
            case .ping: return .sendPong(channel)
            case .info(let info): update(info)
            case .ok, .msg: break
            }
        case .connected(var link):
            switch operation {
            case .pong:
                link.pingsOutstanding = 0
                let flush = link.pongs.isEmpty ? nil : link.pongs.removeFirst()
                state = .connected(link)
                if let flush { return .resume([flush]) }
            case .ping: return .sendPong(link.channel)
            case .err(let text): return .serverError(text)
            case .info(let info): update(info)
            case .ok, .msg: break
            }
        default:
            break
        }
        return .none
    }

    /// The channel of attempt `epoch` closed: the attempt fails, or requests and flushes in flight fail
    /// with ``NATSError/Code/connectionLost``.
    mutating func channelClosed(epoch: UInt64) -> Action {
        guard currentEpoch == epoch else { return .none }
        return .drop(dropCurrent(NATSError(.connectionFailed, "the server closed the connection during the handshake")))
    }

    /// The channel of attempt `epoch` failed (malformed input, a socket error, a handshake timeout): the
    /// attempt fails with `error`, or requests and flushes in flight fail with
    /// ``NATSError/Code/connectionLost``.
    mutating func channelFailed(_ error: NATSError, epoch: UInt64) -> Action {
        guard currentEpoch == epoch else { return .none }
        return .drop(dropCurrent(error))
    }

    /// The liveness timer of connection `epoch` fired: `.sendPing`, `.dropStale` when too many pings went
    /// unanswered, `.none` when that connection is gone (the timer stops).
    mutating func pingTimerFired(epoch: UInt64) -> Action {
        guard case .connected(var link) = state, link.epoch == epoch else { return .none }
        guard link.pingsOutstanding < options.maxPingsOutstanding else { return .dropStale(link.channel) }
        link.pingsOutstanding += 1
        link.pongs.append(nil)
        state = .connected(link)
        return .sendPing(link.channel)
    }

    private mutating func handshake(_ attempt: Attempt, info: ServerInfo) -> Action {
        if info.tlsRequired == true {
            let unsupported = NATSError(
                .connectionFailed,
                "the server requires TLS, which this client does not support"
            )
            return .drop(dropAttempt(unsupported))
        }
        guard let channel = attempt.channel else {
            return .drop(dropAttempt(NATSError.protocolError("INFO before the channel became active")))
        }
        update(info)
        state = .handshaking(attempt, channel: channel)
        let subscriptions = subscribers.sorted { $0.key < $1.key }.map {
            Resubscription(sid: $0.key, subject: $0.value.subject, queue: $0.value.queue)
        }
        return .sendConnect(channel, info, attempt.server, subscriptions)
    }

    private mutating func update(_ info: ServerInfo) {
        self.info = info
        guard options.discoverServers else { return }
        for url in info.connectURLs ?? [] {
            guard let address = try? ServerAddress(parsing: url) else { continue }
            if !servers.contains(where: { $0.host == address.host && $0.port == address.port }) {
                servers.append(address)
            }
        }
    }

    private func deliver(_ message: InboundMessage) -> Action {
        let inbox: Inbox?
        if message.sid == Self.replySID {
            let prefixLength = replyPrefix.utf8.count + 1
            guard message.subject.utf8.count > prefixLength else { return .none }
            inbox = requests[String(message.subject.dropFirst(replyPrefix.count + 1))]
        } else {
            inbox = subscribers[message.sid]?.inbox
        }
        return inbox.map { .deliver(message, to: $0) } ?? .none
    }

    /// Ends the current attempt with `error`, or the current connection.
    private mutating func dropCurrent(_ attemptError: NATSError) -> Loss {
        guard case .connected(let link) = state else { return dropAttempt(attemptError) }
        state = .disconnected(wakeup: nil)
        return lost(link)
    }

    /// What a connection leaves behind: its channel, requests and flushes in flight.
    private mutating func lost(_ link: Link) -> Loss {
        let flushes = link.pongs.compactMap { $0 }
        let error = NATSError(.connectionLost, "the connection to the server was lost")
        return Loss(channel: link.channel, error: error, requests: takeRequests(), flushes: flushes)
    }

    /// Ends the current attempt with `error`; requests in flight are lost when `CONNECT` was already sent.
    private mutating func dropAttempt(_ error: NATSError) -> Loss {
        switch state {
        case .connecting(let attempt):
            state = .disconnected(wakeup: nil)
            return Loss(channel: attempt.channel, attempt: attempt.waiter, error: error)
        case .handshaking(let attempt, let channel):
            state = .disconnected(wakeup: nil)
            return Loss(channel: channel, attempt: attempt.waiter, error: error, requests: takeRequests())
        default:
            return Loss(error: error)
        }
    }

    private mutating func takeRequests() -> [Inbox] {
        defer { requests.removeAll() }
        return requests.sorted { $0.key < $1.key }.map(\.value)
    }
}

// MARK: - Callers

extension ConnectionStateMachine {
    /// The channel to publish on and the server's `max_payload`.
    ///
    /// - Throws: ``NATSError/Code/notConnected`` or ``NATSError/Code/connectionClosed``.
    func publishChannel() throws -> (Channel, Int?) {
        switch state {
        case .connected(let link): return (link.channel, info?.maxPayload)
        case .closing, .closed: throw NATSError(.connectionClosed, "the connection is closed")
        default: throw NATSError(.notConnected, "not connected (reconnecting)")
        }
    }

    /// Queues a flush behind the next `PING`; returns the channel to send it on.
    mutating func flush(_ waiter: Waiter) throws -> Channel {
        let (channel, _) = try publishChannel()
        guard case .connected(var link) = state else { return channel }
        link.pongs.append(waiter)
        state = .connected(link)
        return channel
    }

    /// Registers a subscription; returns its id and the channel to send its `SUB` on, if the handshake
    /// has already sent the others (otherwise the next handshake sends it).
    mutating func subscribe(subject: String, queue: String?, inbox: Inbox) throws -> (UInt64, Channel?) {
        if case .closed = state { throw NATSError(.connectionClosed, "the connection is closed") }
        let sid = nextSID
        nextSID += 1
        subscribers[sid] = Subscriber(subject: subject, queue: queue, inbox: inbox)
        switch state {
        case .handshaking(_, let channel): return (sid, channel)
        case .connected(let link): return (sid, link.channel)
        default: return (sid, nil)
        }
    }

    /// Removes a subscription; returns its inbox to finish and, when connected and it existed, the
    /// channel to send `UNSUB` on.
    mutating func unsubscribe(_ sid: UInt64) -> (inbox: Inbox?, channel: Channel?)? {
        guard let subscriber = subscribers.removeValue(forKey: sid) else { return nil }
        guard case .connected(let link) = state else { return (subscriber.inbox, nil) }
        return (subscriber.inbox, link.channel)
    }

    /// Registers a request inbox; returns its token (the last token of its reply subject).
    mutating func openInbox(_ inbox: Inbox) -> String {
        nextToken += 1
        let token = String(nextToken)
        requests[token] = inbox
        return token
    }

    mutating func closeInbox(_ token: String) -> Inbox? {
        requests.removeValue(forKey: token)
    }

    /// Waits for the connection: `nil` when it is up, else the id of the registered waiter.
    ///
    /// - Throws: The error the connection closed with, or ``NATSError/Code/connectionClosed``.
    mutating func waitUntilConnected(_ waiter: Waiter) throws -> UInt64? {
        switch state {
        case .connected: return nil
        case .closed(let error): throw error ?? NATSError(.connectionClosed, "the connection is closed")
        default:
            let id = nextWaiterID
            nextWaiterID += 1
            connectWaiters[id] = waiter
            return id
        }
    }

    mutating func cancelWait(_ id: UInt64) -> Waiter? {
        connectWaiters.removeValue(forKey: id)
    }

    /// Closes the connection: the run loop stops at its next step, in-flight work on the channel fails now.
    /// `waiter`, if any, is resumed once everything has ended.
    mutating func requestClose(waiter: Waiter?) -> Action {
        let closing = NATSError(.connectionClosed, "the connection is closing")
        let loss: Loss
        switch state {
        case .idle:
            var teardown = close(error: nil)
            teardown.closeWaiters += waiter.map { [$0] } ?? []
            return .stop(teardown)
        case .closed:
            return waiter.map { .resume([$0]) } ?? .none
        case .closing:
            closeWaiters += waiter.map { [$0] } ?? []
            return .none
        case .connecting, .handshaking:
            loss = dropAttempt(closing)
        case .connected(let link):
            loss = lost(link)
        case .disconnected(let wakeup):
            loss = Loss(error: closing, wakeup: wakeup)
        }
        closeWaiters += waiter.map { [$0] } ?? []
        state = .closing
        return .drop(loss)
    }

    /// Ends everything and moves to `closed(error)`.
    private mutating func close(error: NATSError?) -> Teardown {
        var teardown = Teardown(error: error)
        switch state {
        case .connecting(let attempt):
            teardown.channel = attempt.channel
            teardown.attempt = attempt.waiter
        case .handshaking(let attempt, let channel):
            teardown.channel = channel
            teardown.attempt = attempt.waiter
        case .connected(let link):
            teardown.channel = link.channel
            teardown.flushes = link.pongs.compactMap { $0 }
        case .disconnected(let wakeup):
            teardown.closeWaiters += wakeup.map { [$0] } ?? []
        case .idle, .closing, .closed:
            break
        }
        teardown.subscriptions = subscribers.sorted { $0.key < $1.key }.compactMap(\.value.inbox)
        subscribers.removeAll()
        teardown.requests = takeRequests()
        teardown.connectWaiters = connectWaiters.sorted { $0.key < $1.key }.map(\.value)
        connectWaiters.removeAll()
        teardown.closeWaiters += closeWaiters
        closeWaiters.removeAll()
        if case .closed = state {} else { state = .closed(error) }
        return teardown
    }
}

extension ConnectionStateMachine: Sendable where Channel: Sendable, Inbox: Sendable, Waiter: Sendable {}
extension ConnectionStateMachine.State: Sendable where Channel: Sendable, Inbox: Sendable, Waiter: Sendable {}
extension ConnectionStateMachine.Attempt: Sendable where Channel: Sendable, Waiter: Sendable {}
extension ConnectionStateMachine.Link: Sendable where Channel: Sendable, Waiter: Sendable {}
extension ConnectionStateMachine.Subscriber: Sendable where Inbox: Sendable {}
extension ConnectionStateMachine.Loss: Sendable where Channel: Sendable, Inbox: Sendable, Waiter: Sendable {}
extension ConnectionStateMachine.Teardown: Sendable where Channel: Sendable, Inbox: Sendable, Waiter: Sendable {}
extension ConnectionStateMachine.Action: Sendable where Channel: Sendable, Inbox: Sendable, Waiter: Sendable {}

extension ConnectionStateMachine.State: Equatable where Channel: Equatable, Waiter: Equatable {}
extension ConnectionStateMachine.Attempt: Equatable where Channel: Equatable, Waiter: Equatable {}
extension ConnectionStateMachine.Link: Equatable where Channel: Equatable, Waiter: Equatable {}
extension ConnectionStateMachine.Loss: Equatable where Channel: Equatable, Inbox: Equatable, Waiter: Equatable {}
extension ConnectionStateMachine.Teardown: Equatable where Channel: Equatable, Inbox: Equatable, Waiter: Equatable {}
extension ConnectionStateMachine.Action: Equatable where Channel: Equatable, Inbox: Equatable, Waiter: Equatable {}
