import AsyncHTTPClient
import KMS
import NIOCore
import NIOHTTP1
public import SealedEvents
import WireShapes

/// Publishes events to one topic on one long-lived stream (`POST /v1/topics/{topic}/events:stream`), each
/// acknowledged on its own, with a bounded window of events sent but not yet acknowledged.
///
/// Get one from ``PlatformClient/withPublisher(topic:sealer:options:_:)``, which runs its connection while your
/// closure publishes and waits for every acknowledgement before it returns:
///
/// ```swift
/// try await client.withPublisher(topic: "payments", sealer: sealer) { publisher in
///     for envelope in envelopes {
///         let receipt = try await publisher.publish(envelope, as: descriptor)   // waits only for room in the window
///         receipts.append(receipt)
///     }
/// }   // every event acknowledged (or refused) here
/// let offset = try await receipts[0].offset
/// ```
///
/// - **Back-pressure.** ``publish(json:eventId:)`` and its sealing forms return once the event is on its way; they
///   wait while ``Options/window`` events are unacknowledged.
/// - **Reconnection.** When the connection breaks (or the server ends the stream early), the publisher reconnects
///   with bounded, jittered backoff and sends the unacknowledged events again, in order, with the same event ids. The
///   bus stores an event id once and answers a repeat with the first offset, so each event lands once, with one
///   offset. After ``Options/reconnectAttempts`` failed connections in a row (without an acknowledgement in between),
///   or an answer that is not a stream (a refused signature, no such topic), every unacknowledged event fails with
///   that error.
/// - **Refusals.** An event governance refuses fails its ``Receipt`` with an ``EventRefusal`` that names the rule;
///   the others go on.
public actor Publisher {
    /// The window and the reconnection policy.
    public struct Options: Sendable {
        /// The most events sent but not acknowledged; ``Publisher/publish(json:eventId:)`` waits beyond it.
        /// Default 1,024.
        public var window: Int
        /// Failed connections in a row before the publisher gives up. Default 5.
        public var reconnectAttempts: Int
        /// The first reconnection's backoff ceiling (full jitter), doubled per failure. Default 100 ms.
        public var baseBackoff: Duration
        /// The largest backoff ceiling. Default 5 s.
        public var maxBackoff: Duration

        public init(
            window: Int = 1_024,
            reconnectAttempts: Int = 5,
            baseBackoff: Duration = .milliseconds(100),
            maxBackoff: Duration = .seconds(5)
        ) {
            precondition(window > 0, "the window holds at least one event")
            self.window = window
            self.reconnectAttempts = reconnectAttempts
            self.baseBackoff = baseBackoff
            self.maxBackoff = maxBackoff
        }
    }

    /// An event sent and not yet acknowledged.
    private struct Pending {
        let line: ByteBuffer
        let eventId: String?
        let receipt: Receipt
    }

    let client: PlatformClient
    public nonisolated let topic: String
    let sealer: Sealer?
    public nonisolated let options: Options

    /// Unacknowledged events, oldest first, from `head`.
    private var pending: [Pending] = []
    private var head = 0
    /// The request body of the current connection.
    private var connection: AsyncStream<ByteBuffer>.Continuation?
    /// Publishers waiting for room in the window.
    private var windowWaiters: [CheckedContinuation<Void, Never>] = []
    /// The connection task waiting for something to send.
    private var workWaiter: CheckedContinuation<Void, Never>?
    /// Callers of ``finish()`` waiting for the last acknowledgement.
    private var finishWaiters: [CheckedContinuation<Void, any Error>] = []
    private var finishing = false
    private var failure: (any Error)?

    init(client: PlatformClient, topic: String, sealer: Sealer?, options: Options) {
        self.client = client
        self.topic = topic
        self.sealer = sealer
        self.options = options
    }

    private var unacknowledged: Int { pending.count - head }

    /// Events sent and not yet acknowledged.
    package var unacknowledgedCount: Int { unacknowledged }
    /// Publishers waiting for room in the window.
    package var waitingForWindow: Int { windowWaiters.count }

    // MARK: - Publishing

    /// Seals `envelope` as `descriptor` says (with the ``Sealer`` given to
    /// ``PlatformClient/withPublisher(topic:sealer:options:_:)``) and sends it.
    ///
    /// - Returns: The event's receipt, once the event is sent (the window had room).
    /// - Throws: ``SealedEventsError`` when it cannot be sealed (or no sealer was given); what ended the publisher.
    public nonisolated func publish(_ envelope: Envelope, as descriptor: EventTypeDescriptor) async throws -> Receipt {
        guard let sealer else { throw SealedEventsError(.invalidArgument, "this publisher has no sealer: pass one") }
        return try await publish(sealed: try await sealer.seal(envelope, as: descriptor))
    }

    /// Sends an envelope that is already sealed (or needs no sealing).
    public nonisolated func publish(sealed envelope: Envelope) async throws -> Receipt {
        try await publish(json: envelope.serialized(), eventId: envelope.metaData.eventId)
    }

    /// Sends an envelope given as its exact JSON bytes (stored as they are), on one line.
    ///
    /// - Parameters:
    ///   - json: The envelope; it must not hold a line break (compact JSON never does) and must not be blank.
    ///   - eventId: Its `metaData.eventId`, checked against the acknowledgement; `nil` when unknown (a line that is
    ///     not an envelope, which the server refuses).
    /// - Returns: The event's receipt, once the event is sent (the window had room).
    /// - Throws: ``WireShapes/PlatformError`` `InvalidArgument` for a blank line or one with a line break; what
    ///   ended the publisher.
    public func publish(json: [UInt8], eventId: String?) async throws -> Receipt {
        guard !json.contains(UInt8(ascii: "\n")), !json.contains(UInt8(ascii: "\r")),
            json.contains(where: { $0 != 0x20 && $0 != 0x09 })
        else {
            throw PlatformError(
                code: "InvalidArgument",
                message: "an event is one line of JSON: not blank, no line break",
                statusCode: 0
            )
        }
        while failure == nil, !finishing, unacknowledged >= options.window {
            await withCheckedContinuation { windowWaiters.append($0) }
        }
        if let failure { throw failure }
        guard !finishing else {
            throw PlatformError(code: "InvalidArgument", message: "the publisher is finishing", statusCode: 0)
        }
        var line = ByteBuffer()
        line.reserveCapacity(json.count + 1)
        line.writeBytes(json)
        line.writeInteger(UInt8(ascii: "\n"))
        let receipt = Receipt(eventId: eventId)
        pending.append(Pending(line: line, eventId: eventId, receipt: receipt))
        connection?.yield(line)
        wakeConnection()
        return receipt
    }

    /// Waits until every event sent is acknowledged (or refused), then ends the stream.
    ///
    /// - Throws: What ended the publisher, when it failed before every event was acknowledged.
    public func finish() async throws {
        finishing = true
        endRequestIfDone()
        wakeConnection()
        resumeWindowWaiters()
        if let failure { throw failure }
        guard unacknowledged > 0 else { return }
        try await withCheckedThrowingContinuation { finishWaiters.append($0) }
    }

    // MARK: - The connection

    /// Keeps a stream open while there is something to send: connects, sends the unacknowledged events, reads the
    /// acknowledgements, and reconnects with backoff when the connection breaks. Returns once ``finish()`` was called
    /// and everything is acknowledged.
    nonisolated func run() async throws {
        var failures = 0
        while await waitForWork() {
            do {
                if try await connectOnce() { failures = 0 }
            } catch {
                failures += 1
                guard Self.isRetryable(error), failures <= options.reconnectAttempts, !Task.isCancelled else {
                    await fail(error)
                    throw error
                }
                try await Task.sleep(for: backoff(failures))
            }
        }
    }

    /// One connection: returns whether anything was acknowledged on it, once its answer ended with nothing left
    /// unacknowledged.
    private nonisolated func connectOnce() async throws -> Bool {
        let (body, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        var request = try await client.transport.streamingRequest(
            method: "POST",
            path: client.base + "/v1/topics/" + PlatformClient.encode(topic) + "/events:stream",
            headers: [
                (name: "Content-Type", value: "application/x-ndjson"), (name: "Accept", value: "application/x-ndjson"),
            ] + (try await client.identityHeaders())
        )
        request.body = .stream(body, length: .unknown)
        await attach(continuation)
        var acknowledged = false
        do {
            let response = try await client.transport.client.execute(request, deadline: .distantFuture)
            guard response.status == .ok else { throw try await Self.refusal(response) }
            var splitter = AcknowledgementLines()
            var ended: EventStreamLine?
            do {
                for try await chunk in response.body {
                    for line in splitter.lines(in: chunk) {
                        let acknowledgement = try EventStreamLine(parsing: line)
                        if case .ended = acknowledgement {
                            ended = acknowledgement
                        } else {
                            try await acknowledge(acknowledgement)
                            acknowledged = true
                        }
                    }
                }
            } catch  where ended != nil {
                // The server closes the connection after a stream's last line.
            }
            await detach()
            let left = await unacknowledged
            guard left == 0 else {
                if case .ended(let code, let message) = ended {
                    throw PlatformError(code: code, message: message, statusCode: 200)
                }
                throw ClientError(.truncatedResponse, "the stream ended with \(left) events unacknowledged")
            }
            return acknowledged
        } catch {
            await detach()
            if acknowledged, Self.isRetryable(error) {
                // Progress was made: the next connection starts a fresh count of failures.
                return true
            }
            throw error
        }
    }

    private func attach(_ continuation: AsyncStream<ByteBuffer>.Continuation) {
        connection?.finish()
        connection = continuation
        for index in head..<pending.count { continuation.yield(pending[index].line) }
        endRequestIfDone()
    }

    private func detach() {
        connection?.finish()
        connection = nil
    }

    /// Matches an acknowledgement to the oldest unacknowledged event.
    private func acknowledge(_ line: EventStreamLine) throws {
        guard head < pending.count else {
            throw ClientError(.malformedResponse, "the stream acknowledged more events than were sent")
        }
        let event = pending[head]
        switch line {
        case .stored(let eventId, let offset):
            guard event.eventId == nil || event.eventId == eventId else {
                throw ClientError(
                    .malformedResponse,
                    "acknowledgement for \(eventId) where \(event.eventId ?? "-") was next"
                )
            }
            event.receipt.resolve(.success(offset))
        case .refused(let eventId, let code, let message):
            event.receipt.resolve(
                .failure(EventRefusal(eventId: eventId ?? event.eventId, rule: code, message: message))
            )
        case .ended:
            return
        }
        head += 1
        if head == pending.count {
            pending.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4_096, head * 2 >= pending.count {
            pending.removeFirst(head)
            head = 0
        }
        if let waiter = windowWaiters.first {
            windowWaiters.removeFirst()
            waiter.resume()
        }
        endRequestIfDone()
    }

    /// Ends the current request body once ``finish()`` was called and nothing is unacknowledged; resumes `finish()`.
    private func endRequestIfDone() {
        guard finishing, unacknowledged == 0 else { return }
        connection?.finish()
        for waiter in finishWaiters { waiter.resume() }
        finishWaiters = []
    }

    /// Waits until there is something to send; `false` once finishing with nothing left, or after a failure.
    private func waitForWork() async -> Bool {
        while failure == nil {
            if unacknowledged > 0 { return true }
            if finishing { return false }
            await withCheckedContinuation { workWaiter = $0 }
        }
        return false
    }

    private func wakeConnection() {
        workWaiter?.resume()
        workWaiter = nil
    }

    private func resumeWindowWaiters() {
        for waiter in windowWaiters { waiter.resume() }
        windowWaiters = []
    }

    /// Ends the publisher: every unacknowledged event, waiting publisher and `finish()` fails with `error`.
    func fail(_ error: any Error) {
        guard failure == nil else { return }
        failure = error
        for index in head..<pending.count { pending[index].receipt.resolve(.failure(error)) }
        pending = []
        head = 0
        detach()
        resumeWindowWaiters()
        wakeConnection()
        for waiter in finishWaiters { waiter.resume(throwing: error) }
        finishWaiters = []
    }

    private nonisolated func backoff(_ failures: Int) -> Duration {
        let ceiling = min(options.maxBackoff, options.baseBackoff * (1 << min(failures - 1, 20)))
        let nanoseconds = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        return nanoseconds > 0 ? .nanoseconds(Int64.random(in: 0...nanoseconds)) : .zero
    }

    /// A broken connection (whatever layer noticed: the HTTP client, its parser, the socket), a timeout, a server that
    /// is unavailable or ended the stream early is worth another connection; a refused opening request (signature,
    /// permissions, no such topic), an answer that is not an acknowledgement stream, missing credentials or
    /// cancellation are not.
    static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case is CancellationError: false
        case let error as ClientError:
            ![.malformedResponse, .credentialsUnavailable, .invalidConfiguration, .invalidRequest].contains(error.code)
        case let error as PlatformError: !(400..<500).contains(error.statusCode) && error.code != "MalformedResponse"
        case let error as HTTPClientError: error != .cancelled
        default: true
        }
    }

    /// The error of an answer that is not a stream.
    static func refusal(_ response: HTTPClientResponse) async throws -> PlatformError {
        let body = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
        let value = try? JSONValue(parsing: Array(body.readableBytesView))
        return PlatformError(
            code: value?["__type"]?.stringValue ?? "HTTP\(response.status.code)",
            message: value?["message"]?.stringValue ?? String(buffer: body).prefix(200).description,
            statusCode: Int(response.status.code)
        )
    }
}

extension PlatformClient {
    /// Runs `body` with a ``Publisher`` to `topic`, its stream connected while `body` runs, and returns once every
    /// event `body` published is acknowledged or refused.
    ///
    /// - Parameters:
    ///   - topic: The topic every event goes to.
    ///   - sealer: Seals the events given to ``Publisher/publish(_:as:)``; not needed for sealed envelopes.
    ///   - options: The window and the reconnection policy.
    ///   - body: Publishes.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws (the stream is then abandoned: unacknowledged events fail); what ended the
    ///   publisher (refused opening request, too many failed connections).
    public func withPublisher<T: Sendable>(
        topic: String,
        sealer: Sealer? = nil,
        options: Publisher.Options = Publisher.Options(),
        _ body: (Publisher) async throws -> T
    ) async throws -> T {
        let publisher = Publisher(client: self, topic: topic, sealer: sealer, options: options)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await publisher.run() }
            do {
                let value = try await body(publisher)
                try await publisher.finish()
                try await group.waitForAll()
                return value
            } catch {
                await publisher.fail(error)
                group.cancelAll()
                throw error
            }
        }
    }
}
