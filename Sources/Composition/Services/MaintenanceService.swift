public import AuditTrail
import Foundation
import WireShapes
public import KeyService
public import Logging
public import ServiceLifecycle
import Synchronization

/// Runs ``KeyService/KeyService/runMaintenance(now:beforeChange:)`` every `interval` (deletes keys whose deletion window passed,
/// rotates keys that are due) until graceful shutdown.
///
/// A failed run is logged and retried at the next tick; it never stops the service. With an audit sink, no change
/// is made before its record is durable (see ``runPass()``).
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

    /// The record of a key state change the service makes by itself, as an `AwsServiceEvent`: an automatic rotation
    /// (`RotateKey`) or destroyed key material at the end of a deletion window (`DeleteKey`).
    func record(_ change: KeyService.MaintenanceChange, requestID: String) -> Record {
        let configuration = keyService.configuration
        let (name, id) =
            switch change {
            case .rotate(let id): ("RotateKey", id)
            case .delete(let id): ("DeleteKey", id)
            }
        let arn = "arn:\(configuration.partition):kms:\(configuration.region):\(configuration.accountID):key/\(id)"
        return Record(
            eventTime: Date(),
            eventSource: .kms,
            eventName: name,
            awsRegion: configuration.region,
            userIdentity: .unknown(accountId: configuration.accountID),
            requestParameters: .object(["keyId": .string(arn)]),
            requestID: requestID,
            readOnly: false,
            resources: [.kmsKey(arn: arn)],
            eventType: .awsServiceEvent,
            recipientAccountId: configuration.accountID
        )
    }

    /// One maintenance pass, recorded as requests are: each change's intent record is durable before the change is
    /// made (when it cannot be written, the pass stops and the key is left as it is), and its outcome record follows.
    /// Returns what the pass did.
    @discardableResult
    public func runPass() async throws -> KeyService.MaintenanceReport {
        guard let auditSink else { return try await keyService.runMaintenance() }
        let intents = RequestIDs()
        let report = try await keyService.runMaintenance { change in
            let requestID = UUID.random().lowercasedString
            try await auditSink.record(record(change, requestID: requestID).intent)
            intents.set(requestID, for: change)
        }
        let done =
            report.rotatedKeyIDs.map { KeyService.MaintenanceChange.rotate(keyID: $0) }
            + report.deletedKeyIDs.map { KeyService.MaintenanceChange.delete(keyID: $0) }
        for change in done {
            let requestID = intents.get(change) ?? UUID.random().lowercasedString
            try await auditSink.record(record(change, requestID: requestID))
        }
        return report
    }

    /// One maintenance pass.
    func runOnce() async {
        do {
            let report = try await runPass()
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

/// The request id of each change's intent record, for its outcome record.
private final class RequestIDs: Sendable {
    private let ids = Mutex<[KeyService.MaintenanceChange: String]>([:])
    func set(_ id: String, for change: KeyService.MaintenanceChange) { ids.withLock { $0[change] = id } }
    func get(_ change: KeyService.MaintenanceChange) -> String? { ids.withLock { $0[change] } }
}
