public import AuditTrail
import CompressNIO
import Crypto
public import Foundation
public import KMS
import NIOCore
import SealedSupport
import Synchronization

/// Where delivered log files are read from: keys under a prefix, in key order, and their bytes.
public protocol LogFiles: Sendable {
    /// Every key under `prefix` after `startAfter` (exclusive), in key order.
    func keys(prefix: String, after startAfter: String?) async throws -> [String]
    /// A file's bytes.
    func read(_ key: String) async throws -> [UInt8]
}

/// A bucket of an ``KMS/S3Client`` as ``LogFiles``.
public struct S3LogFiles: LogFiles {
    public let client: S3Client
    public let bucket: String

    public init(client: S3Client, bucket: String) {
        self.client = client
        self.bucket = bucket
    }

    public func keys(prefix: String, after startAfter: String?) async throws -> [String] {
        try await client.allObjects(bucket: bucket, prefix: prefix, startAfter: startAfter).map(\.key)
    }

    public func read(_ key: String) async throws -> [UInt8] { try await client.getObject(bucket: bucket, key: key) }
}

/// Appends the KMS events on the domains' keys that CloudTrail delivered to S3 to the platform's hash-chained audit
/// trail, so that queries and the usage report see who really decrypted what in AWS.
///
/// Each run reads the files under the prefix after the last one read, in key order (CloudTrail names them
/// `AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/…_YYYYMMDDTHHMMZ_….json.gz`), gunzips each (at most
/// ``maximumFileSize`` bytes), and keeps the KMS calls on the domains' keys that are not in the trail yet (by
/// `eventID`). A file is taken whole or not at all: one whose gzip, JSON or any record is malformed is skipped and the
/// skip recorded (`SkipCloudTrailFile`, with the file's key and the reason), never half-ingested.
///
/// CloudTrail's file names carry the end of the period a file covers, and files are not delivered strictly in that
/// order: each run lists again from the day before the newest file read and reads every file it has not read yet
/// (files read are remembered two days), so a late file with an earlier name is still taken.
///
/// **Exactly once, across crashes.** The position (the last file read and the event ids of the last day) is saved in
/// ``CloudTrailIngestState`` before a file's records are appended, with the file marked in progress and the trail's
/// head; a run that finds a file in progress first reads the trail after that head and appends only that file's
/// records that are not there, so a crash between appending and saving appends nothing twice.
///
/// **Exactly once, across processes.** Replicas sharing a database run the ingest on one leader at a time, but a
/// replica that lost the role may still be running for about a second after its successor started. Every save of the
/// position is a compare-and-set on what this run loaded or last saved (``CloudTrailIngestStateStore``): a file is
/// claimed (marked in progress) before any of its records is appended, and a run whose claim or finish finds the
/// position moved by another process stops at once (``Report/superseded``), appending nothing more. A run that finds
/// another run's claim waits ``claimGrace`` and takes the file over only if the position has not moved meanwhile (it
/// then reads what the other appended from the trail); if it moved, the other is still running, and this run stops.
/// A stopped leader appends at most the record in flight when its task is cancelled.
public actor CloudTrailIngest {
    /// What one run did.
    public struct Report: Sendable, Hashable {
        public var files = 0
        public var appended = 0
        /// Events already in the trail (CloudTrail delivers some twice).
        public var duplicates = 0
        /// Events on other keys or services.
        public var ignored = 0
        /// Whether the run stopped because another process's ingest saved the position first (a replica that holds
        /// the role now, or a file it is still ingesting); the next run goes on from what that one saved.
        public var superseded = false
        /// Files skipped as malformed, by key.
        public var skipped: [String] = []
    }

    /// The largest file accepted, after gunzip.
    public static let maximumFileSize = 64 << 20
    /// How long event ids are remembered for de-duplication.
    public static let rememberedFor: TimeInterval = 2 * 86_400

    let files: any LogFiles
    let prefix: String
    let trail: any AuditStore
    let state: any CloudTrailIngestStateStore
    let keys: @Sendable () async throws -> Set<String>
    let region: String
    let account: String
    /// How long a claim of another run must stay unchanged before this one takes its file over.
    let claimGrace: Duration
    /// The default of `claimGrace`: several times the second a replica that lost the role may run on.
    public static let defaultClaimGrace = Duration.seconds(5)

    /// - Parameters:
    ///   - files: The bucket CloudTrail delivers to.
    ///   - prefix: The prefix of one trail's files in one region, such as `AWSLogs/ACCOUNT/CloudTrail/REGION/`.
    ///   - trail: The platform's audit trail.
    ///   - state: Where the position is kept (a file; a row of the database shared by replicas).
    ///   - keys: The domains' key ids (as ``AuditTrail/Record/keyIdentifier(_:)`` writes them), asked each run.
    ///   - region: The region of the skip records.
    ///   - account: The account of the skip records.
    ///   - claimGrace: How long another run's claim must stay unchanged before this one takes its file over.
    public init(
        files: any LogFiles,
        prefix: String,
        trail: any AuditStore,
        state: any CloudTrailIngestStateStore,
        keys: @escaping @Sendable () async throws -> Set<String>,
        region: String,
        account: String,
        claimGrace: Duration = CloudTrailIngest.defaultClaimGrace
    ) {
        self.files = files
        self.prefix = prefix
        self.trail = trail
        self.state = state
        self.keys = keys
        self.region = region
        self.account = account
        self.claimGrace = claimGrace
    }

    /// Reads every new file once.
    ///
    /// - Throws: an S3, trail or state error; what was appended before it stays, and the next run goes on from there.
    @discardableResult
    public func run() async throws -> Report {
        var report = Report()
        var version = try await state.load()
        let keys = try await keys()
        if let pending = version.state.inProgress {
            // Another run's claim: a run that stopped mid-file, or one still appending on a replica that lost the role.
            try await Task.sleep(for: claimGrace)
            let again = try await state.load()
            guard again.stored == version.stored else {
                report.superseded = true
                return report
            }
            // The claim stayed: only what the trail lacks of that file is appended.
            for stored in try await trail.tail(after: pending.trailHead, limit: Int.max) {
                version.state.seen[stored.record.eventID] = stored.record.eventTime
            }
            guard try await ingest(pending.key, keys: keys, version: &version, report: &report) else { return report }
        }
        for key in try await files.keys(prefix: prefix, after: version.state.listingStart(prefix: prefix))
        where version.state.readFiles[key] == nil {
            guard try await ingest(key, keys: keys, version: &version, report: &report) else { return report }
        }
        return report
    }

    /// Ingests one file: claims it, appends its new records (or its skip record), marks it read. Returns false, with
    /// ``Report/superseded`` set, when another process's ingest saved the position first.
    private func ingest(
        _ key: String,
        keys: Set<String>,
        version: inout CloudTrailIngestStateVersion,
        report: inout Report
    ) async throws -> Bool {
        report.files += 1
        var fresh: [Record] = []
        var skipping = false
        do {
            for record in try CloudTrailLog.records(json: try Self.gunzip(try await files.read(key))) {
                guard CloudTrailLog.isUse(record, ofAnyOf: keys) else {
                    report.ignored += 1
                    continue
                }
                guard version.state.seen[record.eventID] == nil, !fresh.contains(where: { $0.eventID == record.eventID })
                else {
                    report.duplicates += 1
                    continue
                }
                fresh.append(record)
            }
        } catch let error as AuditError {
            // The skip record's id is the file's, so a run that takes the claim over does not record it twice.
            let skip = skipRecord(key, reason: error.message)
            fresh = version.state.seen[skip.eventID] == nil ? [skip] : []
            skipping = true
        }
        var claimed = version.state
        claimed.inProgress = .init(key: key, trailHead: try await trail.chainHead().sequence)
        guard try await save(claimed, over: &version, report: &report) else { return false }
        for record in fresh {
            // A replica that lost the role is cancelled: it stops before its next record.
            try Task.checkCancellation()
            try await trail.record(record)
            version.state.seen[record.eventID] = record.eventTime
            if !skipping { report.appended += 1 }
        }
        if skipping { report.skipped.append(key) }
        var finished = version.state
        finished.finish(key, now: Date())
        return try await save(finished, over: &version, report: &report)
    }

    /// Saves `state` in place of `version` (compare-and-set); false, with ``Report/superseded`` set, when another
    /// process's ingest saved since.
    private func save(
        _ state: CloudTrailIngestState,
        over version: inout CloudTrailIngestStateVersion,
        report: inout Report
    ) async throws -> Bool {
        guard let saved = try await self.state.save(state, replacing: version) else {
            report.superseded = true
            return false
        }
        version = saved
        return true
    }

    /// The record of a skipped file: an `AwsServiceEvent` of the platform, naming the file and why.
    func skipRecord(_ key: String, reason: String) -> Record {
        Record(
            eventTime: Date(),
            eventSource: EventSource(rawValue: "audit.sealed.local"),
            eventName: "SkipCloudTrailFile",
            awsRegion: region,
            userIdentity: .unknown(accessKeyId: nil, accountId: account),
            requestParameters: ["file": .string(key), "reason": .string(reason)],
            requestID: UUID().uuidString.lowercased(),
            eventID: Self.skipEventID(key),
            readOnly: false,
            eventType: .awsServiceEvent,
            recipientAccountId: account
        )
    }

    /// The event id of the skip record of the file `key`: a UUID made of the first 16 bytes of the key's SHA-256 (with
    /// the version 5 and variant bits set), the same for every run.
    static func skipEventID(_ key: String) -> String {
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { raw in
            raw.copyBytes(from: Array(SHA256.hash(data: Array(key.utf8)).prefix(16)))
            raw[6] = raw[6] & 0x0F | 0x50  // version 5
            raw[8] = raw[8] & 0x3F | 0x80  // RFC 9562 variant
        }
        return UUID(uuid: uuid).uuidString.lowercased()
    }

    /// The bytes of a gzip file, at most ``maximumFileSize`` of them.
    ///
    /// - Throws: ``AuditTrail/AuditError`` `malformedRecord` for bytes that are not gzip or inflate past the limit.
    static func gunzip(_ bytes: [UInt8]) throws(AuditError) -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        do {
            let output = try buffer.decompress(with: .gzip, maxSize: maximumFileSize)
            return Array(output.readableBytesView)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw AuditError(.malformedRecord, "the log file inflates past \(maximumFileSize) bytes")
        } catch {
            throw AuditError(.malformedRecord, "the log file is not gzip (\(error))")
        }
    }
}

/// Where a ``CloudTrailIngest`` is: the last file read, a file in progress, and the event ids of the last two days.
public struct CloudTrailIngestState: Codable, Sendable, Hashable {
    /// A file whose records were being appended.
    public struct InProgress: Codable, Sendable, Hashable {
        public var key: String
        /// The trail's head before its first record was appended.
        public var trailHead: Int64
    }

    public var lastFile: String?
    public var inProgress: InProgress?
    /// Event ids appended, with their event times (pruned after ``CloudTrailIngest/rememberedFor``).
    public var seen: [String: Date] = [:]
    /// Files read, with when they were read (pruned after ``CloudTrailIngest/rememberedFor``).
    public var readFiles: [String: Date] = [:]

    public init() {}

    mutating func finish(_ key: String, now: Date) {
        lastFile = max(lastFile ?? key, key)
        inProgress = nil
        readFiles[key] = now
        seen = seen.filter { now.timeIntervalSince($0.value) < CloudTrailIngest.rememberedFor }
        readFiles = readFiles.filter { now.timeIntervalSince($0.value) < CloudTrailIngest.rememberedFor }
    }

    /// Where a listing starts: before the folder of the day before the newest file read (`PREFIX/YYYY/MM/DD/`), or
    /// after the newest file when its name has no such folder; from the start before any file was read.
    func listingStart(prefix: String) -> String? {
        guard let lastFile else { return nil }
        let path = lastFile.hasPrefix(prefix) ? String(lastFile.dropFirst(prefix.count)) : ""
        let parts = path.split(separator: "/", maxSplits: 3)
        guard parts.count == 4, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            let date = DateComponents(calendar: Self.utc, year: year, month: month, day: day).date,
            let before = Self.utc.date(byAdding: .day, value: -1, to: date)
        else { return lastFile }
        let folder = Self.utc.dateComponents([.year, .month, .day], from: before)
        return prefix
            + String(format: "%04d/%02d/%02d/", folder.year ?? 0, folder.month ?? 0, folder.day ?? 0)
    }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}

/// Where a ``CloudTrailIngest`` keeps its ``CloudTrailIngestState``: it must be the same for every process that
/// may run the ingest (the data directory's file; with replicas, the database). Saves are compare-and-set on the
/// stored bytes, so that of two processes that loaded the same state only one can save over it.
public protocol CloudTrailIngestStateStore: Sendable {
    /// The stored bytes, or `nil` when nothing was stored.
    func storedBytes() async throws -> Data?
    /// Stores `bytes` if the stored bytes are still `previous` (`nil`: nothing stored); false, storing nothing,
    /// otherwise. A later ``storedBytes()`` sees the new bytes whole or the old ones, never a part.
    func store(_ bytes: Data, replacing previous: Data?) async throws -> Bool
}

extension CloudTrailIngestStateStore {
    /// The saved state (a new one when there is none), with its stored bytes.
    public func load() async throws -> CloudTrailIngestStateVersion {
        guard let stored = try await storedBytes() else {
            return CloudTrailIngestStateVersion(state: CloudTrailIngestState(), stored: nil)
        }
        return CloudTrailIngestStateVersion(state: try CloudTrailIngestState(encoded: stored), stored: stored)
    }

    /// Saves `state` if the store still holds `previous`; the saved version, or `nil` (nothing saved) when another
    /// process saved since.
    public func save(
        _ state: CloudTrailIngestState,
        replacing previous: CloudTrailIngestStateVersion
    ) async throws -> CloudTrailIngestStateVersion? {
        let bytes = try state.encoded()
        guard try await store(bytes, replacing: previous.stored) else { return nil }
        return CloudTrailIngestStateVersion(state: state, stored: bytes)
    }
}

/// A ``CloudTrailIngestState`` as loaded or saved, with the bytes it is stored as (what the next save must find).
public struct CloudTrailIngestStateVersion: Sendable {
    public var state: CloudTrailIngestState
    /// The stored bytes; `nil` when nothing was stored.
    public var stored: Data?
}

extension CloudTrailIngestState {
    /// The state as it is saved: JSON with sorted keys, dates in seconds since 1970.
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(self)
    }

    /// A state saved by ``encoded()``.
    init(encoded data: Data) throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        self = try decoder.decode(CloudTrailIngestState.self, from: data)
    }
}

/// A ``CloudTrailIngestState`` in a file, written durably (mode 0600) on every save. One process holds a data
/// directory; within it, a save compares and writes under a lock.
public struct CloudTrailIngestStateFile: CloudTrailIngestStateStore {
    public let url: URL

    public init(url: URL) { self.url = url }

    /// Held while a save compares the file and writes it.
    private static let saving = Mutex(())

    public func storedBytes() throws -> Data? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try Data(contentsOf: url)
    }

    public func store(_ bytes: Data, replacing previous: Data?) throws -> Bool {
        try Self.saving.withLock { _ in
            guard try storedBytes() == previous else { return false }
            try DurableFile.write(bytes, to: url, mode: 0o600)
            return true
        }
    }
}
