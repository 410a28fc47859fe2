// The event platform's figures for scripts/bench (issues 7 and 8), printed as `key value` lines:
//
//   event-bench seal-open SECONDS
//       seal+open of a 1 KiB JSON event through the SDK (Sealer/Opener, raw AES keyring, cached data keys),
//       0x0478 and 0x0578, scope data and scope fields: events per second.
//   event-bench bus ENDPOINT[,ENDPOINT…] ACCESS_KEY SECRET SECONDS LABEL
//       against a running `sealed serve` (any bus): publish throughput (one event per request, 8 concurrent
//       publishers; batches of 100), then end-to-end latency at a fixed rate (200 events/s; a long-polling
//       reader; publish-to-receive), p50/p99. The topic and event type are created with the credentials given
//       (an administrator's); events are of an `internal` type, unsealed, so the figures are the bus's own.
//       Several endpoints (replicas of one platform on PostgreSQL): the publishers take them in turn, all on one
//       topic, and the end-to-end reader reads from the last while the first publishes.
//   event-bench stream ENDPOINT ACCESS_KEY SECRET SECONDS LABEL [NATS_URL]
//       issue 22's streaming figures against a running `sealed serve` (Stream.swift): one producer sealing 1 KiB
//       events (0x0478, `fields` scope, KMS data keys from the server, cached by the SDK): seal → publish → consume
//       → open with one long-polling consumer, at its highest rate and at half of it (p50/p99 from made to opened);
//       then streaming them with the SDK's Publisher (every acknowledgement checked), and the same events sealed
//       beforehand; with NATS_URL, the same producer publishing the same sealed bytes to JetStream directly.
//   event-bench shred ENDPOINT ACCESS_KEY SECRET SECONDS
//       issue 20's figures against a running `sealed serve` (Shred.swift): seal+open of a 1 KiB event (scope
//       `fields`) per data subject with the hierarchical keyring (branch key cached) beside the KMS keyring with
//       cached data keys, both suites; prints the keystore it made for scripts/peers/shred_bench.py.
//
// Bounded in time; nothing here is a test.
import Crypto
import EncryptionSDK
import Foundation
import KMS
import PlatformClient
import SealedEvents
import SigV4
import Synchronization

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

/// A 1 KiB JSON event with a card to seal.
func sampleData(_ index: Int) throws -> SealedEvents.JSONValue {
    let padding = String(repeating: "x", count: 860)
    return try SealedEvents.JSONValue(
        parsing: #"{"orderId":"o-\#(index)","amount":12.50,"currency":"EUR","card":{"number":"4111111111111111","holder":"Ada Lovelace","expiry":"12/29"},"notes":"\#(padding)"}"#
    )
}

/// Shared results of concurrent tasks.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ initial: Value) { value = Mutex(initial) }
}

func sealOpen(seconds budget: Double) async throws {
    let key = SymmetricKey(size: .bits256)
    let keyring = try RawAESKeyring(keyNamespace: "bench", keyName: "k", wrappingKey: key)
    let keyArn = SealedMessage.rawKeyIdentifier(namespace: "bench", name: "k")
    // EVENT_BENCH_SUITE=0x0478 (or 0x0578) measures one suite only, e.g. under callgrind.
    let only = ProcessInfo.processInfo.environment["EVENT_BENCH_SUITE"]
    // EVENT_BENCH_SCOPE=data (or fields) measures one scope only; EVENT_BENCH_ITERATIONS=N runs exactly N
    // iterations instead of SECONDS, so that instruction counts of two runs can be subtracted.
    let onlyScope = ProcessInfo.processInfo.environment["EVENT_BENCH_SCOPE"]
    let iterations = ProcessInfo.processInfo.environment["EVENT_BENCH_ITERATIONS"].flatMap { Int($0) }
    for suite in [AlgorithmSuite.aes256GCMHKDFSHA512Committing, .aes256GCMHKDFSHA512CommittingECDSAP384]
    where only == nil || suite.description == only {
        for scope in ["data", "fields"] where onlyScope == nil || scope == onlyScope {
            let descriptor = EventTypeDescriptor(
                name: "bench.card.captured",
                domain: "bench",
                classification: .restricted,
                keyArn: keyArn,
                algorithmSuite: suite,
                sealing: scope == "data" ? .data : .fields([try JSONPointer("/card/number"), try JSONPointer("/card/holder")])
            )
            let sealer = try Sealer(keyring: keyring)
            let opener = try Opener(keyring: keyring)
            let data = try sampleData(0)
            var count = 0
            let clock = ContinuousClock()
            let start = clock.now
            while iterations.map({ count < $0 }) ?? (seconds(clock.now - start) < budget) {
                let event = Envelope(
                    metaData: MetaData(eventId: Sealer.makeEventId(), eventType: descriptor.name, domain: "bench", source: "bench"),
                    data: data
                )
                let sealed = try await sealer.seal(event, as: descriptor)
                let opened = try await opener.open(sealed, as: descriptor)
                // The opener checked the binding; the data's equality is checked once (comparing 1 KiB of JSON
                // values is the benchmark's work, not the SDK's).
                if count == 0 { precondition(opened.data == data) }
                count += 1
            }
            let elapsed = seconds(clock.now - start)
            print("seal_open_\(suite.description)_\(scope)_per_second \(Int(Double(count) / elapsed))")
            print("seal_open_\(suite.description)_\(scope)_microseconds \(String(format: "%.1f", elapsed / Double(count) * 1e6))")
        }
    }
}

func bus(endpoints: [URL], credentials: SigV4.Credentials, budget: Double, label: String) async throws {
    let clients = try endpoints.map {
        try PlatformClient(endpoint: $0, region: "us-east-1", credentialProvider: StaticCredentialProvider(credentials))
    }
    let client = clients[0]
    let tag = String(UUID().uuidString.prefix(6)).lowercased()
    let team = "bench-\(tag)"
    let domain = "b\(tag)"
    let type = "\(domain).load.tick"
    let topic = "bench-\(tag)"
    _ = try await client.call("POST", ["iam", "teams"], body: ["TeamName": team])
    _ = try await client.call("POST", ["catalog", "domains"], body: ["Domain": domain, "Owner": team])
    _ = try await client.call(
        "POST",
        ["catalog", "event-types"],
        body: ["EventType": type, "Domain": domain, "Classification": "internal"]
    )
    _ = try await client.call("POST", ["topics"], body: ["Name": topic])
    // Other replicas learn the new event type through their change feed.
    for replica in clients.dropFirst() {
        for attempt in 1... {
            if (try? await replica.call("GET", ["catalog", "event-types", type])) != nil { break }
            if attempt == 300 { throw BenchError("a replica never learned the event type \(type)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
    let padding = String(repeating: "x", count: 800)
    let event: @Sendable (String, Double) -> String = { id, sentAt in
        #"{"metaData":{"eventId":"\#(id)","eventType":"\#(type)","domain":"\#(domain)","source":"bench"},"data":{"sentAt":\#(sentAt),"padding":"\#(padding)"}}"#
    }
    let clock = ContinuousClock()

    // Single publishes, 8 concurrent publishers.
    let latencies = Shared<[Double]>([])
    let start = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<8 {
            let client = clients[worker % clients.count]
            group.addTask {
                var index = 0
                while seconds(clock.now - start) < budget {
                    let begin = clock.now
                    _ = try await client.call("POST", ["topics", topic, "events"], json: Array(event("s\(worker)-\(index)", 0).utf8))
                    let took = seconds(clock.now - begin)
                    latencies.value.withLock { $0.append(took) }
                    index += 1
                }
            }
        }
        try await group.waitForAll()
    }
    let single = latencies.value.withLock { $0 }
    let singleElapsed = seconds(clock.now - start)
    print("\(label)_publish_single_per_second \(Int(Double(single.count) / singleElapsed))")
    print("\(label)_publish_single_p50_ms \(String(format: "%.2f", percentile(single, 0.5) * 1000))")
    print("\(label)_publish_single_p99_ms \(String(format: "%.2f", percentile(single, 0.99) * 1000))")

    // Batches of 100, 2 concurrent publishers.
    let batchCount = Shared(0)
    let batchStart = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<2 {
            let client = clients[worker % clients.count]
            group.addTask {
                var index = 0
                while seconds(clock.now - batchStart) < budget {
                    let events = (0..<100).map { event("b\(worker)-\(index)-\($0)", 0) }.joined(separator: ",")
                    _ = try await client.call("POST", ["topics", topic, "events"], json: Array(#"{"Events":[\#(events)]}"#.utf8))
                    batchCount.value.withLock { $0 += 100 }
                    index += 1
                }
            }
        }
        try await group.waitForAll()
    }
    print("\(label)_publish_batched_per_second \(Int(Double(batchCount.value.withLock { $0 }) / seconds(clock.now - batchStart)))")

    // End-to-end latency at 200 events/s: a long-polling reader from the current end of the topic.
    let info = try await client.call("GET", ["topics", topic])
    let from = ((info["LastOffset"] as? NSNumber)?.uint64Value ?? 0) + 1
    let wall: @Sendable () -> Double = { Date().timeIntervalSince1970 }
    let rate = 200.0
    let total = Int(rate * min(budget, 5))
    let received = Shared<[Double]>([])
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            var next = from
            while received.value.withLock({ $0.count }) < total {
                let data = try await clients[clients.count - 1].raw(
                    "GET",
                    ["topics", topic, "events"],
                    query: [("from", "\(next)"), ("limit", "1000"), ("wait", "5")]
                )
                let now = wall()
                guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                    let events = object["Events"] as? [[String: Any]]
                else { continue }
                for item in events {
                    if let offset = (item["Offset"] as? NSNumber)?.uint64Value { next = offset + 1 }
                    if let sent = ((item["Event"] as? [String: Any])?["data"] as? [String: Any])?["sentAt"] as? Double, sent > 0 {
                        received.value.withLock { $0.append(now - sent) }
                    }
                }
            }
        }
        group.addTask {
            let interval = Duration.seconds(1 / rate)
            var due = clock.now
            for index in 0..<total {
                try await clock.sleep(until: due)
                _ = try await client.call("POST", ["topics", topic, "events"], json: Array(event("l-\(index)", wall()).utf8))
                due = due.advanced(by: interval)
            }
        }
        try await group.waitForAll()
    }
    let endToEnd = received.value.withLock { $0 }
    print("\(label)_end_to_end_rate_per_second \(Int(rate))")
    print("\(label)_end_to_end_p50_ms \(String(format: "%.2f", percentile(endToEnd, 0.5) * 1000))")
    print("\(label)_end_to_end_p99_ms \(String(format: "%.2f", percentile(endToEnd, 0.99) * 1000))")
}

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "seal-open":
    try await sealOpen(seconds: Double(arguments.dropFirst(2).first ?? "2") ?? 2)
case "bus" where arguments.count == 7:
    try await bus(
        endpoints: arguments[2].split(separator: ",").map { URL(string: String($0))! },
        credentials: SigV4.Credentials(accessKeyId: arguments[3], secretAccessKey: arguments[4]),
        budget: Double(arguments[5]) ?? 3,
        label: arguments[6]
    )
case "shred" where arguments.count == 6:
    try await shred(
        endpoint: URL(string: arguments[2])!,
        credentials: SigV4.Credentials(accessKeyId: arguments[3], secretAccessKey: arguments[4]),
        budget: Double(arguments[5]) ?? 3
    )
case "stream" where arguments.count == 7 || arguments.count == 8:
    let bench = try await StreamBench.setUp(
        endpoint: URL(string: arguments[2])!,
        credentials: SigV4.Credentials(accessKeyId: arguments[3], secretAccessKey: arguments[4]),
        budget: Double(arguments[5]) ?? 3,
        label: arguments[6]
    )
    // End to end first: the throughput runs write about 750 MB, whose write-back and checkpoints would still be
    // going on under a paced run that followed them (docs/performance.md shows both orders).
    try await bench.endToEnd()
    try await bench.producerThroughput()
    if arguments.count == 8 { try await bench.directJetStream(url: arguments[7]) }
default:
    FileHandle.standardError.write(
        Data("usage: event-bench seal-open SECONDS | bus|stream ENDPOINT KEY SECRET SECONDS LABEL [NATS_URL] | shred ENDPOINT KEY SECRET SECONDS\n".utf8)
    )
    exit(2)
}
