import Composition
import EventBus
import Hummingbird
import Logging
import NIOCore
import SealedEvents
import SealedSupport
import Synchronization
import WireShapes

/// `POST /v1/topics/{topic}/events:stream`: many events on one long-lived request, each acknowledged on its own.
///
/// **The exchange.** The request body is newline-delimited envelopes (NDJSON, usually chunked); the answer (200,
/// `application/x-ndjson`) is one ``WireShapes/EventStreamLine`` per event, in the request's order, written while the
/// request is still being read: HTTP/1.1 full duplex, which Hummingbird 2 (the response body is written by its own
/// closure while the request body is read) and AsyncHTTPClient (it hands over the response head and body while the
/// request body still streams) both do. A blank line is skipped. The stream ends cleanly when the client ends its
/// body: every event read is acknowledged, then the answer ends. It ends early, after a last
/// ``WireShapes/EventStreamLine/ended(code:message:)`` line, when the transport or the audit trail fails, or when no
/// byte arrived for ``Configuration/idleTimeout``; the server then closes the connection.
///
/// **Why not a WebSocket.** A WebSocket would add hummingbird-websocket and a WebSocket client to the package, and
/// take the stream out of the `/v1` middleware (SigV4, audit, metrics, source address) that every other route goes
/// through; its framing buys nothing NDJSON over a chunked body does not, since TCP already carries the back-pressure
/// and the acknowledgements are a stream of lines. A plain HTTP request also works with `curl -T -` and any proxy.
///
/// **Authentication.** The opening request is SigV4-signed like every request, with
/// `x-amz-content-sha256: UNSIGNED-PAYLOAD`, which the server accepts on this route only (``SigV4Authenticator``):
/// the body cannot be hashed before it has all arrived. Per-chunk signatures (S3's `aws-chunked`) would bind every
/// chunk to the signing key, but no HTTP client speaks that framing, and it would protect nothing the server relies
/// on: the principal is authenticated by the opening request, every event passes governance on its own (a
/// `confidential` or `restricted` one is checked to be sealed with its domain's KMS key, which only a caller allowed to
/// use that key can produce), and every stored event is audited under the principal's name. What an unsigned body
/// gives up is integrity against someone who can change the bytes in transit, which TLS in front of the server
/// provides, as it must for every route anyway. A stream signed with a body hash is also accepted (its body is then
/// read whole first, within the server's body limit).
///
/// **Inside.** A reader task splits the body into lines (each at most the governor's event limit plus
/// ``Configuration/lineSlack`` bytes) and parses each; a ``BoundedQueue`` (``Configuration/maximumQueuedEvents``
/// and ``Configuration/maximumQueuedBytes``) stands between it and the publishing task, and a reader that finds it
/// full stops reading, so the client's writes stop when TCP's buffers are full. The publishing task takes what is
/// queued, up to ``Configuration/maximumGroupEvents``, and for that group:
///
/// 1. runs governance per event (``Composition/PublishGovernor``); a refused event gets its own refusal line and its
///    own audit record (its rule and message, its `metaData` summary, never its data), and the others go on;
/// 2. publishes the admitted ones with one `transport.publish` (durable when it returns; an event id the topic
///    already holds gets its earlier offset, so a client that resends after a broken connection stores nothing twice);
/// 3. writes one audit record for the group (`PublishEventStream`, the principal, `topic`, `eventIds`, `eventTypes`,
///    `offsets`: never payload bytes), through the request's ``AuditNote``, and waits until it is durable;
/// 4. only then writes the group's acknowledgement lines.
///
/// A line that is not JSON is refused as `MalformedEnvelope`, a line too long to read as `EventTooLarge` (its bytes
/// are skipped up to its newline, never held); both are one event's refusal, and the stream goes on. The opening
/// request itself is audited as every `/v1` change is: an intent record before anything is read, and its outcome.
public struct PublishStream: Sendable {
    /// The limits of publish streams.
    public struct Configuration: Sendable {
        /// The most events the reader queues ahead of the publishing task. Default 1,024.
        public var maximumQueuedEvents: Int
        /// The most bytes the reader queues ahead of the publishing task. Default 8 MiB.
        public var maximumQueuedBytes: Int
        /// The most events published (and audited) as one group. Default 256.
        public var maximumGroupEvents: Int
        /// The bytes a line may have beyond the governor's largest event before it is skipped unread (the governor
        /// refuses anything over its limit; this only bounds what is held to find out). Default 1,024.
        public var lineSlack: Int
        /// How long the server waits for the next byte of the body before ending the stream (`IdleTimeout`).
        /// Default 60 seconds.
        public var idleTimeout: Duration
        /// A test hook: told the queue's event count and bytes each time the reader finds the queue full and stops
        /// reading.
        public var onReaderWaits: (@Sendable (_ queuedEvents: Int, _ queuedBytes: Int) -> Void)?

        public init(
            maximumQueuedEvents: Int = 1_024,
            maximumQueuedBytes: Int = 8 << 20,
            maximumGroupEvents: Int = 256,
            lineSlack: Int = 1_024,
            idleTimeout: Duration = .seconds(60),
            onReaderWaits: (@Sendable (_ queuedEvents: Int, _ queuedBytes: Int) -> Void)? = nil
        ) {
            self.maximumQueuedEvents = maximumQueuedEvents
            self.maximumQueuedBytes = maximumQueuedBytes
            self.maximumGroupEvents = maximumGroupEvents
            self.lineSlack = lineSlack
            self.idleTimeout = idleTimeout
            self.onReaderWaits = onReaderWaits
        }
    }

    /// One line of the body, as the reader hands it to the publishing task.
    enum Item: Sendable {
        /// A JSON line: its exact bytes (stored as they are) and its value (for governance).
        case envelope(bytes: [UInt8], value: JSONValue, line: Int)
        /// A line refused before governance (not JSON, too long).
        case refused(GovernanceRefusal, line: Int)

        /// What it counts for in the queue's byte bound.
        var size: Int {
            switch self {
            case .envelope(let bytes, _, _): bytes.count
            case .refused: 64
            }
        }
    }

    let topic: String
    /// The request's path, for the audit records' `requestParameters`.
    let path: String
    let transport: any Transport
    let governor: PublishGovernor
    let configuration: Configuration
    let audit: AuditNote?
    let logger: Logger

    /// Reads `body` and writes the acknowledgements to `writer` until the body ends, then ends the answer.
    @concurrent func run(_ body: RequestBody, writer: inout any ResponseBodyWriter) async throws {
        let queue = BoundedQueue<Item>(
            limits: .init(elements: configuration.maximumQueuedEvents, bytes: configuration.maximumQueuedBytes),
            size: { $0.size },
            onProducerWaits: configuration.onReaderWaits
        )
        let idle = IdleWatch()
        let end = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await read(body, into: queue, idle: idle) }
            group.addTask { try await idle.watch(timeout: configuration.idleTimeout) { queue.close() } }
            defer {
                queue.fail(CancellationError())
                group.cancelAll()
            }
            return try await publish(from: queue, writer: &writer)
        }
        var ended = end
        if ended == nil, idle.expired {
            let seconds = configuration.idleTimeout.components.seconds
            ended = .ended(code: "IdleTimeout", message: "no data for \(seconds) s")
        }
        guard let ended else {
            try await writer.finish(nil)
            return
        }
        try await writer.write(ByteBuffer(bytes: ended.serialized()))
        // Closes the connection (the server would otherwise read, and drop, the rest of the body until the client
        // ends it): the client has its last line, and a client that is still sending learns the stream is over.
        throw EndedEarly()
    }

    /// Thrown after an early end's last line, so that the server closes the connection.
    struct EndedEarly: Error {}

    // MARK: - Reading

    /// Splits the body into lines and queues them, waiting while the queue is full; closes the queue at the end of
    /// the body (or when the body fails: the events read so far are still acknowledged, to nobody).
    func read(_ body: RequestBody, into queue: BoundedQueue<Item>, idle: IdleWatch) async {
        defer { queue.close() }
        var splitter = LineSplitter(maximum: governor.maximumEventBytes + configuration.lineSlack)
        do {
            var chunks = body.makeAsyncIterator()
            while true {
                idle.waiting()
                guard let chunk = try await chunks.next() else { break }
                idle.received()
                let lines = chunk.withUnsafeReadableBytes { splitter.lines(in: $0) }
                for line in lines {
                    if let item = item(line) { try await queue.push(item) }
                }
            }
            if let line = splitter.finish(), let item = item(line) { try await queue.push(item) }
        } catch {
            // The client's body broke or the publishing task stopped: nothing more is read.
        }
    }

    /// The queue item of a line; `nil` for a blank one.
    func item(_ line: LineSplitter.Line) -> Item? {
        switch line {
        case .tooLong(let size, let number):
            return .refused(
                GovernanceRefusal(
                    .eventTooLarge,
                    "line \(number) is \(size) bytes; the bus takes events of at most \(governor.maximumEventBytes)"
                ),
                line: number
            )
        case .complete(let bytes, let number):
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return nil }
            do {
                return .envelope(
                    bytes: bytes,
                    value: try JSONParser.parse(bytes, options: JSONValue.parseOptions),
                    line: number
                )
            } catch {
                return .refused(
                    GovernanceRefusal(
                        .malformedEnvelope,
                        "line \(number) is not valid JSON: \(SealedEventsError(json: error).reason)"
                    ),
                    line: number
                )
            }
        }
    }

    // MARK: - Publishing

    /// Publishes the queued events group by group and writes their acknowledgements; returns the line that ends the
    /// stream early, or `nil` when the queue was closed and everything in it acknowledged.
    ///
    /// - Throws: Only when the acknowledgements cannot be written (the client is gone).
    @concurrent func publish(
        from queue: BoundedQueue<Item>,
        writer: inout any ResponseBodyWriter
    ) async throws -> EventStreamLine? {
        while let items = await queue.take(upTo: configuration.maximumGroupEvents) {
            var group = Group(capacity: items.count)
            for item in items {
                switch item {
                case .envelope(let bytes, let value, let line):
                    do {
                        let id = try await governor.admit(size: bytes.count, value: value)
                        group.admit(OutgoingEvent(eventID: id, payload: bytes), type: Self.eventType(of: value))
                    } catch {
                        group.refuse(
                            error,
                            eventId: value["metaData"]?["eventId"]?.stringValue,
                            value: value,
                            line: line
                        )
                    }
                case .refused(let refusal, let line):
                    group.refuse(refusal, eventId: nil, value: nil, line: line)
                }
            }
            do {
                try await store(&group)
            } catch let error as BusError {
                return .ended(code: error.apiCode, message: error.reason)
            } catch is AuditUnavailable {
                return .ended(
                    code: "InternalFailure",
                    message: "The audit trail is unavailable; the events after the last acknowledgement may have been "
                        + "stored: send them again with the same ids."
                )
            } catch {
                logger.error("publish stream failed", metadata: ["error": "\(error)", "topic": "\(topic)"])
                return .ended(
                    code: "InternalFailure",
                    message: "The stream failed; send the unacknowledged events again."
                )
            }
            try await writer.write(ByteBuffer(bytes: group.acknowledgements()))
        }
        return nil
    }

    /// The audit trail could not take a record (the recorder logged why).
    struct AuditUnavailable: Error {}

    /// Publishes the group's admitted events in one durable `transport.publish`, then writes the group's audit record
    /// and one per refusal (in order, each durable before the next), before this returns.
    ///
    /// - Throws: ``EventBus/BusError`` from the transport; ``AuditUnavailable``.
    func store(_ group: inout Group) async throws {
        if !group.events.isEmpty {
            let offsets = try await transport.publish(group.events, to: topic)
            guard offsets.count == group.events.count else {
                throw BusError(
                    .storageFailure,
                    "the transport returned \(offsets.count) offsets for \(group.events.count) events"
                )
            }
            group.stored(at: offsets)
        }
        do {
            try await record(group)
        } catch {
            throw AuditUnavailable()
        }
    }

    /// Writes the group's audit records: one for its stored events, one per refusal.
    func record(_ group: Group) async throws {
        if !group.events.isEmpty {
            try await audit?.recordPart(
                parameters: ["path": .string(path)],
                responseElements: .object([
                    "topic": .string(topic),
                    "eventIds": .array(group.events.map { .string($0.eventID) }),
                    "eventTypes": .array(group.types.map { $0.map(JSONValue.string) ?? .null }),
                    "offsets": .array(group.offsets.map { .number(JSONNumber($0)) }),
                ]),
                error: nil
            )
        }
        for refusal in group.refusals {
            try await audit?.recordPart(
                parameters: [
                    "path": .string(path), "line": .number(JSONNumber(refusal.line)),
                    "events": .array(refusal.value.map(AuditRecorder.eventSummaries) ?? []),
                ],
                responseElements: nil,
                error: refusal.refusal
            )
        }
    }

    static func eventType(of envelope: JSONValue) -> String? { envelope["metaData"]?["eventType"]?.stringValue }

    /// One group of events taken from the queue: the admitted ones, the refusals, and each one's acknowledgement in
    /// the order they came.
    struct Group {
        struct Refusal {
            let refusal: GovernanceRefusal
            let value: JSONValue?
            let line: Int
        }

        private(set) var events: [OutgoingEvent] = []
        private(set) var types: [String?] = []
        private(set) var refusals: [Refusal] = []
        /// The offsets of ``events``, once stored.
        private(set) var offsets: [UInt64] = []
        /// Per item in order: the acknowledgement, or (until stored) the index of its admitted event.
        private var lines: [Either] = []

        private enum Either {
            case line(EventStreamLine)
            case admitted(Int)
        }

        init(capacity: Int) {
            events.reserveCapacity(capacity)
            lines.reserveCapacity(capacity)
        }

        mutating func admit(_ event: OutgoingEvent, type: String?) {
            lines.append(.admitted(events.count))
            events.append(event)
            types.append(type)
        }

        mutating func refuse(_ refusal: GovernanceRefusal, eventId: String?, value: JSONValue?, line: Int) {
            lines.append(.line(.refused(eventId: eventId, code: refusal.rule.rawValue, message: refusal.message)))
            refusals.append(Refusal(refusal: refusal, value: value, line: line))
        }

        mutating func stored(at offsets: [UInt64]) {
            self.offsets = offsets
            for (index, line) in lines.enumerated() {
                if case .admitted(let event) = line {
                    lines[index] = .line(.stored(eventId: events[event].eventID, offset: offsets[event]))
                }
            }
        }

        /// The group's acknowledgement lines, in order.
        func acknowledgements() -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(lines.count * 48)
            for case .line(let line) in lines { line.write(to: &out) }
            return out
        }
    }
}

/// Whether a publish stream's reader has waited too long for the body's next bytes (not counting the time it waits for
/// room in the queue: a slow transport is not an idle client).
final class IdleWatch: Sendable {
    private let since = Mutex<ContinuousClock.Instant?>(nil)
    private let didExpire = Mutex(false)

    /// The reader waits for bytes from now on.
    func waiting() { since.withLock { $0 = .now } }
    /// Bytes arrived.
    func received() { since.withLock { $0 = nil } }
    /// Whether the stream ended because it was idle.
    var expired: Bool { didExpire.withLock { $0 } }

    /// Checks a few times per `timeout`; when the reader waited for bytes longer than `timeout`, calls `expire` and
    /// returns. Ends when its task is cancelled.
    func watch(timeout: Duration, expire: () -> Void) async throws {
        while true {
            try await Task.sleep(for: timeout / 4)
            guard let start = since.withLock({ $0 }), start.duration(to: .now) >= timeout else { continue }
            didExpire.withLock { $0 = true }
            expire()
            return
        }
    }
}

extension BusRoutes {
    /// Opens a publish stream: the topic must exist; the intent record of the request is written (by its note)
    /// before any byte of the body is read; the answer's body is the stream (``PublishStream``).
    func openStream(_ request: Request, context: AuthenticatedContext) async throws -> Response {
        let topic = try context.parameter("topic")
        guard try await transport.topic(named: topic) != nil else {
            throw BusError(.noSuchTopic, "no topic \(topic)")
        }
        let path = request.uri.path
        try await context.auditNote?.described(request, parameters: ["path": .string(path), "topic": .string(topic)])
        let stream = PublishStream(
            topic: topic,
            path: path,
            transport: transport,
            governor: governor,
            configuration: streams,
            audit: context.auditNote,
            logger: context.logger
        )
        let body = request.body
        return Response(
            status: .ok,
            headers: [.contentType: "application/x-ndjson", .cacheControl: "no-cache"],
            body: ResponseBody { writer in try await stream.run(body, writer: &writer) }
        )
    }
}
