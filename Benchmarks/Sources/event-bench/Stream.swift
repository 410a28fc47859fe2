// `event-bench stream`: the streaming publish figures of issue 22 (see main.swift for the usage).
import EncryptionSDK
import Foundation
import KMS
import Logging
import NATS
import PlatformClient
import SealedEvents
import SigV4
import Synchronization

/// One producer sealing 1 KiB events (0x0478, `fields` scope, through the embedded key service with the SDK's data key
/// cache) and streaming them to a topic with the SDK's `Publisher`; a consumer long-polling the topic and opening
/// every event; and, with a NATS URL, the same producer publishing the same sealed bytes to JetStream directly.
struct StreamBench {
    let client: PlatformClient
    let kms: KMSClient
    /// One sealer and one opener for every run, as a producer and a consumer keep theirs: their data key caches are
    /// warmed up before anything is measured.
    let sealer: Sealer
    let opener: Opener
    let descriptor: EventTypeDescriptor
    let topic: String
    let budget: Double
    let label: String
    let clock = ContinuousClock()

    static func setUp(endpoint: URL, credentials: SigV4.Credentials, budget: Double, label: String) async throws -> StreamBench {
        let provider = StaticCredentialProvider(credentials)
        let client = try PlatformClient(endpoint: endpoint, region: "us-east-1", credentialProvider: provider)
        let kms = try KMSClient(region: "us-east-1", credentialProvider: provider, endpoint: endpoint)
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let team = "stream-\(tag)"
        let domain = "s\(tag)"
        let type = "\(domain).card.captured"
        let topic = "stream-\(tag)"
        _ = try await client.call("POST", ["iam", "teams"], body: ["TeamName": team])
        let created = try await client.call("POST", ["catalog", "domains"], body: ["Domain": domain, "Owner": team])
        guard let keyArn = created["KeyArn"] as? String else { throw BenchError("the domain has no KeyArn") }
        let fields = ["/card/number", "/card/holder"]
        _ = try await client.call(
            "POST",
            ["catalog", "event-types"],
            body: [
                "EventType": type, "Domain": domain, "Classification": "restricted", "SensitiveFields": fields,
                "AlgorithmSuite": "0x0478",
            ]
        )
        _ = try await client.call("POST", ["topics"], body: ["Name": topic])
        let descriptor = EventTypeDescriptor(
            name: type,
            domain: domain,
            classification: .restricted,
            keyArn: keyArn,
            algorithmSuite: .aes256GCMHKDFSHA512Committing,
            sealing: .fields(try fields.map { try JSONPointer($0) })
        )
        let bench = StreamBench(
            client: client,
            kms: kms,
            sealer: try Sealer(kms: kms),
            opener: try Opener(keyring: try KMSKeyring(generatorKeyId: keyArn, client: kms)),
            descriptor: descriptor,
            topic: topic,
            budget: budget,
            label: label
        )
        // Warm-up, not measured: the data keys (GenerateDataKey, then Decrypt) and the first connections.
        _ = try await bench.endToEndRun(rate: 1000, seconds: 1)
        return bench
    }

    /// A 1 KiB event whose unsealed part carries the time it was made (microseconds since 1970).
    func envelope(sentAt: Int64) throws -> Envelope {
        let padding = String(repeating: "x", count: 820)
        let data = try SealedEvents.JSONValue(
            parsing: #"{"orderId":"o-1","amount":12.50,"currency":"EUR","sentAt":\#(sentAt),"card":{"number":"4111111111111111","holder":"Ada Lovelace","expiry":"12/29"},"notes":"\#(padding)"}"#
        )
        return Envelope(
            metaData: MetaData(
                eventId: Sealer.makeEventId(),
                eventType: descriptor.name,
                domain: descriptor.domain,
                source: "bench"
            ),
            data: data
        )
    }

    static func microseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    /// Seals and streams for the budget, as fast as the publisher's window lets; every receipt is checked.
    func producerThroughput() async throws {
        let template = try envelope(sentAt: 0)
        let start = clock.now
        let receipts = try await client.withPublisher(topic: topic, sealer: sealer) { publisher in
            var receipts: [Publisher.Receipt] = []
            while seconds(clock.now - start) < budget {
                var event = template
                event.metaData.eventId = Sealer.makeEventId()
                receipts.append(try await publisher.publish(event, as: descriptor))
            }
            return receipts
        }
        let elapsed = seconds(clock.now - start)
        let stored = try await Self.checked(receipts)
        print("\(label)_stream_seal_publish_per_second \(Int(Double(stored) / elapsed))")

        // The same stream of events sealed beforehand: what the bus path takes without the producer's sealing.
        var sealed: [(bytes: [UInt8], id: String)] = []
        for _ in 0..<max(1000, stored) {
            var event = template
            event.metaData.eventId = Sealer.makeEventId()
            let envelope = try await sealer.seal(event, as: descriptor)
            sealed.append((envelope.serialized(), envelope.metaData.eventId))
        }
        let presealedStart = clock.now
        let presealed = try await client.withPublisher(topic: topic) { publisher in
            var receipts: [Publisher.Receipt] = []
            for event in sealed { receipts.append(try await publisher.publish(json: event.bytes, eventId: event.id)) }
            return receipts
        }
        let presealedElapsed = seconds(clock.now - presealedStart)
        let presealedStored = try await Self.checked(presealed)
        print("\(label)_stream_presealed_per_second \(Int(Double(presealedStored) / presealedElapsed))")
        print("\(label)_stream_event_bytes \(sealed[0].bytes.count)")
    }

    /// The number of receipts acknowledged with an offset; a refusal or error stops the run.
    static func checked(_ receipts: [Publisher.Receipt]) async throws -> Int {
        var offsets = Set<UInt64>()
        for receipt in receipts { offsets.insert(try await receipt.offset) }
        guard offsets.count == receipts.count else { throw BenchError("two events were given the same offset") }
        return receipts.count
    }

    /// Seal → publish → consume → open: the highest rate one producer and one consumer sustain, then the latency
    /// (made to opened) at half that rate.
    func endToEnd() async throws {
        let (maximum, _) = try await endToEndRun(rate: nil, seconds: budget)
        print("\(label)_end_to_end_per_second \(Int(maximum))")
        // The paced run measures the steady state: it starts once the server finished what the maximum run left
        // (2 s), and its first second is a warm-up whose events are opened but not counted.
        try await Task.sleep(for: .seconds(2))
        let half = maximum / 2
        let (rate, latencies) = try await endToEndRun(rate: half, seconds: min(budget, 8) + 1, warmUp: 1)
        print("\(label)_end_to_end_half_offered_per_second \(Int(half))")
        print("\(label)_end_to_end_half_rate_per_second \(Int(rate))")
        print("\(label)_end_to_end_half_p50_ms \(String(format: "%.2f", percentile(latencies, 0.5) * 1000))")
        print("\(label)_end_to_end_half_p99_ms \(String(format: "%.2f", percentile(latencies, 0.99) * 1000))")
    }

    /// One run: a producer (paced at `rate` events per second, or as fast as it can) for `seconds`, and a consumer
    /// that opens every event. Returns the events opened per second (from the run's start to the last opened) and
    /// the latencies of the events made after the first `warmUp` seconds.
    func endToEndRun(rate: Double?, seconds runSeconds: Double, warmUp: Double = 0) async throws -> (Double, [Double]) {
        let countedFrom = Self.microseconds() + Int64(warmUp * 1_000_000)
        let info = try await client.call("GET", ["topics", topic])
        let from = ((info["LastOffset"] as? NSNumber)?.uint64Value ?? 0) + 1
        let (sealer, opener) = (self.sealer, self.opener)
        let produced = Shared<Int?>(nil)
        // When the last event was opened: the run's end (the consumer's last long poll may wait on after it, until
        // the producer's stream has ended).
        let lastOpened = Shared<ContinuousClock.Instant?>(nil)
        let start = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Double]?.self) { group in
            group.addTask {
                let count = try await client.withPublisher(topic: topic, sealer: sealer) { publisher in
                    var count = 0
                    var due = clock.now
                    while seconds(clock.now - start) < runSeconds {
                        if let rate {
                            // Paced in 1 ms ticks: each tick sends what the rate owes so far.
                            try await clock.sleep(until: due)
                            due = due.advanced(by: .milliseconds(1))
                            let owed = Int(rate * seconds(clock.now - start)) - count
                            for _ in 0..<max(0, owed) {
                                _ = try await publisher.publish(try envelope(sentAt: Self.microseconds()), as: descriptor)
                                count += 1
                            }
                        } else {
                            _ = try await publisher.publish(try envelope(sentAt: Self.microseconds()), as: descriptor)
                            count += 1
                        }
                    }
                    return count
                }
                produced.value.withLock { $0 = count }
                return nil
            }
            group.addTask {
                var latencies: [Double] = []
                var next = from
                while produced.value.withLock({ $0 }).map({ latencies.count < $0 }) ?? true {
                    let answer = try await client.raw(
                        "GET",
                        ["topics", topic, "events"],
                        query: [("from", "\(next)"), ("limit", "1000"), ("wait", "2")]
                    )
                    guard case .object(let list) = try SealedEvents.JSONValue(parsing: Array(answer)),
                        case .array(let items)? = list["Events"]
                    else { throw BenchError("the bus answered something other than an event list") }
                    for item in items {
                        guard case .object(let entry) = item, let offset = entry["Offset"]?.numberValue?.int64Value,
                            let event = entry["Event"]
                        else { throw BenchError("an event without an offset") }
                        let opened = try await opener.open(try Envelope(jsonValue: event), as: descriptor)
                        guard opened.isComplete, let sentAt = opened.data["sentAt"]?.numberValue?.int64Value,
                            opened.data["card"]?["number"] == "4111111111111111"
                        else { throw BenchError("an event did not open") }
                        latencies.append(sentAt >= countedFrom ? Double(Self.microseconds() - sentAt) / 1_000_000 : -1)
                        lastOpened.value.withLock { $0 = clock.now }
                        next = UInt64(offset) + 1
                    }
                }
                return latencies
            }
            var latencies: [Double] = []
            for try await result in group { if let result { latencies = result } }
            return latencies
        }
        let end = lastOpened.value.withLock { $0 } ?? clock.now
        return (Double(latencies.count) / seconds(end - start), latencies.filter { $0 >= 0 })
    }

    /// The same producer (sealing included) publishing the same sealed bytes to JetStream with the project's NATS
    /// client: pipelined batches of 256 (the server's publish groups), each acknowledged before the next.
    func directJetStream(url: String) async throws {
        let template = try envelope(sentAt: 0)
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let stored = try await Connection.withConnection(to: url, logger: logger) { connection in
            let jetStream = JetStream(connection: connection)
            let stream = "BENCHDIRECT_\(tag.uppercased())"
            let subject = "benchdirect.\(tag)"
            _ = try await jetStream.createStream(StreamConfig(name: stream, subjects: [subject]))
            let start = clock.now
            var stored = 0
            while seconds(clock.now - start) < budget {
                var batch: [BatchMessage] = []
                for _ in 0..<256 {
                    var event = template
                    event.metaData.eventId = Sealer.makeEventId()
                    let sealed = try await sealer.seal(event, as: descriptor)
                    batch.append(BatchMessage(payload: sealed.serialized(), messageID: sealed.metaData.eventId))
                }
                let results = await jetStream.publish(batch: batch, to: subject)
                let acknowledged = results.values.filter { if case .success = $0 { true } else { false } }.count
                guard acknowledged == batch.count else { throw BenchError("JetStream acknowledged \(acknowledged) of \(batch.count)") }
                stored += acknowledged
            }
            let rate = Double(stored) / seconds(clock.now - start)
            try await jetStream.deleteStream(stream)
            return rate
        }
        print("\(label)_jetstream_direct_seal_publish_per_second \(Int(stored))")
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
