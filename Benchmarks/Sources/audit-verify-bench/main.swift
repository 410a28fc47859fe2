import AuditTrail
import Foundation
import Logging
import Storage

/// How long `verify` takes over a large audit trail (issue 6: one million records in under 30 s).
///
/// Fills a `LogAuditStore` (the audit log, `DIRECTORY/audit`) in a new directory with RECORDS KMS Decrypt records shaped as `sealed serve` writes
/// them (reader-role sessions of 50 consumers over 20 event types, CloudTrail fields, no secrets) through the store's
/// own group commit, signing a digest every 100,000 records and at the end, then times:
///   1. `LogAuditStore.verify(publicKey:)` on the live store (it reads the segments, checking every frame's CRC-32C);
///   2. the web console's trail pages (newest first, with and without filters, from the head and the middle);
///   3. `export(to:publicKey:)`, and `AuditTrail.Export.verify(fileAt:publicKey:)` of that file.
///
/// usage: audit-verify-bench [RECORDS (default 1000000)] [DIRECTORY (default: a new temporary one, removed after)]
let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000
let keepDirectory = arguments.count > 2
let directory =
    keepDirectory
    ? URL(fileURLWithPath: arguments[2], isDirectory: true)
    : FileManager.default.temporaryDirectory.appendingPathComponent(
        "audit-verify-bench-\(UUID().uuidString)",
        isDirectory: true
    )
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

let account = "000000000000"
let keyARNs = (0..<20).map { index in
    "arn:aws:kms:us-east-1:\(account):key/\(String(format: "%08x", 0x6f1c_0a4e + index))-1111-4222-8333-944445555666"
}
let eventTypes = (0..<20).map { "domain-\($0 % 5).event-type-\($0)" }
let baseTime = Date(timeIntervalSince1970: 1_795_000_000)

/// The record `sealed serve` writes for a successful Decrypt by a reader-role session.
func decryptRecord(_ index: Int) -> AuditTrail.Record {
    let type = index % eventTypes.count
    let consumer = index % 50
    let domain = eventTypes[type].prefix { $0 != "." }
    return AuditTrail.Record(
        eventTime: baseTime.addingTimeInterval(Double(index) / 1000),
        eventSource: .kms,
        eventName: "Decrypt",
        awsRegion: "us-east-1",
        userIdentity: .assumedRole(
            roleName: "reader-\(eventTypes[type])",
            sessionName: "consumer-\(consumer)",
            accountId: account,
            roleId: "AROA\(String(format: "%016X", type))",
            accessKeyId: "ASIA\(String(format: "%016X", consumer))"
        ),
        sourceIPAddress: "10.0.\(consumer).\(type + 1)",
        userAgent: "sealed-events/1.0 aws-sdk-swift-kms",
        requestParameters: Record.kmsRequestParameters([
            "CiphertextBlob": "AQICAHh…",
            "EncryptionContext": ["eventType": .string(eventTypes[type]), "domain": .string(String(domain))],
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        ]),
        requestID: UUID().uuidString.lowercased(),
        readOnly: true,
        resources: [.kmsKey(arn: keyARNs[type])],
        recipientAccountId: account
    )
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func residentMiB() -> String {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "?" }
    let fields = status.split(separator: "\n").filter { $0.hasPrefix("VmHWM") || $0.hasPrefix("VmRSS") }
    return fields.map { line in
        let parts = line.split(whereSeparator: \.isWhitespace)
        let kib = parts.count >= 2 ? Double(parts[1]) ?? 0 : 0
        return "\(parts.first?.dropLast() ?? "") \(String(format: "%.0f", kib / 1024)) MiB"
    }
    .joined(separator: ", ")
}

let log = directory.appendingPathComponent("audit")
let signingKey = AuditSigningKey.generate()
let store = try LogAuditStore(directory: log)
let digests = DigestService(
    store: store,
    signingKey: signingKey,
    clock: ContinuousClock(),
    logger: Logger(label: "bench")
)

// Fill: a sliding window of concurrent writers, as under load, so the group commit batches them.
let existing = try await store.chainHead().sequence
if existing < Int64(count) {
    let window = 1024
    let fillStart = ContinuousClock.now
    var next = Int(existing)
    try await withThrowingTaskGroup(of: Void.self) { group in
        while next < count, next < Int(existing) + window {
            let index = next
            group.addTask { try await store.record(decryptRecord(index)) }
            next += 1
        }
        while try await group.next() != nil {
            if next < count {
                let index = next
                group.addTask { try await store.record(decryptRecord(index)) }
                next += 1
                if next % 100_000 == 0 { try await digests.signIfNeeded() }
            }
        }
    }
    try await digests.signIfNeeded()
    let fill = seconds(since: fillStart)
    let statistics = store.commitStatistics
    print(
        String(
            format: "audit fill: %d records in %.1f s (%.0f records/s, %d transactions, %.0f records each)",
            count - Int(existing),
            fill,
            Double(count - Int(existing)) / fill,
            statistics.transactions,
            Double(statistics.committedRecords) / Double(max(1, statistics.transactions))
        )
    )
}
let names = (try? FileManager.default.contentsOfDirectory(atPath: log.path)) ?? []
let segments = names.filter { $0.hasPrefix("segment-") && $0.hasSuffix(".log") }
let size = segments.reduce(0) { total, name in
    let path = log.appendingPathComponent(name).path
    return total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
}

let verifyStart = ContinuousClock.now
let report = try await store.verify(publicKey: signingKey.publicKey)
let verifyTime = seconds(since: verifyStart)
print(
    String(
        format: "audit verify (live store, %d records, %d digests, %.0f MiB of log segments): %.2f s, %@ (%@)",
        report.recordsChecked,
        report.digestsChecked,
        Double(size) / 1_048_576,
        verifyTime,
        report.isValid ? "valid" : "INVALID: \(report)",
        residentMiB()
    )
)

// The console's trail page (issue 21): 51 records newest first (a page and the "Older" probe), unfiltered and filtered
// by one event type and by one rare principal, from the head and from below the middle of the trail.
let middle = Int64(count / 2)
for (label, query) in [
    ("newest page", AuditQuery(limit: 51, newestFirst: true)),
    ("newest page, one event type", AuditQuery(eventType: eventTypes[7], limit: 51, newestFirst: true)),
    (
        "page below the middle, one event type",
        AuditQuery(eventType: eventTypes[7], beforeSequence: middle, limit: 51, newestFirst: true)
    ),
    (
        "page below the middle, one role session",
        AuditQuery(
            principalARN: "arn:aws:sts::\(account):assumed-role/reader-\(eventTypes[3])/consumer-3",
            beforeSequence: middle,
            limit: 51,
            newestFirst: true
        )
    ),
] {
    let start = ContinuousClock.now
    let found = try await store.query(query)
    let milliseconds = seconds(since: start) * 1000
    print(String(format: "audit console page (%@): %d records in %.1f ms", label, found.count, milliseconds))
}

let exportFile = directory.appendingPathComponent("audit-export.json")
let exportStart = ContinuousClock.now
let summary = try await store.export(to: exportFile, publicKey: signingKey.publicKey)
let exportTime = seconds(since: exportStart)
let exportSize = (try? FileManager.default.attributesOfItem(atPath: exportFile.path)[.size] as? Int) ?? 0
print(
    String(
        format: "audit export: %d records, %d digests, %.0f MiB in %.2f s",
        summary.records,
        summary.digests,
        Double(exportSize) / 1_048_576,
        exportTime
    )
)
let exportVerifyStart = ContinuousClock.now
let exportReport = try Export.verify(fileAt: exportFile, publicKey: signingKey.publicKey)
let exportVerifyTime = seconds(since: exportVerifyStart)
print(
    String(
        format: "audit verify (export file, %d records, %d digests): %.2f s, %@ (%@)",
        exportReport.recordsChecked,
        exportReport.digestsChecked,
        exportVerifyTime,
        exportReport.isValid ? "valid" : "INVALID: \(exportReport)",
        residentMiB()
    )
)
try? FileManager.default.removeItem(at: exportFile)
try store.close()
if !keepDirectory { try? FileManager.default.removeItem(at: directory) }
if !report.isValid || !exportReport.isValid { exit(1) }
