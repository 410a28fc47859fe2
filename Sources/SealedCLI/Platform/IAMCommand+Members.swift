internal import ArgumentParser
internal import PlatformClient
internal import WireShapes

extension IAMCommand {
    /// `sealed iam add-member TEAM --principal-arn ARN`: an AWS principal joins a team (AWS mode).
    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-member",
            abstract: "Add an AWS user, role or role-session pattern of the governed account to a team (serve --aws).",
            discussion: """
                The principal is named by its ARN, without a path: arn:aws:iam::ACCOUNT:user/NAME, \
                arn:aws:iam::ACCOUNT:role/NAME (its sessions act as it), or a role-session pattern \
                arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION where * in SESSION stands for any run of characters \
                (e.g. .../assumed-role/Reviewers/*). It proves who it is with a signed GetCallerIdentity (the CLI's \
                --aws); its teams decide what it may review and produce (users and roles get the team's producer \
                policies in AWS; sessions matched by a pattern review only). For users of the platform's own IAM, use \
                add-to-team.
                """
        )
        @Argument(help: "The team.") var team: String
        @Option(name: .customLong("principal-arn"), help: "The user's or role's ARN, or a role-session pattern.")
        var principalARN: String
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
