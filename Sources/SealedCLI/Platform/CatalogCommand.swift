internal import ArgumentParser
internal import Foundation

/// `sealed catalog`: domains and event types.
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Manage the event catalog: domains with their keys, event types with their classification.",
        subcommands: [CreateDomain.self, CreateEventType.self, List.self, Show.self]
    )

    struct CreateDomain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-domain",
            abstract: "Create a domain owned by a team; creates its KMS key."
        )
        @Argument(help: "The domain's name (lower case, e.g. payments).") var name: String
        @Option(help: "The owning team.") var owner: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call(
                    "POST",
                    ["catalog", "domains"],
                    body: ["Domain": name, "Owner": owner]
                )
                try options.emit(answer) { domain in
                    [
                        "created domain \(domain.string("Domain")) owned by \(domain.string("Owner"))",
                        "key \(domain.string("KeyArn"))",
                    ]
                }
            }
        }
    }

    struct CreateEventType: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-event-type",
            abstract: "Create an event type of a domain; creates its reader role.",
            discussion: """
                The reader role may decrypt events of this type only (kms:Decrypt on the domain key when the \
                encryption context's eventType is this type). Consumers get it through an approved access request.
                """
        )
        @Argument(help: "The event type, DOMAIN.NAME (e.g. payments.card.captured).") var name: String
        @Option(help: "The domain.") var domain: String
        @Option(help: "public, internal, confidential (default) or restricted.") var classification: String =
            "confidential"
        @Option(help: "A regulation the data falls under (GDPR, PCI-DSS, …); repeatable.") var regulation: [String] = []
        @Option(
            name: .customLong("sensitive-field"),
            help: "A JSON Pointer into data to seal (e.g. /card/number); repeatable. None: the whole data is sealed."
        )
        var sensitiveField: [String] = []
        @Option(help: "The ESDK algorithm suite producers use: 0x0578 (signed, default) or 0x0478.") var suite =
            "0x0578"
        @Option(help: "Different reviewers who must approve an access request: 1 (default) or 2.") var approvals = 1
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call(
                    "POST",
                    ["catalog", "event-types"],
                    body: [
                        "EventType": name, "Domain": domain, "Classification": classification,
                        "Regulations": regulation, "SensitiveFields": sensitiveField, "AlgorithmSuite": suite,
                        "ApprovalsRequired": approvals,
                    ]
                )
                try options.emit(answer) { type in
                    [
                        "created event type \(type.string("EventType")) (\(type.string("Classification")), scope \(type.string("Scope")))",
                        "reader role \(type.string("ReaderRoleArn"))",
                    ]
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List domains and event types.")
        @Option(help: "Only this domain's event types.") var domain: String?
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let domains = try await options.call("GET", ["catalog", "domains"])
                let types = try await options.call(
                    "GET",
                    ["catalog", "event-types"],
                    query: domain.map { [("domain", $0)] } ?? []
                )
                var answer = domains
                answer["EventTypes"] = types["EventTypes"]
                try options.emit(answer) { answer in
                    table(
                        ["DOMAIN", "OWNER", "KEY"],
                        answer.objects("Domains").map {
                            [$0.string("Domain"), $0.string("Owner"), $0.string("KeyArn")]
                        }
                    ) + [""]
                        + table(
                            ["EVENT TYPE", "CLASSIFICATION", "REGULATIONS", "SCOPE", "SUITE", "APPROVALS"],
                            answer.objects("EventTypes").map {
                                [
                                    $0.string("EventType"), $0.string("Classification"), $0.string("Regulations"),
                                    $0.string("Scope"), $0.string("AlgorithmSuite"), $0.string("ApprovalsRequired"),
                                ]
                            }
                        )
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an event type.")
        @Argument(help: "The event type.") var name: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call("GET", ["catalog", "event-types", name])
                try options.emit(answer) { type in
                    [
                        "event type      \(type.string("EventType"))",
                        "domain          \(type.string("Domain"))",
                        "classification  \(type.string("Classification"))",
                        "regulations     \(type.string("Regulations"))",
                        "scope           \(type.string("Scope"))  \(type.string("SensitiveFields"))",
                        "suite           \(type.string("AlgorithmSuite"))",
                        "approvals       \(type.string("ApprovalsRequired"))",
                        "key             \(type.string("KeyArn"))",
                        "reader role     \(type.string("ReaderRoleArn"))",
                    ]
                }
            }
        }
    }
}
