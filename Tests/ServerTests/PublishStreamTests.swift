import AsyncHTTPClient
import AuditTrail
import Composition
import EventBus
import Foundation
import NIOCore
import NIOHTTP1
import SealedServerTesting
import Server
import Synchronization
import Testing
import WireShapes

/// `POST /v1/topics/{topic}/events:stream` on a live server over the platform in memory: acknowledgements in order
/// with contiguous offsets, governance per event, malformed and oversize lines, authentication of the opening request,
/// back-pressure, idle streams, and the audit records of groups and refusals.
@Suite struct PublishStreamTests {
    @Test func everyEventIsAcknowledgedInOrderWithContiguousOffsets() async throws {
        let world = try await StreamWorld()
        // More than one group: groups of at most 50, and the client's lines arrive in several chunks.
        let server = world.server(streams: PublishStream.Configuration(maximumGroupEvents: 50))
        let ids = (1...300).map { "e\($0)" }
        let acknowledgements = try await withLiveServer(server, logger: Fixture.logger) { port in
            try await StreamClient(port: port, keys: world.fixture.admin).publish(ids.map { StreamWorld.envelope($0) })
        }
        #expect(acknowledgements == ids.enumerated().map { .stored(eventId: $1, offset: UInt64($0 + 1)) })
        let stored = try await world.events()
        #expect(stored.map(\.eventID) == ids)
        #expect(stored.map(\.offset) == Array(1...300))
        // Stored as sent, byte for byte.
        #expect(stored.map(\.payload) == ids.map { StreamWorld.envelope($0) })
        // One audit record per group: together they name every event with its type and offset, once.
        let groups = try await world.records().filter {
            $0.eventName == "PublishEventStream" && $0.responseElements != nil
        }
        #expect(groups.count >= 6)
        let recorded = groups.flatMap { $0.responseElements?["eventIds"]?.arrayValue ?? [] }.compactMap(\.stringValue)
        let offsets = groups.flatMap { $0.responseElements?["offsets"]?.arrayValue ?? [] }
            .compactMap { $0.numberValue.flatMap { UInt64($0.literal) } }
        let types = groups.flatMap { $0.responseElements?["eventTypes"]?.arrayValue ?? [] }.compactMap(\.stringValue)
        #expect(recorded == ids)
        #expect(offsets == Array(1...300))
        #expect(types == Array(repeating: StreamWorld.publicType, count: 300))
        for group in groups { #expect(group.responseElements?["topic"]?.stringValue == "orders") }
    }

    /// A refused event, a line that is not JSON and a line too long to read each get their own refusal line and their
    /// own audit record; the events around them are stored; a blank line is skipped; no record holds event data.
    @Test func refusalsMidStreamDoNotStopTheOthers() async throws {
        let world = try await StreamWorld()
        let governor = world.fixture.platform.bus.governor
        let oversize = Array(repeating: UInt8(ascii: "x"), count: governor.maximumEventBytes + 5_000)
        let lines: [[UInt8]] = [
            StreamWorld.envelope("ok-1"),
            StreamWorld.envelope("unsealed", type: StreamWorld.restrictedType),
            StreamWorld.envelope("ok-2"),
            Array("not json \(StreamWorld.secret)".utf8),
            StreamWorld.envelope("ok-3"),
            Array("   ".utf8),
            oversize,
            StreamWorld.envelope("ok-4"),
        ]
        let acknowledgements = try await withLiveServer(world.server(), logger: Fixture.logger) { port in
            try await StreamClient(port: port, keys: world.fixture.admin).publish(lines)
        }
        try #require(acknowledgements.count == 7)
        #expect(acknowledgements[0] == .stored(eventId: "ok-1", offset: 1))
        guard case .refused("unsealed", "EventNotSealed", _) = acknowledgements[1] else {
            Issue.record("\(acknowledgements[1])")
            return
        }
        #expect(acknowledgements[2] == .stored(eventId: "ok-2", offset: 2))
        guard case .refused(nil, "MalformedEnvelope", let malformed) = acknowledgements[3] else {
            Issue.record("\(acknowledgements[3])")
            return
        }
        #expect(malformed.contains("line 4"))
        #expect(acknowledgements[4] == .stored(eventId: "ok-3", offset: 3))
        guard case .refused(nil, "EventTooLarge", let tooLarge) = acknowledgements[5] else {
            Issue.record("\(acknowledgements[5])")
            return
        }
        #expect(tooLarge.contains("line 7"))
        #expect(acknowledgements[6] == .stored(eventId: "ok-4", offset: 4))
        #expect(try await world.events().map(\.eventID) == ["ok-1", "ok-2", "ok-3", "ok-4"])

        let records = try await world.records().filter { $0.eventName == "PublishEventStream" }
        let refusals = records.filter { $0.errorCode != nil }
        #expect(refusals.map(\.errorCode) == ["EventNotSealed", "MalformedEnvelope", "EventTooLarge"])
        #expect(refusals.map { $0.requestParameters?["line"]?.numberValue?.literal } == ["2", "4", "7"])
        #expect(refusals.first?.requestParameters?["events"]?.arrayValue?.first?["eventId"]?.stringValue == "unsealed")
        let stored = records.filter { $0.errorCode == nil && $0.responseElements?["eventIds"] != nil }
            .flatMap { $0.responseElements?["eventIds"]?.arrayValue ?? [] }.compactMap(\.stringValue)
        #expect(stored == ["ok-1", "ok-2", "ok-3", "ok-4"])
        // The opening request: its intent before anything was read, and its outcome.
        let opening = records.filter { $0.responseElements?["eventIds"] == nil && $0.errorCode == nil }
        #expect(opening.count == 2)
        #expect(opening.first?.isIntent == true)
        for record in try await world.records() {
            let text = String(decoding: record.jsonValue.serialized(), as: UTF8.self)
            #expect(!text.contains(StreamWorld.secret), "\(record.eventName) holds event data")
        }
    }

    /// The opening request is authenticated: without a signature, with a wrong one, or for a topic that does not
    /// exist, there is no stream and nothing is stored; and `UNSIGNED-PAYLOAD` is refused on every other route.
    @Test func theOpeningRequestIsAuthenticated() async throws {
        let world = try await StreamWorld()
        try await withLiveServer(world.server(), logger: Fixture.logger) { port in
            let admin = world.fixture.admin
            let cases: [(label: String, client: StreamClient, path: String?, signed: Bool, code: String)] = [
                (
                    "no signature", try StreamClient(port: port, keys: admin), nil, false,
                    "MissingAuthenticationTokenException"
                ),
                (
                    "a wrong secret", try StreamClient(port: port, keys: admin, secret: "not-the-secret"), nil, true,
                    "InvalidSignatureException"
                ),
                (
                    "no such topic", try StreamClient(port: port, keys: admin), "/v1/topics/none/events:stream", true,
                    "NoSuchTopic"
                ),
                (
                    "UNSIGNED-PAYLOAD on the one-shot publish", try StreamClient(port: port, keys: admin),
                    "/v1/topics/orders/events", true, "InvalidSignatureException"
                ),
            ]
            for (label, client, path, signed, code) in cases {
                var stream = try await client.open(
                    path: path,
                    signed: signed,
                    whole: [StreamWorld.envelope("refused-\(label.count)")]
                )
                #expect(stream.response.status.code >= 400, "\(label)")
                let body = try await stream.acknowledgements.remainingBytes()
                let answer = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
                #expect(answer?["__type"] as? String == code, "\(label): \(String(decoding: body, as: UTF8.self))")
            }
        }
        #expect(try await world.events().isEmpty)
    }

    /// With the transport held (a slow disk), the reader fills the queue and stops: it is told the queue is full at
    /// its bound, while the transport has been handed only the first group; once the transport goes on, every event is
    /// acknowledged in order.
    @Test func aFullQueueStopsTheReader() async throws {
        let world = try await StreamWorld()
        let gate = GatedTransport(world.transport)
        let (waits, waited) = AsyncStream.makeStream(of: (Int, Int).self)
        let server = world.server(
            transport: gate,
            streams: PublishStream.Configuration(
                maximumQueuedEvents: 4,
                maximumGroupEvents: 2,
                onReaderWaits: { waited.yield(($0, $1)) }
            )
        )
        let ids = (1...40).map { "bp-\($0)" }
        try await withLiveServer(server, logger: Fixture.logger) { port in
            var stream = try await StreamClient(port: port, keys: world.fixture.admin).open()
            try #require(stream.response.status == .ok)
            stream.send(ids.map { StreamWorld.envelope($0) })
            var arrivals = gate.publishes.makeAsyncIterator()
            let first = try #require(await arrivals.next())
            var reports = waits.makeAsyncIterator()
            let (queued, bytes) = try #require(await reports.next())
            // The reader stopped at the queue's bound, with the transport holding one group of at most two events.
            #expect(queued == 4)
            #expect(bytes == 4 * StreamWorld.envelope("bp-1").count)
            #expect((1...2).contains(first))
            #expect(gate.received.calls == 1)
            #expect(gate.received.events == first)
            gate.open()
            stream.end()
            let acknowledgements = try await stream.acknowledgements.all()
            #expect(acknowledgements == ids.enumerated().map { .stored(eventId: $1, offset: UInt64($0 + 1)) })
        }
        waited.finish()
    }

    /// No acknowledgement leaves before its group's audit record is durable: with the trail failing, the stream ends
    /// with `InternalFailure` and the event (stored by then) is not acknowledged; sent again once the trail works, it
    /// is acknowledged with the offset it was stored at, and recorded.
    @Test func noAcknowledgementWithoutItsAuditRecord() async throws {
        struct TrailDown: Error {}
        let world = try await StreamWorld()
        try await withLiveServer(world.server(), logger: Fixture.logger) { port in
            let client = try StreamClient(port: port, keys: world.fixture.admin)
            var stream = try await client.open()
            stream.send([StreamWorld.envelope("before")])
            #expect(try await stream.acknowledgements.next() == .stored(eventId: "before", offset: 1))
            await world.fixture.audit.setFailure(TrailDown())
            stream.send([StreamWorld.envelope("unrecorded")])
            guard case .ended("InternalFailure", _) = try await stream.acknowledgements.next() else {
                Issue.record("the stream did not end with InternalFailure")
                return
            }
            stream.end()
            await world.fixture.audit.setFailure(nil)
            #expect(
                try await client.publish([StreamWorld.envelope("unrecorded")]) == [
                    .stored(eventId: "unrecorded", offset: 2)
                ]
            )
        }
        #expect(try await world.events().map(\.eventID) == ["before", "unrecorded"])
        let recorded = try await world.records().flatMap { $0.responseElements?["eventIds"]?.arrayValue ?? [] }
        #expect(recorded.compactMap(\.stringValue) == ["before", "unrecorded"])
    }

    /// A client that sends nothing for the idle timeout gets the acknowledgements of what it sent, then an
    /// `IdleTimeout` line, and nothing after it: the server closes the connection. (The timeout is long enough for
    /// the first line to arrive on a loaded machine: the watch starts when the request does.)
    @Test func anIdleStreamEnds() async throws {
        let world = try await StreamWorld()
        let server = world.server(streams: PublishStream.Configuration(idleTimeout: .seconds(2)))
        try await withLiveServer(server, logger: Fixture.logger) { port in
            var stream = try await StreamClient(port: port, keys: world.fixture.admin).open()
            stream.send([StreamWorld.envelope("before-idle")])
            #expect(try await stream.acknowledgements.next() == .stored(eventId: "before-idle", offset: 1))
            guard case .ended("IdleTimeout", _) = try await stream.acknowledgements.next() else {
                Issue.record("no IdleTimeout line")
                return
            }
            let after = try? await stream.acknowledgements.next()
            #expect(after == nil)
            stream.end()
        }
    }
}
