internal import ArgumentParser
internal import Foundation
internal import PlatformClient
internal import WireShapes

/// `sealed iam`: teams, users, access keys and roles of the platform.
struct IAMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iam",
        abstract: "Manage teams, users, access keys and roles.",
        subcommands: [
            CreateTeam.self, CreateUser.self, AddToTeam.self, AddMember.self, CreateAccessKey.self, ListAccessKeys.self,
            DeactivateAccessKey.self,
            DeleteAccessKey.self,
            ListUsers.self, ListTeams.self, ListRoles.self, GetRole.self, SetTeamWebhook.self, ShowTeamWebhook.self,
            RotateTeamWebhookSecret.self, DeleteTeamWebhook.self, WebhookDeliveries.self,
        ]
    )

    struct CreateTeam: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-team", abstract: "Create a team.")
        @Argument(help: "The team's name.") var name: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .createTeam,
                    input: TeamInput(teamName: name),
                    as: TeamAnswer.self
                )
                try options.emit(answer) { ["created team \($0.team.teamName) (\($0.team.arn))"] }
            }
        }
    }

    struct CreateUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-user",
            abstract: "Create a user (a service or a person) and its first access key.",
            discussion: "Prints the new credentials once; store the secret now, it cannot be read again."
        )
        @Argument(help: "The user's name.") var name: String
        @Option(help: "A team to put the user in.") var team: String?
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .createUser,
                    input: CreateUserInput(userName: name, team: team),
                    as: CreatedUserOutput.self
                )
                try options.emit(answer) { user in
                    [
                        "user            \(user.userName) (\(user.arn))",
                        "access key id   \(user.accessKeyId)",
                        "secret          \(user.secretAccessKey)",
                        "store the secret now: it is not shown again",
                    ]
                }
            }
        }
    }

    struct AddToTeam: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-to-team", abstract: "Add a user to a team.")
        @Argument(help: "The user's name.") var user: String
        @Option(help: "The team.") var team: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .addUserToTeam,
                    team,
                    input: MemberInput(userName: user),
                    as: EmptyResponse.self
                )
                try options.emit(answer) { _ in ["added \(user) to \(team)"] }
            }
        }
    }

    struct CreateAccessKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-access-key",
            abstract: "Create a second access key for a user (two at most), e.g. to rotate keys."
        )
        @Argument(help: "The user's name.") var user: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .createAccessKey,
                    user,
                    as: NewAccessKeyAnswer.self
                )
                try options.emit(answer) { answer in
                    [
                        "access key id   \(answer.accessKey.accessKeyId)",
                        "secret          \(answer.accessKey.secretAccessKey)",
                    ]
                }
            }
        }
    }

    struct DeactivateAccessKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deactivate-access-key",
            abstract: "Deactivate an access key: requests signed with it are refused."
        )
        @Argument(help: "The access key id.") var id: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .deactivateAccessKey,
                    id,
                    as: EmptyResponse.self
                )
                try options.emit(answer) { _ in ["deactivated \(id)"] }
            }
        }
    }

    struct ListAccessKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-access-keys",
            abstract: "List a user's access keys (ids and status; secrets are never shown again)."
        )
        @Argument(help: "The user's name.") var user: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .listAccessKeys,
                    user,
                    as: AccessKeyList.self
                )
                try options.emit(answer) { answer in
                    table(
                        ["ACCESS KEY ID", "STATUS", "CREATED"],
                        answer.accessKeys.map { [$0.accessKeyId, $0.status, cell($0.createDate)] }
                    )
                }
            }
        }
    }

    struct DeleteAccessKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-access-key",
            abstract: "Delete an access key for good (deactivate it first to check nothing still uses it)."
        )
        @Argument(help: "The access key id.") var id: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(.deleteAccessKey, id, as: EmptyResponse.self)
                try options.emit(answer) { _ in ["deleted \(id)"] }
            }
        }
    }

    struct ListUsers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-users", abstract: "List users.")
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(.listUsers, as: UserList.self)
                try options.emit(answer) { answer in
                    table(["USER", "TEAMS", "ARN"], answer.users.map { [$0.userName, cell($0.teams), $0.arn] })
                }
            }
        }
    }

    struct ListTeams: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-teams", abstract: "List teams.")
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(.listTeams, as: TeamList.self)
                try options.emit(answer) { answer in
                    table(["TEAM", "ARN"], answer.teams.map { [$0.teamName, $0.arn] })
                }
            }
        }
    }

    struct ListRoles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-roles", abstract: "List roles.")
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(.listRoles, as: RoleList.self)
                try options.emit(answer) { answer in
                    table(["ROLE", "ARN"], answer.roles.map { [$0.roleName, $0.arn] })
                }
            }
        }
    }

    struct GetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get-role",
            abstract: "Show a role with its trust policy and permission policies."
        )
        @Argument(help: "The role's name.") var name: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(.getRole, name, as: RoleAnswer.self)
                try options.emit(answer) { answer in
                    let role = answer.role
                    var lines = [
                        "role         \(role.roleName) (\(role.arn))",
                        "description  \(role.description)",
                        "trust        \(role.assumeRolePolicyDocument)",
                    ]
                    for (name, document) in role.policies.sorted(by: { $0.key < $1.key }) {
                        lines.append("policy       \(name): \(document)")
                    }
                    return lines
                }
            }
        }
    }
}
