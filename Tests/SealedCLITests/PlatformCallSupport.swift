import Foundation
import KMS
import PlatformClient
import SigV4
import Testing

extension EventPlatformTests.Server {
    /// A `/v1` client of this server with `credentials`, one attempt per call.
    func client(_ credentials: Credentials) throws -> PlatformClient {
        try PlatformClient(
            endpoint: endpoint,
            region: "us-east-1",
            credentialProvider: StaticCredentialProvider(credentials),
            options: ClientOptions(maxAttempts: 1, timeout: .seconds(30))
        )
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
