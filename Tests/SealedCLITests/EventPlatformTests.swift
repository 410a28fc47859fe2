import EncryptionSDK
import Foundation
import KMS
import PlatformClient
import SealedTesting
import SigV4
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The event platform of issue 7 end to end, against the built `sealed serve`: governance at publish (every rule, each
/// refusal named, stored nowhere and audited), durability across `kill -9` under concurrent publishers, and consumer
/// groups through `sealed consume`. The Python consumer's side (the official ESDK opening what `sealed publish`
/// sealed) is `scripts/peers/test_event_platform.py`, run by ``PytestSuiteTests``.
@Suite(.serialized)
struct EventPlatformTests {
    // MARK: - Governance

    /// Every refusal rule through the real server with the default policy: the answer names the rule (HTTP 400), the
    /// topic's event count is unchanged, none of the refused events can be read, and each refusal is one
    /// `PublishEvents` record in the audit trail with the same code and message. Correctly sealed events of the same
    /// types, built the same way, are taken, so each refusal is due to its one defect.
    @Test func everyRefusalNamesItsRuleStoresNothingAndIsAudited() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let platform = try await Platform(server: server)
        let topic = "governance"
        try await platform.createTopic(topic)
        let a = platform.domainA
        let b = platform.domainB
        let card = #"{"number":"4111 1111 1111 1111","holder":"Ada Lovelace","expiry":"12/29"}"#
        let cardData = #"{"amount":12.50,"card":\#(card)}"#
        let markers = #"{"amount":12.50,"card":{"number":{"sealed":true},"holder":{"sealed":true},"expiry":"12/29"}}"#
        let bothFields = [("/card/number", #""4111 1111 1111 1111""#), ("/card/holder", #""Ada Lovelace""#)]

        // The accepted: the builder below is right when nothing is wrong.
        var accepted: [(String, [UInt8])] = [
            (
                "restricted, fields sealed with the domain key",
                try await platform.sealed(id: "ok-fields", type: a.restricted, data: markers, fields: bothFields)
            ),
            (
                "confidential, data sealed with the domain key",
                try await platform.sealed(id: "ok-data", type: a.confidential, data: cardData)
            ),
            ("public, unsealed", Platform.plain(id: "ok-public", type: a.publicType, domain: a.name, data: cardData)),
            (
                "internal, unsealed",
                Platform.plain(id: "ok-internal", type: a.internalType, domain: a.name, data: cardData)
            ),
            (
                "another domain's restricted type with its own key",
                try await platform.sealed(id: "ok-b", type: b.restricted, data: markers, fields: bothFields)
            ),
        ]
        // A restricted event with no sensitive field present still carries one message with no fields.
        accepted.append(
            (
                "restricted, no sensitive field present",
                try await platform.sealed(id: "ok-none", type: a.restricted, data: #"{"amount":1}"#, fields: [])
            )
        )
        var stored = 0
        for (label, body) in accepted {
            let offsets = try await platform.publish(body, to: topic)
            stored += 1
            #expect(offsets == [UInt64(stored)], "\(label)")
        }

        // `detail`: what the message must name besides the rule, so each refusal is for its own defect.
        let refusals: [(label: String, body: [UInt8], rule: String, detail: String)] = [
            ("not JSON", Array("not json".utf8), "MalformedEnvelope", ""),
            ("an empty body", [], "MalformedEnvelope", ""),
            ("a JSON array", Array("[1,2]".utf8), "MalformedEnvelope", ""),
            ("neither an envelope nor a batch", Array(#"{"data":{"a":1}}"#.utf8), "MalformedEnvelope", ""),
            ("an empty batch", Array(#"{"Events":[]}"#.utf8), "MalformedEnvelope", ""),
            (
                "metaData without eventId",
                Array(
                    #"{"metaData":{"eventType":"\#(a.publicType)","domain":"\#(a.name)","source":"s"},"data":1}"#.utf8
                ),
                "MalformedEnvelope", "eventId"
            ),
            (
                "metaData with an empty eventId",
                Platform.plain(id: "", type: a.publicType, domain: a.name, data: "{}"),
                "MalformedEnvelope", ""
            ),
            (
                "two data members, the first sealed, the second clear",
                Array(
                    try await platform.sealed(id: "bad-twice", type: a.confidential, data: cardData).dropLast()
                ) + Array(#","data":\#(cardData)}"#.utf8),
                "MalformedEnvelope", ""
            ),
            (
                "two eventType members, a public one and the restricted one",
                Array(
                    #"{"metaData":{"eventId":"bad-type-twice","eventType":"\#(a.publicType)","domain":"\#(a.name)","#
                        .utf8
                ) + Array(#""source":"s","eventType":"\#(a.restricted)"},"data":\#(cardData)}"#.utf8),
                "MalformedEnvelope", ""
            ),
            (
                "an unknown event type",
                Platform.plain(id: "bad-unknown", type: "\(a.name).no.such", domain: a.name, data: "{}"),
                "UnknownEventType", "\(a.name).no.such"
            ),
            (
                "a public type named with another domain",
                Platform.plain(id: "bad-domain", type: a.publicType, domain: b.name, data: "{}"),
                "DomainMismatch", ""
            ),
            (
                "a restricted type named with another domain, sealed with that domain's key",
                try await platform.sealed(
                    id: "bad-domain-sealed",
                    type: a.restricted,
                    domain: b.name,
                    data: markers,
                    fields: bothFields,
                    key: b.keyARN
                ),
                "DomainMismatch", ""
            ),
            (
                "a restricted type unsealed",
                Platform.plain(id: "bad-unsealed", type: a.restricted, domain: a.name, data: cardData),
                "EventNotSealed", ""
            ),
            (
                "a confidential type unsealed",
                Platform.plain(id: "bad-unsealed-data", type: a.confidential, domain: a.name, data: cardData),
                "EventNotSealed", ""
            ),
            (
                "sealed with another domain's key, which keyArn names",
                try await platform.sealed(
                    id: "bad-key",
                    type: a.restricted,
                    data: markers,
                    fields: bothFields,
                    key: b.keyARN
                ),
                "EventNotSealed", b.keyARN
            ),
            (
                "sealed with another domain's key while keyArn names the domain's",
                try await platform.sealed(
                    id: "bad-key-claimed",
                    type: a.restricted,
                    data: markers,
                    fields: bothFields,
                    key: b.keyARN,
                    claimedKey: a.keyARN
                ),
                "EventNotSealed", ""
            ),
            (
                "sealed with suite 0x0478 where the catalog says 0x0578",
                try await platform.sealed(
                    id: "bad-suite",
                    type: a.restricted,
                    data: markers,
                    fields: bothFields,
                    suite: "0x0478"
                ),
                "EventNotSealed", "0x0478"
            ),
            (
                "sealed with 0x0478 while algorithmSuite claims 0x0578",
                try await platform.sealed(
                    id: "bad-suite-claimed",
                    type: a.restricted,
                    data: markers,
                    fields: bothFields,
                    suite: "0x0478",
                    claimedSuite: "0x0578"
                ),
                "EventNotSealed", "0x0478"
            ),
            (
                "a sensitive field left unsealed",
                try await platform.sealed(
                    id: "bad-field",
                    type: a.restricted,
                    data:
                        #"{"amount":12.50,"card":{"number":{"sealed":true},"holder":"Ada Lovelace","expiry":"12/29"}}"#,
                    fields: [("/card/number", #""4111 1111 1111 1111""#)]
                ),
                "EventNotSealed", "/card/holder"
            ),
            (
                "whole data sealed where the catalog says fields",
                try await platform.sealed(id: "bad-scope", type: a.restricted, data: cardData),
                "EventNotSealed", ""
            ),
        ]
        var refused: [String] = []
        for refusal in refusals {
            do {
                let offsets = try await platform.publish(refusal.body, to: topic)
                Issue.record("\(refusal.label): taken at \(offsets), expected \(refusal.rule)")
            } catch let error as PlatformError {
                #expect(error.code == refusal.rule, "\(refusal.label): \(error)")
                #expect(refusal.detail.isEmpty || error.message.contains(refusal.detail), "\(refusal.label): \(error)")
                #expect(error.statusCode == 400, "\(refusal.label): \(error)")
                refused.append("\(error.code): \(error.message)")
            }
            #expect(try await platform.eventCount(topic) == stored, "\(refusal.label) left something stored")
        }
        let ids = Set(try await platform.readAll(topic).map(\.id))
        #expect(ids == ["ok-fields", "ok-data", "ok-public", "ok-internal", "ok-b", "ok-none"])

        // The audit trail holds exactly these refusals, each with the code and message its caller got.
        let audit = try await server.cli([
            "audit", "query", "--event-name", "PublishEvents", "--errors-only", "--limit", "1000",
        ])
        let records = try #require(try JSONSerialization.jsonObject(with: audit.stdout) as? [String: Any])["Records"]
        let audited = try #require(records as? [[String: Any]]).map {
            "\($0["errorCode"] as? String ?? "-"): \($0["errorMessage"] as? String ?? "-")"
        }
        #expect(audited.sorted() == refused.sorted())
        #expect(refused.count == refusals.count)
    }

    /// A refused unsealed event's sensitive values must not land in the audit trail (DESIGN: request parameters carry
    /// "never plaintext"). The recorder keeps `/v1` bodies as sent, so a publish's whole event, `data` included, is
    /// in `requestParameters`.
    @Test func aRefusedUnsealedEventLeavesNoPlaintextInTheAuditTrail() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let platform = try await Platform(server: server)
        try await platform.createTopic("privacy")
        let secret = "4111 1111 1111 1111"
        let event = Platform.plain(
            id: "leaky",
            type: platform.domainA.restricted,
            domain: platform.domainA.name,
            data: #"{"card":{"number":"\#(secret)","holder":"Ada Lovelace"}}"#
        )
        await #expect(throws: PlatformError.self) { try await platform.publish(event, to: "privacy") }
        let audit = try await server.cli(["audit", "query", "--event-name", "PublishEvents", "--errors-only"])
        let text = String(decoding: audit.stdout, as: UTF8.self)
        #expect(text.contains("EventNotSealed"))
        #expect(!text.contains(secret) && !text.contains("Ada Lovelace"))
    }

    /// A batch with one refused event stores none of it, and names the refused event's rule; a batch of good events
    /// gets consecutive offsets.
    @Test func aBatchWithOneRefusedEventStoresNone() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let platform = try await Platform(server: server)
        let a = platform.domainA
        try await platform.createTopic("batches")
        let good = [
            Platform.plain(id: "g1", type: a.publicType, domain: a.name, data: #"{"z":12.50,"a":1e3,"n":"é"}"#),
            try await platform.sealed(id: "g2", type: a.confidential, data: #"{"n":2}"#),
            try await platform.sealed(
                id: "g3",
                type: a.restricted,
                data: #"{"card":{"number":{"sealed":true}}}"#,
                fields: [("/card/number", #""4111""#)]
            ),
        ]
        let bad = Platform.plain(id: "b1", type: a.restricted, domain: a.name, data: #"{"card":{"number":"4111"}}"#)
        for (index, batch) in [good + [bad], [bad] + good, [good[0], bad, good[1]]].enumerated() {
            do {
                let offsets = try await platform.publish(Platform.batch(batch), to: "batches")
                Issue.record("batch \(index) was taken at \(offsets)")
            } catch let error as PlatformError {
                #expect(error.code == "EventNotSealed", "batch \(index): \(error)")
            }
            #expect(try await platform.eventCount("batches") == 0)
        }
        let unknown = Platform.plain(id: "u1", type: "\(a.name).no.such", domain: a.name, data: "{}")
        let unknownRefusal = await #expect(throws: PlatformError.self) {
            try await platform.publish(Platform.batch(good + [unknown]), to: "batches")
        }
        #expect(unknownRefusal?.code == "UnknownEventType")
        #expect(try await platform.eventCount("batches") == 0)

        #expect(try await platform.publish(Platform.batch(good), to: "batches") == [1, 2, 3])
        // Events published in a batch are stored as exact JSON: member order and number literals kept.
        let stored = try await platform.client(platform.admin).raw(
            "GET",
            ["topics", "batches", "events"],
            query: [("from", "1"), ("limit", "1")]
        )
        #expect(String(decoding: stored, as: UTF8.self).contains(#""data":{"z":12.50,"a":1e3,"n":"é"}"#))
        #expect(try await platform.readAll("batches").map(\.id) == ["g1", "g2", "g3"])
        let audit = try await server.cli(["audit", "query", "--event-name", "PublishEvents", "--errors-only"])
        let records = try #require(try JSONSerialization.jsonObject(with: audit.stdout) as? [String: Any])["Records"]
        #expect(
            try #require(records as? [[String: Any]]).compactMap { $0["errorCode"] as? String }.sorted()
                == ["EventNotSealed", "EventNotSealed", "EventNotSealed", "UnknownEventType"]
        )
    }

    /// `--max-event-bytes 2048 --unknown-event-types allow`: an event of exactly 2048 bytes is taken, 2049 is refused
    /// as `EventTooLarge` (alone or in a batch), unknown types are taken, and known types are still governed.
    @Test func sizeLimitAndUnknownTypesFollowTheServersOptions() async throws {
        let server = try Server(arguments: ["--max-event-bytes", "2048", "--unknown-event-types", "allow"])
        defer { server.remove() }
        let platform = try await Platform(server: server)
        let a = platform.domainA
        try await platform.createTopic("limits")

        func event(id: String, bytes: Int) -> [UInt8] {
            let empty = Platform.plain(id: id, type: a.publicType, domain: a.name, data: #""""#)
            return Platform.plain(
                id: id,
                type: a.publicType,
                domain: a.name,
                data: "\"" + String(repeating: "x", count: bytes - empty.count) + "\""
            )
        }
        let fits = event(id: "fits", bytes: 2048)
        let tooLarge = event(id: "too-large", bytes: 2049)
        #expect(fits.count == 2048 && tooLarge.count == 2049)
        #expect(try await platform.publish(fits, to: "limits") == [1])
        for body in [
            tooLarge,
            Platform.batch([Platform.plain(id: "small", type: a.publicType, domain: a.name, data: "1"), tooLarge]),
        ] {
            let error = await #expect(throws: PlatformError.self) { try await platform.publish(body, to: "limits") }
            #expect(error?.code == "EventTooLarge" && error?.statusCode == 400, "\(String(describing: error))")
            #expect(error?.message.contains("2049 bytes") == true && error?.message.contains("2048") == true)
            #expect(try await platform.eventCount("limits") == 1)
        }

        let unknown = Platform.plain(id: "unknown", type: "nowhere.thing.happened", domain: "nowhere", data: "{}")
        #expect(try await platform.publish(unknown, to: "limits") == [2])
        let unsealed = Platform.plain(id: "unsealed", type: a.restricted, domain: a.name, data: #"{"card":{}}"#)
        let refusal = await #expect(throws: PlatformError.self) { try await platform.publish(unsealed, to: "limits") }
        #expect(refusal?.code == "EventNotSealed")
        #expect(try await platform.readAll("limits").map(\.id) == ["fits", "unknown"])
        let audit = try await server.cli(["audit", "query", "--event-name", "PublishEvents", "--errors-only"])
        let records = try #require(try JSONSerialization.jsonObject(with: audit.stdout) as? [String: Any])["Records"]
        #expect(
            try #require(records as? [[String: Any]]).compactMap { $0["errorCode"] as? String }.sorted()
                == ["EventNotSealed", "EventTooLarge", "EventTooLarge"]
        )
    }

    /// A request body is at most 1 MiB, so `sealed serve` refuses an event limit it could never honour.
    @Test func anEventLimitBeyondTheRequestLimitIsRefusedAtStart() async throws {
        let run = try await ESDKCommandTests.sealed([
            "serve", "--data-dir", "/nonexistent-never-created", "--max-event-bytes", "4194304",
        ])
        #expect(run.status != 0)
        #expect(run.stderr.contains("--max-event-bytes must be between 1024 and 1000000"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent-never-created"))
    }

    // MARK: - Durability

    /// `kill -9` while four publishers send single events and batches: after a restart on the same data every
    /// acknowledged event is there exactly once at its acknowledged offset, offsets are dense and in order, a batch
    /// is all there or not at all, publishing again what got no answer (or was acknowledged) stores each event once
    /// and answers a duplicate with its original offset, a consumer group resumes from its committed offset, every
    /// acknowledged publish has its audit record, and the audit trail verifies (the unsigned tail reported after the
    /// kill, none after a graceful stop).
    @Test func killDashNineDuringPublishLosesNothingAcknowledged() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let platform = try await Platform(server: server, catalog: false)
        let admin = try platform.client(platform.admin, attempts: 1)
        _ = try await admin.call("POST", ["catalog", "domains"], body: ["Domain": "load", "Owner": platform.team])
        _ = try await admin.call(
            "POST",
            ["catalog", "event-types"],
            body: ["EventType": "load.tick.sent", "Domain": "load", "Classification": "public"]
        )
        try await platform.createTopic("load")

        let log = PublishLog()
        let publishers = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        for round in 0..<2000 {
                            // Every fourth call is a batch of three.
                            let ids = (0..<(round % 4 == 3 ? 3 : 1)).map { "w\(worker)-r\(round)-e\($0)" }
                            do {
                                let answer = try await admin.call(
                                    "POST",
                                    ["topics", "load", "events"],
                                    json: Self.loadEvents(ids)
                                )
                                let offsets = (answer["Offsets"] as? [Any] ?? []).compactMap {
                                    ($0 as? NSNumber)?.uint64Value
                                }
                                log.acknowledged(ids: ids, offsets: offsets)
                            } catch {
                                log.unacknowledged(ids: ids)
                                return
                            }
                        }
                    }
                }
            }
        }
        // A consumer group commits part of the log before the kill.
        for _ in 0..<3000 where log.count < 60 { try await Task.sleep(for: .milliseconds(10)) }
        try #require(log.count >= 60, "the publishers never got going")
        let fetched = try await admin.call(
            "POST",
            ["topics", "load", "groups", "g1", "fetch"],
            query: [("limit", "25")]
        )
        let fetchedOffsets = (fetched["Events"] as? [[String: Any]] ?? []).compactMap {
            ($0["Offset"] as? NSNumber)?.uint64Value
        }
        #expect(fetchedOffsets == Array(1...25))
        let committed = try await admin.call(
            "POST",
            ["topics", "load", "groups", "g1", "commit"],
            body: ["Offset": 25]
        )
        #expect((committed["CommittedOffset"] as? NSNumber)?.uint64Value == 25)
        for _ in 0..<3000 where log.count < 300 { try await Task.sleep(for: .milliseconds(10)) }
        try #require(log.count >= 300, "the publishers stopped early: \(log.count) acknowledged")
        server.kill9()
        await publishers.value

        // Right after the kill the chain verifies; the records after the newest digest are reported unsigned.
        let afterKill = try await ESDKCommandTests.sealed(["audit", "verify", "--data-dir", server.dataDirectory.path])
        let afterKillReport = String(decoding: afterKill.stdout, as: UTF8.self)
        #expect(afterKill.status == 0, "\(afterKillReport)\(afterKill.stderr)")
        #expect(afterKillReport.hasPrefix("OK: ") && afterKillReport.contains("not yet signed"), "\(afterKillReport)")

        try server.start()
        let client = try platform.client(platform.admin, attempts: 1)
        let restarted = try await platform.readAll("load", client: client)
        let offsets = restarted.map(\.offset)
        #expect(offsets == Array(1...UInt64(restarted.count)), "offsets must be dense and in order")
        var position: [String: UInt64] = [:]
        for event in restarted {
            #expect(position.updateValue(event.offset, forKey: event.id) == nil, "\(event.id) is stored twice")
        }
        let acknowledged = log.acknowledgements
        #expect(acknowledged.count >= 150)
        for ack in acknowledged {
            #expect(ack.ids.count == ack.offsets.count)
            for (id, offset) in zip(ack.ids, ack.offsets) {
                #expect(
                    position[id] == offset,
                    "\(id) was acknowledged at \(offset), found at \(position[id].map { "\($0)" } ?? "nowhere")"
                )
            }
        }
        #expect(restarted.count >= log.count)
        for ids in log.unacknowledgedBatches {
            let present = ids.filter { position[$0] != nil }
            #expect(present.isEmpty || present == ids, "a batch is all there or not at all: \(ids) → \(present)")
        }

        // The group resumes after its committed offset.
        let group = try await client.call("GET", ["topics", "load", "groups", "g1"])
        #expect((group["CommittedOffset"] as? NSNumber)?.uint64Value == 25)
        let resumed = try await client.call(
            "POST",
            ["topics", "load", "groups", "g1", "fetch"],
            query: [("limit", "5")]
        )
        #expect(
            (resumed["Events"] as? [[String: Any]] ?? []).compactMap { ($0["Offset"] as? NSNumber)?.uint64Value }
                == [26, 27, 28, 29, 30]
        )
        // Producers send again what got no answer, and some of what was acknowledged: each event is stored once, and
        // one already stored is answered with its original offset.
        var count = UInt64(restarted.count)
        for ids in log.unacknowledgedBatches + acknowledged.prefix(5).map(\.ids) {
            let answer = try await platform.publish(Self.loadEvents(ids), to: "load", client: client)
            #expect(answer.count == ids.count)
            for (id, offset) in zip(ids, answer) {
                if let stored = position[id] {
                    #expect(offset == stored, "\(id) again: answered \(offset), stored at \(stored)")
                } else {
                    count += 1
                    #expect(offset == count, "\(id), stored only now")
                    position[id] = offset
                }
            }
        }
        let afterRetries = try await platform.readAll("load", client: client)
        #expect(afterRetries.map(\.offset) == Array(1...count))
        #expect(Set(afterRetries.map(\.id)).count == afterRetries.count)
        #expect(afterRetries.allSatisfy { position[$0.id] == $0.offset })
        // The log goes on after the last stored event.
        #expect(
            try await platform.publish(Self.loadEvents(["after-restart"]), to: "load", client: client) == [count + 1]
        )

        // Every acknowledged publish has its record (written before the answer was released).
        var audited: [String: UInt64] = [:]
        var after = 0
        while true {
            let page = try await client.call(
                "GET",
                ["audit"],
                query: [("eventName", "PublishEvents"), ("after", "\(after)"), ("limit", "1000")]
            )
            let records = page["Records"] as? [[String: Any]] ?? []
            for record in records where record["errorCode"] == nil {
                let elements = record["responseElements"] as? [String: Any] ?? [:]
                let ids = elements["eventIds"] as? [String] ?? []
                let offsets = (elements["offsets"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.uint64Value }
                for (id, offset) in zip(ids, offsets) { audited[id] = offset }
            }
            guard let last = (records.last?["sequenceNumber"] as? NSNumber)?.intValue, records.count == 1000 else {
                break
            }
            after = last
        }
        for ack in acknowledged {
            for (id, offset) in zip(ack.ids, ack.offsets) {
                #expect(audited[id] == offset, "no audit record of the acknowledged publish of \(id)")
            }
        }

        #expect(server.stop() == 0)
        let verified = try await ESDKCommandTests.sealed(["audit", "verify", "--data-dir", server.dataDirectory.path])
        let report = String(decoding: verified.stdout, as: UTF8.self)
        #expect(verified.status == 0, "\(report)\(verified.stderr)")
        #expect(report.hasPrefix("OK: ") && !report.contains("not yet signed"), "\(report)")
    }

    /// The load test's events (public, unsealed), one envelope or a batch; the same ids make the same bytes.
    static func loadEvents(_ ids: [String]) -> [UInt8] {
        let events = ids.map { Platform.plain(id: $0, type: "load.tick.sent", domain: "load", data: #"{"tick":true}"#) }
        return events.count == 1 ? events[0] : Platform.batch(events)
    }

    // MARK: - Consumer groups through the CLI

    /// `sealed consume --group g --max N` twice continues where the first stopped; the group's offset is committed;
    /// another group starts from the beginning.
    @Test func consumeWithAGroupContinuesWhereTheLastRunStopped() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let platform = try await Platform(server: server)
        let a = platform.domainA
        try await platform.createTopic("groups")
        for index in 1...10 {
            let event = Platform.plain(id: "e\(index)", type: a.publicType, domain: a.name, data: #"{"n":\#(index)}"#)
            #expect(try await platform.publish(event, to: "groups") == [UInt64(index)])
        }
        func consume(_ group: String, max: Int?) async throws -> [Int] {
            var arguments = ["consume", "--topic", "groups", "--group", group, "--output", "text"]
            if let max { arguments += ["--max", "\(max)"] }
            let run = try await server.cli(arguments, json: false)
            return String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").compactMap {
                $0.split(separator: " ").first.flatMap { Int($0) }
            }
        }
        #expect(try await consume("g", max: 4) == [1, 2, 3, 4])
        #expect(try await consume("g", max: 4) == [5, 6, 7, 8])
        #expect(try await consume("other", max: 3) == [1, 2, 3])
        #expect(try await consume("g", max: nil) == [9, 10])
        #expect(try await consume("g", max: nil) == [])
        let committed = try await platform.client(platform.admin).call("GET", ["topics", "groups", "groups", "g"])
        #expect((committed["CommittedOffset"] as? NSNumber)?.intValue == 10)
        // New events after the group's end are delivered next.
        let late = Platform.plain(id: "e11", type: a.publicType, domain: a.name, data: "{}")
        #expect(try await platform.publish(late, to: "groups") == [11])
        #expect(try await consume("g", max: 5) == [11])
        #expect(try await consume("other", max: nil) == Array(4...11))
    }
}

extension EventPlatformTests {
    /// `sealed consume --open` exits 0 when every event it printed was opened or needed no opening, and 2 (partially
    /// done, the count on standard error) when it had to print a sealed event redacted: here the administrator, who
    /// has no approved access to the restricted type, cannot assume its reader role.
    @Test func consumeOpenExitsTwoWhenAnEventStayedSealed() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let platform = try await Platform(server: server)
        let a = platform.domainA
        try await platform.createTopic("mixed")
        let plain = Platform.plain(id: "p1", type: a.publicType, domain: a.name, data: #"{"n":1}"#)
        #expect(try await platform.publish(plain, to: "mixed") == [1])
        let arguments = ["consume", "--topic", "mixed", "--open", "--output", "text"]
        _ = try await server.cli(arguments, json: false)  // exit 0: nothing needed opening

        let card = #"{"amount":12.50,"card":{"number":{"sealed":true},"holder":{"sealed":true}}}"#
        let fields = [("/card/number", #""4111 1111 1111 1111""#), ("/card/holder", #""Ada Lovelace""#)]
        let sealed = try await platform.sealed(id: "r1", type: a.restricted, data: card, fields: fields)
        #expect(try await platform.publish(sealed, to: "mixed") == [2])
        let run = try await ESDKCommandTests.sealed(
            arguments + [
                "--endpoint-url", server.endpoint.absoluteString, "--profile", "sealed-admin", "--region", "us-east-1",
            ],
            environment: [
                "AWS_SHARED_CREDENTIALS_FILE": server.administratorCredentialsFile.path,
                "AWS_CONFIG_FILE": "/nonexistent",
            ]
        )
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("1 of 2 events could not be opened"), "\(run.stderr)")
        let output = String(decoding: run.stdout, as: UTF8.self)
        #expect(output.contains("1  ") && output.contains("2  "), "both events are printed: \(output)")
        #expect(!output.contains("4111 1111 1111 1111"), "the card stays sealed")
    }
}

// MARK: - Support

extension EventPlatformTests {
    /// `sealed serve` with extra arguments on a fresh data directory; restarted on the same data, stopped with
    /// SIGTERM or killed with SIGKILL.
    typealias Server = ServeProcess

    /// Two domains, each owned by its team with a key, and event types of every classification.
    struct Platform {
        struct Domain {
            let name: String
            let keyARN: String
            var restricted: String { "\(name).card.captured" }
            var confidential: String { "\(name).card.refunded" }
            var publicType: String { "\(name).page.viewed" }
            var internalType: String { "\(name).page.clicked" }
        }

        let server: Server
        let admin: Credentials
        let team = "owners"
        let domainA: Domain
        let domainB: Domain
        let kms: KMSClient

        /// Sets up teams, domains `pay` and `other`, and four event types in each (unless `catalog` is false).
        init(server: Server, catalog: Bool = true) async throws {
            self.server = server
            admin = try server.administrator
            kms = try KMSClient(
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(admin),
                endpoint: server.endpoint,
                options: ClientOptions(maxAttempts: 1, timeout: .seconds(20))
            )
            let client = try PlatformClient(
                endpoint: server.endpoint,
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(admin)
            )
            _ = try await client.call("POST", ["iam", "teams"], body: ["TeamName": team])
            guard catalog else {
                domainA = Domain(name: "-", keyARN: "-")
                domainB = domainA
                return
            }
            var domains: [Domain] = []
            for name in ["pay", "other"] {
                let created = try await client.call(
                    "POST",
                    ["catalog", "domains"],
                    body: ["Domain": name, "Owner": team]
                )
                let domain = Domain(name: name, keyARN: try #require(created["KeyArn"] as? String))
                let types: [(String, [String: any Sendable])] = [
                    (
                        domain.restricted,
                        [
                            "Classification": "restricted", "SensitiveFields": ["/card/number", "/card/holder"],
                            "AlgorithmSuite": "0x0578",
                        ]
                    ),
                    (domain.confidential, ["Classification": "confidential", "AlgorithmSuite": "0x0478"]),
                    (domain.publicType, ["Classification": "public"]),
                    (domain.internalType, ["Classification": "internal"]),
                ]
                for (type, extra) in types {
                    _ = try await client.call(
                        "POST",
                        ["catalog", "event-types"],
                        body: extra.merging(["EventType": type, "Domain": name]) { $1 }
                    )
                }
                domains.append(domain)
            }
            domainA = domains[0]
            domainB = domains[1]
        }

        func client(_ credentials: Credentials, attempts: Int = 3) throws -> PlatformClient {
            try PlatformClient(
                endpoint: server.endpoint,
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(credentials),
                options: ClientOptions(maxAttempts: attempts, timeout: .seconds(20))
            )
        }

        func createTopic(_ name: String) async throws {
            _ = try await client(admin).call("POST", ["topics"], body: ["Name": name])
        }

        /// Publishes a body as its exact bytes; returns the offsets.
        func publish(_ body: [UInt8], to topic: String, client: PlatformClient? = nil) async throws -> [UInt64] {
            let answer = try await (client ?? self.client(admin)).call("POST", ["topics", topic, "events"], json: body)
            return (answer["Offsets"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.uint64Value }
        }

        func eventCount(_ topic: String) async throws -> Int {
            (try await client(admin).call("GET", ["topics", topic])["EventCount"] as? NSNumber)?.intValue ?? -1
        }

        /// Every event of the topic, `(offset, eventId)`, read in pages from offset 1.
        func readAll(_ topic: String, client: PlatformClient? = nil) async throws -> [(offset: UInt64, id: String)] {
            try await EventPlatformTests.readAll(topic, client: client ?? self.client(admin))
        }

        static func quoted(_ text: String) -> String {
            let data = try? JSONSerialization.data(
                withJSONObject: text,
                options: [.fragmentsAllowed, .withoutEscapingSlashes]
            )
            return String(decoding: data ?? Data(), as: UTF8.self)
        }

        static func metaData(id: String, type: String, domain: String, encryption: String? = nil) -> String {
            var text =
                #"{"eventId":\#(quoted(id)),"eventType":\#(quoted(type)),"domain":\#(quoted(domain)),"source":"tests""#
            if let encryption { text += #","encryption":\#(encryption)"# }
            return text + "}"
        }

        /// An unsealed envelope; `data` is JSON text.
        static func plain(id: String, type: String, domain: String, data: String) -> [UInt8] {
            Array(#"{"metaData":\#(metaData(id: id, type: type, domain: domain)),"data":\#(data)}"#.utf8)
        }

        static func batch(_ events: [[UInt8]]) -> [UInt8] {
            Array(#"{"Events":["#.utf8) + Array(events.joined(separator: Array(",".utf8))) + Array("]}".utf8)
        }

        /// An envelope sealed as docs/sealed-events-format.md says, with the ESDK and a KMS keyring on `key` (default
        /// the type's domain key), built by hand so that one thing at a time can be wrong. `fields` nil seals the whole
        /// `data`; otherwise `data` already holds the markers and `fields` the sealed `(pointer, JSON value)` pairs.
        func sealed(
            id: String,
            type: String,
            domain: String? = nil,
            data: String,
            fields: [(String, String)]? = nil,
            key: String? = nil,
            claimedKey: String? = nil,
            suite: String = "",
            claimedSuite: String? = nil
        ) async throws -> [UInt8] {
            let owner = [domainA, domainB].first { type.hasPrefix($0.name + ".") } ?? domainA
            let domain = domain ?? owner.name
            let key = key ?? owner.keyARN
            let suite = suite.isEmpty ? (type == owner.confidential ? "0x0478" : "0x0578") : suite
            let payload: String
            if let fields {
                let list = fields.map { #"{"pointer":\#(Self.quoted($0.0)),"value":\#($0.1)}"# }
                payload = #"{"v":1,"eventId":\#(Self.quoted(id)),"fields":[\#(list.joined(separator: ","))]}"#
            } else {
                payload = #"{"v":1,"eventId":\#(Self.quoted(id)),"data":\#(data)}"#
            }
            let message = try await EncryptionClient().encrypt(
                Array(payload.utf8),
                keyring: try KMSKeyring(generatorKeyId: key, client: kms),
                encryptionContext: ["eventType": type, "domain": domain],
                algorithmSuite: suite == "0x0478"
                    ? .aes256GCMHKDFSHA512Committing : .aes256GCMHKDFSHA512CommittingECDSAP384
            )
            let encoded = Data(message.ciphertext).base64EncodedString()
            var encryption =
                #"{"keyArn":\#(Self.quoted(claimedKey ?? key)),"format":"aws-esdk","#
                + #""algorithmSuite":"\#(claimedSuite ?? suite)","#
                + #""scope":"\#(fields == nil ? "data" : "fields")","#
                + #""encryptionContext":{"eventType":\#(Self.quoted(type)),"domain":\#(Self.quoted(domain))}"#
            if let fields {
                encryption += #","sealedFields":[\#(fields.map { Self.quoted($0.0) }.joined(separator: ","))]"#
                encryption += #","ciphertext":"\#(encoded)"}"#
            } else {
                encryption += "}"
            }
            let meta = Self.metaData(id: id, type: type, domain: domain, encryption: encryption)
            return Array(#"{"metaData":\#(meta),"data":\#(fields == nil ? "\"\(encoded)\"" : data)}"#.utf8)
        }
    }

    /// What the publishers were told: acknowledged events with their offsets, and the batches that got no answer.
    final class PublishLog: Sendable {
        struct Acknowledgement {
            let ids: [String]
            let offsets: [UInt64]
        }

        private let state = Mutex<(acknowledged: [Acknowledgement], unanswered: [[String]])>(([], []))

        func acknowledged(ids: [String], offsets: [UInt64]) {
            state.withLock { $0.acknowledged.append(Acknowledgement(ids: ids, offsets: offsets)) }
        }

        func unacknowledged(ids: [String]) { state.withLock { $0.unanswered.append(ids) } }

        /// How many events were acknowledged.
        var count: Int { state.withLock { $0.acknowledged.reduce(0) { $0 + $1.ids.count } } }
        var acknowledgements: [Acknowledgement] { state.withLock { $0.acknowledged } }
        var unacknowledgedBatches: [[String]] { state.withLock { $0.unanswered } }
    }
}

extension EventPlatformTests {
    /// Every event of the topic, `(offset, eventId)`, read in pages from offset 1.
    static func readAll(_ topic: String, client: PlatformClient) async throws -> [(offset: UInt64, id: String)] {
        var events: [(offset: UInt64, id: String)] = []
        var from: UInt64 = 1
        while true {
            let page = try await client.call(
                "GET",
                ["topics", topic, "events"],
                query: [("from", "\(from)"), ("limit", "1000")]
            )
            let items = page["Events"] as? [[String: Any]] ?? []
            for item in items {
                events.append(
                    (
                        offset: try #require((item["Offset"] as? NSNumber)?.uint64Value),
                        id: try #require(item["EventId"] as? String)
                    )
                )
            }
            guard let last = events.last, !items.isEmpty else { return events }
            from = last.offset + 1
        }
    }
}
