internal import ArgumentParser
internal import PlatformClient
internal import WireShapes

extension IAMCommand {
    /// `sealed iam add-member TEAM --principal-arn ARN`: an AWS principal joins a team (AWS mode).
    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-member",
            abstract: "Add an AWS user of the governed account to a team (sealed serve --aws).",
            discussion: """
                The principal is named by its ARN, without a path: arn:aws:iam::ACCOUNT:user/NAME. It proves who it \
                is with a signed GetCallerIdentity (the CLI's --aws); its teams decide what it may review and \
                produce. For users of the platform's own IAM, use add-to-team.
                """
        )
        @Argument(help: "The team.") var team: String
        @Option(name: .customLong("principal-arn"), help: "The user's ARN.") var principalARN: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .addUserToTeam,
                    team,
                    input: MemberInput(principalArn: principalARN),
                    as: EmptyResponse.self
                )
                try options.emit(answer) { _ in ["added \(principalARN) to \(team)"] }
            }
        }
    }
}
