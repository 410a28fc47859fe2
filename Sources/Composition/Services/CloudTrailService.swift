import Foundation
public import Logging
import PostgresStorage
public import ServiceLifecycle

/// `sealed serve --aws --cloudtrail-bucket B`: runs ``CloudTrailIngest`` at start and every `interval`, so the KMS
/// events CloudTrail delivers on the domains' keys reach the audit trail. A failed run is logged and retried at the
/// next interval; what it appended stays, and the ingest's own state makes sure nothing is appended twice.
///
/// With replicas on PostgreSQL it runs on the leader of its role only (``BackgroundRole/cloudTrailIngest``), and the
/// state is a row of the database (``CloudTrailIngestStateRow``), so the next leader goes on where the last one
/// stopped.
public struct CloudTrailService: Service {
    public let ingest: CloudTrailIngest
    let interval: Duration
    let logger: Logger

    public init(ingest: CloudTrailIngest, interval: Duration, logger: Logger) {
        self.ingest = ingest
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try await runPeriodically(every: interval, immediately: true) { [self] in
            do {
                let report = try await ingest.run()
                if report.superseded {
                    logger.info("CloudTrail ingest stopped: another replica's ingest saved the position first")
                }
                guard report.files > 0 else { return }
                logger.info(
                    "CloudTrail files ingested",
                    metadata: [
                        "files": "\(report.files)", "appended": "\(report.appended)",
                        "duplicates": "\(report.duplicates)", "skipped": "\(report.skipped.count)",
                    ]
                )
            } catch {
                logger.error("ingesting CloudTrail files failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Where the ingest keeps its position: `cloudtrail-state.json` in the data directory, or a file of its own in the
    /// temporary directory for a platform in memory.
    static func stateFile(in directory: URL?) -> CloudTrailIngestStateFile {
        CloudTrailIngestStateFile(
            url: directory?.appendingPathComponent("cloudtrail-state.json")
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("sealed-cloudtrail-\(UUID()).json")
        )
    }

    /// Where the ingest keeps its position: a row of `database` when replicas share one, else ``stateFile(in:)``.
    static func state(in database: PostgresDatabase?, or directory: URL?) -> any CloudTrailIngestStateStore {
        guard let database else { return stateFile(in: directory) }
        let row = PostgresPlatformValue(database: database, name: "cloudtrail-ingest-state")
        return CloudTrailIngestStateRow(value: row)
    }

    /// The prefix of one trail's files for the account and region, under the trail's own prefix if it has one.
    static func prefix(_ trailPrefix: String?, account: String, region: String) -> String {
        let head = trailPrefix.map { $0.isEmpty || $0.hasSuffix("/") ? $0 : $0 + "/" } ?? ""
        return head + "AWSLogs/\(account)/CloudTrail/\(region)/"
    }
}

/// CloudTrail ingest's position in the PostgreSQL database the replicas share (a
/// ``PostgresStorage/PostgresPlatformValue``), saved whole in one compare-and-set statement.
struct CloudTrailIngestStateRow: CloudTrailIngestStateStore {
    let value: PostgresPlatformValue

    func storedBytes() async throws -> Data? { try await value.load() }

    func store(_ bytes: Data, replacing previous: Data?) async throws -> Bool {
        try await value.save(bytes, replacing: previous)
    }
}
