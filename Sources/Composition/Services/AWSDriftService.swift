import AWSGovernance
public import AccessControl
public import AuditTrail
public import Catalog
public import Foundation
public import Logging
public import ServiceLifecycle
import WireShapes

/// In AWS mode, compares the governed account with the catalog and the grants every `interval`
/// (``AWSAccountGovernor/check(_:at:)``) and records each difference in the audit trail (`AWSDriftDetected`, source
/// `iam.amazonaws.com`, the difference in `requestParameters.difference`), so a hand edit in the account is on
/// record. It does not fix anything: `sealed aws check --fix` does, when a person decides.
public struct AWSDriftService: Service {
    let account: AWSAccount
    let catalog: EventCatalog
    let access: AccessRequests
    let sink: (any AuditSink)?
    let interval: Duration
    let logger: Logger

    public init(
        account: AWSAccount,
        catalog: EventCatalog,
        access: AccessRequests,
        sink: (any AuditSink)?,
        interval: Duration,
        logger: Logger
    ) {
        self.account = account
        self.catalog = catalog
        self.access = access
        self.sink = sink
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try await runPeriodically(every: interval, immediately: false) { [self] in
            do {
                let found = try await checkOnce()
                if !found.isEmpty { logger.warning("AWS drift", metadata: ["differences": "\(found.count)"]) }
            } catch {
                logger.error("checking the AWS account for drift failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// One check: the differences found, each recorded.
    @discardableResult
    public func checkOnce(at date: Date = Date()) async throws -> [String] {
        let readers = try await account.expectedReaders(catalog: catalog, access: access, at: date)
        let report = try await account.governor.check(readers, at: date)
        let differences = report.differences.map(\.description)
        for difference in differences { try await record("AWSDriftDetected", difference, at: date) }
        return differences
    }

    /// At start: repairs the grants in the reader roles' trust policies that a crash between the edit in AWS and
    /// storing the access request left apart from the stored requests (``AWSAccountGovernor/reconcileGrants(_:)``:
    /// the platform's own statements only), each repair recorded (`AWSGrantReconciled`).
    ///
    /// - Returns: The differences repaired, in words.
    @discardableResult
    public func reconcileGrants(at date: Date = Date()) async throws -> [String] {
        let readers = try await account.expectedReaders(catalog: catalog, access: access, at: date)
        let repaired = try await account.governor.reconcileGrants(readers).map(\.description)
        for difference in repaired { try await record("AWSGrantReconciled", difference, at: date) }
        return repaired
    }

    /// Records one difference in the audit trail as `name`.
    private func record(_ name: String, _ difference: String, at date: Date) async throws {
        try await sink?.record(
            Record(
                eventTime: date,
                eventSource: .iam,
                eventName: name,
                awsRegion: account.region,
                userIdentity: .unknown(accountId: account.account),
                requestParameters: .object(["difference": .string(difference)]),
                requestID: UUID.random().lowercasedString,
                readOnly: name == "AWSDriftDetected",
                eventType: .awsServiceEvent,
                recipientAccountId: account.account
            )
        )
    }
}
