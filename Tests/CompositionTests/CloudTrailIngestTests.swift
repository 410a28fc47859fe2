import AuditTrail
import Composition
import CompressNIO
import Crypto
import Foundation
import KMS
import NIOCore
import SealedTesting
import SigV4
import Testing

/// CloudTrail ingestion from moto's S3 into an audit trail: the domains' key uses appended once, duplicates,
/// other keys and other services left out, a malformed file skipped and recorded, a restart ingesting nothing twice,
/// a run stopped mid-file finished without duplicates, and two runs at once (a change of leader) appending each event
/// once.
struct CloudTrailIngestTests {
    static let account = "111122223333"
    static let domainKey = "arn:aws:kms:us-east-1:111122223333:key/0f6b1c2d-aaaa-4bbb-8ccc-123456789abc"
    static let foreignKey = "arn:aws:kms:us-east-1:111122223333:key/99999999-aaaa-4bbb-8ccc-123456789abc"
    static let prefix = "AWSLogs/111122223333/CloudTrail/us-east-1/"

    /// A KMS Decrypt as CloudTrail writes it, by a reader role's session.
    static func decrypt(_ id: String, key: String = domainKey, minute: Int = 10) -> String {
        """
        {"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:consumer",\
        "arn":"arn:aws:sts::\(account):assumed-role/sealed-reader-payments.card.captured/consumer",\
        "accountId":"\(account)","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role",\
        "principalId":"AROAEXAMPLE","arn":"arn:aws:iam::\(account):role/sealed/sealed-reader-payments.card.captured",\
        "accountId":"\(account)","userName":"sealed-reader-payments.card.captured"},"attributes":{\
        "creationDate":"2026-12-05T01:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2026-12-05T01:\(minute):00Z",\
        "eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.5",\
        "userAgent":"aws-sdk-swift","requestParameters":{"encryptionContext":{"eventType":"payments.card.captured",\
        "domain":"payments"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,\
        "requestID":"req-\(id)","eventID":"\(id)","readOnly":true,"resources":[{"accountId":"\(account)",\
        "type":"AWS::KMS::Key","ARN":"\(key)"}],"eventType":"AwsApiCall","managementEvent":true,\
        "recipientAccountId":"\(account)","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3"}}
        """
    }

    static let consoleLogin = """
        {"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::\(account):user/alice",\
        "accountId":"\(account)"},"eventTime":"2026-12-05T01:11:00Z","eventSource":"signin.amazonaws.com",\
        "eventName":"ConsoleLogin","awsRegion":"us-east-1","requestID":"r-login","eventID":"login-1",\
        "readOnly":false,"eventType":"AwsConsoleSignIn","recipientAccountId":"\(account)"}
        """

    static func file(_ records: [String]) -> [UInt8] {
        var buffer = ByteBuffer(string: #"{"Records":["# + records.joined(separator: ",") + "]}")
        let compressed = try! buffer.compress(with: .gzip)
        return Array(compressed.readableBytesView)
    }

    static func key(_ minute: Int, _ suffix: String = "a") -> String {
        prefix + "2026/12/05/\(account)_CloudTrail_us-east-1_20261205T01\(minute)Z_\(suffix).json.gz"
    }

    struct World {
        let s3: S3Client
        let bucket: String
        let trail = InMemoryAuditStore()
        let stateFile: CloudTrailIngestStateFile

        init(_ moto: MotoFixture) async throws {
            s3 = try S3Client(
                region: moto.region,
                credentialProvider: StaticCredentialProvider(
                    Credentials(accessKeyId: moto.iamAdmin.accessKeyId, secretAccessKey: moto.iamAdmin.secretAccessKey)
                ),
                endpoint: moto.endpointURL,
                options: ClientOptions(maxAttempts: 2, baseBackoff: .milliseconds(10), timeout: .seconds(10))
            )
            bucket = "sealed-trail-\(UUID().uuidString.prefix(8).lowercased())"
            try await s3.createBucket(bucket)
            stateFile = CloudTrailIngestStateFile(
                url: FileManager.default.temporaryDirectory.appendingPathComponent("ingest-\(UUID().uuidString).json")
            )
        }

        func put(_ key: String, _ bytes: [UInt8]) async throws {
            try await s3.putObject(bucket: bucket, key: key, body: bytes, contentType: "application/x-gzip")
        }

        func ingester(
            trail: (any AuditStore)? = nil,
            files: ((any LogFiles) -> any LogFiles)? = nil,
            claimGrace: Duration = .milliseconds(100),
            keysAsked: @escaping @Sendable () async -> Void = {}
        ) -> CloudTrailIngest {
            let bucketFiles = S3LogFiles(client: s3, bucket: bucket)
            return CloudTrailIngest(
                files: files?(bucketFiles) ?? bucketFiles,
                prefix: CloudTrailIngestTests.prefix,
                trail: trail ?? self.trail,
                state: stateFile,
                keys: {
                    await keysAsked()
                    return [Record.keyIdentifier(CloudTrailIngestTests.domainKey)]
                },
                region: "us-east-1",
                account: CloudTrailIngestTests.account,
                claimGrace: claimGrace
            )
        }

        func eventIDs() async throws -> [String] {
            try await trail.tail(after: 0, limit: 10_000).map(\.record).filter { $0.eventSource == .kms }.map(\.eventID)
        }
    }

    @Test func theDomainKeysUsesAreAppendedOnceAndAMalformedFileIsSkippedAndRecorded() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let world = try await World(moto)
        try await world.put(Self.key(10), Self.file([Self.decrypt("e1"), Self.decrypt("e2", key: Self.foreignKey), Self.consoleLogin]))
        try await world.put(Self.key(15), Self.file([Self.decrypt("e3", minute: 15), Self.decrypt("e1")]))  // e1 again
        try await world.put(Self.key(20), Array("not gzip".utf8))
        try await world.put(Self.key(25), Self.file([Self.decrypt("e4", minute: 25), #"{"eventName":"half a record"}"#]))
        try await world.put("AWSLogs/\(Self.account)/CloudTrail/eu-west-1/2026/12/05/other.json.gz", Self.file([Self.decrypt("x")]))

        let report = try await world.ingester().run()
        #expect(report.files == 4 && report.appended == 2 && report.duplicates == 1 && report.ignored == 2)
        #expect(report.skipped == [Self.key(20), Self.key(25)])
        #expect(try await world.eventIDs() == ["e1", "e3"], "e4's file is malformed: nothing of it is taken")
        let skips = try await world.trail.tail(after: 0, limit: 100).map(\.record).filter { $0.eventName == "SkipCloudTrailFile" }
        #expect(skips.map { $0.requestParameters?["file"]?.stringValue } == [Self.key(20), Self.key(25)])
        #expect(skips.last?.requestParameters?["reason"]?.stringValue?.contains("record 1") == true)

        // The ingested records are the KMS events as CloudTrail wrote them: queries and usage reports see them.
        let decrypts = try await world.trail.query(AuditQuery(eventType: "payments.card.captured", eventName: "Decrypt"))
        #expect(decrypts.map(\.record.eventID) == ["e1", "e3"])
        #expect(decrypts.first?.record.principalARNs.contains("arn:aws:iam::\(Self.account):role/sealed/sealed-reader-payments.card.captured") == true)

        // Nothing new: nothing appended, by this ingester or by a new one (a restart) on the same state file.
        #expect(try await world.ingester().run().appended == 0)
        let afterRestart = try await world.ingester().run()
        #expect(afterRestart.files == 0 && afterRestart.appended == 0)
        try await world.put(Self.key(30), Self.file([Self.decrypt("e5", minute: 30), Self.decrypt("e3", minute: 15)]))
        let later = try await world.ingester().run()
        #expect(later.files == 1 && later.appended == 1 && later.duplicates == 1)
        #expect(try await world.eventIDs() == ["e1", "e3", "e5"])
        // A file delivered late, with an earlier name than files already read (and a day earlier): still taken.
        try await world.put(
            Self.prefix + "2026/12/04/\(Self.account)_CloudTrail_us-east-1_20261204T2355Z_late.json.gz",
            Self.file([Self.decrypt("late", minute: 12)])
        )
        try await world.put(Self.key(12, "b"), Self.file([Self.decrypt("e6", minute: 12)]))
        let late = try await world.ingester().run()
        #expect(late.files == 2 && late.appended == 2)
        #expect(try await world.eventIDs() == ["e1", "e3", "e5", "late", "e6"])
        #expect(try await world.ingester().run().files == 0)
        let head = try await world.trail.chainHead()
        #expect(head.sequence == 7, "five events and two skip records")
        let verified = await world.trail.verify(publicKey: P256.Signing.PrivateKey().publicKey)
        #expect(verified.problem == nil && verified.recordsChecked == 7, "the chain holds the ingested records")
    }

    /// The trail in front of the test's, failing after `limit` records: a process that stops mid-file.
    actor FailingAfter: InFrontOfTrail {
        nonisolated let trail: InMemoryAuditStore
        var left: Int

        init(_ trail: InMemoryAuditStore, limit: Int) {
            self.trail = trail
            left = limit
        }

        func record(_ record: Record) async throws {
            guard left > 0 else { throw CancellationError() }
            left -= 1
            try await trail.record(record)
        }
    }

    @Test func aRunStoppedMidFileIsFinishedWithoutDuplicates() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let world = try await World(moto)
        try await world.put(Self.key(10), Self.file((1...5).map { Self.decrypt("m\($0)") }))
        await #expect(throws: CancellationError.self) {
            try await world.ingester(trail: FailingAfter(world.trail, limit: 2)).run()
        }
        #expect(try await world.eventIDs() == ["m1", "m2"])
        let resumed = try await world.ingester().run()
        #expect(resumed.appended == 3)
        #expect(try await world.eventIDs() == ["m1", "m2", "m3", "m4", "m5"], "each event once, in the file's order")
    }

    /// Two ingests (two replicas during a change of leader) that loaded the same position before either claimed a
    /// file: the second claim finds the position moved and its run stops; every event is appended once.
    @Test func twoRunsThatLoadedTheSamePositionAppendEachEventOnce() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let world = try await World(moto)
        try await world.put(Self.key(10), Self.file((1...3).map { Self.decrypt("a\($0)") }))
        try await world.put(Self.key(15), Self.file((1...3).map { Self.decrypt("b\($0)", minute: 15) }))
        let listed = Barrier(parties: 2)
        let first = world.ingester(files: { ListingTogether($0, barrier: listed) })
        let second = world.ingester(files: { ListingTogether($0, barrier: listed) })
        async let one = first.run()
        async let two = second.run()
        let reports = try await [one, two]
        #expect(reports.filter(\.superseded).count == 1, "one of the two claims of the first file lost")
        #expect(reports.map(\.appended).sorted() == [0, 6])
        #expect(try await world.eventIDs().sorted() == ["a1", "a2", "a3", "b1", "b2", "b3"], "each event once")
    }

    /// A run finds another's claim (that run is held in its second record); while it waits out the grace, the other
    /// finishes the file: the position moved, so this run stops and appends nothing.
    @Test func aRunStopsWhenTheClaimItFoundMovesDuringItsGrace() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let world = try await World(moto)
        try await world.put(Self.key(10), Self.file((1...4).map { Self.decrypt("c\($0)") }))
        let gate = HeldAfter(world.trail, records: 1)
        let holder = Task { try await world.ingester(trail: gate).run() }
        try await gate.waitUntilHeld()
        // The follower asks for the keys after it loaded the position (with the holder's claim), before its grace.
        let (loaded, hasLoaded) = AsyncStream.makeStream(of: Void.self)
        let follower = Task {
            try await world.ingester(claimGrace: .seconds(3), keysAsked: { hasLoaded.yield() }).run()
        }
        for await _ in loaded { break }
        await gate.release()
        #expect(try await holder.value.appended == 4)
        let report = try await follower.value
        #expect(report.superseded && report.appended == 0 && report.files == 0)
        #expect(try await world.eventIDs() == ["c1", "c2", "c3", "c4"])
    }

    /// A run that lost its role is cancelled while its record is in flight: that record is appended, the next is not;
    /// the run that finds its claim unchanged after the grace appends the rest, each event once.
    @Test func aCancelledRunStopsAfterItsRecordInFlightAndTheClaimIsTakenOver() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let world = try await World(moto)
        try await world.put(Self.key(10), Self.file((1...4).map { Self.decrypt("d\($0)") }))
        let gate = HeldAfter(world.trail, records: 1)
        let stale = Task { try await world.ingester(trail: gate).run() }
        try await gate.waitUntilHeld()
        stale.cancel()
        await gate.release()
        await #expect(throws: CancellationError.self) { try await stale.value }
        #expect(try await world.eventIDs() == ["d1", "d2"])
        let report = try await world.ingester().run()
        #expect(!report.superseded && report.appended == 2)
        #expect(try await world.eventIDs() == ["d1", "d2", "d3", "d4"])
    }

    /// Lists keys only once `barrier`'s parties all listed: every run has loaded the position before any claims.
    struct ListingTogether: LogFiles {
        let files: any LogFiles
        let barrier: Barrier

        init(_ files: any LogFiles, barrier: Barrier) {
            self.files = files
            self.barrier = barrier
        }

        func keys(prefix: String, after startAfter: String?) async throws -> [String] {
            await barrier.arrive()
            return try await files.keys(prefix: prefix, after: startAfter)
        }

        func read(_ key: String) async throws -> [UInt8] { try await files.read(key) }
    }

    actor Barrier {
        var waiting: [CheckedContinuation<Void, Never>] = []
        let parties: Int

        init(parties: Int) { self.parties = parties }

        func arrive() async {
            await withCheckedContinuation { continuation in
                waiting.append(continuation)
                if waiting.count == parties {
                    for waiter in waiting { waiter.resume() }
                    waiting = []
                }
            }
        }
    }

    /// The trail in front of the test's, holding the record after the first `records` until released.
    actor HeldAfter: InFrontOfTrail {
        nonisolated let trail: InMemoryAuditStore
        var left: Int
        var held: CheckedContinuation<Void, Never>?
        var heldWaiters: [CheckedContinuation<Void, Never>] = []
        var released = false

        init(_ trail: InMemoryAuditStore, records: Int) {
            self.trail = trail
            left = records
        }

        func record(_ record: Record) async throws {
            if left == 0, !released {
                await withCheckedContinuation { continuation in
                    held = continuation
                    for waiter in heldWaiters { waiter.resume() }
                    heldWaiters = []
                }
            }
            left -= 1
            try await trail.record(record)
        }

        func waitUntilHeld() async throws {
            guard held == nil else { return }
            await withCheckedContinuation { heldWaiters.append($0) }
        }

        func release() {
            released = true
            held?.resume()
            held = nil
        }
    }
}

/// A trail in front of a test's in-memory trail: it decides how records are appended and passes everything else on.
protocol InFrontOfTrail: AuditStore {
    var trail: InMemoryAuditStore { get }
}

extension InFrontOfTrail {
    func chainHead() async throws -> ChainHead { try await trail.chainHead() }
    func latestDigest() async throws -> SignedDigest? { try await trail.latestDigest() }
    func recordHash(at sequence: Int64) async throws -> Data? { try await trail.recordHash(at: sequence) }
    func appendDigest(_ digest: SignedDigest) async throws { try await trail.appendDigest(digest) }
    func tail(after sequence: Int64, limit: Int) async throws -> [StoredRecord] { try await trail.tail(after: sequence, limit: limit) }
    func query(_ query: AuditQuery) async throws -> [StoredRecord] { try await trail.query(query) }
    func usageReport(in period: DateInterval) async throws -> UsageReport { try await trail.usageReport(in: period) }
    func digests() async throws -> [SignedDigest] { try await trail.digests() }
}
