internal import ArgumentParser
internal import Foundation

/// `sealed access`: requesting, reviewing and revoking read access to event types.
struct AccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access",
        abstract: "Request read access to an event type, review requests, and see who may read what.",
        discussion: """
            Approval adds the requester to the event type's reader role's trust policy (until the duration \
            ends, if one was given); the requester then assumes that role to decrypt. Revocation removes it.
            """,
        subcommands: [
            Request.self, List.self, Show.self, Approve.self, Deny.self, Cancel.self, Revoke.self, Matrix.self,
            Usage.self,
        ]
    )

    static func lines(_ request: [String: Any]) -> [String] {
        var lines = [
            "request        \(request.string("RequestId"))",
            "event type     \(request.string("EventType"))",
            "requester      \(request.string("Requester"))",
            "status         \(request.string("Status"))",
            "justification  \(request.string("Justification"))",
            "approvals      \(request.objects("Approvals").count) of \(request.string("ApprovalsRequired"))",
        ]
        for review in request.objects("Approvals") {
            lines.append("  approved by  \(review.string("Reviewer")): \(review.string("Comment"))")
        }
        if let denial = request["Denial"] as? [String: Any] {
            lines.append("denied by      \(denial.string("Reviewer")): \(denial.string("Comment"))")
        }
        if request["ExpirationDate"] is String { lines.append("expires        \(request.string("ExpirationDate"))") }
        return lines
    }

    struct Request: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "request",
            abstract: "Ask the owning team for read access to an event type."
        )
        @Argument(help: "The event type.") var eventType: String
        @Option(help: "Why you need to read it; reviewers see this.") var justification: String
        @Option(help: "How long access lasts once approved: 90m, 1h, 7d, 2w … (default: until revoked).")
        var duration: String?
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                var body: [String: any Sendable] = ["EventType": eventType, "Justification": justification]
                if let duration { body["DurationSeconds"] = try parseDuration(duration, option: "--duration") }
                let answer = try await options.call("POST", ["access", "requests"], body: body)
                try options.emit(answer) { request in
                    [
                        "requested \(request.string("EventType")): \(request.string("RequestId")) is \(request.string("Status"))"
                    ]
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the access requests you made or may review."
        )
        @Option(help: "pending, approved, denied, cancelled, revoked or expired.") var status: String?
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call(
                    "GET",
                    ["access", "requests"],
                    query: status.map { [("status", $0)] } ?? []
                )
                try options.emit(answer) { answer in
                    table(
                        ["REQUEST", "STATUS", "EVENT TYPE", "REQUESTER"],
                        answer.objects("AccessRequests").map {
                            [
                                $0.string("RequestId"), $0.string("Status"), $0.string("EventType"),
                                $0.string("Requester"),
                            ]
                        }
                    )
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an access request.")
        @Argument(help: "The request id.") var id: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call("GET", ["access", "requests", id])
                try options.emit(answer, text: AccessCommand.lines)
            }
        }
    }

    /// approve, deny, cancel and revoke differ only in their verb and whether a comment is required.
    static func decide(_ verb: String, _ id: String, comment: String?, options: PlatformOptions) async throws {
        try await CLIError.reporting {
            let answer = try await options.call(
                "POST",
                ["access", "requests", id, verb],
                body: comment.map { ["Comment": $0] } ?? [:]
            )
            try options.emit(answer) { request in ["\(request.string("RequestId")) is \(request.string("Status"))"] }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "approve",
            abstract: "Approve a request (members of the owning team; not your own)."
        )
        @Argument(help: "The request id.") var id: String
        @Option(help: "A note for the record.") var comment: String?
        @OptionGroup var options: PlatformOptions
        func run() async throws { try await AccessCommand.decide("approve", id, comment: comment, options: options) }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deny", abstract: "Deny a request, saying why.")
        @Argument(help: "The request id.") var id: String
        @Option(help: "Why; the requester sees this.") var comment: String
        @OptionGroup var options: PlatformOptions
        func run() async throws { try await AccessCommand.decide("deny", id, comment: comment, options: options) }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel",
            abstract: "Withdraw your pending request."
        )
        @Argument(help: "The request id.") var id: String
        @OptionGroup var options: PlatformOptions
        func run() async throws { try await AccessCommand.decide("cancel", id, comment: nil, options: options) }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "End an approved grant (owning team or administrator).",
            discussion: """
                AssumeRole of the reader role fails at once; role sessions already issued stay valid until they \
                expire (at most an hour by default), and consumers' cached data keys until the cache's maximum age.
                """
        )
        @Argument(help: "The request id.") var id: String
        @Option(help: "Why.") var comment: String?
        @OptionGroup var options: PlatformOptions
        func run() async throws { try await AccessCommand.decide("revoke", id, comment: comment, options: options) }
    }

    struct Matrix: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "matrix",
            abstract: "Who may read which event type, until when, and who approved."
        )
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call("GET", ["access", "matrix"])
                try options.emit(answer) { answer in
                    table(
                        ["EVENT TYPE", "PRINCIPAL", "UNTIL", "APPROVED BY", "REQUEST"],
                        answer.objects("Grants").map {
                            [
                                $0.string("EventType"), $0.string("Principal"),
                                $0["ExpirationDate"] is String ? $0.string("ExpirationDate") : "until revoked",
                                $0.string("ApprovedBy"), $0.string("RequestId"),
                            ]
                        }
                    )
                }
            }
        }
    }

    struct Usage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "usage",
            abstract: "For each event type, who decrypted how many times, and the denials (from the audit trail)."
        )
        @Option(help: "From this time (ISO 8601; default: 30 days ago).") var since: String?
        @Option(help: "Until this time (ISO 8601; default: now).") var until: String?
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                var query: [(String, String)] = []
                if let since { query.append(("since", since)) }
                if let until { query.append(("until", until)) }
                let answer = try await options.call("GET", ["access", "usage"], query: query)
                try options.emit(answer) { answer in
                    table(
                        ["EVENT TYPE", "PRINCIPAL", "DECRYPTS", "DENIALS"],
                        answer.objects("Rows").map {
                            [
                                $0.string("EventType"), $0.string("Principal"), $0.string("Decrypts"),
                                $0.string("Denials"),
                            ]
                        }
                    )
                }
            }
        }
    }
}
