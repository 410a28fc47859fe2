internal import ArgumentParser
internal import Foundation
internal import PlatformClient
internal import WireShapes

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
            abstract: "Create a domain owned by a team; creates its KMS key.",
            discussion: """
                In AWS mode, --key-arn adopts an existing AWS KMS key instead: it must be a symmetric encryption \
                key, enabled; the platform tags it, gives it the platform's key policy and the domain's alias.
                """
        )
        @Argument(help: "The domain's name (lower case, e.g. payments).") var name: String
        @Option(help: "The owning team.") var owner: String
        @Option(name: .customLong("key-arn"), help: "AWS mode: an existing KMS key to adopt instead of creating one.")
        var keyARN: String?
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .createDomain,
                    input: CreateDomainInput(domain: name, owner: owner, keyArn: keyARN),
                    as: DomainOutput.self
                )
                try options.emit(answer) { domain in
                    [
                        "created domain \(domain.domain) owned by \(domain.owner)",
                        "key \(domain.keyArn)",
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
        @Option(
            name: .customLong("subject-field"),
            help: """
                The JSON Pointer of the data subject's id in data (e.g. /customer/id): events are sealed under the \
                subject's own branch key, which `sealed subjects erase` destroys. It must lie in the sealed part \
                (the whole data, or a sensitive field), of a confidential or restricted type.
                """
        )
        var subjectField: String?
        @Option(help: "The ESDK algorithm suite producers use: 0x0578 (signed, default) or 0x0478.") var suite =
            "0x0578"
        @Option(help: "Different reviewers who must approve an access request: 1 (default) or 2.") var approvals = 1
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(
                    .createEventType,
                    input: EventTypeInput(
                        eventType: name,
                        domain: domain,
                        classification: classification,
                        regulations: regulation,
                        sensitiveFields: sensitiveField,
                        subjectField: subjectField,
                        algorithmSuite: suite,
                        approvalsRequired: approvals
                    ),
                    as: EventTypeOutput.self
                )
                try options.emit(answer) { type in
                    [
                        "created event type \(type.eventType) (\(type.classification), scope \(type.scope))",
                        "reader role \(type.readerRoleArn)",
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
                let domains = try await options.send(.listDomains, as: DomainList.self).output
                let types = try await options.send(
                    .listEventTypes,
                    query: domain.map { [("domain", $0)] } ?? [],
                    as: EventTypeList.self
                ).output
                try options.emit(Listing(domains: domains.domains, eventTypes: types.eventTypes)) { answer in
                    table(["DOMAIN", "OWNER", "KEY"], answer.domains.map { [$0.domain, $0.owner, $0.keyArn] })
                        + [""]
                        + table(
                            ["EVENT TYPE", "CLASSIFICATION", "REGULATIONS", "SCOPE", "SUBJECT", "SUITE", "APPROVALS"],
                            answer.eventTypes.map {
                                [
                                    $0.eventType, $0.classification, cell($0.regulations), $0.scope,
                                    cell($0.subjectField), $0.algorithmSuite, cell($0.approvalsRequired),
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
                let answer = try await options.send(.getEventType, name, as: EventTypeOutput.self)
                try options.emit(answer) { type in
                    [
                        "event type      \(type.eventType)",
                        "domain          \(type.domain)",
                        "classification  \(type.classification)",
                        "regulations     \(cell(type.regulations))",
                        "scope           \(type.scope)  \(cell(type.sensitiveFields))",
                        "subject field   \(cell(type.subjectField))",
                        "suite           \(type.algorithmSuite)",
                        "approvals       \(type.approvalsRequired)",
                        "key             \(cell(type.keyArn))",
                        "reader role     \(type.readerRoleArn)",
                    ]
                }
            }
        }
    }

    /// What `list` prints: the domains and the event types, as one JSON object.
    struct Listing: Encodable {
        var domains: [DomainOutput]
        var eventTypes: [EventTypeOutput]

        enum CodingKeys: String, CodingKey {
            case domains = "Domains"
            case eventTypes = "EventTypes"
        }
    }
}
