import AuditTrail
import Composition
import Foundation
import KMS
import PlatformClient
import SealedServerTesting
import SigV4
import Testing

/// `PlatformClient.download`, which `sealed audit export` writes its file with, against a live server: an export far
/// beyond the client's 4 MiB response limit arrives whole and verifies with the audit public key.
@Suite struct AuditExportDownloadTests {
    @Test func anExportOverTheResponseLimitIsStreamedWhole() async throws {
        let fixture = try await PlatformFixture()
        let sink = try #require(fixture.platform.audit.sink)
        // About 10 MiB of records: each carries 2 KiB of parameters.
        let padding = String(repeating: "p", count: 2048)
        for index in 0..<5_000 {
            try await sink.record(
                Record(
                    eventTime: Date(),
                    eventSource: .kms,
                    eventName: "Decrypt",
                    awsRegion: "us-east-1",
                    userIdentity: .iamUser(name: "reader", accountId: "000000000000", accessKeyId: "AKIA1"),
                    sourceIPAddress: "127.0.0.1",
                    userAgent: "tests",
                    requestParameters: ["padding": .string(padding)],
                    responseElements: nil,
                    errorCode: nil,
                    errorMessage: nil,
                    requestID: "r-\(index)",
                    eventID: "e-\(index)",
                    readOnly: true,
                    resources: [],
                    recipientAccountId: "000000000000"
                )
            )
        }
        try await withLiveServer(fixture.server, logger: fixture.logger) { port in
            let client = try PlatformClient(
                endpoint: URL(string: "http://127.0.0.1:\(port)")!,
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(
                    Credentials(accessKeyId: fixture.admin.id, secretAccessKey: fixture.admin.secret)
                )
            )
            var export = Data()
            var chunks = 0
            try await client.download(.exportEvents) { chunk in
                export.append(contentsOf: chunk)
                chunks += 1
            }
            #expect(export.count > 2 * ClientOptions().maxResponseBytes, "\(export.count) bytes")
            #expect(chunks > 1)
            let report = try Export.verify(export, publicKey: fixture.platform.audit.signingKey.publicKey, unsignedLimit: nil)
            #expect(report.problem == nil, "\(String(describing: report.problem))")
            #expect(report.recordsChecked >= 5_000)

            // What is refused is refused as before: another caller's signature.
            let stranger = try PlatformClient(
                endpoint: URL(string: "http://127.0.0.1:\(port)")!,
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(
                    Credentials(accessKeyId: fixture.admin.id, secretAccessKey: "wrong")
                )
            )
            await #expect(throws: PlatformError.self) { try await stranger.download(.exportEvents) { _ in } }
        }
    }
}
