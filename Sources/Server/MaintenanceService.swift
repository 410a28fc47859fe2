public import AuditTrail
import Foundation
import KMS
public import KeyService
public import Logging
public import ServiceLifecycle

/// Runs ``KeyService/KeyService/runMaintenance(now:)`` every `interval` (deletes keys whose deletion window passed,
/// rotates keys that are due) until graceful shutdown.
///
/// A failed run is logged and retried at the next tick; it never stops the service.
public struct MaintenanceService: Service {
    let keyService: KeyService
    let interval: Duration
    let logger: Logger

    let auditSink: (any AuditSink)?

    public init(keyService: KeyService, interval: Duration, auditSink: (any AuditSink)? = nil, logger: Logger) {
        self.keyService = keyService
        self.interval = interval
        self.auditSink = auditSink
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    await runOnce()
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// Key state changes the service made by itself, as `AwsServiceEvent` records: automatic rotations
    /// (`RotateKey`) and destroyed key material at the end of a deletion window (`DeleteKey`).
    func audit(_ report: KeyService.MaintenanceReport) async throws {
        guard let auditSink else { return }
        let configuration = keyService.configuration
        for (name, ids) in [("RotateKey", report.rotatedKeyIDs), ("DeleteKey", report.deletedKeyIDs)] {
            for id in ids {
                let arn =
                    "arn:\(configuration.partition):kms:\(configuration.region):\(configuration.accountID):key/\(id)"
                try await auditSink.record(
                    Record(
                        eventTime: Date(),
                        eventSource: .kms,
                        eventName: name,
                        awsRegion: configuration.region,
                        userIdentity: .unknown(accountId: configuration.accountID),
                        requestParameters: .object(["keyId": .string(arn)]),
                        requestID: UUID.random().lowercasedString,
                        readOnly: false,
                        resources: [.kmsKey(arn: arn)],
                        eventType: .awsServiceEvent,
                        recipientAccountId: configuration.accountID
                    )
                )
            }
        }
    }

    /// One maintenance pass.
    func runOnce() async {
        do {
            let report = try await keyService.runMaintenance()
            try await audit(report)
            if !report.deletedKeyIDs.isEmpty || !report.rotatedKeyIDs.isEmpty {
                logger.info(
                    "key maintenance",
                    metadata: [
                        "deleted": "\(report.deletedKeyIDs.count)", "rotated": "\(report.rotatedKeyIDs.count)",
                    ]
                )
            }
        } catch {
            logger.error("key maintenance failed", metadata: ["error": "\(error)"])
        }
    }
}
