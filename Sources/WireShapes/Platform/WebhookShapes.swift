public import Foundation

// The team-webhook shapes of the `/v1` API (`/v1/iam/teams/{team}/webhook…`).

/// `PUT /v1/iam/teams/{team}/webhook`.
public struct WebhookInput: Codable, Sendable, Hashable {
    /// Where notifications go: `https://…` (or `http://…`), e.g. a Slack incoming webhook.
    public var url: String

    public init(url: String) { self.url = url }

    enum CodingKeys: String, CodingKey { case url = "Url" }
}

/// A team's webhook: its URL redacted to scheme, host and port (the URL may be a credential), and, only in the answer
/// of a set or a rotation, its signing secret.
public struct WebhookOutput: Codable, Sendable, Hashable {
    public var teamName: String
    public var url: String
    /// The HMAC-SHA-256 key of the `Sealed-Signature` header; present once, when it was generated.
    public var signingSecret: String?
    public var createDate: Date
    public var secretDate: Date

    public init(teamName: String, url: String, signingSecret: String?, createDate: Date, secretDate: Date) {
        self.teamName = teamName
        self.url = url
        self.signingSecret = signingSecret
        self.createDate = createDate
        self.secretDate = secretDate
    }

    enum CodingKeys: String, CodingKey {
        case teamName = "TeamName"
        case url = "Url"
        case signingSecret = "SigningSecret"
        case createDate = "CreateDate"
        case secretDate = "SecretDate"
    }
}

/// One delivery of a notification to a team's webhook (each of `Deliveries`).
public struct WebhookDeliveryOutput: Codable, Sendable, Hashable {
    public var deliveryId: String
    /// `access_request.created`, `access_request.approved`, `access_request.denied`, `access_grant.revoked`,
    /// `access_grant.expiring`, `access_grant.expired` or `access_request.expired`.
    public var event: String
    public var requestId: String
    /// `pending`, `delivered` or `failed`.
    public var state: String
    public var attempts: Int
    /// The newest attempt's HTTP status, if it got one.
    public var statusCode: Int?
    public var failure: String?
    public var createDate: Date
    public var completionDate: Date?

    public init(
        deliveryId: String,
        event: String,
        requestId: String,
        state: String,
        attempts: Int,
        statusCode: Int?,
        failure: String?,
        createDate: Date,
        completionDate: Date?
    ) {
        self.deliveryId = deliveryId
        self.event = event
        self.requestId = requestId
        self.state = state
        self.attempts = attempts
        self.statusCode = statusCode
        self.failure = failure
        self.createDate = createDate
        self.completionDate = completionDate
    }

    enum CodingKeys: String, CodingKey {
        case deliveryId = "DeliveryId"
        case event = "Event"
        case requestId = "RequestId"
        case state = "State"
        case attempts = "Attempts"
        case statusCode = "StatusCode"
        case failure = "Failure"
        case createDate = "CreateDate"
        case completionDate = "CompletionDate"
    }
}

/// `GET /v1/iam/teams/{team}/webhook/deliveries`: `{"Deliveries": [...]}`, newest first.
public struct WebhookDeliveryList: Codable, Sendable, Hashable {
    public var deliveries: [WebhookDeliveryOutput]
    public init(deliveries: [WebhookDeliveryOutput]) { self.deliveries = deliveries }
    enum CodingKeys: String, CodingKey { case deliveries = "Deliveries" }
}
