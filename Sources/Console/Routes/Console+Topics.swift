import AccessControl
import AuditTrail
import Catalog
import Composition
import EventBus
import Foundation
import Hummingbird
import SealedEvents
import SealedSupport
import Server

/// Topics: the bus's topics, a topic's recent events as published (readable `metaData`, sealed parts shown sealed),
/// and "Open", which opens one event as the signed-in principal may (``ConsoleOpener``) or shows the request to make.
extension Console {
    /// Events per page of a topic.
    static let eventsPerPage = 20

    func registerTopics(in router: Router<ServerContext>) {
        router.get("/console/topics") { request, context in
            await page { try await topicsPage(request, context: context) }
        }
        router.get("/console/topics/:topic") { request, context in
            await page { try await topicPage(request, context: context) }
        }
        router.post("/console/topics/:topic/events/:offset/open") { request, context in
            await page { try await openEvent(request, context: context) }
        }
    }

    /// `GET /console/topics`: every topic, as `ListTopics`.
    func topicsPage(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        guard let bus else { return noBus() }
        let topics = try await bus.topics()
        let queue = try await reviewQueue(for: signedIn.principal.arn)
        try await audit.record(read("ListTopics", .bus, path: "/console/topics"), caller: signedIn.caller)
        var values = chrome(signedIn, title: "Topics", nav: "navTopics", reviewCount: queue.actionable)
        values["topics"] = topics.map { topic -> [String: Any] in
            [
                "name": topic.name, "path": Format.segment(topic.name), "events": topic.eventCount,
                "offsets": topic.firstOffset.map { "\($0)–\(topic.lastOffset ?? $0)" } ?? "—",
                "retention": Self.retention(topic.configuration),
            ]
        }
        values["hasTopics"] = !topics.isEmpty
        return ConsoleHTTP.page(pages.render("topics", values))
    }

    /// `GET /console/topics/:topic[?before=OFFSET]`: the newest events (or those before an offset), newest first,
    /// as `ReadEvents`. Nothing is decrypted here: sealed parts are shown as the bus holds them.
    func topicPage(_ request: Request, context: ServerContext) async throws -> Response {
        let signedIn = try await signedIn(request, context: context)
        guard let bus else { return noBus() }
        let name = context.parameters.get("topic") ?? ""
        let path = "/console/topics/" + Format.segment(name)
        guard let topic = try await bus.topic(named: name) else {
            try await audit.record(
                read("ReadEvents", .bus, path: path),
                caller: signedIn.caller,
                error: ConsoleRefusal(code: "NoSuchTopic", message: "no topic \(name)")
            )
            return message("No such topic", "There is no topic named \(name).", status: .notFound, next: "/console/topics", nextLabel: "All topics")
        }
        let last = topic.lastOffset ?? 0
        let before = request.uri.queryParameters.get("before").flatMap(UInt64.init).map { min($0, last + 1) } ?? last + 1
        let first = topic.firstOffset ?? 1
        let from = max(first, before > UInt64(Self.eventsPerPage) ? before - UInt64(Self.eventsPerPage) : 1)
        var events: [StoredEvent] = []
        if before > from {
            events = try await bus.read(topic: name, from: from, limit: Int(before - from), wait: .zero)
                .filter { $0.offset < before }
        }
        try await audit.record(
            read("ReadEvents", .bus, path: path, ["from": .number(JSONNumber(Int64(from))), "limit": .number(JSONNumber(Int64(before - from)))]),
            caller: signedIn.caller
        )
        let queue = try await reviewQueue(for: signedIn.principal.arn)
        var values = chrome(signedIn, title: name, nav: "navTopics", reviewCount: queue.actionable)
        values["topic"] = name
        values["topicPath"] = Format.segment(name)
        values["events"] = events.reversed().map { event(card: $0, csrf: signedIn.session.csrfToken) }
        values["hasEvents"] = !events.isEmpty
        values["eventCount"] = topic.eventCount
        if from > first { values["older"] = "/console/topics/\(Format.segment(name))?before=\(from)" }
        if before <= last { values["newer"] = "/console/topics/\(Format.segment(name))" }
        return ConsoleHTTP.page(pages.render("topic", values))
    }

    /// `POST /console/topics/:topic/events/:offset/open`: the event opened as the signed-in principal may, or the
    /// reason it stays sealed and the request to make. The page is rendered, never stored (`no-store`).
    func openEvent(_ request: Request, context: ServerContext) async throws -> Response {
        let (signedIn, _) = try await signedInForm(request, context: context)
        guard let bus, let opener else { return noBus() }
        let name = context.parameters.get("topic") ?? ""
        let path = "/console/topics/" + Format.segment(name)
        guard let offset = context.parameters.get("offset").flatMap(UInt64.init), offset > 0 else {
            throw ConsoleRefusal(code: "ValidationException", message: "An event's offset is a positive number.")
        }
        let call = read("ReadEvents", .bus, path: path, ["from": .number(JSONNumber(Int64(offset))), "limit": 1])
        let stored: StoredEvent?
        do {
            stored = try await bus.read(topic: name, from: offset, limit: 1, wait: .zero).first { $0.offset == offset }
        } catch let error as BusError where error.code == .noSuchTopic {
            stored = nil
        }
        guard let stored else {
            try await audit.record(call, caller: signedIn.caller, error: ConsoleRefusal(code: "NoSuchEvent", message: "no event \(offset)"))
            return message("No such event", "Topic \(name) holds no event at offset \(offset) (retention may have removed it).", status: .notFound, next: path, nextLabel: "Back to \(name)")
        }
        try await audit.record(call, caller: signedIn.caller)
        let queue = try await reviewQueue(for: signedIn.principal.arn)
        var values = chrome(signedIn, title: "Event \(offset) of \(name)", nav: "navTopics", reviewCount: queue.actionable)
        values["topic"] = name
        values["topicPath"] = Format.segment(name)
        values["offset"] = offset
        guard let envelope = try? Envelope(json: stored.payload) else {
            values["notEnvelope"] = String(decoding: stored.payload, as: UTF8.self)
            return ConsoleHTTP.page(pages.render("opened", values))
        }
        values["metaData"] = envelope.metaData.jsonValue.jsonString(pretty: true)
        values["eventType"] = envelope.metaData.eventType
        values["eventTypePath"] = Format.segment(envelope.metaData.eventType)
        guard envelope.isSealed else {
            values["data"] = envelope.data.jsonString(pretty: true)
            values["notSealed"] = true
            return ConsoleHTTP.page(pages.render("opened", values))
        }
        guard let type = try? await platform.catalog.eventType(named: envelope.metaData.eventType),
            let domain = await platform.catalog.domain(named: type.domain)
        else {
            values["refusal"] = "The catalog has no event type \(envelope.metaData.eventType), so nobody may open this event."
            return ConsoleHTTP.page(pages.render("opened", values))
        }
        let descriptor = PublishGovernor.descriptor(of: type, keyARN: domain.keyARN)
        let opened: OpenedEvent
        do {
            opened = try await opener.open(envelope, as: descriptor, caller: signedIn.caller)
        } catch let error as SealedEventsError {
            values["refusal"] = "This event does not open: \(error.reason)"
            return ConsoleHTTP.page(pages.render("opened", values))
        }
        values["data"] = opened.data.jsonString(pretty: true)
        if let denial = opened.denial {
            if denial.code == .subjectErased {
                values["refusal"] = "The data subject of this event was erased: its sealed parts can no longer be opened by anyone."
            } else {
                values["refusal"] = denial.accessDenied.map { "You may not open \($0.eventType) events (\($0.refusal))." } ?? denial.reason
            }
            values["requestCommand"] = denial.accessDenied?.requestCommand
            let mine = try await platform.access.list(status: .pending, by: signedIn.principal.arn)
            let me = platform.identities.baseIdentity(of: signedIn.principal.arn)
            values["pending"] = mine.first { $0.eventType == type.name && $0.requester == me }?.id
        } else {
            values["openedFully"] = true
        }
        return ConsoleHTTP.page(pages.render("opened", values))
    }

    // MARK: Helpers

    /// One event of a topic page: its offset, readable metadata, and data as published (sealed parts as markers).
    func event(card stored: StoredEvent, csrf: String) -> [String: Any] {
        var card: [String: Any] = [
            "offset": stored.offset, "eventId": stored.eventID, "published": Format.date(stored.publishTime, now: now()),
            "csrf": csrf,
        ]
        guard let envelope = try? Envelope(json: stored.payload) else {
            card["notEnvelope"] = true
            card["payloadBytes"] = stored.payload.count
            return card
        }
        card["eventType"] = envelope.metaData.eventType
        card["eventTypePath"] = Format.segment(envelope.metaData.eventType)
        card["source"] = envelope.metaData.source
        card["metaData"] = envelope.metaData.jsonValue.jsonString(pretty: true)
        if let view = try? Opener.redactedView(of: envelope) {
            if view.sealedFields == [.root] {
                card["wholeDataSealed"] = true
                card["sealedBytes"] = envelope.data.stringValue?.utf8.count ?? 0
            } else {
                card["data"] = view.data.jsonString(pretty: true)
                card["sealedFields"] = view.sealedFields.map(\.description).joined(separator: ", ")
            }
            card["sealed"] = envelope.isSealed
        } else {
            card["malformed"] = true
        }
        return card
    }

    func noBus() -> Response {
        message("No event bus", "This server runs without an event bus, so there are no topics to show.", status: .notFound)
    }

    /// `7 days`, `1 GiB`, `7 days or 1,024 bytes`, `none`.
    static func retention(_ configuration: TopicConfiguration) -> String {
        var parts: [String] = []
        if let seconds = configuration.retentionSeconds { parts.append(Format.duration(seconds)) }
        if let bytes = configuration.retentionBytes { parts.append("\(bytes) bytes") }
        return parts.isEmpty ? "kept" : parts.joined(separator: " or ")
    }
}
