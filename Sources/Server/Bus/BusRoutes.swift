public import AccessControl
import AuditTrail
public import Composition
public import EventBus
import Foundation
public import HTTPTypes
public import Hummingbird
import HummingbirdCore
import NIOCore
import SealedEvents
import ServiceLifecycle
import SealedSupport
import WireShapes

/// The event bus behind `/v1/topics` (JSON, SigV4-signed like everything else):
///
/// | method and path | body / query | answer |
/// | --- | --- | --- |
/// | `POST /v1/topics` | `Name`, `RetentionSeconds`?, `RetentionBytes`? | the topic |
/// | `GET /v1/topics`, `GET /v1/topics/{topic}` | | `Topics` / the topic |
/// | `POST /v1/topics/{topic}/events` | one envelope, or `{"Events": [envelope, …]}` | `Offsets` |
/// | `POST /v1/topics/{topic}/events:stream` | envelopes, one per line (NDJSON), streamed | one acknowledgement line per event, streamed (``PublishStream``) |
/// | `GET /v1/topics/{topic}/events` | `from` (default 1), `limit` (1–1000, default 100), `wait` (seconds, 0–20: long poll) | `Events`, `NextOffset` |
/// | `GET /v1/topics/{topic}/stream` | `from` | server-sent events, one per event (`id:` the offset) |
/// | `POST /v1/topics/{topic}/groups/{group}/fetch` | `limit`, `wait` | `Events` after the group's committed offset |
/// | `POST /v1/topics/{topic}/groups/{group}/commit` | `Offset` | `CommittedOffset` |
/// | `GET /v1/topics/{topic}/groups/{group}` | | `CommittedOffset` |
///
/// Every event passes the ``PublishGovernor`` before anything is stored; a batch is refused whole when one event
/// is refused (a stream refuses that event alone and goes on). Publishing is acknowledged only once the transport
/// holds the events durably. Anyone authenticated may publish and read (the bus is open; the sealed part is what
/// protects the data); creating topics needs
/// `bus:CreateTopic` on the topic's ARN. A consumer group belongs to the principal that first fetched from it or
/// committed to it (its base identity: the user, or the role of a role session); only the owner, or a principal whose
/// policies allow `bus:ConsumeGroup` on the group's ARN, fetches from it and commits its offsets. Numbers in query
/// strings are decimal and in the documented range, or the request is a `ValidationException`.
public struct BusRoutes: Sendable {
    public let transport: any Transport
    public let governor: PublishGovernor
    public let identities: IdentityService
    public let groupOwners: any ConsumerGroupOwners
    /// The limits of publish streams.
    public let streams: PublishStream.Configuration

    public init(
        transport: any Transport,
        governor: PublishGovernor,
        identities: IdentityService,
        groupOwners: any ConsumerGroupOwners,
        streams: PublishStream.Configuration = PublishStream.Configuration()
    ) {
        self.transport = transport
        self.governor = governor
        self.identities = identities
        self.groupOwners = groupOwners
        self.streams = streams
    }

    /// Whether `request` is for the publish stream's route (``WireShapes/PlatformRoute/publishEventStream``).
    static func isEventStream(_ request: Request) -> Bool {
        let segments = request.uri.path.split(separator: "/")
        guard segments.first == "v1" else { return false }
        return PlatformRoute.publishEventStream.matches(
            method: request.method.rawValue,
            segments: segments.dropFirst().map(String.init)
        )
    }

    func register(in group: RouterGroup<AuthenticatedContext>) {
        group.on(.createTopic, input: TopicInput.self) { input, _, context in
            let arn = PlatformARN.topic(input.name, account: identities.account)
            guard identities.isAllowed(context.principal.arn, "bus:CreateTopic", on: arn) else {
                throw AccessControlError(
                    .accessDenied,
                    "User: \(context.principal.arn) is not authorized to perform: bus:CreateTopic"
                )
            }
            let info = try await transport.createTopic(
                TopicConfiguration(
                    name: input.name,
                    retentionSeconds: input.retentionSeconds,
                    retentionBytes: input.retentionBytes
                )
            )
            return try PlatformJSON.response(TopicOutput(info))
        }
        group.on(.listTopics) { _, _ in
            try PlatformJSON.response(TopicList(topics: try await transport.topics().map(TopicOutput.init)))
        }
        group.on(.describeTopic) { _, context in
            let name = try context.parameter("topic")
            guard let info = try await transport.topic(named: name) else {
                throw BusError(.noSuchTopic, "no topic \(name)")
            }
            return try PlatformJSON.response(TopicOutput(info))
        }
        group.on(.publishEvents) { _, context, body in
            let topic = try context.parameter("topic")
            var events: [OutgoingEvent] = []
            for (payload, value) in try Self.envelopes(in: body) {
                let id = try await governor.admit(size: payload.count, value: value)
                events.append(OutgoingEvent(eventID: id, payload: payload))
            }
            let offsets = try await transport.publish(events, to: topic)
            context.auditNote?.setResponseElements(
                .object([
                    "topic": .string(topic), "offsets": .array(offsets.map { .number(JSONNumber($0)) }),
                    "eventIds": .array(events.map { .string($0.eventID) }),
                ])
            )
            return try PlatformJSON.response(OffsetsOutput(offsets: offsets))
        }
        // Not `on(_:use:)`: that reads the whole body first; the stream reads it as it arrives.
        group.on(RouterPath(PlatformRoute.publishEventStream.path), method: .post) { request, context in
            try await openStream(request, context: context)
        }
        group.on(.readEvents) { request, context in
            let parameters = QueryParameters(request.uri.queryParameters)
            let from = try parameters.integer("from", in: 0...UInt64.max, default: 1)
            let (limit, wait) = try Self.limits(parameters)
            let events = try await transport.read(
                topic: try context.parameter("topic"),
                from: from,
                limit: limit,
                wait: wait
            )
            return Self.eventList(events, next: (events.last?.offset).map { $0 + 1 } ?? from)
        }
        group.on(.streamEvents) { request, context in
            let topic = try context.parameter("topic")
            guard try await transport.topic(named: topic) != nil else {
                throw BusError(.noSuchTopic, "no topic \(topic)")
            }
            let start = try QueryParameters(request.uri.queryParameters).integer("from", in: 0...UInt64.max, default: 1)
            let transport = self.transport
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    var next = start
                    // The stream never ends by itself: a graceful shutdown ends it (the read in progress is cut, the
                    // stream finished), or the server would wait for its client to leave before it could stop.
                    while !Task.isCancelled, !Task.isShuttingDownGracefully {
                        let events: [StoredEvent]
                        let from = next
                        do {
                            events = try await cancelWhenGracefulShutdown {
                                try await transport.read(topic: topic, from: from, limit: 100, wait: .seconds(15))
                            }
                        } catch is CancellationError {
                            break
                        }
                        guard !Task.isShuttingDownGracefully else { break }
                        var buffer = ByteBuffer()
                        if events.isEmpty { buffer.writeString(": keep-alive\n\n") }
                        for event in events {
                            buffer.writeString("id: \(event.offset)\nevent: event\ndata: ")
                            buffer.writeBytes(event.payload)
                            buffer.writeString("\n\n")
                            next = event.offset &+ 1
                        }
                        try await writer.write(buffer)
                    }
                    try await writer.finish(nil)
                }
            )
        }
        group.on(.fetchEvents) { request, context in
            let (limit, wait) = try Self.limits(QueryParameters(request.uri.queryParameters))
            let group = try context.parameter("group")
            let topic = try context.parameter("topic")
            try await authorizeGroup(group, topic: topic, context: context)
            let events = try await transport.fetch(group: group, topic: topic, limit: limit, wait: wait)
            return Self.eventList(events, next: (events.last?.offset).map { $0 + 1 } ?? 0)
        }
        group.on(.commitOffset, input: CommitInput.self) { input, _, context in
            let group = try context.parameter("group")
            let topic = try context.parameter("topic")
            try await authorizeGroup(group, topic: topic, context: context)
            try await transport.commit(group: group, topic: topic, offset: input.offset)
            return try PlatformJSON.response(
                CommittedOffsetOutput(committedOffset: try await transport.committedOffset(group: group, topic: topic))
            )
        }
        group.on(.describeGroup) { _, context in
            let offset = try await transport.committedOffset(
                group: try context.parameter("group"),
                topic: try context.parameter("topic")
            )
            return try PlatformJSON.response(CommittedOffsetOutput(committedOffset: offset))
        }
    }

    /// The envelopes of a publish body, as its route parsed it: one envelope object, or `{"Events": [...]}`; each
    /// with the bytes to store — its exact bytes when it is the whole body, re-serialized (unknown members kept) when
    /// it came in a batch — and its parsed value for governance.
    static func envelopes(in body: PlatformBody) throws -> [(bytes: [UInt8], value: JSONValue)] {
        let value: JSONValue
        do {
            // An empty body is no JSON: the parser says why.
            value = try (body.parsed ?? StrictJSON.parse(ByteBuffer())).get()
        } catch {
            throw GovernanceRefusal(.malformedEnvelope, "the body is not valid JSON: \(error.error)")
        }
        guard case .object(let object) = value else {
            throw GovernanceRefusal(.malformedEnvelope, "the body is not a JSON object")
        }
        if object["metaData"] != nil { return [(Array(body.bytes.readableBytesView), value)] }
        guard case .array(let items)? = object["Events"], !items.isEmpty, items.count <= 1000 else {
            throw GovernanceRefusal(.malformedEnvelope, "publish one envelope, or {\"Events\": [1 to 1000 envelopes]}")
        }
        return items.map { ($0.serialized(), $0) }
    }

    /// `limit` (1–1000, default 100) and `wait` (0–20 seconds, default 0) of a read or a group fetch.
    static func limits(_ parameters: QueryParameters) throws -> (Int, Duration) {
        (
            try parameters.integer("limit", in: 1...1000, default: 100),
            try parameters.seconds("wait", maximum: 20, default: .zero)
        )
    }

    /// Lets the request through when its principal owns the group — the first to use it claims it — or its policies
    /// allow `bus:ConsumeGroup` on the group's ARN; refuses it otherwise.
    func authorizeGroup(_ group: String, topic: String, context: AuthenticatedContext) async throws {
        try TopicConfiguration.validateName(topic, what: "topic name")
        try TopicConfiguration.validateName(group, what: "group name")
        let base = identities.baseIdentity(of: context.principal.arn)
        let owner = try await groupOwners.claim(group: group, topic: topic, for: base)
        guard owner != base else { return }
        let arn = PlatformARN.group(group, topic: topic, account: identities.account)
        guard identities.isAllowed(context.principal.arn, "bus:ConsumeGroup", on: arn) else {
            throw AccessControlError(
                .accessDenied,
                "User: \(context.principal.arn) is not authorized to perform: bus:ConsumeGroup on resource: \(arn) "
                    + "(the group belongs to another principal; choose another group name)"
            )
        }
    }

    /// `{"Events": [{"Offset", "EventId", "PublishTime", "Event": <the envelope as stored>}], "NextOffset"}`,
    /// written without re-encoding the envelopes.
    static func eventList(_ events: [StoredEvent], next: UInt64) -> Response {
        var buffer = ByteBuffer(string: #"{"Events":["#)
        for (index, event) in events.enumerated() {
            if index > 0 { buffer.writeString(",") }
            buffer.writeString(#"{"Offset":\#(event.offset),"EventId":"#)
            buffer.writeBytes(JSONValue.string(event.eventID).serialized())
            buffer.writeString(#","PublishTime":"\#(ISO8601.format(event.publishTime))","Event":"#)
            buffer.writeBytes(event.payload)
            buffer.writeString("}")
        }
        buffer.writeString(#"],"NextOffset":\#(next)}"#)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: buffer)
        )
    }
}

/// Bus errors on the `/v1` API.
extension BusError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch code {
        case .noSuchTopic: .notFound
        case .topicExists: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .unavailable, .closed: .serviceUnavailable
        case .storageFailure: .internalServerError
        default: .badRequest
        }
    }

    /// The error code clients see.
    var apiCode: String {
        switch code {
        case .noSuchTopic: "NoSuchTopic"
        case .topicExists: "TopicAlreadyExists"
        case .payloadTooLarge: "EventTooLarge"
        case .unavailable, .closed: "BusUnavailable"
        case .storageFailure: "InternalFailure"
        default: "ValidationException"
        }
    }

    public func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response {
        PlatformJSON.error(code: apiCode, message: reason, status: status)
    }
}
