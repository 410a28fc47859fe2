/// The names of a branch keystore: the DynamoDB table its items are in, and the logical keystore name bound into
/// every branch key's encryption context.
public struct KeyStoreName: Sendable, Hashable, Codable {
    public var tableName: String
    public var logicalKeyStoreName: String

    public init(tableName: String, logicalKeyStoreName: String) {
        self.tableName = tableName
        self.logicalKeyStoreName = logicalKeyStoreName
    }
}

/// Creates and destroys the subjects' branch keys in the platform's branch keystore (the AWS Encryption SDK's
/// hierarchical keyring reads them from there). The platform implements it with the KMS module's `BranchKeyStore`
/// over its DynamoDB tables and key service; the subject service never talks to the keystore otherwise.
public protocol BranchKeyCustodian: Sendable {
    /// The keystore the branch keys are in; producers and readers point their keyrings at it.
    var keyStore: KeyStoreName { get }

    /// Creates the branch key `id` (its active version and its beacon key), wrapped by the KMS key `kmsKeyARN`, with
    /// `encryptionContext` as its custom encryption context (the keystore prefixes each key with `aws-crypto-ec:`).
    ///
    /// Must succeed when a branch key `id` already exists: a crash between creating a key and recording it leaves a
    /// key the service does not know, and the next resolve creates it again.
    func createBranchKey(id: String, kmsKeyARN: String, encryptionContext: [String: String]) async throws

    /// Deletes every item of the branch key `id` (each version, the active item, the beacon key) from the keystore;
    /// returns how many there were (0 for a branch key that does not exist, which is not an error).
    func destroyBranchKey(id: String, kmsKeyARN: String) async throws -> Int
}
