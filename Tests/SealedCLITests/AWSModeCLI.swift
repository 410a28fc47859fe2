import Foundation
import SealedTesting
import Testing

/// An AWS identity of moto for the CLI: a user's access key, or a role session's with its token.
struct AWSPerson: Decodable {
    var arn: String
    var accessKeyId: String
    var secretAccessKey: String
    var sessionToken: String?
}

/// The built `sealed serve --aws` against moto (as the fixture's `platform` user), and the built CLI run with `--aws`
/// as any AWS identity.
struct AWSModeCLI {
    let moto: MotoFixture
    let server: ServeProcess

    /// Starts the server with `administrator` as its one administrator.
    init(_ moto: MotoFixture, administrator: String) throws {
        self.moto = moto
        server = try ServeProcess(
            dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("aws-cli-\(UUID())"),
            arguments: ["--aws", "--aws-endpoint-url", moto.endpoint, "--admin-principal-arn", administrator],
            environment: moto.environment()
        )
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(at: server.dataDirectory)
    }

    /// `sealed ARGUMENTS --aws` as `person`, its output and errors merged.
    func sealed(_ person: AWSPerson, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        var environment = [
            "AWS_ACCESS_KEY_ID": person.accessKeyId, "AWS_SECRET_ACCESS_KEY": person.secretAccessKey,
            "AWS_REGION": moto.region, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        ]
        environment["AWS_SESSION_TOKEN"] = person.sessionToken
        let outcome = try await ChildProcess.run(
            try TestEnvironment.sealedBinary,
            arguments: arguments + [
                "--aws", "--aws-endpoint-url", moto.endpoint, "--endpoint-url", server.endpoint.absoluteString,
            ],
            environment: environment,
            mergingErrors: true,
            deadline: .seconds(60)
        )
        return (outcome.status, outcome.output)
    }

    /// `sealed ARGUMENTS --aws` as `person`, expected to succeed; its output.
    func succeeds(_ person: AWSPerson, _ arguments: [String]) async throws -> String {
        let run = try await sealed(person, arguments)
        #expect(run.status == 0, "sealed \(arguments.joined(separator: " ")): \(run.output)")
        return run.output
    }

    /// Runs a boto3 `script` (its `sys.argv`: endpoint, region, then `arguments`) as `user`; its standard output.
    static func boto3(
        _ script: String,
        _ arguments: [String],
        as user: MotoFixture.User,
        _ moto: MotoFixture,
        python: URL
    ) async throws -> Data {
        let outcome = try await ChildProcess.run(
            python,
            arguments: ["-c", script, moto.endpoint, moto.region] + arguments,
            environment: ["AWS_ACCESS_KEY_ID": user.accessKeyId, "AWS_SECRET_ACCESS_KEY": user.secretAccessKey],
            deadline: .seconds(60)
        )
        try #require(outcome.status == 0, "boto3 failed: \(outcome.errors)")
        return outcome.standardOutput
    }
}
