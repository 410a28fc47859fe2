internal import ArgumentParser
internal import Foundation
internal import PlatformClient
internal import WireShapes

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

    static func lines(_ request: AccessRequestOutput) -> [String] {
        var lines = [
            "request        \(request.requestId)",
            "event type     \(request.eventType)",
            "requester      \(request.requester)",
            "status         \(request.status)",
            "justification  \(request.justification)",
            "approvals      \(request.approvals.count) of \(request.approvalsRequired)",
        ]
        for review in request.approvals {
            lines.append("  approved by  \(review.reviewer): \(review.comment)")
        }
        if let denial = request.denial {
            lines.append("denied by      \(denial.reviewer): \(denial.comment)")
        }
        if let approval = request.approvalDate { lines.append("approved       \(cell(approval))") }
        if let expiration = request.expirationDate {
            lines.append("expires        \(cell(expiration)) (duration counted from the final approval)")
        }
        if let deadline = request.pendingExpirationDate {
            lines.append("decide by      \(cell(deadline)) (expires undecided then)")
        }
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
                let input = AccessRequestInput(
                    eventType: eventType,
                    justification: justification,
                    durationSeconds: try duration.map { try parseDuration($0, option: "--duration") }
                )
                let answer = try await options.send(
                    .createAccessRequest,
                    input: input,
                    as: AccessRequestOutput.self
                )
                try options.emit(answer) { request in
                    ["requested \(request.eventType): \(request.requestId) is \(request.status)"]
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
                let answer = try await options.send(
                    .listAccessRequests,
                    query: status.map { [("status", $0)] } ?? [],
                    as: AccessRequestList.self
                )
                try options.emit(answer) { answer in
                    table(
                        ["REQUEST", "STATUS", "EVENT TYPE", "REQUESTER", "UNTIL"],
                        answer.accessRequests.map {
                            [
                                $0.requestId, $0.status, $0.eventType, $0.requester,
                                cell($0.pendingExpirationDate ?? $0.expirationDate),
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
                let answer = try await options.send(.getAccessRequest, id, as: AccessRequestOutput.self)
                try options.emit(answer, text: AccessCommand.lines)
            }
        }
    }

    /// approve, deny, cancel and revoke differ only in their verb and whether a comment is required.
    static func decide(_ route: PlatformRoute, _ id: String, comment: String?, options: PlatformOptions) async throws {
        try await CLIError.reporting {
            let answer = try await options.send(
                route,
                id,
                input: CommentInput(comment: comment),
                as: AccessRequestOutput.self
            )
            try options.emit(answer) { request in ["\(request.requestId) is \(request.status)"] }
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
        func run() async throws {
            try await AccessCommand.decide(.approveAccessRequest, id, comment: comment, options: options)
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deny", abstract: "Deny a request, saying why.")
        @Argument(help: "The request id.") var id: String
        @Option(help: "Why; the requester sees this.") var comment: String
        @OptionGroup var options: PlatformOptions
        func run() async throws {
            try await AccessCommand.decide(.denyAccessRequest, id, comment: comment, options: options)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel",
            abstract: "Withdraw your pending request."
        )
        @Argument(help: "The request id.") var id: String
        @OptionGroup var options: PlatformOptions
        func run() async throws {
            try await AccessCommand.decide(.cancelAccessRequest, id, comment: nil, options: options)
        }
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
        func run() async throws {
            try await AccessCommand.decide(.revokeAccessRequest, id, comment: comment, options: options)
        }
    }

    struct Matrix: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "matrix",
            abstract: "Who may read which event type, until when, and who approved."
        )
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(.getAccessMatrix, as: GrantList.self)
                try options.emit(answer) { answer in
                    table(
                        ["EVENT TYPE", "PRINCIPAL", "UNTIL", "APPROVED BY", "REQUEST"],
                        answer.grants.map {
                            [
                                $0.eventType, $0.principal, $0.expirationDate.map { cell($0) } ?? "until revoked",
                                cell($0.approvedBy), $0.requestId,
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
                let answer = try await options.send(.getUsageReport, query: query, as: UsageReportOutput.self)
                try options.emit(answer) { answer in
                    table(
                        ["EVENT TYPE", "PRINCIPAL", "DECRYPTS", "DENIALS"],
                        answer.rows.map {
                            [cell($0.eventType), cell($0.principal), cell($0.decrypts), cell($0.denials)]
                        }
                    )
                }
            }
        }
    }
}
