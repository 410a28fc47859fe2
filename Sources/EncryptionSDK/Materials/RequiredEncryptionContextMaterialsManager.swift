/// Keeps named encryption-context pairs out of the message while still authenticating them: the
/// decryptor must supply them again (ESDK spec `framework/required-encryption-context-cmm.md`).
public struct RequiredEncryptionContextMaterialsManager: CryptographicMaterialsManager {
    public let underlying: any CryptographicMaterialsManager
    public let requiredKeys: [String]

    /// - Throws: ``EncryptionSDKError`` `invalidArgument` when `requiredKeys` is empty.
    public init(underlying: any CryptographicMaterialsManager, requiredKeys: [String]) throws(EncryptionSDKError) {
        guard !requiredKeys.isEmpty else {
            throw .invalidArgument("a required-encryption-context CMM needs at least one key")
        }
        self.underlying = underlying
        self.requiredKeys = Array(Set(requiredKeys)).sorted()
    }

    /// Over the default CMM of `keyring`.
    public init(keyring: any Keyring, requiredKeys: [String]) throws(EncryptionSDKError) {
        try self.init(underlying: DefaultMaterialsManager(keyring: keyring), requiredKeys: requiredKeys)
    }

    public func encryptionMaterials(for request: EncryptionMaterialsRequest) async throws -> EncryptionMaterials {
        for key in requiredKeys where request.encryptionContext[key] == nil {
            throw EncryptionSDKError.invalidContext("the encryption context lacks required key \"\(key)\"")
        }
        var request = request
        request.requiredEncryptionContextKeys = Array(Set(request.requiredEncryptionContextKeys).union(requiredKeys))
            .sorted()
        let materials = try await underlying.encryptionMaterials(for: request)
        guard Set(requiredKeys).isSubset(of: materials.requiredEncryptionContextKeys) else {
            throw EncryptionSDKError.invalidMaterials("the underlying CMM dropped required encryption context keys")
        }
        return materials
    }

    public func decryptionMaterials(for request: DecryptionMaterialsRequest) async throws -> DecryptionMaterials {
        for key in requiredKeys where request.reproducedEncryptionContext[key] == nil {
            throw EncryptionSDKError.invalidContext("decrypting needs required encryption context key \"\(key)\"")
        }
        let materials = try await underlying.decryptionMaterials(for: request)
        for key in requiredKeys where materials.encryptionContext[key] == nil {
            throw EncryptionSDKError.invalidMaterials(
                "the underlying CMM dropped required encryption context key \"\(key)\""
            )
        }
        return materials
    }
}
