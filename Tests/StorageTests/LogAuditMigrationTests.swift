import AuditTrail
import Foundation
import GRDB
import Logging
import SealedTesting
import Testing

@testable import Storage

/// `audit.sqlite` moved to the log when a data directory opens its audit trail: verified before and after, committed
/// by one rename, refused when the old trail does not verify, and repeated after a crash before the commit point.
@Suite struct LogAuditMigrationTests {
    /// A data directory whose audit trail is an `audit.sqlite` of 30 records with digests at 10, 20 and 30, signed by
    /// the directory's own audit key and kept in `audit-head.json`, as an earlier version left it.
    func withOldTrail(_ body: (DataDirectory, URL) async throws -> Void) async throws {
        try await withTemporaryDirectory { parent in
            let url = parent.appendingPathComponent("data")
            let directory = try openDirectory(url)
            defer { try? directory.close() }
            let key = try AuditSigningKey.loadOrCreate(
                at: url.appendingPathComponent(DataDirectory.auditSigningKeyFileName),
                rootKey: directory.rootKey
            )
            let store = try SQLiteAuditStore(at: url.appendingPathComponent("audit.sqlite"))
            let service = DigestService(
                store: store,
                signingKey: key,
                anchor: directory.auditDigestAnchor,
                clock: ContinuousClock(),
                now: { AuditFixtures.baseTime },
                logger: Logger(label: "test")
            )
            for index in 1...30 {
                try await store.record(index % 3 == 0 ? AuditFixtures.createKey(index) : AuditFixtures.decrypt(index))
                if index % 10 == 0 { try await service.signIfNeeded() }
            }
            try store.close()
            try await body(directory, url)
        }
    }

    @Test func anOldTrailIsMovedToTheLogVerifiedAndKept() async throws {
        try await withOldTrail { directory, url in
            let old = try SQLiteAuditStore(at: url.appendingPathComponent("audit.sqlite"))
            let oldRecords = try await old.tail(after: 0, limit: 100)
            let oldDigests = try await old.digests()
            try old.close()

            let (store, key) = try directory.openAuditTrail()
            defer { try? store.close() }
            #expect(!FileManager.default.fileExists(atPath: url.appendingPathComponent("audit.sqlite").path))
            #expect(FileManager.default.fileExists(atPath: url.appendingPathComponent("audit.sqlite.migrated").path))
            #expect(!FileManager.default.fileExists(atPath: url.appendingPathComponent("audit.migrating").path))
            #expect(try await store.tail(after: 0, limit: 100) == oldRecords)
            #expect(try await store.digests() == oldDigests)
            #expect(try await store.chainHead() == ChainHead(sequence: 30, hash: oldRecords[29].hash))
            let report = try await store.verify(
                publicKey: key.publicKey,
                anchor: try directory.auditDigestAnchor.load()
            )
            #expect(report.isValid && report.recordsChecked == 30 && report.digestsChecked == 3)

            // The trail goes on in the log, signed by the same key, the head file agreeing.
            try await store.record(AuditFixtures.decrypt(31))
            let service = DigestService(
                store: store,
                signingKey: key,
                anchor: directory.auditDigestAnchor,
                clock: ContinuousClock(),
                now: { AuditFixtures.baseTime },
                logger: Logger(label: "test")
            )
            #expect(try await service.signIfNeeded()?.digest.headSequence == 31)
            #expect(try await store.verify(publicKey: key.publicKey).digestsChecked == 4)
        }
    }

    @Test func aTamperedOldTrailIsRefusedAndNothingChanges() async throws {
        try await withOldTrail { directory, url in
            let file = url.appendingPathComponent("audit.sqlite")
            try AuditFixtures.tamper(file) { db in
                try db.execute(sql: "DELETE FROM audit_record WHERE sequence = 15")
            }
            let before = try Data(contentsOf: file)
            let error = #expect(throws: AuditStoreError.self) { try directory.openAuditTrail() }
            #expect(error?.code == .migrationRefused)
            #expect(error?.message.contains("RemovedRecord") == true)
            #expect(try Data(contentsOf: file) == before)
            for name in ["audit", "audit.migrating", "audit.sqlite.migrated"] {
                #expect(!FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path), "\(name)")
            }
        }
    }

    /// A crash before the commit point leaves `audit.migrating/` beside the old trail, which stays in charge; the
    /// next start removes the leftover and migrates again.
    @Test func aCrashBeforeTheCommitPointIsRepeatedOnTheNextStart() async throws {
        try await withOldTrail { directory, url in
            let leftover = url.appendingPathComponent("audit.migrating")
            try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: false)
            try Data("half a segment".utf8).write(
                to: leftover.appendingPathComponent("segment-00000000000000000001.log")
            )
            let (store, key) = try directory.openAuditTrail()
            defer { try? store.close() }
            #expect(!FileManager.default.fileExists(atPath: leftover.path))
            let report = try await store.verify(publicKey: key.publicKey)
            #expect(report.isValid && report.recordsChecked == 30 && report.digestsChecked == 3)
        }
    }

    /// Once migrated, later opens use the log and leave `audit.sqlite.migrated` alone.
    @Test func aMigratedDirectoryOpensTheLog() async throws {
        try await withOldTrail { directory, url in
            do {
                let (store, _) = try directory.openAuditTrail()
                try await store.record(AuditFixtures.decrypt(31))
                try store.close()
            }
            let (store, key) = try directory.openAuditTrail()
            defer { try? store.close() }
            #expect(try await store.chainHead().sequence == 31)
            #expect(try await store.verify(publicKey: key.publicKey).isValid)
        }
    }
}
