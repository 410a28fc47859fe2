import AuditTrail
import Crypto
import Foundation
import GRDB
import Logging
import Testing

@testable import Storage

/// Fixtures of the SQLite audit store's tests (names chosen not to clash with the rest of `StorageTests`).
enum AuditFixtures {
    static let account = "000000000000"
    static let keyID = "6f1c0a4e-1111-4222-8333-944445555666"
    static let keyARN = "arn:aws:kms:us-east-1:000000000000:key/6f1c0a4e-1111-4222-8333-944445555666"
    static let otherKeyARN =
        "arn:aws:kms:us-east-1:000000000000:key/0b0b0b0b-1111-4222-8333-944445555666"
    static let baseTime = Date(timeIntervalSince1970: 1_795_000_000)

    static func decrypt(
        _ index: Int,
        eventType: String = "payments.card.captured",
        session: String = "checkout",
        keyARN: String = keyARN,
        requestKeyId: String? = nil,
        errorCode: String? = nil
    ) -> AuditTrail.Record {
        .kms(
            operation: "Decrypt",
            request: [
                "KeyId": .string(requestKeyId ?? keyARN), "CiphertextBlob": "AQICAHh-blob",
                "EncryptionContext": ["eventType": .string(eventType), "domain": "payments"],
            ],
            keyARN: keyARN,
            userIdentity: .assumedRole(
                roleName: "reader-\(eventType)",
                sessionName: session,
                accountId: account,
                roleId: "AROAEXAMPLE",
                accessKeyId: "ASIAEXAMPLE"
            ),
            eventTime: baseTime.addingTimeInterval(Double(index)),
            awsRegion: "us-east-1",
            recipientAccountId: account,
            requestID: "req-\(index)",
            sourceIPAddress: "10.0.0.\(index % 250)",
            errorCode: errorCode
        )
    }

    static func createKey(_ index: Int, user: String = "alice") -> AuditTrail.Record {
        AuditTrail.Record(
            eventTime: baseTime.addingTimeInterval(Double(index)),
            eventSource: .kms,
            eventName: "CreateKey",
            awsRegion: "us-east-1",
            userIdentity: .iamUser(name: user, accountId: account),
            requestParameters: ["description": "ünïcödé key", "keySpec": "SYMMETRIC_DEFAULT"],
            responseElements: ["keyMetadata": ["keyId": .string(keyID)]],
            requestID: "req-\(index)",
            readOnly: false,
            resources: [.kmsKey(arn: keyARN)],
            recipientAccountId: account
        )
    }

    /// Runs `body` with a new empty directory, removed afterwards.
    static func withDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("audit-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try await body(url)
    }

    static func digestService(
        _ store: any DigestStore,
        _ key: AuditSigningKey
    ) -> DigestService<
        ContinuousClock
    > {
        DigestService(
            store: store,
            signingKey: key,
            clock: ContinuousClock(),
            now: { baseTime },
            logger: Logger(label: "test")
        )
    }

    /// A store at `directory/audit.sqlite` with `count` records (every third a CreateKey) and a digest after every
    /// `digestEvery` records; closed on return so the test can tamper with the file.
    static func populate(
        _ directory: URL,
        count: Int = 30,
        digestEvery: Int = 10,
        key: AuditSigningKey
    ) async throws -> URL {
        let file = directory.appendingPathComponent("audit.sqlite")
        let store = try SQLiteAuditStore(at: file)
        let service = digestService(store, key)
        for index in 1...count {
            try await store.record(index % 3 == 0 ? createKey(index) : decrypt(index))
            if index % digestEvery == 0 { try await service.signIfNeeded() }
        }
        try store.close()
        return file
    }

    /// Opens the file with plain GRDB, as a forger would, and runs `body` in a transaction.
    static func tamper(_ file: URL, _ body: (Database) throws -> Void) throws {
        let queue = try DatabaseQueue(path: file.path)
        try queue.write(body)
        try queue.close()
    }

    /// Verifies the file with a freshly opened store.
    static func verify(_ file: URL, _ key: AuditSigningKey) async throws -> VerificationReport {
        let store = try SQLiteAuditStore(at: file)
        defer { try? store.close() }
        return try await store.verify(publicKey: key.publicKey)
    }

    static func recordBytes(_ db: Database, _ sequence: Int64) throws -> [UInt8] {
        let data = try Data.fetchOne(
            db,
            sql: "SELECT record FROM audit_record WHERE sequence = ?",
            arguments: [sequence]
        )
        return [UInt8](data ?? Data())
    }
}

@Suite struct SQLiteAuditStoreTests {
    let key = AuditSigningKey.generate()

    @Test func recordsChainAndReadBack() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try SQLiteAuditStore(at: directory.appendingPathComponent("audit.sqlite"))
            defer { try? store.close() }
            #expect(try await store.synchronousMode() == 2)
            #expect(try await store.chainHead() == .empty)
            let written = (1...5).map { AuditFixtures.decrypt($0) }
            for record in written { try await store.record(record) }
            let records = try await store.tail(after: 2, limit: 2)
            #expect(records.map(\.sequence) == [3, 4])
            #expect(records.map(\.record) == Array(written[2...3]))
            #expect(records[1].previousHash == records[0].hash)
            let head = try await store.chainHead()
            #expect(head.sequence == 5)
            #expect(try await store.tail(after: 4, limit: 10).first?.hash == head.hash)
            #expect(try await store.verify(publicKey: key.publicKey).isValid)
        }
    }

    @Test func reopenedStoreContinuesTheChain() async throws {
        try await AuditFixtures.withDirectory { directory in
            let file = try await AuditFixtures.populate(directory, count: 10, digestEvery: 5, key: key)
            let store = try SQLiteAuditStore(at: file)
            defer { try? store.close() }
            try await store.record(AuditFixtures.decrypt(11))
            try await AuditFixtures.digestService(store, key).signIfNeeded()
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 11 && report.digestsChecked == 3)
        }
    }

    @Test func queriesMatchTheReferenceSemantics() async throws {
        try await AuditFixtures.withDirectory { directory in
            let store = try SQLiteAuditStore(at: directory.appendingPathComponent("audit.sqlite"))
            defer { try? store.close() }
            let reference = InMemoryAuditStore()
            try await AuditReference.writeMixedRecords(1...40, store, reference)
            try await AuditReference.expectReferenceSemantics(store, reference)
        }
    }

    @Test func queriesUseIndexes() async throws {
        try await AuditFixtures.withDirectory { directory in
            let file = directory.appendingPathComponent("audit.sqlite")
            try SQLiteAuditStore(at: file).close()
            let queue = try DatabaseQueue(path: file.path)
            defer { try? queue.close() }
            let plans: [(String, String)] = [
                (
                    "SELECT sequence FROM audit_record WHERE event_type = 'x' ORDER BY sequence",
                    "audit_record_by_event_type"
                ),
                ("SELECT sequence FROM audit_record WHERE event_time >= 5", "audit_record_by_time"),
                ("SELECT sequence FROM audit_record_key WHERE key IN ('x', 'y')", "PRIMARY KEY"),
                (
                    "SELECT sequence FROM audit_record WHERE error_code IS NOT NULL ORDER BY sequence",
                    "audit_record_errors"
                ),
            ]
            for (sql, index) in plans {
                let plan = try queue.read { db in
                    try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
                }
                #expect(plan.joined().contains(index), "\(sql): \(plan)")
            }
        }
    }
}
