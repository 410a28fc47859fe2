public import Foundation
import SealedSupport
import Synchronization

/// Sends one signed POST; the edge implements it over HTTP. Throws ``WebhookTransportError`` when no status came.
public protocol WebhookTransport: Sendable {
    /// POSTs `body` to `url` with `headers`, without following redirects; the receiver's status code.
    func post(_ body: [UInt8], to url: String, headers: [(String, String)]) async throws(WebhookTransportError) -> Int
}

/// Why an attempt got no status code, in words safe to record (never the URL).
public struct WebhookTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Delivers the access workflow's notifications to teams' webhooks, off the workflow's path.
///
/// ``notify(_:)`` only puts one job per team in a bounded queue and returns: a full queue drops its oldest job, which
/// is recorded as failed (`queue full`). ``run(over:)`` takes jobs from the queue and delivers up to `concurrency` at a
/// time: it reads the team's webhook (a team without one is skipped, unrecorded), signs the body anew for each
/// attempt (``WebhookSignature``), and retries non-2xx answers and transport failures as the ``RetryPolicy`` says,
/// recording every attempt and the end in the ``WebhookDeliveryStore``.
public final class WebhookDispatcher: AccessNotificationSink {
    struct Job: Sendable {
        var id: String
        var team: String
        var notification: AccessNotification
    }

    let webhooks: TeamWebhooks
    let deliveries: any WebhookDeliveryStore
    let policy: RetryPolicy
    let concurrency: Int
    let now: @Sendable () -> Date
    let sleep: @Sendable (Duration) async throws -> Void
    let report: @Sendable (WebhookDelivery) -> Void
    private let jobs: AsyncStream<Job>
    private let queue: AsyncStream<Job>.Continuation
    /// Jobs the full queue pushed out, to be recorded by ``run(over:)``.
    private let dropped = Mutex<[Job]>([])

    /// - Parameters:
    ///   - capacity: The most jobs waiting; more push the oldest out.
    ///   - concurrency: The most deliveries in flight.
    ///   - sleep: How a retry waits (a test may wait for nothing).
    ///   - report: Told of each delivery that ended (for the logs).
    public init(
        webhooks: TeamWebhooks,
        deliveries: any WebhookDeliveryStore,
        policy: RetryPolicy = RetryPolicy(),
        capacity: Int = 1024,
        concurrency: Int = 8,
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        report: @escaping @Sendable (WebhookDelivery) -> Void = { _ in }
    ) {
        self.webhooks = webhooks
        self.deliveries = deliveries
        self.policy = policy
        self.concurrency = max(1, concurrency)
        self.now = now
        self.sleep = sleep
        self.report = report
        let (jobs, queue) = AsyncStream.makeStream(
            of: Job.self,
            bufferingPolicy: .bufferingNewest(max(1, capacity))
        )
        self.jobs = jobs
        self.queue = queue
    }

    deinit { queue.finish() }

    public func notify(_ notification: AccessNotification) {
        for team in notification.teams {
            let job = Job(id: "wd-" + Random.hex(byteCount: 12), team: team, notification: notification)
            if case .dropped(let oldest) = queue.yield(job) { dropped.withLock { $0.append(oldest) } }
        }
    }

    /// Delivers queued notifications over `transport` until the task is cancelled; deliveries in flight then end as
    /// failed (`shutdown`) at their next wait. Run it once.
    public func run(over transport: any WebhookTransport) async {
        await withDiscardingTaskGroup { group in
            var running = 0
            let finished = AsyncStream.makeStream(of: Void.self)
            var done = finished.stream.makeAsyncIterator()
            var waiting = jobs.makeAsyncIterator()
            while true {
                // A job is taken only when it can start: until then it waits in the queue, where a full queue
                // pushes out the oldest.
                if running == concurrency {
                    _ = await done.next()
                    running -= 1
                }
                guard let job = await waiting.next() else { break }
                for lost in takeDropped() { await recordDropped(lost) }
                running += 1
                group.addTask {
                    await self.deliver(job, over: transport)
                    finished.continuation.yield()
                }
            }
        }
    }

    /// Delivers one job: its attempts, each recorded, until a 2xx, the policy's last attempt, or cancellation.
    func deliver(_ job: Job, over transport: any WebhookTransport) async {
        let webhook: TeamWebhook?
        do {
            webhook = try await webhooks.webhook(of: job.team)
        } catch {
            var delivery = newDelivery(job)
            finish(&delivery, .failed, failure: "the team's webhook could not be read")
            await save(delivery)
            return
        }
        guard let webhook else { return }
        var delivery = newDelivery(job)
        await save(delivery)
        let body = job.notification.body(for: job.team)
        for attempt in 1... {
            let timestamp = Int64(now().timeIntervalSince1970)
            let signature = WebhookSignature.header(secret: webhook.secret, timestamp: timestamp, body: body)
            let headers = [
                ("Content-Type", "application/json"),
                ("User-Agent", "sealed-webhooks/1"),
                (WebhookSignature.deliveryHeaderName, job.id),
                (WebhookSignature.eventHeaderName, job.notification.kind.rawValue),
                (WebhookSignature.headerName, signature),
            ]
            do {
                let status = try await transport.post(body, to: webhook.url, headers: headers)
                delivery.attempts.append(.init(date: now(), statusCode: status, error: nil))
                if (200..<300).contains(status) {
                    finish(&delivery, .delivered, failure: nil)
                    await save(delivery)
                    return
                }
            } catch {
                delivery.attempts.append(.init(date: now(), statusCode: nil, error: error.reason))
            }
            guard let delay = policy.delay(after: attempt, random: Double.random(in: 0..<1)) else {
                finish(&delivery, .failed, failure: Self.reason(delivery.attempts.last))
                await save(delivery)
                return
            }
            await save(delivery)
            do {
                try await sleep(delay)
            } catch {
                finish(&delivery, .failed, failure: "shutdown")
                await save(delivery)
                return
            }
        }
    }

    private func takeDropped() -> [Job] {
        dropped.withLock { list in
            let taken = list
            list = []
            return taken
        }
    }

    private func newDelivery(_ job: Job) -> WebhookDelivery {
        WebhookDelivery(
            id: job.id,
            team: job.team,
            event: job.notification.kind.rawValue,
            requestID: job.notification.request.id,
            creationDate: now()
        )
    }

    private func finish(_ delivery: inout WebhookDelivery, _ state: WebhookDelivery.State, failure: String?) {
        delivery.state = state
        delivery.failure = failure
        delivery.completionDate = now()
    }

    private func recordDropped(_ job: Job) async {
        guard (try? await webhooks.webhook(of: job.team)) != nil else { return }
        var delivery = newDelivery(job)
        finish(&delivery, .failed, failure: "queue full")
        await save(delivery)
    }

    /// Records a delivery; a store that fails loses the record, never the delivery.
    private func save(_ delivery: WebhookDelivery) async {
        try? await deliveries.record(delivery)
        if delivery.state != .pending { report(delivery) }
    }

    private static func reason(_ attempt: WebhookDelivery.Attempt?) -> String {
        if let status = attempt?.statusCode { return "HTTP \(status)" }
        return attempt?.error ?? "no attempt"
    }
}
