import AccessControl
import Hummingbird
import WireShapes

extension PlatformRoutes {
    /// `/v1/iam/teams/{team}/webhook…`: set (a new secret, in the answer only), show (URL redacted), rotate the
    /// secret, remove, and the delivery log. The secret is never in an audit record: the audited parameters are the
    /// body's, whose URL is redacted (``AuditRecorder``), and these routes note no response elements.
    func registerWebhooks(_ webhooks: TeamWebhooks, in v1: RouterGroup<AuthenticatedContext>) {
        v1.on(.putTeamWebhook, input: WebhookInput.self) { input, _, context in
            let webhook = try await webhooks.set(try context.parameter("team"), url: input.url, by: context.principal.arn)
            return try PlatformJSON.response(WebhookOutput(webhook, showingSecret: true))
        }
        v1.on(.getTeamWebhook) { _, context in
            let webhook = try await webhooks.webhook(of: try context.parameter("team"), by: context.principal.arn)
            return try PlatformJSON.response(WebhookOutput(webhook, showingSecret: false))
        }
        v1.on(.rotateTeamWebhookSecret) { _, context in
            let webhook = try await webhooks.rotateSecret(of: try context.parameter("team"), by: context.principal.arn)
            return try PlatformJSON.response(WebhookOutput(webhook, showingSecret: true))
        }
        v1.on(.deleteTeamWebhook) { _, context in
            try await webhooks.remove(try context.parameter("team"), by: context.principal.arn)
            return try PlatformJSON.response(EmptyResponse())
        }
        v1.on(.listTeamWebhookDeliveries) { request, context in
            var limit = 50
            if let text = request.uri.queryParameters.get("limit") {
                guard let value = Int(text), (1...1000).contains(value) else {
                    throw AccessControlError(.validationError, "limit must be between 1 and 1000.")
                }
                limit = value
            }
            let deliveries = try await webhooks.deliveries(
                of: try context.parameter("team"),
                limit: limit,
                by: context.principal.arn
            )
            return try PlatformJSON.response(WebhookDeliveryList(deliveries: deliveries.map(WebhookDeliveryOutput.init)))
        }
    }
}

extension WebhookOutput {
    init(_ webhook: TeamWebhook, showingSecret: Bool) {
        self.init(
            teamName: webhook.team,
            url: webhook.redactedURL,
            signingSecret: showingSecret ? webhook.secret : nil,
            createDate: webhook.creationDate,
            secretDate: webhook.secretDate
        )
    }
}

extension WebhookDeliveryOutput {
    init(_ delivery: WebhookDelivery) {
        self.init(
            deliveryId: delivery.id,
            event: delivery.event,
            requestId: delivery.requestID,
            state: delivery.state.rawValue,
            attempts: delivery.attempts.count,
            statusCode: delivery.lastStatusCode,
            failure: delivery.failure,
            createDate: delivery.creationDate,
            completionDate: delivery.completionDate
        )
    }
}
