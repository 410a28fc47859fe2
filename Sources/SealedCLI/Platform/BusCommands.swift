internal import ArgumentParser
internal import EncryptionSDK
internal import Foundation
internal import KMS
internal import PlatformClient
internal import SealedEvents
internal import WireShapes

/// `sealed topics`: the event bus's topics.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Create, list and describe the event bus's topics.",
        subcommands: [Create.self, List.self, Describe.self]
    )

    static func lines(_ topic: TopicOutput) -> [String] {
        [
            "topic      \(topic.name)",
            "events     \(topic.eventCount) (offsets \(cell(topic.firstOffset))…\(cell(topic.lastOffset)))",
            "bytes      \(topic.bytes)",
            "retention  \(cell(topic.retentionSeconds)) s, \(cell(topic.retentionBytes)) bytes",
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
                let input = TopicInput(
                    name: name,
                    retentionSeconds: try retention.map { try parseDuration($0, option: "--retention") },
                    retentionBytes: retentionBytes
                )
                let answer = try await options.send(.createTopic, input: input, as: TopicOutput.self)
                try options.emit(answer) { ["created topic \($0.name)"] }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List topics.")
        @OptionGroup var options: PlatformOptions

        func run() async throws {
            try await CLIError.reporting {
                let answer = try await options.send(.listTopics, as: TopicList.self)
                try options.emit(answer) { answer in
                    table(
                        ["TOPIC", "EVENTS", "LAST OFFSET", "BYTES"],
                        answer.topics.map { [$0.name, cell($0.eventCount), cell($0.lastOffset), cell($0.bytes)] }
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
                let answer = try await options.send(.describeTopic, name, as: TopicOutput.self)
                try options.emit(answer, text: TopicsCommand.lines)
            }
        }
    }
}

/// The catalog entry of an event type (`GET /v1/catalog/event-types/TYPE`) as the SDK's descriptor.
func descriptor(of eventType: String, options: PlatformOptions) async throws -> EventTypeDescriptor {
    try eventTypeDescriptor(
        try await options.send(.getEventType, eventType, as: EventTypeOutput.self).output
    )
}

/// A catalog entry as the SDK's descriptor.
func eventTypeDescriptor(_ type: EventTypeOutput) throws -> EventTypeDescriptor {
    let pointers = try type.sensitiveFields.map { try JSONPointer($0) }
    guard let keyArn = type.keyArn,
        let classification = SealedEvents.Classification(rawValue: type.classification),
        let suite = AlgorithmSuite(type.algorithmSuite)
    else { throw CLIError("the catalog entry of \(type.eventType) is incomplete") }
    return EventTypeDescriptor(
        name: type.eventType,
        domain: type.domain,
        classification: classification,
        regulations: type.regulations,
        keyArn: keyArn,
        algorithmSuite: suite,
        sealing: pointers.isEmpty ? .data : .fields(pointers),
        readerRoleArn: type.readerRoleArn,
        subjectField: try type.subjectField.map { try JSONPointer($0) }
    )
}

/// The events of a `/v1/topics/…/events` or group fetch answer, parsed without losing member order or number
/// literals: `(offset, event)` pairs and the next offset.
func eventList(_ answer: Data) throws -> (events: [(offset: UInt64, event: SealedEvents.JSONValue)], next: UInt64?) {
    guard case .object(let object) = try SealedEvents.JSONValue(parsing: Array(answer)),
        case .array(let items)? = object["Events"]
    else { throw CLIError("the bus answered something other than an event list") }
    var events: [(UInt64, SealedEvents.JSONValue)] = []
    for item in items {
        guard case .object(let fields) = item, case .number(let number)? = fields["Offset"],
            let offset = UInt64(number.literal), let event = fields["Event"]
        else { throw CLIError("the bus answered a malformed event") }
        events.append((offset, event))
    }
    var next: UInt64?
    if case .number(let number)? = object["NextOffset"] { next = UInt64(number.literal) }
    return (events, next)
}

/// The events of an event list answer as envelopes: `(offset, envelope)` pairs and the next offset.
func storedEvents(_ answer: Data) throws -> (events: [(offset: UInt64, envelope: Envelope)], next: UInt64?) {
    let (events, next) = try eventList(answer)
    return (try events.map { ($0.offset, try Envelope(jsonValue: $0.event)) }, next)
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

            With --stream, envelopes (already sealed, one JSON object per line: NDJSON) are read from --file \
            PATH, or from standard input (--file - or no --file), and published on one stream \
            (POST /v1/topics/TOPIC/events:stream), reconnecting and resending unacknowledged events if the \
            connection breaks. One acknowledgement line per event is printed as it arrives, in input order: \
            {"EventId":…,"Offset":n} or {"EventId":…,"Error":{"Code":"<rule>","Message":…}}. Blank lines are \
            skipped. Exit status: 0 when every event was stored, 2 when at least one was refused (the others \
            are stored), 1 on any other failure.
            """
    )
    @Option(help: "The topic.") var topic: String
    @Option(name: .customLong("event-type"), help: "The event type (from the catalog).") var eventType: String?
    @Option(help: "The event's data, JSON.") var data: String?
    @Option(name: .customLong("data-file"), help: "A file holding the event's data, JSON.") var dataFile: String?
    @Option(help: "The producing service (metaData.source).") var source = "sealed-cli"
    @Option(name: .customLong("raw-file"), help: "A complete envelope (already sealed) to publish as it is.")
    var rawFile: String?
    @Flag(help: "Publish sealed envelopes, one per line, from --file or standard input, on one stream.")
    var stream = false
    @Option(help: "With --stream: the NDJSON file to read; - (the default) for standard input.")
    var file: String?
    @OptionGroup var options: PlatformOptions

    func validate() throws {
        if stream {
            guard eventType == nil, data == nil, dataFile == nil, rawFile == nil else {
                throw ValidationError("--stream publishes sealed envelopes from --file or standard input only")
            }
            return
        }
        guard file == nil else { throw ValidationError("--file goes with --stream") }
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
        if stream {
            try await publishStream()
            return
        }
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
                let aws = try options.awsConfiguration()
                let subjects =
                    descriptor.subjectField == nil
                    ? nil : try SubjectKeys.keyStore(aws: aws, resolver: try options.client())
                let sealer = try Sealer(kms: try KMSClient(configuration: aws), subjects: subjects)
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
            let answer = try await options.send(.publishEvents, topic, json: payload, as: OffsetsOutput.self)
            let offset = answer.output.offsets.first
            try options.emit(Published(offset: offset ?? 0, topic: topic)) { _ in [cell(offset)] }
        }
    }
}

extension PublishCommand {
    /// What `publish` prints: `{"Offset", "Topic"}`.
    struct Published: Encodable {
        var offset: UInt64
        var topic: String

        enum CodingKeys: String, CodingKey {
            case offset = "Offset"
            case topic = "Topic"
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

            Exit status: 0 when every event printed was opened (or needed no opening), 2 when --open had to print \
            some sealed events redacted (partially done: the count is written to standard error), 1 for any other \
            failure.
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
        var printed = 0
        var unopened = 0
        try await CLIError.reporting {
            var next = from ?? 1
            var openers: [String: (EventTypeDescriptor, Opener)] = [:]
            let aws = open ? try options.awsConfiguration() : nil
            while true {
                let limit = Swift.min(100, (max ?? Int.max) - printed)
                let wait = follow ? "20" : "0"
                let answer: Data
                if let group {
                    answer = try await options.raw(
                        .fetchEvents,
                        topic,
                        group,
                        query: [("limit", "\(limit)"), ("wait", wait)]
                    )
                } else {
                    answer = try await options.raw(
                        .readEvents,
                        topic,
                        query: [("from", "\(next)"), ("limit", "\(limit)"), ("wait", wait)]
                    )
                }
                let events = try eventList(answer).events
                for (offset, event) in events {
                    var printable = Printable(
                        object: [
                            "Offset": NSNumber(value: offset),
                            "Event": try JSONSerialization.jsonObject(
                                with: Data(event.serialized()),
                                options: [.fragmentsAllowed]
                            ),
                        ]
                    )
                    if open, let aws {
                        printable = try await opened(event, offset: offset, aws: aws, openers: &openers)
                        if printable.object["Opened"] as? Bool == false { unopened += 1 }
                    }
                    let output = PlatformAnswer(
                        output: printable,
                        json: try JSONSerialization.data(withJSONObject: printable.object)
                    )
                    try options.emit(output) { printable in
                        let json =
                            (try? JSONSerialization.data(
                                withJSONObject: printable.object["Data"] ?? printable.object["Event"] ?? [:],
                                options: [.sortedKeys, .withoutEscapingSlashes]
                            )) ?? Data()
                        var line = "\(offset)  \(String(decoding: json, as: UTF8.self))"
                        if let denial = printable.denial { line += "\n   \(denial)" }
                        return [line]
                    }
                    printed += 1
                }
                if let last = events.last?.offset {
                    guard last < UInt64.max else { throw CLIError("the bus answered an offset out of range") }
                    next = last + 1
                    if let group {
                        _ = try await options.send(
                            .commitOffset,
                            topic,
                            group,
                            input: CommitInput(offset: last),
                            as: CommittedOffsetOutput.self
                        )
                    }
                }
                if let max, printed >= max { return }
                if events.isEmpty, !follow { return }
            }
        }
        if unopened > 0 {
            FileHandle.standardError.write(
                Data("\(unopened) of \(printed) events could not be opened and were printed redacted\n".utf8)
            )
            throw ExitCode(2)
        }
    }

    /// An event as `consume` prints it: its JSON object (the event as published, or opened), and the denial that
    /// kept part of it sealed.
    struct Printable {
        var object: [String: Any]
        var denial: String?
    }

    /// The event opened (its data), or redacted with the reason and the request command when it cannot be.
    func opened(
        _ event: SealedEvents.JSONValue,
        offset: UInt64,
        aws: AWSConfiguration,
        openers: inout [String: (EventTypeDescriptor, Opener)]
    ) async throws -> Printable {
        let envelope = try Envelope(jsonValue: event)
        let type = envelope.metaData.eventType
        guard envelope.metaData.encryption != nil else {
            let data = try JSONSerialization.jsonObject(with: Data(event.serialized()), options: [.fragmentsAllowed])
            return Printable(object: [
                "Offset": NSNumber(value: offset), "EventType": type, "Data": data, "Sealed": false,
            ])
        }
        if openers[type] == nil {
            let descriptor = try await descriptor(of: type, options: options)
            openers[type] = (descriptor, try Opener.assumingReaderRole(of: descriptor, aws: aws, consumer: consumer))
        }
        guard let (descriptor, opener) = openers[type] else { return Printable(object: [:]) }
        let result = try await opener.open(envelope, as: descriptor, redacting: true)
        let data = try JSONSerialization.jsonObject(with: Data(result.data.serialized()), options: [.fragmentsAllowed])
        var printable = Printable(
            object: [
                "Offset": NSNumber(value: offset), "EventId": envelope.metaData.eventId, "EventType": type,
                "Data": data,
                "Opened": result.isComplete,
            ]
        )
        if let denial = result.denial {
            printable.denial = denial.accessDenied.map(\.description) ?? "\(denial)"
            printable.object["Denied"] = printable.denial
        }
        return printable
    }
}
