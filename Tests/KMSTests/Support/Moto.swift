import Foundation
import KMS
import SealedTesting
import SigV4

/// The moto server `scripts/test` starts, as described by the fixture `scripts/peers/moto_setup.py` writes
/// (path in `SEALED_MOTO_FIXTURE`): endpoint, region, keys, alias, users' access keys and a role.
struct Moto: Decodable, Sendable {
    struct User: Decodable, Sendable {
        var arn: String
        var accessKeyId: String
        var secretAccessKey: String
        var credentials: Credentials { Credentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey) }
    }

    struct Role: Decodable, Sendable {
        var arn: String
        var name: String
    }

    var endpoint: String
    var region: String
    var account: String
    /// `primary` (target of ``alias``) and `secondary`: symmetric key ARNs.
    var keys: [String: String]
    var alias: String
    var aliasArn: String
    /// `allowed` (kms:*, sts:AssumeRole) and `denied` (kms:DescribeKey, kms:ListKeys only).
    var users: [String: User]
    /// Trusts `allowed`; kms:*.
    var role: Role

    var endpointURL: URL { URL(string: endpoint)! }
    var primaryKey: String { keys["primary"]! }
    var secondaryKey: String { keys["secondary"]! }
    var allowed: User { users["allowed"]! }
    var denied: User { users["denied"]! }

    /// The fixture, or `nil` on a local run without moto (a CI run throws instead).
    static func located() throws -> Moto? {
        guard let path = ProcessInfo.processInfo.environment["SEALED_MOTO_FIXTURE"], !path.isEmpty,
            FileManager.default.fileExists(atPath: path)
        else {
            if TestEnvironment.isCI {
                throw TestEnvironment.Missing(
                    description: "the moto fixture (SEALED_MOTO_FIXTURE) is missing with CI=true (run scripts/test)"
                )
            }
            print("note: skipping, moto not running (SEALED_MOTO_FIXTURE unset; scripts/test starts it)")
            return nil
        }
        return try JSONDecoder().decode(Moto.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Fast-failing options for tests: two attempts, short backoff, a 10-second timeout.
    static let options = ClientOptions(maxAttempts: 2, baseBackoff: .milliseconds(10), timeout: .seconds(10))

    func kms(_ user: User? = nil) throws -> KMSClient {
        try KMSClient(
            region: region,
            credentialProvider: StaticCredentialProvider((user ?? allowed).credentials),
            endpoint: endpointURL,
            options: Self.options
        )
    }

    func kms(provider: any CredentialProvider) throws -> KMSClient {
        try KMSClient(region: region, credentialProvider: provider, endpoint: endpointURL, options: Self.options)
    }

    func sts(_ user: User? = nil) throws -> STSClient {
        try STSClient(
            region: region,
            credentialProvider: StaticCredentialProvider((user ?? allowed).credentials),
            endpoint: endpointURL,
            options: Self.options
        )
    }
}
