internal import Crypto
internal import SealedSupport

/// The default CMM: asks one keyring for the data key and manages the signing keys of signed suites
/// (ESDK spec `framework/default-cmm.md`).
public struct DefaultMaterialsManager: CryptographicMaterialsManager {
    public let keyring: any Keyring

    public init(keyring: any Keyring) {
        self.keyring = keyring
    }

    public func encryptionMaterials(for request: EncryptionMaterialsRequest) async throws -> EncryptionMaterials {
        let suite = request.algorithmSuite ?? request.commitmentPolicy.defaultSuite
        try request.commitmentPolicy.checkEncrypt(suite)
        var context = request.encryptionContext
        var signingKey: SigningKey?
        if let signature = suite.signature {
            guard context[publicKeyContextKey] == nil else {
                throw EncryptionSDKError.invalidContext("the encryption context already holds \(publicKeyContextKey)")
            }
            let key = SigningKey(for: signature)
            context[publicKeyContextKey] = key.publicKeyContextValue
            signingKey = key
        }
        let materials = try await keyring.onEncrypt(
            EncryptionMaterials(
                algorithmSuite: suite,
                encryptionContext: context,
                requiredEncryptionContextKeys: request.requiredEncryptionContextKeys,
                signingKey: signingKey
            )
        )
        try materials.validate()
        return materials
    }

    public func decryptionMaterials(for request: DecryptionMaterialsRequest) async throws -> DecryptionMaterials {
        let suite = request.algorithmSuite
        try request.commitmentPolicy.checkDecrypt(suite)
        // ESDK spec `default-cmm.md#decrypt-materials`: reproduced pairs must agree with stored ones;
        // reproduced pairs the header lacks are authenticated only, and must be required keys.
        var context = request.encryptionContext
        var required: [String] = []
        for (key, value) in request.reproducedEncryptionContext {
            if let stored = context[key] {
                guard stored.hasSameUTF8(as: value) else {
                    throw EncryptionSDKError.invalidContext(
                        "the reproduced encryption context disagrees on key \"\(key)\""
                    )
                }
            } else {
                context[key] = value
                required.append(key)
            }
        }
        var materials = DecryptionMaterials(
            algorithmSuite: suite,
            encryptionContext: context,
            requiredEncryptionContextKeys: required.sorted()
        )
        if let signature = suite.signature {
            guard let value = context[publicKeyContextKey] else {
                throw EncryptionSDKError.invalidContext("a signed message lacks \(publicKeyContextKey)")
            }
            materials.verificationKey = try VerificationKey(contextValue: value, for: signature)
        } else if context[publicKeyContextKey] != nil {
            throw EncryptionSDKError.invalidContext("an unsigned message carries \(publicKeyContextKey)")
        }
        materials = try await keyring.onDecrypt(materials, encryptedDataKeys: request.encryptedDataKeys)
        try materials.validate()
        return materials
    }
}

extension EncryptionMaterials {
    /// ESDK spec `framework/structures.md#encryption-materials`: a data key of the suite's length, at
    /// least one encrypted data key, and a signing key exactly when the suite signs.
    func validate() throws(EncryptionSDKError) {
        guard let key = plaintextDataKey, key.bitCount == algorithmSuite.keyLength * 8 else {
            throw .invalidMaterials("the keyring returned no data key of the suite's length")
        }
        guard !encryptedDataKeys.isEmpty else { throw .invalidMaterials("the keyring returned no encrypted data key") }
        guard (signingKey != nil) == (algorithmSuite.signature != nil),
            signingKey?.algorithm == algorithmSuite.signature
        else {
            throw .invalidMaterials("the signing key does not match the suite")
        }
        for edk in encryptedDataKeys { try edk.validateLengths() }
        for key in requiredEncryptionContextKeys where encryptionContext[key] == nil {
            throw .invalidMaterials("required encryption context key \"\(key)\" is not in the context")
        }
    }
}

extension DecryptionMaterials {
    func validate() throws(EncryptionSDKError) {
        guard let key = plaintextDataKey, key.bitCount == algorithmSuite.keyLength * 8 else {
            throw .invalidMaterials("the keyring returned no data key of the suite's length")
        }
        guard (verificationKey != nil) == (algorithmSuite.signature != nil) else {
            throw .invalidMaterials("the verification key does not match the suite")
        }
    }
}
