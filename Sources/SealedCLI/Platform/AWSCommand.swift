internal import ArgumentParser
internal import PlatformClient
internal import WireShapes

/// `sealed aws`: the AWS account a server in AWS mode governs.
struct AWSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws",
        abstract: "The AWS account the server governs (sealed serve --aws).",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Compare the AWS account with the catalog and the grants; --fix restores what the platform owns.",
            discussion: """
                Lists every difference: a missing or extra trust principal, a grant's end changed, an edited \
                permission or key policy, a key disabled or scheduled for deletion, a reader role deleted by hand; \
                and, per event type, who can decrypt it by the live documents (the platform's own evaluator). \
                --fix rewrites roles, permission policies, grants and key policies, keeping trust statements the \
                platform did not write; it never re-enables a key. Exits 1 when differences remain. Administrators \
                only.
                """
        )
        @Flag(name: .customLong("fix"), help: "Restore what the platform owns, then check again.") var fix = false
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer =
                    fix
                    ? try await options.send(.fixAWSAccount, as: AWSDriftReport.self)
                    : try await options.send(.checkAWSAccount, as: AWSDriftReport.self)
                try options.emit(answer) { report in
                    (report.differences.isEmpty ? ["no drift"] : report.differences.map { "drift: \($0)" })
                        + report.readers.sorted { $0.key < $1.key }.map { type, principals in
                            "readers of \(type): \(principals.isEmpty ? "nobody" : principals.joined(separator: ", "))"
                        }
                }
                if !answer.output.differences.isEmpty { throw ExitCode(1) }
            }
        }
    }
}
