public import Foundation

/// A team's outgoing webhook: where its notifications go and the secret that signs them.
///
/// Both the URL and the secret are secrets (a Slack incoming-webhook URL is a credential by itself): stores keep them
/// sealed, and ``description`` shows neither.
public struct TeamWebhook: Sendable, Hashable, CustomStringConvertible {
    public var team: String
    public var url: String
    /// The HMAC-SHA-256 key of ``WebhookSignature``: shown once when set or rotated, never again.
    public var secret: String
    public var creationDate: Date
    /// When the secret was last generated.
    public var secretDate: Date

    public init(team: String, url: String, secret: String, creationDate: Date, secretDate: Date) {
        self.team = team
        self.url = url
        self.secret = secret
        self.creationDate = creationDate
        self.secretDate = secretDate
    }

    /// The URL's scheme, host and port, the rest elided: what may be shown and logged.
    public var redactedURL: String { Self.redacted(url) }

    public var description: String { "TeamWebhook(\(team), \(redactedURL))" }

    /// `url`'s scheme, host and port, the rest elided.
    public static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            let host = components.host
        else { return "(invalid URL)" }
        let port = components.port.map { ":\($0)" } ?? ""
        let rest = components.path.isEmpty || components.path == "/" ? "/" : "/…"
        return "\(scheme)://\(host)\(port)\(rest)"
    }
}

/// Where teams' webhooks are kept (sealed at rest by the SQLite store).
public protocol TeamWebhookStore: Sendable {
    func webhook(of team: String) async throws -> TeamWebhook?
    /// Inserts or replaces the team's webhook; `nil` removes it.
    func setWebhook(_ webhook: TeamWebhook?, of team: String) async throws
}

/// Teams' outgoing webhooks: set, show, rotate the secret, remove, and read the delivery log.
///
/// **Who may.** A member of the team, or a principal whose identity policies allow the action on the team's ARN
/// (`iam:PutGroupWebhook`, `iam:GetGroupWebhook`, `iam:DeleteGroupWebhook`, `iam:ListGroupWebhookDeliveries`;
/// administrators hold `*`), as revoking access is the owning team's or an administrator's.
///
/// **The URL** is `https://` or `http://` with a host, no user or password, at most 2,048 bytes; deliveries do not
/// follow redirects. It is shown redacted (``TeamWebhook/redactedURL``), since it may be a credential itself.
public struct TeamWebhooks: Sendable {
    public let identities: IdentityService
    let store: any TeamWebhookStore
    let deliveries: any WebhookDeliveryStore
    let now: @Sendable () -> Date

    public init(
        identities: IdentityService,
        store: any TeamWebhookStore,
        deliveries: any WebhookDeliveryStore,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.identities = identities
        self.store = store
        self.deliveries = deliveries
        self.now = now
    }

    /// Sets `team`'s webhook to `url` with a new secret (replacing any former URL and secret); returns it with its
    /// secret, to be shown once.
    public func set(_ team: String, url: String, by principal: String) async throws -> TeamWebhook {
        try authorize(principal, "iam:PutGroupWebhook", team)
        try Self.validate(url)
        let at = now()
        let existing = try await store.webhook(of: team)
        let webhook = TeamWebhook(
            team: team,
            url: url,
            secret: WebhookSignature.generateSecret(),
            creationDate: existing?.creationDate ?? at,
            secretDate: at
        )
        try await store.setWebhook(webhook, of: team)
        return webhook
    }

    /// A new secret for `team`'s webhook, returned to be shown once; the old one stops signing at once.
    public func rotateSecret(of team: String, by principal: String) async throws -> TeamWebhook {
        try authorize(principal, "iam:PutGroupWebhook", team)
        guard var webhook = try await store.webhook(of: team) else { throw Self.noWebhook(team) }
        webhook.secret = WebhookSignature.generateSecret()
        webhook.secretDate = now()
        try await store.setWebhook(webhook, of: team)
        return webhook
    }

    /// The team's webhook; callers show its ``TeamWebhook/redactedURL``, never its secret.
    public func webhook(of team: String, by principal: String) async throws -> TeamWebhook {
        try authorize(principal, "iam:GetGroupWebhook", team)
        guard let webhook = try await store.webhook(of: team) else { throw Self.noWebhook(team) }
        return webhook
    }

    public func remove(_ team: String, by principal: String) async throws {
        try authorize(principal, "iam:DeleteGroupWebhook", team)
        guard try await store.webhook(of: team) != nil else { throw Self.noWebhook(team) }
        try await store.setWebhook(nil, of: team)
    }

    /// The team's newest deliveries, newest first.
    public func deliveries(of team: String, limit: Int, by principal: String) async throws -> [WebhookDelivery] {
        try authorize(principal, "iam:ListGroupWebhookDeliveries", team)
        return try await deliveries.deliveries(of: team, limit: max(1, min(limit, 1000)))
    }

    /// The webhook deliveries go to, for the dispatcher.
    func webhook(of team: String) async throws -> TeamWebhook? { try await store.webhook(of: team) }

    private func authorize(_ principal: String, _ action: String, _ team: String) throws(AccessControlError) {
        guard identities.team(named: team) != nil else {
            throw AccessControlError(.noSuchEntity, "The group with name \(team) cannot be found.")
        }
        guard identities.teams(of: principal).contains(team)
            || identities.isAllowed(principal, action, on: identities.teamARN(team))
        else {
            throw AccessControlError(
                .accessDenied,
                "User: \(principal) is not authorized to perform: \(action) on resource: \(identities.teamARN(team))"
            )
        }
    }

    static func validate(_ url: String) throws(AccessControlError) {
        guard url.utf8.count <= 2048, let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = components.host, !host.isEmpty, components.user == nil, components.password == nil
        else {
            throw AccessControlError(
                .validationError,
                "The webhook URL must be an http:// or https:// URL with a host and no user name, at most 2048 bytes."
            )
        }
    }

    static func noWebhook(_ team: String) -> AccessControlError {
        AccessControlError(.noSuchEntity, "The team \(team) has no webhook.")
    }
}
