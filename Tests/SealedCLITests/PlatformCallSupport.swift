import Foundation
import KMS
import PlatformClient
import SealedTesting
import SigV4
import Testing

extension ServeProcess {
    /// The administrator's credentials, from `DATA_DIR/admin.credentials`.
    var administrator: Credentials {
        get throws {
            let files = ProfileFile.load(environment: [
                "AWS_SHARED_CREDENTIALS_FILE": administratorCredentialsFile.path,
                "AWS_CONFIG_FILE": "/nonexistent",
            ])
            let profile = try #require(files[profile: "sealed-admin"])
            return Credentials(
                accessKeyId: try #require(profile["aws_access_key_id"]),
                secretAccessKey: try #require(profile["aws_secret_access_key"])
            )
        }
    }

    /// The environment in which the CLI and the aws CLI act as the administrator: its credentials file and profile
    /// (`sealed-admin`), no config file.
    var administratorEnvironment: [String: String] {
        [
            "AWS_SHARED_CREDENTIALS_FILE": administratorCredentialsFile.path,
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_PROFILE": "sealed-admin",
        ]
    }

    /// A KMS client of this server as the administrator, one attempt per call.
    func kms() throws -> KMSClient {
        try KMSClient(
            region: "us-east-1",
            credentialProvider: StaticCredentialProvider(try administrator),
            endpoint: endpoint,
            options: ClientOptions(maxAttempts: 1, timeout: .seconds(20))
        )
    }

    /// Runs the CLI against this server as the administrator (its profile); fails unless it exits 0.
    func cli(_ arguments: [String], json: Bool = true) async throws -> ESDKCommandTests.Run {
        let run = try await ESDKCommandTests.sealed(
            arguments + (json ? ["--output", "json"] : []) + [
                "--endpoint-url", endpoint.absoluteString, "--profile", "sealed-admin", "--region", "us-east-1",
            ],
            environment: [
                "AWS_SHARED_CREDENTIALS_FILE": administratorCredentialsFile.path,
                "AWS_CONFIG_FILE": "/nonexistent",
            ]
        )
        try #require(run.status == 0, "sealed \(arguments.joined(separator: " ")): \(run.stderr)")
        return run
    }

    /// A `/v1` client of this server with `credentials`, one attempt per call.
    func client(_ credentials: Credentials) throws -> PlatformClient {
        try Endpoint(self).client(credentials)
    }

    /// A new user without policies, created by `admin`; its credentials.
    func user(_ name: String, by admin: PlatformClient) async throws -> Credentials {
        let created = try await admin.call("POST", ["iam", "users"], body: ["UserName": name])
        return Credentials(
            accessKeyId: try #require(created["AccessKeyId"] as? String),
            secretAccessKey: try #require(created["SecretAccessKey"] as? String)
        )
    }
}

/// The error `call` fails with; a call that succeeds is recorded as a test failure.
func refusal(_ call: () async throws -> [String: Any]) async throws -> PlatformError {
    do {
        _ = try await call()
    } catch let error as PlatformError {
        return error
    }
    Issue.record("the call was accepted")
    return PlatformError(code: "", message: "", statusCode: 0)
}

extension ServeProcess {
    /// What a worker needs to make clients for new users: the endpoint, captured once (the process object is not
    /// `Sendable`).
    struct Endpoint: Sendable {
        let url: URL

        init(_ server: ServeProcess) { url = server.endpoint }

        func client(_ credentials: Credentials) throws -> PlatformClient {
            try PlatformClient(
                endpoint: url,
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(credentials),
                options: ClientOptions(maxAttempts: 1, timeout: .seconds(30))
            )
        }
    }
}
