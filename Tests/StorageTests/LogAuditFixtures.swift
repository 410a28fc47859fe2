import AuditTrail
import Foundation
import Logging
import Testing

@testable import Storage

/// Fixtures of the audit log's tests: a populated log, and its frames as a forger (or a crash) sees them.
enum LogFixtures {
    /// `directory/audit`.
    static func log(_ directory: URL) -> URL { directory.appendingPathComponent("audit") }

    /// The first segment of the log in `directory`.
    static func firstSegment(_ directory: URL) -> URL {
        log(directory).appendingPathComponent("segment-00000000000000000001.log")
    }

    static func digestsFile(_ directory: URL) -> URL { log(directory).appendingPathComponent("digests.log") }

    /// Deletes the derived index of the log in `directory` (`index.sqlite` and its companions).
    static func deleteIndex(_ directory: URL) {
        for file in FileSystem.databaseFiles(log(directory).appendingPathComponent("index.sqlite")) {
            try? FileManager.default.removeItem(at: file)
        }
    }

    /// A log in `directory/audit` with `count` records (every third a CreateKey) and a digest after every `digestEvery`
    /// records; closed on return so the test can tamper with its files.
    @discardableResult
    static func populate(
        _ directory: URL,
        count: Int = 30,
        digestEvery: Int = 10,
        key: AuditSigningKey,
        rollSize: Int = LogAuditStore.defaultRollSize,
        anchor: FileDigestAnchor? = nil
    ) async throws -> URL {
        let store = try LogAuditStore(directory: log(directory), rollSize: rollSize)
        let service = DigestService(
            store: store,
            signingKey: key,
            anchor: anchor,
            clock: ContinuousClock(),
            now: { AuditFixtures.baseTime },
            logger: .init(label: "test")
        )
        for index in 1...count {
            try await store.record(index % 3 == 0 ? AuditFixtures.createKey(index) : AuditFixtures.decrypt(index))
            if index % digestEvery == 0 { try await service.signIfNeeded() }
        }
        try store.close()
        return log(directory)
    }

    /// Verifies the log with a freshly opened store, and checks the read-only verification agrees.
    static func verify(
        _ directory: URL,
        _ key: AuditSigningKey,
        anchor: SignedDigest? = nil
    ) async throws -> VerificationReport {
        let store = try LogAuditStore(directory: log(directory))
        defer { try? store.close() }
        let report = try await store.verify(publicKey: key.publicKey, anchor: anchor)
        let readOnly = try LogAuditStore.verify(directory: log(directory), publicKey: key.publicKey, anchor: anchor)
        #expect(readOnly == report)
        return report
    }

    /// A frame as it lies in a file.
    struct Frame {
        var offset: Int
        var sequence: Int64
        var bytes: [UInt8]
        var payload: [UInt8] { Array(bytes[AuditFrame.headerSize...]) }
    }

    /// The offset after the last byte of `bytes` that is not zero: where the frames of a segment end (a running
    /// store keeps zeros after the newest segment's frames).
    static func framesEnd(_ bytes: [UInt8]) -> Int { (bytes.lastIndex { $0 != 0 } ?? -1) + 1 }

    /// The frames of `file`, in order (the file must hold whole valid frames, and may end in zeros).
    static func frames(_ file: URL) throws -> [Frame] {
        let bytes = try [UInt8](Data(contentsOf: file))
        let end = framesEnd(bytes)
        var frames: [Frame] = []
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < end {
                guard case .frame(let header, valid: true) = AuditFrame.read(raw, at: offset) else {
                    throw AuditStoreError(.corrupt, "not a frame at \(offset)")
                }
                frames.append(
                    Frame(
                        offset: offset,
                        sequence: header.sequence,
                        bytes: Array(bytes[offset..<(offset + header.frameLength)])
                    )
                )
                offset += header.frameLength
            }
        }
        return frames
    }

    /// Replaces `file`'s frames by `frames` (written back to back).
    static func write(_ frames: [[UInt8]], to file: URL) throws {
        try Data(frames.flatMap { $0 }).write(to: file)
    }

    /// A frame with a correct checksum, as a forger who knows the format writes it.
    static func frame(_ payload: [UInt8], _ sequence: Int64) -> [UInt8] {
        AuditFrame.encode(payload: payload, sequence: sequence)
    }

    /// Replaces the first `old` by `new` (same length) in `payload`.
    static func edit(_ payload: [UInt8], _ old: String, _ new: String) -> [UInt8] {
        let text = String(decoding: payload, as: UTF8.self)
        let edited = Array(text.replacingOccurrences(of: old, with: new, options: [], range: text.range(of: old)).utf8)
        #expect(edited.count == payload.count && edited != payload)
        return edited
    }

    /// The records' canonical bytes from the first segment.
    static func payloads(_ directory: URL) throws -> [[UInt8]] { try frames(firstSegment(directory)).map(\.payload) }
}

/// A store whose queries can be held to the reference semantics (`InMemoryAuditStore`): both of this module's.
protocol QueryableAuditStore: AuditStore {
    func firstSequence(since date: Date) async throws -> Int64?
}

extension SQLiteAuditStore: QueryableAuditStore {}
extension LogAuditStore: QueryableAuditStore {}

/// The queries, reports and lookups every audit store must answer as the reference does.
enum AuditReference {
    /// Forty records of every kind the queries distinguish, written to `store` and to the reference.
    static func writeMixedRecords(
        _ range: ClosedRange<Int>,
        _ store: some AuditStore,
        _ reference: InMemoryAuditStore
    ) async throws {
        for index in range {
            let record: AuditTrail.Record
            switch index % 5 {
            case 0: record = AuditFixtures.createKey(index, user: index % 2 == 0 ? "alice" : "bob")
            case 1: record = AuditFixtures.decrypt(index, errorCode: "AccessDeniedException")
            case 2:
                record = AuditFixtures.decrypt(
                    index,
                    eventType: "orders.placed",
                    session: "billing",
                    keyARN: AuditFixtures.otherKeyARN
                )
            case 3: record = AuditFixtures.decrypt(index, errorCode: "InvalidCiphertextException")
            default:
                record = AuditFixtures.decrypt(
                    index,
                    requestKeyId: index % 10 == 4
                        ? "alias/payments" : "arn:aws:kms:us-east-1:000000000000:alias/payments"
                )
            }
            try await store.record(record)
            try await reference.record(record)
        }
    }

    /// Every query, report and lookup of `store` against the reference semantics.
    static func expectReferenceSemantics(
        _ store: some QueryableAuditStore,
        _ reference: InMemoryAuditStore
    ) async throws {
        let t = AuditFixtures.baseTime
        let queries: [AuditQuery] = [
            AuditQuery(),
            AuditQuery(key: AuditFixtures.keyID),
            AuditQuery(key: AuditFixtures.keyARN),
            AuditQuery(key: AuditFixtures.otherKeyARN, limit: 3),
            AuditQuery(key: "alias/payments"),
            AuditQuery(key: "arn:aws:kms:us-east-1:000000000000:alias/payments"),
            AuditQuery(principalARN: "arn:aws:iam::000000000000:user/bob"),
            AuditQuery(principalARN: "arn:aws:iam::000000000000:role/reader-orders.placed"),
            AuditQuery(
                principalARN: "arn:aws:sts::000000000000:assumed-role/reader-payments.card.captured/checkout"
            ),
            AuditQuery(eventType: "payments.card.captured", errorsOnly: true),
            AuditQuery(eventName: "CreateKey", since: t.addingTimeInterval(10.5), until: t.addingTimeInterval(30)),
            AuditQuery(errorsOnly: true, afterSequence: 20),
            AuditQuery(since: t.addingTimeInterval(39)),
            // Limits that end inside the index, at its end and beyond it.
            AuditQuery(limit: 7),
            AuditQuery(limit: 20),
            AuditQuery(eventType: "orders.placed", limit: 6),
            // Newest first, bounded below a sequence number (the console's pages).
            AuditQuery(limit: 7, newestFirst: true),
            AuditQuery(eventType: "orders.placed", beforeSequence: 30, limit: 3, newestFirst: true),
            AuditQuery(errorsOnly: true, afterSequence: 5, beforeSequence: 38, newestFirst: true),
            AuditQuery(key: AuditFixtures.keyARN, beforeSequence: 21, limit: 4, newestFirst: true),
            AuditQuery(since: t.addingTimeInterval(12), beforeSequence: 40, newestFirst: true),
        ]
        for query in queries {
            let expected = try await reference.query(query).map(\.sequence)
            #expect(try await store.query(query).map(\.sequence) == expected, "\(query)")
            #expect(!expected.isEmpty, "\(query) should match something")
        }
        // Newest first is the oldest-first answer reversed, and paging backwards from each page's lowest sequence
        // number visits every record once.
        let ascending = try await reference.query(AuditQuery(eventType: "payments.card.captured")).map(\.sequence)
        let descending = try await store.query(AuditQuery(eventType: "payments.card.captured", newestFirst: true))
        #expect(descending.map(\.sequence) == ascending.reversed())
        var paged: [Int64] = []
        var before: Int64?
        while true {
            let page = try await store.query(AuditQuery(beforeSequence: before, limit: 6, newestFirst: true))
            paged += page.map(\.sequence)
            guard page.count == 6, let lowest = page.last?.sequence else { break }
            before = lowest
        }
        let head = try await reference.chainHead().sequence
        #expect(paged == Array((1...head).reversed()))
        let period = DateInterval(start: t.addingTimeInterval(3), end: t.addingTimeInterval(35))
        let report = try await store.usageReport(in: period)
        #expect(report == (try await reference.usageReport(in: period)))
        #expect(report.rows.count == 2)
        #expect(report.rows.contains { $0.denials > 0 } && report.rows.contains { $0.successfulDecrypts > 0 })
        for after in [0, 15, 19, 20, 21, 38] as [Int64] {
            let expected = try await reference.tail(after: after, limit: 5)
            #expect(try await store.tail(after: after, limit: 5) == expected, "tail after \(after)")
        }
        for sequence in [1, 20, 21, 40] as [Int64] {
            #expect(try await store.recordHash(at: sequence) == (try await reference.recordHash(at: sequence)))
        }
        for offset in [0.0, 19.5, 25, 40] {
            let since = t.addingTimeInterval(offset)
            let expected = try await reference.query(AuditQuery(since: since, limit: 1)).first?.sequence
            #expect(try await store.firstSequence(since: since) == expected, "since +\(offset)")
        }
    }
}
