// The one line to change when SQLiteTransport moves from the side package's BusStorage into Storage:
import Storage
import EventBus
import Foundation
import SealedTesting
import JetStreamBus
import Logging
import NATS
import PostgresStorage
import Testing

/// What the contract tests configure on every transport: short timeouts so redelivery happens within a test.
struct TransportSettings: Sendable {
    /// The embedded redelivery timeout and JetStream's `ack_wait`.
    var redeliveryTimeout: Duration = .seconds(1)
    /// The largest payload accepted.
    var maxEventBytes = 8192
}

/// A transport's store, which tests open transports over, one after another (a "restart") or side by side.
struct TransportHarness: Sendable {
    let open: @Sendable (_ body: (any Transport) async throws -> Void) async throws -> Void

    /// Opens a transport over the store, runs `body`, and closes the transport.
    func withTransport(_ body: (any Transport) async throws -> Void) async throws { try await open(body) }
}

/// A `Transport` implementation the contract runs against; add a case to `all` to hold a new transport to the
/// contract.
struct TransportKind: Sendable, CustomTestStringConvertible {
    let name: String
    /// Whether `TopicInfo.bytes` and size retention count payload bytes only (JetStream counts each message's
    /// subject, headers and bookkeeping too).
    var countsPayloadBytesOnly = true
    let run:
        @Sendable (_ settings: TransportSettings, _ body: (TransportHarness) async throws -> Void) async throws -> Void

    var testDescription: String { name }

    /// Runs `body` with a new, empty store. A kind whose peer is missing outside CI prints a note and returns
    /// without running `body`.
    func withStore(
        _ settings: TransportSettings = .init(),
        _ body: (TransportHarness) async throws -> Void
    )
        async throws
    {
        try await run(settings, body)
    }

    /// Runs `body` with one transport over a new, empty store.
    func withTransport(
        _ settings: TransportSettings = .init(),
        _ body: (any Transport) async throws -> Void
    )
        async throws
    {
        try await run(settings) { harness in try await harness.withTransport(body) }
    }

    static let inMemory = TransportKind(name: "InMemoryTransport") { settings, body in
        let transport = InMemoryTransport(configuration: settings.embedded)
        try await body(TransportHarness { body in try await body(transport) })
    }

    static let sqlite = TransportKind(name: "SQLiteTransport") { settings, body in
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("bus.sqlite").path
            try await body(
                TransportHarness { body in
                    let transport = try SQLiteTransport(path: path, configuration: settings.embedded)
                    do {
                        try await body(transport)
                    } catch {
                        try? transport.close()
                        throw error
                    }
                    try transport.close()
                }
            )
        }
    }

    static let jetStream = TransportKind(name: "JetStreamTransport", countsPayloadBytesOnly: false) { settings, body in
        guard let binary = try NATSServer.binary() else { return }
        let server = try NATSServer(binary: binary)
        defer { server.kill() }
        try await body(
            TransportHarness { body in
                let transport = try JetStreamTransport(
                    servers: server.url,
                    configuration: .test(settings),
                    logger: .test
                )
                try await transport.withRunning { try await body($0) }
            }
        )
    }

    /// A database of its own on `scripts/test`'s PostgreSQL server; each transport opened over it has its own pool
    /// and listener, as a restarted replica would.
    static let postgres = TransportKind(name: "PostgresTransport") { settings, body in
        guard let fixture = try PostgresFixture.located() else { return }
        try await fixture.withDatabase { url in
            try await body(
                TransportHarness { body in
                    try await withPostgresTransport(url: url, configuration: settings.embedded) { try await body($0) }
                }
            )
        }
    }

    static let all: [TransportKind] = [.inMemory, .sqlite, .jetStream, .postgres]
}

extension TransportSettings {
    var embedded: EmbeddedTransportConfiguration {
        EmbeddedTransportConfiguration(redeliveryTimeout: redeliveryTimeout, maxEventBytes: maxEventBytes)
    }
}

extension JetStreamTransport.Configuration {
    /// Short waits and quick reconnects for tests.
    static func test(_ settings: TransportSettings = .init(), replicas: Int = 1) -> Self {
        var configuration = JetStreamTransport.Configuration(
            replicas: replicas,
            ackWait: settings.redeliveryTimeout,
            // Generous: 800 tests share two cores, and a JetStream API reply can wait seconds for a thread.
            publishTimeout: .seconds(10),
            requestTimeout: .seconds(10),
            maxEventBytes: settings.maxEventBytes
        )
        configuration.connection.reconnectDelay = .milliseconds(20)
        configuration.connection.maxReconnectDelay = .milliseconds(250)
        return configuration
    }
}

/// Runs `body` with a listening `PostgresTransport` on the database at `url`, over a pool of its own (a replica).
func withPostgresTransport(
    url: String,
    configuration: EmbeddedTransportConfiguration,
    recheckInterval: Duration = .seconds(5),
    maximumConnections: Int = 4,
    clock: any Clock<Duration> = ContinuousClock(),
    _ body: (PostgresTransport) async throws -> Void
) async throws {
    let url = try PostgresURL(url)
    try await PostgresDatabase.withDatabase(url, maximumConnections: maximumConnections, logger: .quiet) { database in
        let transport = PostgresTransport(
            database: database,
            configuration: configuration,
            recheckInterval: recheckInterval,
            clock: clock,
            logger: .test
        )
        try await transport.withListening { try await body($0) }
    }
}

extension Logger {
    /// Silent: the pools' background log of every test database would bury the test output.
    static let quiet = Logger(label: "event-bus-tests.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A logger for tests: warnings and worse.
    static let test: Logger = {
        var logger = Logger(label: "event-bus-tests")
        logger.logLevel = .warning
        return logger
    }()
}
