import ArgumentParser
import Composition
import Foundation
@testable import SealedCLI
import Testing

/// `sealed serve`'s options, as the one `PlatformConfiguration` the builder takes.
struct ServeConfigurationTests {
    @Test func theDefaultsAreTheConfigurationsDefaults() throws {
        let command = try ServeCommand.parse([])
        var expected = PlatformConfiguration()
        expected.storage = .sqlite(dataDirectory: URL(fileURLWithPath: "sealed-data", isDirectory: true))
        #expect(command.platformConfiguration == expected)
    }

    @Test func everyPlatformOptionReachesTheConfiguration() throws {
        let command = try ServeCommand.parse([
            "--data-dir", "/tmp/d", "--region", "eu-west-1", "--account-id", "123456789012",
            "--bus", "nats://a:4222,b:4222", "--bus-replicas", "3", "--unknown-event-types", "allow",
            "--max-event-bytes", "2048", "--audit-commit-interval", "0", "--audit-mode", "build-only",
        ])
        #expect(
            command.platformConfiguration
                == PlatformConfiguration(
                    storage: .sqlite(dataDirectory: URL(fileURLWithPath: "/tmp/d", isDirectory: true)),
                    bus: .nats(servers: "nats://a:4222,b:4222", replicas: 3),
                    region: "eu-west-1",
                    accountID: "123456789012",
                    unknownEventTypes: .allow,
                    maximumEventBytes: 2048,
                    auditCommitInterval: .zero,
                    auditMode: .buildOnly
                )
        )
    }

    /// Without the option each store keeps its own default (`nil`); a fraction of a millisecond is kept to the microsecond.
    @Test func theAuditCommitIntervalIsTheStoresDefaultUnlessGiven() throws {
        #expect(try ServeCommand.parse([]).platformConfiguration.auditCommitInterval == nil)
        let command = try ServeCommand.parse(["--audit-commit-interval", "0.25"])
        #expect(command.platformConfiguration.auditCommitInterval == .microseconds(250))
    }

    @Test func thePendingRequestLifetimeReachesTheConfiguration() throws {
        #expect(try ServeCommand.parse([]).platformConfiguration.pendingRequestLifetime == .seconds(7 * 86_400))
        let command = try ServeCommand.parse(["--pending-request-lifetime", "36h"])
        #expect(command.platformConfiguration.pendingRequestLifetime == .seconds(36 * 3600))
        for wrong in ["30m", "400d", "7", "d"] {
            #expect(throws: (any Error).self, "\(wrong)") { try ServeCommand.parse(["--pending-request-lifetime", wrong]) }
        }
    }

    @Test(arguments: ["full", "build-only", "off"])
    func everyAuditModeParses(mode: String) throws {
        let command = try ServeCommand.parse(["--audit-mode", mode])
        #expect(command.platformConfiguration.auditMode.rawValue == mode)
    }
}
