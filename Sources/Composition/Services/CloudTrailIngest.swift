public import AuditTrail
import CompressNIO
public import Foundation
public import KMS
import NIOCore
import SealedSupport

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
public actor CloudTrailIngest {
    /// What one run did.
    public struct Report: Sendable, Hashable {
        public var files = 0
        public var appended = 0
        /// Events already in the trail (CloudTrail delivers some twice).
        public var duplicates = 0
        /// Events on other keys or services.
        public var ignored = 0
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

    /// - Parameters:
    ///   - files: The bucket CloudTrail delivers to.
    ///   - prefix: The prefix of one trail's files in one region, such as `AWSLogs/ACCOUNT/CloudTrail/REGION/`.
    ///   - trail: The platform's audit trail.
    ///   - state: Where the position is kept (a file; a row of the database shared by replicas).
    ///   - keys: The domains' key ids (as ``AuditTrail/Record/keyIdentifier(_:)`` writes them), asked each run.
    ///   - region: The region of the skip records.
    ///   - account: The account of the skip records.
    public init(
        files: any LogFiles,
        prefix: String,
        trail: any AuditStore,
        state: any CloudTrailIngestStateStore,
        keys: @escaping @Sendable () async throws -> Set<String>,
        region: String,
        account: String
    ) {
        self.files = files
        self.prefix = prefix
        self.trail = trail
        self.state = state
        self.keys = keys
        self.region = region
        self.account = account
    }

    /// Reads every new file once.
    ///
    /// - Throws: an S3, trail or state error; what was appended before it stays, and the next run goes on from there.
    @discardableResult
    public func run() async throws -> Report {
        var report = Report()
        var position = try await state.load()
        let keys = try await keys()
        if let pending = position.inProgress {
            // A run stopped between appending a file's records and saving: only what the trail lacks is appended.
            for stored in try await trail.tail(after: pending.trailHead, limit: Int.max) {
                position.seen[stored.record.eventID] = stored.record.eventTime
            }
            try await ingest(pending.key, keys: keys, position: &position, report: &report)
        }
        for key in try await files.keys(prefix: prefix, after: position.listingStart(prefix: prefix))
        where position.readFiles[key] == nil {
            try await ingest(key, keys: keys, position: &position, report: &report)
        }
        return report
    }

    private func ingest(
        _ key: String,
        keys: Set<String>,
        position: inout CloudTrailIngestState,
        report: inout Report
    ) async throws {
        report.files += 1
        let records: [Record]
        do {
            records = try CloudTrailLog.records(json: try Self.gunzip(try await files.read(key)))
        } catch let error as AuditError {
            try await trail.record(skipRecord(key, reason: error.message))
            report.skipped.append(key)
            position.finish(key, now: Date())
            try await state.save(position)
            return
        }
        var fresh: [Record] = []
        for record in records {
            guard CloudTrailLog.isUse(record, ofAnyOf: keys) else {
                report.ignored += 1
                continue
            }
            guard position.seen[record.eventID] == nil, !fresh.contains(where: { $0.eventID == record.eventID }) else {
                report.duplicates += 1
                continue
            }
            fresh.append(record)
        }
        position.inProgress = .init(key: key, trailHead: try await trail.chainHead().sequence)
        try await state.save(position)
        for record in fresh {
            try await trail.record(record)
            position.seen[record.eventID] = record.eventTime
            report.appended += 1
        }
        position.finish(key, now: Date())
        try await state.save(position)
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
            readOnly: false,
            eventType: .awsServiceEvent,
            recipientAccountId: account
        )
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
/// may run the ingest (the data directory's file; with replicas, the database).
public protocol CloudTrailIngestStateStore: Sendable {
    /// The saved state, or a new one when there is none.
    func load() async throws -> CloudTrailIngestState
    /// Saves `state` whole (a later ``load()`` sees it or the one before, never a part).
    func save(_ state: CloudTrailIngestState) async throws
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

/// A ``CloudTrailIngestState`` in a file, written durably (mode 0600) on every save.
public struct CloudTrailIngestStateFile: CloudTrailIngestStateStore {
    public let url: URL

    public init(url: URL) { self.url = url }

    /// The saved state, or a new one when there is none.
    public func load() throws -> CloudTrailIngestState {
        guard FileManager.default.fileExists(atPath: url.path) else { return CloudTrailIngestState() }
        return try CloudTrailIngestState(encoded: Data(contentsOf: url))
    }

    public func save(_ state: CloudTrailIngestState) throws {
        try DurableFile.write(try state.encoded(), to: url, mode: 0o600)
    }
}
