/// Wraps and unwraps data keys (ESDK spec `framework/keyring-interface.md`).
///
/// A keyring is the one thing a key service needs to provide to plug into the SDK: the raw AES and
/// RSA keyrings, the multi-keyring and the AWS KMS keyring all conform. `SealedTesting` ships
/// `KeyringContract`, a set of checks any conforming type should pass.
public protocol Keyring: Sendable {
    /// Adds an encrypted data key to the materials, generating the data key first if there is none.
    ///
    /// - Returns: the materials with a data key and one more encrypted data key.
    func onEncrypt(_ materials: EncryptionMaterials) async throws -> EncryptionMaterials

    /// Sets the materials' data key from the first of `encryptedDataKeys` this keyring can decrypt.
    ///
    /// - Returns: the materials with ``DecryptionMaterials/plaintextDataKey`` set.
    /// - Throws: when no encrypted data key could be decrypted, or the materials already hold a key.
    func onDecrypt(
        _ materials: DecryptionMaterials,
        encryptedDataKeys: [EncryptedDataKey]
    ) async throws -> DecryptionMaterials
}

extension EncryptionSDKError {
    static func noDecryptableKey(_ reason: String = "no keyring could decrypt any encrypted data key") -> Self {
        .init(.noDecryptableDataKey, reason)
    }
}
