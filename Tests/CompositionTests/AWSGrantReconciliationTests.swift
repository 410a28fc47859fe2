import AWSGovernance
import AccessControl
import AuditTrail
import Catalog
import Composition
import Foundation
import KMS
import Logging
import SealedTesting
import SigV4
import Testing

/// A crash between the edit in AWS and storing the access request (``AccessGrantEffects``: the platform's IAM, then
/// AWS, then the request) leaves a reader role's trust policy apart from the stored requests. `sealed serve --aws`
/// repairs it at start, the platform's own statements only, and records each repair. Against moto with IAM enforced,
/// as the fixture's `platform` user; the trust policy read back as the fixture's IAM administrator.
struct AWSGrantReconciliationTests {
    static let logger = Logger(label: "aws-grant-reconciliation")

    @Test func aRestartRepairsTheGrantsACrashLeftInATrustPolicy() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aws-reconcile-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let admin = moto.iamAdmin.arn
        let configuration = PlatformConfiguration(
            storage: .sqlite(dataDirectory: folder),
            aws: .init(endpoint: moto.endpointURL, administrators: [admin], serverID: "sealed-test")
        )
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (team, domain) = ("payments-\(tag)", "payments\(tag)")
        let type = "\(domain).card.captured"
        let roleName = AWSNames.readerRole(eventType: type)
        let (reviewer, consumer) = (moto.denied.arn, moto.allowed.arn)
        let (other, stranger) = (moto.tableReader.arn, moto.platform.arn)
        let iam = try IAMClient(
            region: moto.region,
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: moto.iamAdmin.accessKeyId, secretAccessKey: moto.iamAdmin.secretAccessKey)
            ),
            endpoint: moto.endpointURL,
            options: ClientOptions(maxAttempts: 2, baseBackoff: .milliseconds(10), timeout: .seconds(10))
        )
        func grants() async throws -> [String: Date?] {
            try TrustPolicy(parsing: try await iam.getRole(name: roleName).assumeRolePolicyDocument ?? "{}").grants
        }

        // Two granted requests, stored and in the trust policy.
        let first = try await SealedPlatform.build(configuration, environment: moto.environment(), logger: Self.logger)
        let end: Date?
        let otherEnd: Date?
        do {
            defer { first.close() }
            _ = try await first.identities.createTeam(team, by: .principal(admin))
            try await first.identities.addMember(principal: reviewer, toTeam: team, by: .principal(admin))
            _ = try await first.catalog.createDomain(domain, owner: team, by: admin)
            _ = try await first.catalog.createEventType(.init(name: type, domain: domain), by: admin)
            let request = try await first.access.request(
                type,
                justification: "fraud",
                durationSeconds: 3600,
                by: consumer
            )
            end = try await first.access.approve(request.id, comment: "ok", by: reviewer).expirationDate
            let second = try await first.access.request(type, justification: "ops", durationSeconds: 7200, by: other)
            otherEnd = try await first.access.approve(second.id, comment: "ok", by: reviewer).expirationDate
            #expect(try await grants().keys.sorted() == [consumer, other].sorted())

            // As if the process died twice after the edit in AWS, before storing the request: an approval of a
            // stranger's request (its grant written, the request never stored approved), and a revocation of the
            // consumer's (its grant removed, the request still stored approved).
            let governor = try #require(first.aws).governor
            try await governor.grant(eventType: type, to: stranger, until: Date().addingTimeInterval(3600))
            try await governor.revoke(eventType: type, from: consumer)
            #expect(try await grants().keys.sorted() == [other, stranger].sorted())
        }

        // The restart repairs both, and leaves the grant that was right alone.
        do {
            let restarted = try await SealedPlatform.build(
                configuration,
                environment: moto.environment(),
                logger: Self.logger
            )
            defer { restarted.close() }
            let repaired = try await grants()
            #expect(repaired.keys.sorted() == [consumer, other].sorted())
            #expect(repaired[consumer] == .some(TrustPolicy.wholeSeconds(end)))
            #expect(repaired[other] == .some(TrustPolicy.wholeSeconds(otherEnd)))
            let records = try await restarted.audit.store.query(AuditQuery(eventName: "AWSGrantReconciled"))
            let differences = records.compactMap { $0.record.requestParameters?["difference"]?.stringValue }.sorted()
            #expect(
                differences == [
                    "\(type): \(consumer)'s grant is missing from the trust policy",
                    "\(type): the trust policy grants \(stranger), who holds no grant",
                ]
            )
        }

        // Nothing left to repair: a second restart records nothing more.
        let again = try await SealedPlatform.build(configuration, environment: moto.environment(), logger: Self.logger)
        defer { again.close() }
        #expect(try await again.audit.store.query(AuditQuery(eventName: "AWSGrantReconciled")).count == 2)
        #expect(try await grants().keys.sorted() == [consumer, other].sorted())
    }
}
