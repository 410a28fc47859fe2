import AuditTrail
import Crypto
import Foundation
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@Suite struct AuditSigningKeyTests {
    @Test func sealedKeyOpensOnlyUnderItsRootKey() throws {
        let rootKey = SymmetricKey(size: .bits256)
        let key = AuditSigningKey.generate()
        let sealed = try key.sealed(under: rootKey)
        let opened = try AuditSigningKey(sealed: sealed, rootKey: rootKey)
        #expect(opened.publicKeyPEM == key.publicKeyPEM)
        #expect(!sealed.contains(key.publicKey.rawRepresentation))
        #expect(throws: AuditError(.unsealFailed, "")) {
            try AuditSigningKey(sealed: sealed, rootKey: SymmetricKey(size: .bits256))
        }
        var altered = sealed
        altered[altered.count - 1] ^= 1
        #expect(throws: AuditError(.unsealFailed, "")) { try AuditSigningKey(sealed: altered, rootKey: rootKey) }
        #expect(throws: AuditError(.unsealFailed, "")) { try AuditSigningKey(sealed: Data(), rootKey: rootKey) }
    }

    @Test func loadOrCreateMakesA0600FileAndLoadsTheSameKeyAgain() async throws {
        try await withAuditTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("audit-signing-key")
            let rootKey = SymmetricKey(size: .bits256)
            let created = try AuditSigningKey.loadOrCreate(at: file, rootKey: rootKey)
            let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let loaded = try AuditSigningKey.loadOrCreate(at: file, rootKey: rootKey)
            #expect(loaded.fingerprint == created.fingerprint)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["audit-signing-key"])
            let pem = directory.appendingPathComponent("audit-public-key.pem")
            try loaded.writePublicKeyPEM(to: pem)
            try loaded.writePublicKeyPEM(to: pem)
            let publicKey = try AuditSigningKey.publicKey(pem: String(contentsOf: pem, encoding: .utf8))
            #expect(AuditSigningKey.fingerprint(of: publicKey) == created.fingerprint)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 2)
            #expect(!created.description.contains(created.publicKeyPEM))
            #expect(throws: AuditError(.unsealFailed, "")) {
                try AuditSigningKey.loadOrCreate(at: file, rootKey: SymmetricKey(size: .bits256))
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
            #expect(throws: AuditError(.keyFilePermissions, "")) {
                try AuditSigningKey.loadOrCreate(at: file, rootKey: rootKey)
            }
        }
    }

    @Test func publicKeyPEMIsSubjectPublicKeyInfo() throws {
        let key = AuditSigningKey.generate()
        #expect(key.publicKeyPEM.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        #expect(
            try AuditSigningKey.publicKey(pem: key.publicKeyPEM).rawRepresentation == key.publicKey.rawRepresentation
        )
    }
}

@Suite struct DigestServiceTests {
    @Test func signsOnlyWhenThereWereNewRecordsAndOnceMoreAtShutdown() async throws {
        let store = InMemoryAuditStore()
        let clock = ManualClock()
        let key = AuditSigningKey.generate()
        let service = DigestService(
            store: store,
            signingKey: key,
            interval: .seconds(60),
            clock: clock,
            now: { Samples.baseTime },
            logger: Logger(label: "test")
        )
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                await clock.waitForSleepers(1)
                // A tick with an empty chain signs nothing.
                clock.advance(by: .seconds(60))
                await clock.waitForSleepers(1)
                #expect(try await store.digests().isEmpty)

                for index in 1...3 { try await store.record(Samples.decrypt(index)) }
                clock.advance(by: .seconds(59))
                await clock.waitForSleepers(1)
                #expect(try await store.digests().isEmpty)
                clock.advance(by: .seconds(1))
                await clock.waitForSleepers(1)
                #expect(try await store.digests().map(\.digest.headSequence) == [3])

                // No new records: the next tick signs nothing.
                clock.advance(by: .seconds(60))
                await clock.waitForSleepers(1)
                #expect(try await store.digests().count == 1)

                try await store.record(Samples.decrypt(4))
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        let digests = try await store.digests()
        #expect(digests.map(\.digest.headSequence) == [3, 4])
        #expect(digests.map(\.digest.digestSequence) == [1, 2])
        #expect(digests[1].digest.previousSignature == digests[0].signature)
        #expect(digests[0].digest.time == Samples.baseTime)
        let report = await store.verify(publicKey: key.publicKey)
        #expect(report.isValid && report.digestsChecked == 2 && report.unsignedRecords == 0)
    }

    @Test func aConflictingDigestIsRefused() async throws {
        let store = InMemoryAuditStore()
        let key = AuditSigningKey.generate()
        try await store.record(Samples.decrypt(1))
        let digest = try key.sign(
            Digest(
                digestSequence: 2,
                head: try await store.chainHead(),
                time: Samples.baseTime,
                previousSignature: Data(),
                keyFingerprint: key.fingerprint
            )
        )
        await #expect(throws: AuditError(.digestConflict, "")) { try await store.appendDigest(digest) }
    }
}

@Suite struct InMemoryAuditStoreTests {
    @Test func failingSinkThrowsAndRecordsNothing() async throws {
        let store = InMemoryAuditStore()
        struct DiskFull: Error {}
        try await store.record(Samples.decrypt(1))
        await store.setFailure(DiskFull())
        await #expect(throws: DiskFull.self) { try await store.record(Samples.decrypt(2)) }
        await store.setFailure(nil)
        try await store.record(Samples.decrypt(3))
        let records = try await store.tail(after: 0, limit: 10)
        #expect(records.map(\.record.requestID) == ["req-1", "req-3"])
        #expect(records.map(\.sequence) == [1, 2])
        #expect(await store.verify(publicKey: AuditSigningKey.generate().publicKey).isValid)
    }

    @Test func queriesAndUsageReport() async throws {
        let store = InMemoryAuditStore()
        let other = "orders.placed"
        try await store.record(Samples.decrypt(1))
        try await store.record(Samples.decrypt(2, errorCode: "AccessDeniedException"))
        try await store.record(Samples.decrypt(3, eventType: other, session: "billing", keyARN: Samples.otherKeyARN))
        try await store.record(Samples.userCall(4))
        try await store.record(Samples.decrypt(5))

        let byType = try await store.query(AuditQuery(eventType: "payments.card.captured"))
        #expect(byType.map(\.sequence) == [1, 2, 5])
        #expect(try await store.query(AuditQuery(key: Samples.keyID)).map(\.sequence) == [1, 2, 4, 5])
        #expect(try await store.query(AuditQuery(key: Samples.otherKeyARN)).map(\.sequence) == [3])
        #expect(try await store.query(AuditQuery(errorsOnly: true)).map(\.sequence) == [2])
        #expect(
            try await store.query(AuditQuery(principalARN: "arn:aws:iam::000000000000:role/reader-orders.placed"))
                .map(\.sequence) == [3]
        )
        #expect(try await store.query(AuditQuery(eventName: "CreateKey")).map(\.sequence) == [4])
        let window = AuditQuery(
            since: Samples.baseTime.addingTimeInterval(2),
            until: Samples.baseTime.addingTimeInterval(4)
        )
        #expect(try await store.query(window).map(\.sequence) == [2, 3])
        #expect(try await store.query(AuditQuery(afterSequence: 3, limit: 1)).map(\.sequence) == [4])

        let report = try await store.usageReport(
            in: DateInterval(start: Samples.baseTime, end: Samples.baseTime.addingTimeInterval(100))
        )
        let session = "arn:aws:sts::000000000000:assumed-role/reader-payments.card.captured/checkout"
        #expect(
            report.rows == [
                UsageReport.Row(
                    eventType: "orders.placed",
                    principalARN: "arn:aws:sts::000000000000:assumed-role/reader-orders.placed/billing",
                    successfulDecrypts: 1,
                    denials: 0
                ),
                UsageReport.Row(
                    eventType: "payments.card.captured",
                    principalARN: session,
                    successfulDecrypts: 2,
                    denials: 1
                ),
            ]
        )
    }
}

/// #6: the digest service never signs a forgery it can see.
@Suite struct DigestServiceForgeryTests {
    /// A ``DigestAnchor`` in memory.
    final class MemoryAnchor: DigestAnchor {
        private let kept = Mutex<SignedDigest?>(nil)
        func load() throws -> SignedDigest? { kept.withLock { $0 } }
        func store(_ digest: SignedDigest) throws { kept.withLock { $0 = digest } }
    }

    /// Counts the alarms.
    final class Alarms: Sendable {
        private let count = Mutex(0)
        var raised: Int { count.withLock { $0 } }
        func raise() { count.withLock { $0 += 1 } }
    }

    func service(_ store: InMemoryAuditStore, _ key: AuditSigningKey, _ anchor: MemoryAnchor, _ alarms: Alarms)
        -> DigestService<ContinuousClock>
    {
        DigestService(
            store: store,
            signingKey: key,
            anchor: anchor,
            clock: ContinuousClock(),
            now: { Samples.baseTime },
            logger: Logger(label: "test"),
            onTamper: { _ in alarms.raise() }
        )
    }

    /// Digests deleted and the records they covered rewritten: the service refuses to sign the forged head.
    @Test(arguments: [true, false])
    func deletedDigestsAndRewrittenRecordsAreNotSigned(keepFirstDigest: Bool) async throws {
        let store = InMemoryAuditStore()
        let key = AuditSigningKey.generate()
        let anchor = MemoryAnchor()
        let alarms = Alarms()
        let service = service(store, key, anchor, alarms)
        for index in 1...4 {
            try await store.record(Samples.decrypt(index))
            if index % 2 == 0 { try await service.signIfNeeded() }
        }
        #expect(try anchor.load()?.digest.digestSequence == 2)
        // Record 3 rewritten, every later hash recomputed, and the digests that covered it removed.
        await store.forge(3, as: Samples.decrypt(3, errorCode: "AccessDeniedException")) { digest in
            keepFirstDigest && digest.digest.digestSequence == 1
        }
        try await store.record(Samples.decrypt(5))
        await #expect(throws: AuditError(.tamperedTrail, "")) { try await service.signIfNeeded() }
        #expect(try await store.digests().count == (keepFirstDigest ? 1 : 0))
        // The loop logs at critical and raises the alarm instead of signing.
        try await testGracefulShutdown { trigger in
            trigger.triggerGracefulShutdown()
            try await service.run()
        }
        #expect(alarms.raised == 1)
        #expect(try await store.digests().count == (keepFirstDigest ? 1 : 0))
    }

    /// Records rewritten under a digest that is still in the store: its head no longer matches, nothing is signed.
    @Test func rewrittenRecordsUnderTheNewestDigestAreNotSigned() async throws {
        let store = InMemoryAuditStore()
        let key = AuditSigningKey.generate()
        let service = service(store, key, MemoryAnchor(), Alarms())
        for index in 1...3 { try await store.record(Samples.decrypt(index)) }
        try await service.signIfNeeded()
        await store.forge(2, as: Samples.decrypt(2, errorCode: "AccessDeniedException")) { _ in true }
        try await store.record(Samples.decrypt(4))
        await #expect(throws: AuditError(.tamperedTrail, "")) { try await service.signIfNeeded() }
        #expect(try await store.digests().count == 1)
    }

    /// Without forgery the anchor follows every digest, and a lost anchor is recreated from a verified store.
    @Test func theAnchorFollowsTheNewestDigest() async throws {
        let store = InMemoryAuditStore()
        let key = AuditSigningKey.generate()
        let anchor = MemoryAnchor()
        for index in 1...2 { try await store.record(Samples.decrypt(index)) }
        try await service(store, key, MemoryAnchor(), Alarms()).signIfNeeded()
        try await store.record(Samples.decrypt(3))
        let signed = try await service(store, key, anchor, Alarms()).signIfNeeded()
        #expect(try anchor.load() == signed)
        #expect(try await store.latestDigest() == signed)
    }

    /// A store with records but no digest verifies only while its records are young.
    @Test func recordsNoDigestCoversFailOnceOldEnough() async throws {
        let store = InMemoryAuditStore()
        for index in 1...3 { try await store.record(Samples.decrypt(index)) }
        let key = AuditSigningKey.generate()
        let young = Verifier.UnsignedLimit(reference: Samples.baseTime.addingTimeInterval(60))
        #expect(await store.verify(publicKey: key.publicKey, unsignedLimit: young).isValid)
        let old = Verifier.UnsignedLimit(reference: Samples.baseTime.addingTimeInterval(3_600))
        let report = await store.verify(publicKey: key.publicKey, unsignedLimit: old)
        #expect(report.problem?.kind == .unsignedRecords)
        #expect(report.problem?.sequence == 1)
        // Once a digest covers them, only the records after it count.
        try await service(store, key, MemoryAnchor(), Alarms()).signIfNeeded()
        try await store.record(Samples.decrypt(3_590))
        #expect(await store.verify(publicKey: key.publicKey, unsignedLimit: old).isValid)
    }
}
