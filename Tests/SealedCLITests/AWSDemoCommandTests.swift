import Foundation
import SealedTesting
import Testing

/// `sealed demo --aws` against moto with IAM enforced: the built binary plays the whole story as the fixture's
/// `iamadmin` (the operator: it casts IAM users and administers the server), with `sealed serve --aws` as the
/// fixture's `platform` user — started by the demo in its own process, or a server the demo is pointed at. moto
/// refuses what resource-scoped identity policies allow (the producer's `GenerateDataKey`, the reader session's
/// `Decrypt`) and lets anyone assume a role whose trust policy denies everyone: the demo must say so each time, show
/// the platform's evaluator on the live documents instead, and still exit 0.
struct AWSDemoCommandTests {
    /// The demo's output, its status expected 0, and the lines every run must print.
    static func expectStory(_ outcome: ChildProcess.Outcome, _ moto: MotoFixture) {
        let output = outcome.output
        #expect(outcome.status == 0, "sealed demo --aws: \(output)")
        #expect(output.contains("account \(moto.account)"))
        #expect(output.contains("(an administrator)") && output.contains(moto.iamAdmin.arn))
        #expect(output.contains("KMS key arn:aws:kms:\(moto.region):\(moto.account):key/"))
        #expect(output.contains("reader role arn:aws:iam::\(moto.account):role/sealed/sealed-reader-payments-"))
        #expect(output.contains("nobody can decrypt payments-"))
        // moto checks identity policies against "*": both refusals are named, with what the evaluator found.
        #expect(output.contains("the endpoint refused checkout-service's kms:GenerateDataKey"))
        #expect(output.contains("stand-in policy"))
        #expect(output.contains("payments-reviewer-1 approved; still pending"))
        #expect(output.contains("trust policy: analytics, DateLessThan"))
        #expect(output.contains("who can decrypt payments-") && output.contains(": analytics-service"))
        #expect(output.contains("session arn:aws:sts::\(moto.account):assumed-role/sealed-reader-payments-"))
        #expect(output.contains("the endpoint refused the session's kms:Decrypt"))
        #expect(output.contains("no longer names analytics-service"))
        #expect(output.contains("export verified with the public key alone"))
        // moto lets a consumer assume a reader role whose trust policy names nobody (it reads the Deny statement
        // as an Allow): the refusals before the grant and after its revocation are KMS's, and named as such.
        #expect(output.components(separatedBy: "although the trust policy does not name it").count == 3)
        #expect(output.contains("every step behaved as told; 4 this endpoint could not perform as AWS would"))
        #expect(output.contains("removed the demo's 4 IAM users"))
        #expect(!output.contains(moto.iamAdmin.secretAccessKey) && !output.contains(moto.platform.secretAccessKey))
    }

    @Test func theDemoStartsAServerAndPlaysTheStoryAgainstMoto() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aws-demo-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let credentials = folder.appendingPathComponent("credentials")
        try Data(
            """
            [platform]
            aws_access_key_id = \(moto.platform.accessKeyId)
            aws_secret_access_key = \(moto.platform.secretAccessKey)

            """.utf8
        ).write(to: credentials)
        var environment = moto.environment(as: moto.iamAdmin)
        environment["AWS_SHARED_CREDENTIALS_FILE"] = credentials.path
        let outcome = try await ChildProcess.run(
            try TestEnvironment.sealedBinary,
            arguments: ["demo", "--aws", "--aws-endpoint-url", moto.endpoint, "--platform-profile", "platform"],
            environment: environment,
            mergingErrors: true,
            deadline: .seconds(180)
        )
        Self.expectStory(outcome, moto)
        #expect(outcome.output.contains("sealed serve --aws in this process on http://127.0.0.1:"))
        #expect(outcome.output.contains("live store verified, every record under a signed digest"))
    }

    /// `sealed demo --aws` as moto's `iamadmin`, pointed at a `sealed serve --aws` whose administrator is `administrator`.
    static func demoAgainstARunningServer(_ moto: MotoFixture, administrator: String) async throws -> (ChildProcess.Outcome, URL) {
        let aws = try AWSModeCLI(moto, administrator: administrator)
        defer { aws.stop() }
        let outcome = try await ChildProcess.run(
            try TestEnvironment.sealedBinary,
            arguments: [
                "demo", "--aws", "--aws-endpoint-url", moto.endpoint, "--endpoint-url",
                aws.server.endpoint.absoluteString,
            ],
            environment: moto.environment(as: moto.iamAdmin),
            mergingErrors: true,
            deadline: .seconds(180)
        )
        return (outcome, aws.server.endpoint)
    }

    @Test func theDemoPlaysTheStoryAgainstARunningServer() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let (outcome, endpoint) = try await Self.demoAgainstARunningServer(moto, administrator: moto.iamAdmin.arn)
        Self.expectStory(outcome, moto)
        #expect(outcome.output.contains("the server at \(endpoint.absoluteString)"))
    }

    @Test func aDemoRunByANonAdministratorStopsAndRemovesItsUsers() async throws {
        guard let moto = try MotoFixture.located() else { return }
        let (outcome, _) = try await Self.demoAgainstARunningServer(moto, administrator: moto.allowed.arn)
        #expect(outcome.status == 1, "\(outcome.output)")
        #expect(outcome.output.contains("✗ the demo stopped") && outcome.output.contains("AccessDenied"))
        #expect(outcome.output.contains("removed the demo's 4 IAM users"))
        #expect(!outcome.output.contains("every step behaved as told"))
    }

    @Test func theDemoRefusesAWSOptionsItCannotUse() async throws {
        let without = try await ChildProcess.run(
            try TestEnvironment.sealedBinary,
            arguments: ["demo", "--aws-endpoint-url", "http://127.0.0.1:1"],
            mergingErrors: true,
            deadline: .seconds(30)
        )
        #expect(without.status != 0 && without.output.contains("need --aws"))
        let noPlatform = try await ChildProcess.run(
            try TestEnvironment.sealedBinary,
            arguments: ["demo", "--aws", "--aws-endpoint-url", "http://127.0.0.1:1"],
            mergingErrors: true,
            deadline: .seconds(30)
        )
        #expect(noPlatform.status != 0 && noPlatform.output.contains("--platform-profile"))
    }
}
