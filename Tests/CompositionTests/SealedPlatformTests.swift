import AccessControl
import AuditTrail
import Composition
import EventBus
import Foundation
import KeyService
import Logging
import SealedTesting
import Storage
import Testing

/// The one builder: the back ends a configuration names, the audit modes, and the data directory's life cycle.
struct SealedPlatformTests {
    static let logger: Logger = {
        var logger = Logger(label: "composition-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// A read-only KMS call's record.
    static func record() -> Record {
        Record(
            eventTime: Date(),
            eventSource: .kms,
            eventName: "ListKeys",
            awsRegion: "us-east-1",
            userIdentity: .unknown(accountId: "000000000000"),
            requestID: "r",
            readOnly: true,
            eventType: .awsServiceEvent,
            recipientAccountId: "000000000000"
        )
    }

    static func sqlite(_ url: URL) -> PlatformConfiguration {
        PlatformConfiguration(storage: .sqlite(dataDirectory: url))
    }

    @Test func aMemoryPlatformKeepsEverythingInMemory() async throws {
        let platform = try await SealedPlatform.build(
            PlatformConfiguration(storage: .memory, accountID: "123456789012"),
            environment: [:],
            logger: Self.logger
        )
        defer { platform.close() }
        #expect(platform.dataDirectory == nil)
        #expect(platform.audit.store is InMemoryAuditStore)
        #expect(platform.audit.sink is InMemoryAuditStore)
        #expect(platform.bus.transport is InMemoryTransport)
        #expect(platform.administratorARN == "arn:aws:iam::123456789012:user/admin")
        #expect(platform.keyService.configuration.accountID == "123456789012")
        // The administrator exists with its policy, on every start.
        #expect(platform.identities.isAllowed(platform.administratorARN, "iam:CreateUser", on: "*"))
        // The digest signer and the webhook deliveries run beside the edge; an embedded bus needs no service.
        #expect(platform.services.count == 2)
        #expect(platform.services.first is DigestService<ContinuousClock>)
        #expect(platform.services.last is WebhookService)
    }

    @Test(arguments: PlatformConfiguration.AuditMode.allCases)
    func theAuditModeDecidesWhereRecordsGo(mode: PlatformConfiguration.AuditMode) async throws {
        var configuration = PlatformConfiguration(storage: .memory)
        configuration.auditMode = mode
        let platform = try await SealedPlatform.build(configuration, environment: [:], logger: Self.logger)
        defer { platform.close() }
        try await platform.audit.sink?.record(Self.record())
        #expect((platform.audit.sink == nil) == (mode == .off))
        #expect(try await platform.audit.store.chainHead().sequence == (mode == .full ? 1 : 0))
    }

    @Test func governanceRuleCodesAreTheErrorCodesClientsSee() {
        #expect(
            GovernanceRefusal.Rule.allCases.map(\.rawValue) == [
                "EventTooLarge", "MalformedEnvelope", "UnknownEventType", "DomainMismatch", "EventNotSealed",
            ]
        )
        #expect("\(GovernanceRefusal(.eventTooLarge, "too big"))" == "EventTooLarge: too big")
    }

    @Test func aDataDirectoryIsCreatedOnceLockedWhileOpenAndReleasedByClose() async throws {
        try await withTemporaryDirectory { parent in
            let url = parent.appendingPathComponent("data")
            let first = try await SealedPlatform.build(Self.sqlite(url), environment: [:], logger: Self.logger)
            #expect(first.dataDirectory?.wasCreated == true)
            #expect(first.bus.transport is SQLiteTransport)
            #expect(FileManager.default.fileExists(atPath: url.appendingPathComponent("bus.sqlite").path))
            #expect(first.dataDirectory?.administratorCredentials == url.appendingPathComponent("admin.credentials"))
            await #expect(throws: StorageError(.directoryInUse, "")) {
                _ = try await SealedPlatform.build(Self.sqlite(url), environment: [:], logger: Self.logger)
            }
            first.close()
            let second = try await SealedPlatform.build(Self.sqlite(url), environment: [:], logger: Self.logger)
            defer { second.close() }
            #expect(second.dataDirectory?.wasCreated == false)
            #expect(second.administratorARN == first.administratorARN)
        }
    }

    @Test func aFailedBuildReleasesWhatItOpened() async throws {
        try await withTemporaryDirectory { parent in
            let url = parent.appendingPathComponent("data")
            try await SealedPlatform.build(Self.sqlite(url), environment: [:], logger: Self.logger).close()
            // Another account than the directory was made for: refused, and the lock is not left held.
            var other = Self.sqlite(url)
            other.accountID = "111111111111"
            await #expect(throws: StorageError(.configurationMismatch, "")) {
                _ = try await SealedPlatform.build(other, environment: [:], logger: Self.logger)
            }
            try await SealedPlatform.build(Self.sqlite(url), environment: [:], logger: Self.logger).close()
        }
    }
}
