import Foundation
import KMS
import SealedTesting
import SigV4

/// The moto fixture, with clients for its users.
typealias Moto = MotoFixture

extension MotoFixture.User {
    var credentials: Credentials { Credentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey) }
}

extension MotoFixture {
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

    /// The Python ESDK's KMS keyring for a key of this server, signed as `user` (default: `allowed`).
    func pythonKeyring(keyID: String, user: User? = nil) -> PythonESDK.Keyring {
        let user = user ?? allowed
        return .awsKMS(
            keyID: keyID,
            region: region,
            endpoint: endpoint,
            accessKeyID: user.accessKeyId,
            secretAccessKey: user.secretAccessKey
        )
    }
}

extension MotoFixture {
    func dynamoDB(_ user: User? = nil, options: ClientOptions = Moto.options) throws -> DynamoDBClient {
        try DynamoDBClient(
            region: region,
            credentialProvider: StaticCredentialProvider((user ?? allowed).credentials),
            endpoint: endpointURL,
            options: options
        )
    }

    /// A keystore on a table of this server, wrapped by `key` (default: the primary key), signed as `user`.
    func keyStore(
        table: String,
        key: String? = nil,
        user: User? = nil,
        dynamoDBOptions: ClientOptions = Moto.options
    ) throws -> BranchKeyStore {
        try BranchKeyStore(
            tableName: table,
            logicalKeyStoreName: table,
            kmsKeyARN: key ?? primaryKey,
            dynamoDB: try dynamoDB(user, options: dynamoDBOptions),
            kms: try kms(user)
        )
    }

    /// The Python MPL keystore on the same table and key, signed as `user` (default: `allowed`).
    func pythonKeyStore(table: String, key: String? = nil, user: User? = nil) -> PythonKeyStore.Configuration {
        let user = user ?? allowed
        return PythonKeyStore.Configuration(
            table: table,
            logicalName: table,
            kmsKeyARN: key ?? primaryKey,
            endpoint: endpoint,
            region: region,
            accessKeyID: user.accessKeyId,
            secretAccessKey: user.secretAccessKey
        )
    }

    /// A table name of its own for one test (tests run in parallel on one server).
    static func uniqueTable(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}
