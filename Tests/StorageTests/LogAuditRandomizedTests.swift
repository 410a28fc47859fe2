import AuditTrail
import Foundation
import SealedTesting
import Synchronization
import Testing

@testable import Storage

/// Thousands of random records in small blocks over many segments, written by concurrent callers: every kind of
/// query, report and lookup answers as the reference semantics do, with the index caught up to the open block, with
/// closed blocks not written yet, after a restart and after a rebuild from nothing.
@Suite struct LogAuditRandomizedTests {
    static let eventTypes = ["payments.card.captured", "orders.placed", "orders.shipped", "users.created", "rare.type"]
    static let sessions = ["checkout", "billing", "worker-1", "worker-2"]
    static let keys = [
        AuditFixtures.keyARN, AuditFixtures.otherKeyARN,
        "arn:aws:kms:us-east-1:000000000000:key/7c7c7c7c-1111-4222-8333-944445555666",
    ]
    static let errors: [String?] = [nil, nil, nil, nil, "AccessDeniedException", "InvalidCiphertextException"]

    static func randomRecord(_ index: Int, _ generator: inout SeededGenerator) -> AuditTrail.Record {
        // Times mostly grow, a few seconds out of order, as concurrent requests' do.
        let time = index / 3 + Int.random(in: -4...4, using: &generator)
        if Int.random(in: 0..<10, using: &generator) == 0 {
            let users = ["alice", "bob", "alice", "mallory"]
            return AuditFixtures.createKey(time, user: users[Int.random(in: 0..<users.count, using: &generator)])
        }
        let type = eventTypes[Int.random(in: 0..<(index % 97 == 0 ? 5 : 4), using: &generator)]
        let key = keys[Int.random(in: 0..<(index % 89 == 0 ? 3 : 2), using: &generator)]
        let alias = ["alias/payments", "arn:aws:kms:us-east-1:000000000000:alias/payments", nil, nil]
        return AuditFixtures.decrypt(
            time,
            eventType: type,
            session: sessions.randomElement(using: &generator)!,
            keyARN: key,
            requestKeyId: alias.randomElement(using: &generator)!,
            errorCode: errors.randomElement(using: &generator)!
        )
    }

    static func randomQuery(_ generator: inout SeededGenerator, head: Int64) -> AuditQuery {
        func sometimes<T>(_ values: [T]) -> T? {
            Bool.random(using: &generator) ? nil : values.randomElement(using: &generator)
        }
        let t = AuditFixtures.baseTime
        let principals =
            sessions.flatMap { session in
                eventTypes.map { "arn:aws:sts::000000000000:assumed-role/reader-\($0)/\(session)" }
            } + eventTypes.map { "arn:aws:iam::000000000000:role/reader-\($0)" }
            + ["arn:aws:iam::000000000000:user/alice", "arn:aws:iam::000000000000:user/mallory", "nobody"]
        let keyNames =
            keys + [
                AuditFixtures.keyID, "7c7c7c7c-1111-4222-8333-944445555666", "alias/payments",
                "arn:aws:kms:us-east-1:000000000000:alias/payments", "alias/none",
            ]
        return AuditQuery(
            key: Int.random(in: 0..<3, using: &generator) == 0 ? keyNames.randomElement(using: &generator) : nil,
            principalARN: Int.random(in: 0..<3, using: &generator) == 0
                ? principals.randomElement(using: &generator) : nil,
            eventType: Int.random(in: 0..<4, using: &generator) == 0
                ? eventTypes.randomElement(using: &generator) : nil,
            eventName: Int.random(in: 0..<5, using: &generator) == 0
                ? ["Decrypt", "CreateKey", "Encrypt"].randomElement(using: &generator) : nil,
            since: sometimes([Double](stride(from: -10, through: Double(head) / 3 + 10, by: 0.5)))
                .map { t.addingTimeInterval($0) },
            until: sometimes([Double](stride(from: -10, through: Double(head) / 3 + 10, by: 0.5)))
                .map { t.addingTimeInterval($0) },
            errorsOnly: Int.random(in: 0..<4, using: &generator) == 0,
            afterSequence: Bool.random(using: &generator) ? 0 : Int64.random(in: 0...(head + 2), using: &generator),
            beforeSequence: Bool.random(using: &generator) ? nil : Int64.random(in: 0...(head + 2), using: &generator),
            limit: [0, 1, 5, 37, 1000, 100_000].randomElement(using: &generator)!,
            newestFirst: Bool.random(using: &generator)
        )
    }

    /// Compares `count` random queries and lookups of `store` with the reference.
    static func expectSameAnswers(
        _ store: LogAuditStore,
        _ reference: InMemoryAuditStore,
        _ generator: inout SeededGenerator,
        count: Int
    ) async throws {
        let head = try await reference.chainHead().sequence
        #expect(try await store.chainHead() == (try await reference.chainHead()))
        let t = AuditFixtures.baseTime
        for _ in 0..<count {
            let query = randomQuery(&generator, head: head)
            let expected = try await reference.query(query)
            #expect(try await store.query(query) == expected, "\(query)")

            let start = Double(Int.random(in: -20...(Int(head) / 3 + 20), using: &generator)) / 2
            let period = DateInterval(
                start: t.addingTimeInterval(start),
                duration: [0.5, 3, 30, 200, 10_000].randomElement(using: &generator)!
            )
            #expect(try await store.usageReport(in: period) == (try await reference.usageReport(in: period)))

            let after = Int64.random(in: 0...(head + 1), using: &generator)
            let limit = Int.random(in: 0...80, using: &generator)
            #expect(
                try await store.tail(after: after, limit: limit)
                    == (try await reference.tail(after: after, limit: limit))
            )

            let sequence = Int64.random(in: 0...(head + 1), using: &generator)
            #expect(try await store.recordHash(at: sequence) == (try await reference.recordHash(at: sequence)))

            let since = t.addingTimeInterval(start)
            let first = try await reference.query(AuditQuery(since: since, limit: 1)).first?.sequence
            #expect(try await store.firstSequence(since: since) == first, "since \(start)")
        }
    }

    /// Writes `range` of random records to `store` from concurrent callers (so batches vary), then hands them to the
    /// reference in the order the log holds them (read from the segment files, not through the store).
    static func write(
        _ range: ClosedRange<Int>,
        _ store: LogAuditStore,
        _ reference: InMemoryAuditStore,
        _ generator: inout SeededGenerator
    ) async throws {
        let records = range.map { randomRecord($0, &generator) }
        var next = 0
        while next < records.count {
            let group = records[next..<min(records.count, next + Int.random(in: 1...64, using: &generator))]
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for record in group { tasks.addTask { try await store.record(record) } }
                try await tasks.waitForAll()
            }
            next = group.endIndex
        }
        let head = try await reference.chainHead().sequence
        for segment in try AuditLogFiles.segments(in: store.directory) {
            for frame in try LogFixtures.frames(segment.url) where frame.sequence > head {
                try await reference.record(try StoredRecord(canonicalBytes: frame.payload).record)
            }
        }
        #expect(try await reference.chainHead() == (try await store.chainHead()))
    }

    @Test func everyQueryMatchesTheReferenceOnRandomRecords() async throws {
        try await AuditFixtures.withDirectory { directory in
            var generator = SeededGenerator(seed: 0x1d_e22)
            let reference = InMemoryAuditStore()
            let log = LogFixtures.log(directory)
            do {
                let store = try LogAuditStore(directory: log, rollSize: 200_000, commitInterval: .zero, blockSize: 40)
                try await Self.write(1...2000, store, reference, &generator)
                #expect(try AuditLogFiles.segments(in: log).count > 8)
                try await waitForAuditCondition {
                    AuditLogBlock.blockLength(
                        store.state.withLock { $0.unindexed }[...],
                        maximum: store.blockSize,
                        closing: false
                    ) == nil
                }
                try await Self.expectSameAnswers(store, reference, &generator, count: 60)

                // Closed blocks not written yet are read from memory too.
                store.pauseIndexing()
                try await Self.write(2001...2300, store, reference, &generator)
                #expect(store.unindexedRecords > 2 * store.blockSize)
                try await Self.expectSameAnswers(store, reference, &generator, count: 60)
                try store.close()
            }
            do {
                let store = try LogAuditStore(directory: log, rollSize: 200_000, blockSize: 40)
                #expect(try store.index.highWater() == 2300 && store.unindexedRecords == 0)
                try await Self.write(2301...2500, store, reference, &generator)
                try await Self.expectSameAnswers(store, reference, &generator, count: 60)
                try store.close()
            }
            // Rebuilt from nothing, with another block size.
            LogFixtures.deleteIndex(directory)
            let store = try LogAuditStore(directory: log, rollSize: 200_000, blockSize: 64)
            defer { try? store.close() }
            #expect(try store.index.highWater() > 2400)
            try await Self.expectSameAnswers(store, reference, &generator, count: 60)
        }
    }
}
