public import Foundation

/// One notification to one team's webhook, and what became of it: written when its first attempt starts, after
/// every attempt, and when it ends delivered or failed.
///
/// It never holds the webhook's URL or secret, nor the receiver's answer: only its status code.
public struct WebhookDelivery: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Attempts are still being made.
        case pending
        /// A receiver answered 2xx.
        case delivered
        /// Every attempt failed, the queue was full, or the platform stopped first.
        case failed
    }

    /// One attempt: when, and the status code or the reason it got none.
    public struct Attempt: Sendable, Hashable, Codable {
        public var date: Date
        public var statusCode: Int?
        public var error: String?

        public init(date: Date, statusCode: Int?, error: String?) {
            self.date = date
            self.statusCode = statusCode
            self.error = error
        }
    }

    /// The `Sealed-Delivery` header: the same on every attempt.
    public var id: String
    public var team: String
    /// `access_request.created`, …
    public var event: String
    public var requestID: String
    public var state: State
    public var attempts: [Attempt]
    public var creationDate: Date
    /// When it was delivered or given up.
    public var completionDate: Date?
    /// Why it failed, when it did (the last attempt's reason, or `queue full`, `shutdown`).
    public var failure: String?

    public init(id: String, team: String, event: String, requestID: String, creationDate: Date) {
        self.id = id
        self.team = team
        self.event = event
        self.requestID = requestID
        self.state = .pending
        self.attempts = []
        self.creationDate = creationDate
    }

    /// The status code of the newest attempt that got one.
    public var lastStatusCode: Int? { attempts.last?.statusCode }
}

/// Where deliveries are recorded.
public protocol WebhookDeliveryStore: Sendable {
    /// Inserts or replaces a delivery by id.
    func record(_ delivery: WebhookDelivery) async throws
    /// A team's newest deliveries, newest first.
    func deliveries(of team: String, limit: Int) async throws -> [WebhookDelivery]
}

/// When to try a delivery again: exponential backoff with jitter, a bounded number of attempts.
///
/// The delay after attempt `n` (from 1) is drawn uniformly from the upper half of `min(maximumDelay, initialDelay ×
/// 2^(n-1))` ("equal jitter": never zero, never in step with other deliveries). With the defaults, 6 attempts over at
/// most 1 + 2 + 4 + 8 + 16 = 31 seconds of waiting.
public struct RetryPolicy: Sendable, Hashable {
    public var maximumAttempts: Int
    public var initialDelay: Duration
    public var maximumDelay: Duration

    public init(maximumAttempts: Int = 6, initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(60)) {
        precondition(maximumAttempts >= 1, "a delivery needs at least one attempt")
        self.maximumAttempts = maximumAttempts
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// The wait before the attempt after attempt `attempt` (from 1), or `nil` when it was the last; `random` is in
    /// `0..<1`.
    public func delay(after attempt: Int, random: Double) -> Duration? {
        guard attempt < maximumAttempts else { return nil }
        var ceiling = initialDelay
        for _ in 1..<attempt where ceiling < maximumDelay { ceiling *= 2 }
        ceiling = min(ceiling, maximumDelay)
        return ceiling / 2 + ceiling * (min(max(random, 0), 1) / 2)
    }

    /// The longest a delivery waits between its attempts in all (each delay at its ceiling).
    public var maximumTotalDelay: Duration {
        (1..<maximumAttempts).reduce(.zero) { total, attempt in total + (delay(after: attempt, random: 1) ?? .zero) }
    }
}

/// An ``WebhookDeliveryStore`` in memory, keeping each team's newest `capacity` deliveries.
public actor InMemoryWebhookStore: WebhookDeliveryStore, TeamWebhookStore {
    private var webhooks: [String: TeamWebhook] = [:]
    private var byTeam: [String: [WebhookDelivery]] = [:]
    private let capacity: Int

    public init(capacity: Int = 1000) { self.capacity = capacity }

    public func webhook(of team: String) -> TeamWebhook? { webhooks[team] }

    public func setWebhook(_ webhook: TeamWebhook?, of team: String) { webhooks[team] = webhook }

    public func record(_ delivery: WebhookDelivery) {
        var list = byTeam[delivery.team] ?? []
        if let index = list.firstIndex(where: { $0.id == delivery.id }) {
            list[index] = delivery
        } else {
            list.append(delivery)
            if list.count > capacity { list.removeFirst(list.count - capacity) }
        }
        byTeam[delivery.team] = list
    }

    public func deliveries(of team: String, limit: Int) -> [WebhookDelivery] {
        Array((byTeam[team] ?? []).reversed().prefix(limit))
    }
}
