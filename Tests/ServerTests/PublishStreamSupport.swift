import AccessControl
import AsyncHTTPClient
import AuditTrail
import Catalog
import Composition
import EventBus
import Foundation
import KMS
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PlatformClient
import SealedServerTesting
import Server
import SigV4
import Synchronization
import Testing
import WireShapes

/// The platform in memory with a domain `shop` and two event types — `shop.page.viewed` (public, taken unsealed) and
/// `shop.card.captured` (restricted: refused unless sealed) — and a topic `orders`; served live on a free port, with
/// its bus's transport optionally wrapped and its publish streams configured per test.
struct StreamWorld {
    static let publicType = "shop.page.viewed"
    static let restrictedType = "shop.card.captured"
    /// A value every test event carries in its data: no audit record may hold it.
    static let secret = "4111 1111 1111 1111"

    let fixture: PlatformFixture

    init() async throws {
        fixture = try await PlatformFixture(logger: Fixture.logger)
        let admin = fixture.platform.administratorARN
        _ = try await fixture.identities.createTeam("shop", by: .platform)
        _ = try await fixture.catalog.createDomain("shop", owner: "shop", by: admin)
        _ = try await fixture.catalog.createEventType(
            .init(name: Self.publicType, domain: "shop", classification: .public),
            by: admin
        )
        _ = try await fixture.catalog.createEventType(
            .init(name: Self.restrictedType, domain: "shop", classification: .restricted),
            by: admin
        )
        _ = try await fixture.platform.bus.transport.createTopic(TopicConfiguration(name: "orders"))
    }

    var transport: any EventBus.Transport { fixture.platform.bus.transport }

    /// The server of the platform on a free port, its bus on `transport` (the platform's by default).
    func server(
        transport: (any EventBus.Transport)? = nil,
        streams: PublishStream.Configuration = PublishStream.Configuration()
    ) -> SealedServer {
        let platform = fixture.platform
        return SealedServer(
            configuration: SealedServer.Configuration(
                host: "127.0.0.1",
                port: 0,
                region: platform.configuration.region,
                accountID: platform.configuration.accountID
            ),
            keyService: platform.keyService,
            authentication: .store(platform.credentials),
            platform: Platform(
                identities: platform.identities,
                catalog: platform.catalog,
                access: platform.access,
                subjects: platform.subjects
            ),
            auditSink: platform.audit.sink,
            busRoutes: BusRoutes(
                transport: transport ?? platform.bus.transport,
                governor: platform.bus.governor,
                identities: platform.identities,
                groupOwners: platform.bus.groupOwners,
                streams: streams
            ),
            logger: Fixture.logger
        )
    }

    /// An unsealed envelope of `type`, one line of compact JSON.
    static func envelope(_ id: String, type: String = publicType) -> [UInt8] {
        Array(
            #"{"metaData":{"eventId":"\#(id)","eventType":"\#(type)","domain":"shop","source":"tests"},"#.utf8
        ) + Array(#""data":{"card":"\#(secret)","n":1}}"#.utf8)
    }

    /// Every record of the trail, oldest first.
    func records() async throws -> [Record] {
        try await fixture.audit.tail(after: 0, limit: 100_000).map(\.record)
    }

    /// Every event of `topic`: `(offset, id, payload)`.
    func events(_ topic: String = "orders") async throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        while true {
            let page = try await transport.read(
                topic: topic,
                from: (events.last?.offset ?? 0) + 1,
                limit: 1_000,
                wait: .zero
            )
            guard !page.isEmpty else { return events }
            events += page
        }
    }
}

/// A raw client of the publish stream: signs the opening request (or not), streams lines, reads acknowledgements.
struct StreamClient {
    let transport: KMS.Transport
    let port: Int

    init(port: Int, keys: PlatformFixture.Keys, secret: String? = nil) throws {
        self.port = port
        transport = try KMS.Transport(
            httpClient: HTTPClient.shared,
            endpoint: URL(string: "http://127.0.0.1:\(port)")!,
            region: "us-east-1",
            service: "sealed",
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: keys.id, secretAccessKey: secret ?? keys.secret)
            ),
            options: ClientOptions(),
            logger: Fixture.logger
        )
    }

    /// An open stream: the lines to send, and the acknowledgements read.
    struct Stream {
        let response: HTTPClientResponse
        let body: AsyncStream<ByteBuffer>.Continuation
        var acknowledgements: Acknowledgements

        func send(_ lines: [[UInt8]]) {
            var buffer = ByteBuffer()
            for line in lines {
                buffer.writeBytes(line)
                buffer.writeString("\n")
            }
            body.yield(buffer)
        }

        func end() { body.finish() }
    }

    /// Opens a signed stream to `topic` (or `path`), with `UNSIGNED-PAYLOAD`; `whole` is sent, and the body ended,
    /// before waiting for the answer's head (a route that reads the whole body first answers only then).
    func open(
        topic: String = "orders",
        path: String? = nil,
        signed: Bool = true,
        whole: [[UInt8]]? = nil
    ) async throws -> Stream {
        let (body, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        if let whole {
            continuation.yield(ByteBuffer(bytes: whole.flatMap { $0 + [UInt8(ascii: "\n")] }))
            continuation.finish()
        }
        let path = path ?? "/v1/topics/\(topic)/events:stream"
        var request: HTTPClientRequest
        if signed {
            request = try await transport.streamingRequest(
                method: "POST",
                path: path,
                headers: [(name: "Content-Type", value: "application/x-ndjson")]
            )
        } else {
            request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = .POST
            request.headers.add(name: "x-amz-content-sha256", value: "UNSIGNED-PAYLOAD")
        }
        request.body = .stream(body, length: .unknown)
        let response = try await transport.client.execute(request, timeout: .seconds(60))
        return Stream(response: response, body: continuation, acknowledgements: Acknowledgements(response.body))
    }

    /// Sends `lines`, ends the body, and returns every acknowledgement line.
    func publish(_ lines: [[UInt8]], topic: String = "orders") async throws -> [EventStreamLine] {
        var stream = try await open(topic: topic)
        try #require(stream.response.status == .ok)
        stream.send(lines)
        stream.end()
        return try await stream.acknowledgements.all()
    }
}

/// The acknowledgement lines of a stream's answer.
struct Acknowledgements {
    private var chunks: HTTPClientResponse.Body.AsyncIterator
    private var lines: [[UInt8]] = []
    private var splitter = AcknowledgementLines()

    init(_ body: HTTPClientResponse.Body) { chunks = body.makeAsyncIterator() }

    /// The next line; `nil` at the end of the answer.
    @concurrent mutating func next() async throws -> EventStreamLine? {
        while lines.isEmpty {
            guard let chunk = try await chunks.next() else { return nil }
            lines += splitter.lines(in: chunk)
        }
        return try EventStreamLine(parsing: lines.removeFirst())
    }

    /// The rest of the answer's bytes, as they are (an error answer's JSON).
    @concurrent mutating func remainingBytes() async throws -> [UInt8] {
        var bytes = lines.flatMap { $0 + [UInt8(ascii: "\n")] }
        lines = []
        while let chunk = try await chunks.next() { bytes += chunk.readableBytesView }
        return bytes
    }

    /// Every line up to the end of the answer.
    @concurrent mutating func all() async throws -> [EventStreamLine] {
        var all: [EventStreamLine] = []
        while let line = try await next() { all.append(line) }
        return all
    }
}

/// A transport that forwards to a real one, except that each `publish` waits until the test opens the gate: a slow
/// transport on demand. It tells how many publishes are waiting and how many events they carry.
final class GatedTransport: EventBus.Transport {
    let base: any EventBus.Transport
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>], events: Int, calls: Int)>(
        (false, [], 0, 0)
    )
    private let arrivals: AsyncStream<Int>.Continuation
    /// The event count of each publish as it arrives at the gate.
    let publishes: AsyncStream<Int>

    init(_ base: any EventBus.Transport) {
        self.base = base
        (publishes, arrivals) = AsyncStream.makeStream(of: Int.self)
    }

    /// Lets every waiting and later publish through.
    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in waiting { waiter.resume() }
    }

    /// The events handed to `publish` so far, and the number of calls.
    var received: (events: Int, calls: Int) { state.withLock { ($0.events, $0.calls) } }

    func publish(_ events: [OutgoingEvent], to topic: String) async throws -> [UInt64] {
        state.withLock {
            $0.events += events.count
            $0.calls += 1
        }
        arrivals.yield(events.count)
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
        return try await base.publish(events, to: topic)
    }

    func createTopic(_ configuration: TopicConfiguration) async throws -> TopicInfo {
        try await base.createTopic(configuration)
    }
    func deleteTopic(named name: String) async throws { try await base.deleteTopic(named: name) }
    func topics() async throws -> [TopicInfo] { try await base.topics() }
    func topic(named name: String) async throws -> TopicInfo? { try await base.topic(named: name) }
    func read(topic: String, from offset: UInt64, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try await base.read(topic: topic, from: offset, limit: limit, wait: wait)
    }
    func fetch(group: String, topic: String, limit: Int, wait: Duration) async throws -> [StoredEvent] {
        try await base.fetch(group: group, topic: topic, limit: limit, wait: wait)
    }
    func commit(group: String, topic: String, offset: UInt64) async throws {
        try await base.commit(group: group, topic: topic, offset: offset)
    }
    func committedOffset(group: String, topic: String) async throws -> UInt64? {
        try await base.committedOffset(group: group, topic: topic)
    }
}

/// A TCP proxy in front of the server that cuts its first connection as soon as the server answers an
/// acknowledgement on it: that chunk of acknowledgements never reaches the client, though its events are stored.
/// Later connections pass through untouched.
final class CuttingProxy: Sendable {
    let port: Int
    private let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    private let connections = Mutex(0)
    private let cuts = Mutex(0)

    /// Connections accepted, and connections cut.
    var counts: (connections: Int, cuts: Int) { (connections.withLock { $0 }, cuts.withLock { $0 }) }

    init() async throws {
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        port = server.channel.localAddress?.port ?? 0
    }

    private struct Cut: Error {}

    /// Relays connections to `upstream` until cancelled.
    func run(upstream: Int) async throws {
        try await server.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in inbound {
                    let number = connections.withLock {
                        $0 += 1
                        return $0
                    }
                    group.addTask { try? await self.relay(connection, to: upstream, cutting: number == 1) }
                }
            }
        }
    }

    private func relay(
        _ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>,
        to upstream: Int,
        cutting: Bool
    ) async throws {
        let target = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: upstream) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await connection.executeThenClose { clientIn, clientOut in
            try await target.executeThenClose { serverIn, serverOut in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { for try await chunk in clientIn { try await serverOut.write(chunk) } }
                    group.addTask {
                        for try await chunk in serverIn {
                            if cutting, String(buffer: chunk).contains(#""EventId""#) {
                                self.cuts.withLock { $0 += 1 }
                                throw Cut()
                            }
                            try await clientOut.write(chunk)
                        }
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}

/// Waits (without a deadline of its own: the test's time limit bounds it) until `condition` holds.
func eventually(_ condition: () async throws -> Bool) async throws {
    while try await !condition() { try await Task.sleep(for: .milliseconds(5)) }
}
