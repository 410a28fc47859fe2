public import Foundation

/// The moto server `scripts/test` starts, as described by the fixture `scripts/peers/moto_setup.py` writes
/// (path in `SEALED_MOTO_FIXTURE`): endpoint, region, keys, alias, users' access keys and a role.
public struct MotoFixture: Decodable, Sendable {
    public struct User: Decodable, Sendable {
        public var arn: String
        public var accessKeyId: String
        public var secretAccessKey: String

        public init(arn: String, accessKeyId: String, secretAccessKey: String) {
            self.arn = arn
            self.accessKeyId = accessKeyId
            self.secretAccessKey = secretAccessKey
        }
    }

    public struct Role: Decodable, Sendable {
        public var arn: String
        public var name: String
    }

    public var endpoint: String
    public var region: String
    public var account: String
    /// `primary` (target of ``alias``) and `secondary`: symmetric key ARNs.
    public var keys: [String: String]
    public var alias: String
    public var aliasArn: String
    /// `allowed` (kms:*, dynamodb:*, sts:AssumeRole), `denied` (kms:DescribeKey, kms:ListKeys only),
    /// `tablereader` (dynamodb:GetItem and dynamodb:Query only), `iamadmin` (iam:*, s3:*) and `platform`
    /// (docs/aws/platform-policy.json's actions: moto enforces actions, not their resources).
    public var users: [String: User]
    /// Trusts `allowed`; kms:*.
    public var role: Role

    public var endpointURL: URL { URL(string: endpoint)! }
    public var primaryKey: String { keys["primary"]! }
    public var secondaryKey: String { keys["secondary"]! }
    public var allowed: User { users["allowed"]! }
    public var denied: User { users["denied"]! }
    public var tableReader: User { users["tablereader"]! }
    public var iamAdmin: User { users["iamadmin"]! }
    public var platform: User { users["platform"]! }

    /// A process environment for `sealed serve --aws` against this moto: `user`'s credentials (``platform`` by
    /// default), the region, and no AWS config or credentials files.
    public func environment(as user: User? = nil) -> [String: String] {
        let user = user ?? platform
        return [
            "AWS_ACCESS_KEY_ID": user.accessKeyId, "AWS_SECRET_ACCESS_KEY": user.secretAccessKey,
            "AWS_REGION": region, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        ]
    }

    /// The fixture, or `nil` on a local run without moto (a CI run throws instead).
    public static func located() throws -> MotoFixture? {
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
        return try JSONDecoder().decode(MotoFixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
