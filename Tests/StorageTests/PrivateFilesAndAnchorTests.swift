import AuditTrail
import Crypto
import Foundation
import GRDB
import Logging
import SealedTesting
import Storage
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// File modes: every file the server writes in its data directory is its owner's alone (a fresh directory, as
/// `sealed serve` opens it: CompositionTests' `ServedDataDirectoryTests`).
struct PrivateFileTests {
    /// An existing data directory that others may enter is tightened to 0700, and data files that others may read
    /// are tightened to 0600, when the server opens them.
    @Test func anExistingOpenDirectoryAndItsFilesAreTightened() async throws {
        try await withTemporaryDirectory { parent in
            let url = parent.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
            chmod(url.path, 0o755)
            #expect(try permissions(url) == 0o755)
            do {
                let directory = try openDirectory(url)
                let (store, _) = try directory.openAuditTrail()
                try store.close()
                try directory.close()
            }
            #expect(try permissions(url) == 0o700)
            // The audit log: its directory, a segment, the digest log and the index.
            let log = url.appendingPathComponent("audit")
            let auditFiles = ["segment-00000000000000000001.log", "digests.log", "index.sqlite"].map {
                log.appendingPathComponent($0)
            }
            let pem = url.appendingPathComponent("audit-public-key.pem")
            chmod(url.path, 0o755)
            chmod(log.path, 0o755)
            for file in auditFiles { chmod(file.path, 0o644) }
            chmod(pem.path, 0o644)
            let directory = try openDirectory(url)
            defer { try? directory.close() }
            let (store, _) = try directory.openAuditTrail()
            defer { try? store.close() }
            #expect(try permissions(url) == 0o700)
            #expect(try permissions(log) == 0o700)
            for file in auditFiles { #expect(try permissions(file) == 0o600, "\(file.lastPathComponent)") }
            #expect(try permissions(pem) == 0o600)
        }
    }
}

/// #6 against the SQLite store: digests deleted and records rewritten in `audit.sqlite`, with the head file left.
struct SQLiteDigestAnchorTests {
    let key = AuditSigningKey.generate()

    @Test func deletedDigestsAndRewrittenRecordsAreNeitherSignedNorVerified() async throws {
        try await AuditFixtures.withDirectory { directory in
            let file = directory.appendingPathComponent("audit.sqlite")
            let anchor = FileDigestAnchor(url: directory.appendingPathComponent("audit-head.json"))
            do {
                let store = try SQLiteAuditStore(at: file)
                let service = DigestService(
                    store: store,
                    signingKey: key,
                    anchor: anchor,
                    clock: ContinuousClock(),
                    logger: Logger(label: "test")
                )
                for index in 1...6 {
                    try await store.record(AuditFixtures.decrypt(index))
                    if index % 3 == 0 { try await service.signIfNeeded() }
                }
                try store.close()
            }
            #expect(try anchor.load()?.digest.headSequence == 6)
            #expect(try permissions(anchor.url) == 0o600)
            // The forger removes every digest and rewrites record 2 consistently (hash and every later link).
            try AuditFixtures.tamper(file) { db in
                try db.execute(sql: "DELETE FROM audit_digest")
                var previous = try #require(
                    Data.fetchOne(db, sql: "SELECT hash FROM audit_record WHERE sequence = 1").flatMap {
                        ChainHash(bytes: $0)
                    }
                )
                for sequence in Int64(2)...6 {
                    var record = try StoredRecord(canonicalBytes: AuditFixtures.recordBytes(db, sequence)).record
                    if sequence == 2 { record.errorCode = "AccessDeniedException" }
                    let bytes = ChainedRecordEncoder.canonicalBytes(of: record, sequence: sequence, previousHash: previous)
                    let hash = ChainHash.of(bytes)
                    try db.execute(
                        sql: "UPDATE audit_record SET record = ?, previous_hash = ?, hash = ? WHERE sequence = ?",
                        arguments: [Data(bytes), previous.data, hash.data, sequence]
                    )
                    previous = hash
                }
            }
            let store = try SQLiteAuditStore(at: file)
            defer { try? store.close() }
            // The chain alone is consistent; the zero digests fail once the records are old, the head file at once.
            #expect(try await store.verify(publicKey: key.publicKey).isValid)
            let now = Verifier.UnsignedLimit(reference: Date())
            #expect(try await store.verify(publicKey: key.publicKey, unsignedLimit: now).problem?.kind == .unsignedRecords)
            let kept = try anchor.load()
            let report = try await store.verify(publicKey: key.publicKey, anchor: kept)
            #expect(report.problem?.kind == .brokenDigestChain)
            // The server does not sign the forged head.
            try await store.record(AuditFixtures.decrypt(7))
            let service = DigestService(
                store: store,
                signingKey: key,
                anchor: anchor,
                clock: ContinuousClock(),
                logger: Logger(label: "test")
            )
            await #expect(throws: AuditError(.tamperedTrail, "")) { try await service.signIfNeeded() }
            #expect(try await store.digests().isEmpty)
        }
    }
}
