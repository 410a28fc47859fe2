internal import ArgumentParser
internal import EncryptionSDK
internal import Foundation
internal import KMS
internal import SealedEvents

/// `sealed topics`: the event bus's topics.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Create, list and describe the event bus's topics.",
        subcommands: [Create.self, List.self, Describe.self]
    )

    static func lines(_ topic: [String: Any]) -> [String] {
        [
            "topic      \(topic.string("Name"))",
            "events     \(topic.string("EventCount")) (offsets \(topic.string("FirstOffset"))…\(topic.string("LastOffset")))",
            "bytes      \(topic.string("Bytes"))",
            "retention  \(topic.string("RetentionSeconds")) s, \(topic.string("RetentionBytes")) bytes",
        ]
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a topic.")
        @Argument(help: "The topic's name ([a-z0-9][a-z0-9._-]*).") var name: String
        @Option(help: "Drop events older than this: 90m, 12h, 7d … (default: keep).") var retention: String?
        @Option(name: .customLong("retention-bytes"), help: "Keep at most this many bytes of events (default: all).")
        var retentionBytes: Int?
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                var body: [String: any Sendable] = ["Name": name]
                if let retention { body["RetentionSeconds"] = try parseDuration(retention, option: "--retention") }
                if let retentionBytes { body["RetentionBytes"] = retentionBytes }
                let answer = try await options.call("POST", ["topics"], body: body)
                try options.emit(answer) { ["created topic \($0.string("Name"))"] }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List topics.")
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call("GET", ["topics"])
                try options.emit(answer) { answer in
                    table(
                        ["TOPIC", "EVENTS", "LAST OFFSET", "BYTES"],
                        answer.objects("Topics").map {
                            [$0.string("Name"), $0.string("EventCount"), $0.string("LastOffset"), $0.string("Bytes")]
                        }
                    )
                }
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "Describe a topic.")
        @Argument(help: "The topic.") var name: String
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.call("GET", ["topics", name])
                try options.emit(answer, text: TopicsCommand.lines)
            }
        }
    }
}

/// The catalog entry of an event type (`GET /v1/catalog/event-types/TYPE`) as the SDK's descriptor.
func descriptor(of eventType: String, options: PlatformOptions) async throws -> EventTypeDescriptor {
    try eventTypeDescriptor(try await options.call("GET", ["catalog", "event-types", eventType]))
}

/// A catalog entry's JSON as the SDK's descriptor.
func eventTypeDescriptor(_ type: [String: Any]) throws -> EventTypeDescriptor {
    let pointers = try (type["SensitiveFields"] as? [String] ?? []).map { try JSONPointer($0) }
    guard let keyArn = type["KeyArn"] as? String,
        let classification = SealedEvents.Classification(rawValue: type.string("Classification")),
        let suite = AlgorithmSuite(type.string("AlgorithmSuite"))
    else { throw CLIError("the catalog entry of \(type.string("EventType")) is incomplete") }
    return EventTypeDescriptor(
        name: type.string("EventType"),
        domain: type.string("Domain"),
        classification: classification,
        regulations: type["Regulations"] as? [String] ?? [],
        keyArn: keyArn,
        algorithmSuite: suite,
        sealing: pointers.isEmpty ? .data : .fields(pointers),
        readerRoleArn: type["ReaderRoleArn"] as? String
    )
}

/// The events of a `/v1/topics/…/events` or group fetch answer, parsed without losing member order or number
/// literals: `(offset, envelope)` pairs and the next offset.
func storedEvents(_ answer: Data) throws -> (events: [(offset: UInt64, envelope: Envelope)], next: UInt64?) {
    guard case .object(let object) = try SealedEvents.JSONValue(parsing: Array(answer)),
        case .array(let items)? = object["Events"]
    else { throw CLIError("the bus answered something other than an event list") }
    var events: [(UInt64, Envelope)] = []
    for item in items {
        guard case .object(let fields) = item, case .number(let number)? = fields["Offset"],
            let offset = UInt64(number.literal), let event = fields["Event"]
        else { throw CLIError("the bus answered a malformed event") }
        events.append((offset, try Envelope(jsonValue: event)))
    }
    var next: UInt64?
    if case .number(let number)? = object["NextOffset"] { next = UInt64(number.literal) }
    return (events, next)
}

/// `sealed publish`: seal an event through the SDK (or take a sealed envelope) and publish it.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Seal an event as the catalog says and publish it; prints its offset.",
        discussion: """
            With --event-type, the data is sealed with the event type's domain key, suite and sensitive fields \
            from the catalog (the caller must be allowed to generate data keys for it: the owning team). With \
            --raw-file, an envelope that is already sealed is published as it is. Either way the bus checks it \
            against the catalog before storing it.
            """
    )
    @Option(help: "The topic.") var topic: String
    @Option(name: .customLong("event-type"), help: "The event type (from the catalog).") var eventType: String?
    @Option(help: "The event's data, JSON.") var data: String?
    @Option(name: .customLong("data-file"), help: "A file holding the event's data, JSON.") var dataFile: String?
    @Option(help: "The producing service (metaData.source).") var source = "sealed-cli"
    @Option(name: .customLong("raw-file"), help: "A complete envelope (already sealed) to publish as it is.")
    var rawFile: String?
    @OptionGroup var options: PlatformOptions

    func validate() throws {
        if rawFile != nil {
            guard eventType == nil, data == nil, dataFile == nil else {
                throw ValidationError(
                    "--raw-file publishes an envelope as it is: no --event-type, --data or --data-file"
                )
            }
        } else {
            guard eventType != nil else {
                throw ValidationError("give --event-type TYPE with --data or --data-file, or --raw-file")
            }
            guard (data == nil) != (dataFile == nil) else {
                throw ValidationError("give exactly one of --data and --data-file")
            }
        }
    }

    func run() async throws {
        try await CLIError.reporting {
            let payload: [UInt8]
            if let rawFile {
                payload = Array(try Data(contentsOf: URL(fileURLWithPath: rawFile)))
            } else if let eventType {
                let text = try data ?? String(contentsOf: URL(fileURLWithPath: dataFile ?? ""), encoding: .utf8)
                let value: SealedEvents.JSONValue
                do {
                    value = try SealedEvents.JSONValue(parsing: text)
                } catch {
                    throw CLIError("the event data is not valid JSON: \(error)")
                }
                let descriptor = try await descriptor(of: eventType, options: options)
                let kms = try KMSClient(configuration: try options.awsConfiguration())
                let sealer = try Sealer(kms: kms)
                let envelope = Envelope(
                    metaData: MetaData(
                        eventId: Sealer.makeEventId(),
                        eventType: descriptor.name,
                        domain: descriptor.domain,
                        source: source,
                        time: Date().formatted(.iso8601),
                        classification: descriptor.classification,
                        regulations: descriptor.regulations.isEmpty ? nil : descriptor.regulations
                    ),
                    data: value
                )
                payload = try await sealer.seal(envelope, as: descriptor).serialized()
            } else {
                return
            }
            let answer = try await options.call("POST", ["topics", topic, "events"], json: payload)
            let offset = (answer["Offsets"] as? [Any])?.first.map { "\($0)" } ?? "-"
            try options.emit(["Offset": Int(offset) ?? 0, "Topic": topic]) { _ in ["\(offset)"] }
        }
    }
}

/// `sealed consume`: read a topic, optionally opening what the caller may open.
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Read events from a topic (from an offset, or as a consumer group), optionally opened.",
        discussion: """
            Without --open the events are printed as published: readable metaData, sealed data. With --open \
            each event is opened with your credentials: the event type's reader role is assumed (your access \
            request must be approved), and events you may not open are shown redacted, with the command that \
            asks for access. With --group, the group's committed offset is advanced after each batch is printed \
            (at-least-once).
            """
    )
    @Option(help: "The topic.") var topic: String
    @Option(help: "The first offset to read (default 1); not with --group.") var from: UInt64?
    @Option(help: "A consumer group: read after its committed offset, and commit what was printed.") var group: String?
    @Option(help: "Stop after this many events.") var max: Int?
    @Flag(help: "Keep waiting for new events.") var follow = false
    @Flag(help: "Open sealed events with your credentials.") var open = false
    @Option(help: "The consumer's name, for the role session name (default: sealed-cli).") var consumer = "sealed-cli"
    @OptionGroup var options: PlatformOptions

    func validate() throws {
        if group != nil, from != nil {
            throw ValidationError("--from and --group are exclusive: a group reads after its committed offset")
        }
        if let max, max < 1 { throw ValidationError("--max must be at least 1") }
    }

    func run() async throws {
        try await CLIError.reporting {
            var next = from ?? 1
            var printed = 0
            var openers: [String: (EventTypeDescriptor, Opener)] = [:]
            let aws = open ? try options.awsConfiguration() : nil
            while true {
                let limit = Swift.min(100, (max ?? Int.max) - printed)
                let wait = follow ? "20" : "0"
                let answer: [String: Any]
                if let group {
                    answer = try await options.call(
                        "POST",
                        ["topics", topic, "groups", group, "fetch"],
                        query: [("limit", "\(limit)"), ("wait", wait)]
                    )
                } else {
                    answer = try await options.call(
                        "GET",
                        ["topics", topic, "events"],
                        query: [("from", "\(next)"), ("limit", "\(limit)"), ("wait", wait)]
                    )
                }
                let events = answer.objects("Events")
                for item in events {
                    guard let event = item["Event"] else { continue }
                    let offset = item.string("Offset")
                    var output: [String: Any] = ["Offset": item["Offset"] ?? 0, "Event": event]
                    if open, let aws {
                        output = try await opened(event, offset: item["Offset"] ?? 0, aws: aws, openers: &openers)
                    }
                    try options.emit(output) { object in
                        let json =
                            (try? JSONSerialization.data(
                                withJSONObject: object["Data"] ?? object["Event"] ?? [:],
                                options: [.sortedKeys, .withoutEscapingSlashes]
                            )) ?? Data()
                        var line = "\(offset)  \(String(decoding: json, as: UTF8.self))"
                        if let denial = object["Denied"] as? String { line += "\n   \(denial)" }
                        return [line]
                    }
                    printed += 1
                }
                if let last = events.last.flatMap({ ($0["Offset"] as? NSNumber)?.uint64Value }) {
                    guard last < UInt64.max else { throw CLIError("the bus answered an offset out of range") }
                    next = last + 1
                    if let group {
                        _ = try await options.call(
                            "POST",
                            ["topics", topic, "groups", group, "commit"],
                            body: ["Offset": NSNumber(value: last)]
                        )
                    }
                }
                if let max, printed >= max { return }
                if events.isEmpty, !follow { return }
            }
        }
    }

    /// The event opened (its data), or redacted with the reason and the request command when it cannot be.
    func opened(
        _ event: Any,
        offset: Any,
        aws: AWSConfiguration,
        openers: inout [String: (EventTypeDescriptor, Opener)]
    ) async throws -> [String: Any] {
        let bytes = try JSONSerialization.data(withJSONObject: event)
        let envelope = try Envelope(json: Array(bytes))
        let type = envelope.metaData.eventType
        guard envelope.metaData.encryption != nil else {
            return ["Offset": offset, "EventType": type, "Data": event, "Sealed": false]
        }
        if openers[type] == nil {
            let descriptor = try await descriptor(of: type, options: options)
            openers[type] = (descriptor, try Opener.assumingReaderRole(of: descriptor, aws: aws, consumer: consumer))
        }
        guard let (descriptor, opener) = openers[type] else { return [:] }
        let result = try await opener.open(envelope, as: descriptor, redacting: true)
        let data = try JSONSerialization.jsonObject(with: Data(result.data.serialized()), options: [.fragmentsAllowed])
        var output: [String: Any] = [
            "Offset": offset, "EventId": envelope.metaData.eventId, "EventType": type, "Data": data,
            "Opened": result.isComplete,
        ]
        if let denial = result.denial {
            output["Denied"] = denial.accessDenied.map(\.description) ?? "\(denial)"
        }
        return output
    }
}
