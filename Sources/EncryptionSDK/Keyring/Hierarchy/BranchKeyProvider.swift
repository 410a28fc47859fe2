public import Crypto

/// One version of a branch key, as a branch keystore returns it (ESDK spec `framework/structures.md`, branch key
/// materials): the plaintext key, its id and version, and the custom encryption context bound to it.
public struct BranchKeyMaterials: Sendable, CustomStringConvertible {
    /// The branch key id (the keystore's partition key).
    public var branchKeyIdentifier: String
    /// The version: a UUID in its 36-character lower-case string form.
    public var branchKeyVersion: String
    /// The custom encryption context of the branch key, without the keystore's `aws-crypto-ec:` prefix.
    public var encryptionContext: [String: String]
    /// The 32-byte branch key.
    public var branchKey: SymmetricKey

    public init(
        branchKeyIdentifier: String,
        branchKeyVersion: String,
        encryptionContext: [String: String],
        branchKey: SymmetricKey
    ) {
        self.branchKeyIdentifier = branchKeyIdentifier
        self.branchKeyVersion = branchKeyVersion
        self.encryptionContext = encryptionContext
        self.branchKey = branchKey
    }

    /// Names the key and version only, never the key.
    public var description: String {
        "BranchKeyMaterials(\(branchKeyIdentifier), version \(branchKeyVersion))"
    }
}

/// Where the hierarchical keyring gets branch keys: a branch keystore (`KMS.BranchKeyStore` on DynamoDB and KMS).
///
/// Errors a provider throws reach the caller unchanged on encrypt, and as the ``EncryptionSDKError/underlyingErrors``
/// of the keyring's `noDecryptableDataKey` on decrypt, so a caller can tell a destroyed key from access denied.
public protocol BranchKeyProvider: Sendable {
    /// The active version of a branch key (`GetActiveBranchKey`).
    func activeBranchKey(id: String) async throws -> BranchKeyMaterials
    /// One version of a branch key (`GetBranchKeyVersion`); `version` is the UUID string.
    func branchKeyVersion(id: String, version: String) async throws -> BranchKeyMaterials
}

/// Chooses the branch key of a message from its encryption context (the spec's branch key id supplier).
public protocol BranchKeyIDSupplier: Sendable {
    /// The branch key id for a message with this encryption context.
    func branchKeyID(for encryptionContext: EncryptionContext) throws -> String
}
