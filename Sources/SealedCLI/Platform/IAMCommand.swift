internal import ArgumentParser
internal import Foundation

/// `sealed iam`: teams, users, access keys and roles of the platform.
struct IAMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iam",
        abstract: "Manage teams, users, access keys and roles.",
        subcommands: [
            CreateTeam.self, CreateUser.self, AddToTeam.self, CreateAccessKey.self, ListAccessKeys.self, DeactivateAccessKey.self,
            DeleteAccessKey.self,
            ListUsers.self, ListTeams.self, ListRoles.self, GetRole.self,
        ]
    )

    struct CreateTeam: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create-team", abstract: "Create a team.")
        @Argument(help: "The team's name.") var name: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call("POST", ["iam", "teams"], body: ["TeamName": name])
                let team = answer["Team"] as? [String: Any] ?? [:]
                try options.emit(answer) { _ in ["created team \(team.string("TeamName")) (\(team.string("Arn")))"] }
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
                var body: [String: any Sendable] = ["UserName": name]
                if let team { body["Team"] = team }
                let answer = try await options.call("POST", ["iam", "users"], body: body)
                try options.emit(answer) { user in
                    [
                        "user            \(user.string("UserName")) (\(user.string("Arn")))",
                        "access key id   \(user.string("AccessKeyId"))",
                        "secret          \(user.string("SecretAccessKey"))",
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
                let answer = try await options.call(
                    "POST",
                    ["iam", "teams", team, "members"],
                    body: ["UserName": user]
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
                let answer = try await options.call("POST", ["iam", "users", user, "access-keys"])
                let key = answer["AccessKey"] as? [String: Any] ?? [:]
                try options.emit(answer) { _ in
                    [
                        "access key id   \(key.string("AccessKeyId"))",
                        "secret          \(key.string("SecretAccessKey"))",
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
                let answer = try await options.call("POST", ["iam", "access-keys", id, "deactivate"])
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
                let answer = try await options.call("GET", ["iam", "users", user, "access-keys"])
                try options.emit(answer) { answer in
                    table(
                        ["ACCESS KEY ID", "STATUS", "CREATED"],
                        answer.objects("AccessKeys").map {
                            [$0.string("AccessKeyId"), $0.string("Status"), $0.string("CreateDate")]
                        }
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
                let answer = try await options.call("DELETE", ["iam", "access-keys", id])
                try options.emit(answer) { _ in ["deleted \(id)"] }
            }
        }
    }

    struct ListUsers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-users", abstract: "List users.")
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call("GET", ["iam", "users"])
                try options.emit(answer) { answer in
                    table(
                        ["USER", "TEAMS", "ARN"],
                        answer.objects("Users").map { [$0.string("UserName"), $0.string("Teams"), $0.string("Arn")] }
                    )
                }
            }
        }
    }

    struct ListTeams: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-teams", abstract: "List teams.")
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call("GET", ["iam", "teams"])
                try options.emit(answer) { answer in
                    table(["TEAM", "ARN"], answer.objects("Teams").map { [$0.string("TeamName"), $0.string("Arn")] })
                }
            }
        }
    }

    struct ListRoles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-roles", abstract: "List roles.")
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call("GET", ["iam", "roles"])
                try options.emit(answer) { answer in
                    table(["ROLE", "ARN"], answer.objects("Roles").map { [$0.string("RoleName"), $0.string("Arn")] })
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
                let answer = try await options.call("GET", ["iam", "roles", name])
                let role = answer["Role"] as? [String: Any] ?? [:]
                try options.emit(answer) { _ in
                    var lines = [
                        "role         \(role.string("RoleName")) (\(role.string("Arn")))",
                        "description  \(role.string("Description"))",
                        "trust        \(role.string("AssumeRolePolicyDocument"))",
                    ]
                    for (name, document) in (role["Policies"] as? [String: String] ?? [:]).sorted(by: {
                        $0.key < $1.key
                    }) {
                        lines.append("policy       \(name): \(document)")
                    }
                    return lines
                }
            }
        }
    }
}
