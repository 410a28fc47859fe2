/// How a ``Connection`` connects, authenticates, reconnects and times out.
public struct ConnectionOptions: Sendable {
    /// Credentials for servers whose URL carries none.
    public var credentials: Credentials?
    /// The client name the server shows in its monitoring.
    public var name: String?
    /// How long a TCP connect plus the `INFO`/`CONNECT`/`PING`/`PONG` handshake may take.
    public var connectTimeout: Duration = .seconds(2)
    /// The default timeout of ``Connection/request(subject:payload:headers:timeout:)`` and
    /// ``Connection/flush(timeout:)``.
    public var requestTimeout: Duration = .seconds(5)
    /// How often the client pings an idle connection to check it is alive.
    public var pingInterval: Duration = .seconds(60)
    /// How many pings may go unanswered before the connection counts as stale and is dropped.
    public var maxPingsOutstanding: Int = 2
    /// The first reconnect delay, after every server in the list has failed once.
    public var reconnectDelay: Duration = .milliseconds(100)
    /// The longest reconnect delay; delays double per failed round up to this, with jitter.
    public var maxReconnectDelay: Duration = .seconds(2)
    /// How many consecutive failed reconnect attempts end the connection; `nil` retries forever.
    public var maxReconnectAttempts: Int?
    /// Whether ``Connection/run()`` keeps trying when no server can be reached at the very start
    /// (otherwise it fails after one attempt per server).
    public var retryOnFailedConnect: Bool = false
    /// Whether cluster URLs the servers advertise (`connect_urls`) join the reconnect list.
    public var discoverServers: Bool = true
    /// The prefix of the connection's reply subjects.
    public var inboxPrefix: String = "_INBOX"
    /// How many undelivered messages a subscription buffers before it drops new ones (slow consumer).
    public var subscriptionBufferLimit: Int = 65_536

    /// Creates options with defaults.
    public init(credentials: Credentials? = nil, name: String? = nil) {
        self.credentials = credentials
        self.name = name
    }
}
