internal import ArgumentParser
internal import Foundation
internal import PlatformClient
internal import WireShapes

// `sealed iam set-team-webhook`, `team-webhook`, `rotate-team-webhook-secret`, `delete-team-webhook` and
// `webhook-deliveries`: a team's outgoing webhook for access-request notifications.
extension IAMCommand {
    static func lines(_ webhook: WebhookOutput) -> [String] {
        var lines = [
            "team            \(webhook.teamName)",
            "url             \(webhook.url)",
            "created         \(cell(webhook.createDate))",
            "secret since    \(cell(webhook.secretDate))",
        ]
        if let secret = webhook.signingSecret {
            lines += [
                "signing secret  \(secret)",
                "store the secret now: it is not shown again (verify Sealed-Signature with it; see README)",
            ]
        }
        return lines
    }

    /// Calls a webhook route of `team` without a body and prints the webhook it answers.
    static func showWebhook(_ route: PlatformRoute, of team: String, _ options: PlatformOptions) async throws {
        try await CLIError.reporting {
            let answer = try await options.send(route, team, as: WebhookOutput.self)
            try options.emit(answer) { IAMCommand.lines($0) }
        }
    }

    struct SetTeamWebhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-team-webhook",
            abstract: "Send the team's access-request notifications to a URL (a Slack incoming webhook works as is).",
            discussion: """
                Notifications: a request for one of the team's event types created; the team's members' requests \
                (and the team's types' requests) approved, denied, revoked, expired undecided; grants ending within \
                a day. Each POST is signed (Sealed-Signature) with a new secret, printed once.
                """
        )
        @Argument(help: "The team.") var team: String
        @Option(help: "Where to POST: https://… (or http://…).") var url: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .putTeamWebhook,
                    team,
                    input: WebhookInput(url: url),
                    as: WebhookOutput.self
                )
                try options.emit(answer) { IAMCommand.lines($0) }
            }
        }
    }

    struct ShowTeamWebhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "team-webhook",
            abstract: "Show the team's webhook (its URL redacted, never its secret)."
        )
        @Argument(help: "The team.") var team: String
        @OptionGroup var options: PlatformOptions

        func run() async throws { try await IAMCommand.showWebhook(.getTeamWebhook, of: team, options) }
    }

    struct RotateTeamWebhookSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-team-webhook-secret",
            abstract: "Give the team's webhook a new signing secret (printed once); the old one stops at once."
        )
        @Argument(help: "The team.") var team: String
        @OptionGroup var options: PlatformOptions

        func run() async throws { try await IAMCommand.showWebhook(.rotateTeamWebhookSecret, of: team, options) }
    }

    struct DeleteTeamWebhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-team-webhook",
            abstract: "Stop sending the team's notifications."
        )
        @Argument(help: "The team.") var team: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(.deleteTeamWebhook, team, as: EmptyResponse.self)
                try options.emit(answer) { _ in ["removed the webhook of \(team)"] }
            }
        }
    }

    struct WebhookDeliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "webhook-deliveries",
            abstract: "The team's newest webhook deliveries: event, state, attempts, last HTTP status."
        )
        @Argument(help: "The team.") var team: String
        @Option(help: "How many (1 to 1000).") var limit = 50
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .listTeamWebhookDeliveries,
                    team,
                    query: [("limit", "\(limit)")],
                    as: WebhookDeliveryList.self
                )
                try options.emit(answer) { answer in
                    table(
                        ["DELIVERY", "EVENT", "REQUEST", "STATE", "ATTEMPTS", "STATUS", "CREATED", "FAILURE"],
                        answer.deliveries.map {
                            [
                                $0.deliveryId, $0.event, $0.requestId, $0.state, "\($0.attempts)", cell($0.statusCode),
                                cell($0.createDate), cell($0.failure),
                            ]
                        }
                    )
                }
            }
        }
    }
}
