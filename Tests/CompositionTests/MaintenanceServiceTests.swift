import AuditTrail
import Composition
import Crypto
import Foundation
import KeyService
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WireShapes

@Suite struct MaintenanceServiceTests {
    static let administrator = "arn:aws:iam::000000000000:user/admin"
    static let logger = Logger(label: "maintenance-test")
    /// A wall clock the test moves by hand.
    final class ManualClock: Sendable {
        private let date = Mutex(Date())
        var now: Date { date.withLock { $0 } }
        func advance(by interval: TimeInterval) { date.withLock { $0.addTimeInterval(interval) } }
    }

    /// A key service on a hand-moved clock with one key scheduled for deletion in 7 days, and the clock moved past them.
    static func keyPastItsDeletionWindow() async throws
        -> (store: InMemoryKeyStore, keyService: KeyService, key: String)
    {
        let clock = ManualClock()
        let store = InMemoryKeyStore()
        let keyService = try KeyService(
            store: store,
            rootKey: SymmetricKey(size: .bits256),
            authorizer: AdministratorAuthorizer(administrator: Self.administrator),
            now: { clock.now }
        )
        let caller = Caller(principal: Self.administrator)
        let key = try #require(try await keyService.createKey(CreateKeyRequest(), caller: caller).keyMetadata?.keyId)
        _ = try await keyService.scheduleKeyDeletion(
            ScheduleKeyDeletionRequest(keyId: key, pendingWindowInDays: 7),
            caller: caller
        )
        #expect(await store.allKeyRecords().count == 1)
        clock.advance(by: 8 * 86_400)
        return (store, keyService, key)
    }

    @Test func maintenanceDestroysKeysWhoseWindowPassedAndStopsOnShutdown() async throws {
        let (store, keyService, _) = try await Self.keyPastItsDeletionWindow()

        let service = MaintenanceService(keyService: keyService, interval: .milliseconds(10), logger: Self.logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], logger: Self.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for _ in 0..<500 {
                if await store.allKeyRecords().isEmpty { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(await store.allKeyRecords().isEmpty)
    }
}

extension MaintenanceServiceTests {
    /// #4: the maintenance sweep records a deletion before it destroys the key. With the trail unwritable the key
    /// survives the pass; once it heals, the pass destroys it after its intent record, then records the outcome.
    @Test func maintenanceDoesNotDestroyAKeyWhoseRecordCannotBeWritten() async throws {
        let (store, keyService, key) = try await Self.keyPastItsDeletionWindow()
        let audit = InMemoryAuditStore()
        let service = MaintenanceService(
            keyService: keyService,
            interval: .seconds(60),
            auditSink: audit,
            logger: Self.logger
        )

        struct DiskFull: Error {}
        await audit.setFailure(DiskFull())
        await #expect(throws: DiskFull.self) { try await service.runPass() }
        #expect(await store.allKeyRecords().count == 1)
        #expect(try await audit.chainHead().sequence == 0)

        await audit.setFailure(nil)
        let report = try await service.runPass()
        #expect(report.deletedKeyIDs == [key])
        #expect(await store.allKeyRecords().isEmpty)
        let records = try await audit.tail(after: 0, limit: 10).map(\.record)
        #expect(records.map(\.eventName) == ["DeleteKey", "DeleteKey"])
        #expect(records.map(\.isIntent) == [true, false])
        #expect(records.first?.requestID == records.last?.requestID)
        #expect(records.allSatisfy { $0.eventType == .awsServiceEvent })
    }
}
