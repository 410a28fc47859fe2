/// Combines keyrings: a generator makes the data key, every child wraps it too, and any of them can
/// decrypt (ESDK spec `framework/multi-keyring.md`).
public struct MultiKeyring: Keyring {
    public let generator: (any Keyring)?
    public let children: [any Keyring]

    /// - Throws: ``EncryptionSDKError`` `invalidArgument` when there is neither a generator nor a child.
    public init(generator: (any Keyring)?, children: [any Keyring] = []) throws(EncryptionSDKError) {
        guard generator != nil || !children.isEmpty else {
            throw .invalidArgument("a multi-keyring needs a generator or at least one child keyring")
        }
        self.generator = generator
        self.children = children
    }

    public func onEncrypt(_ materials: EncryptionMaterials) async throws -> EncryptionMaterials {
        var materials = materials
        if let generator {
            guard materials.plaintextDataKey == nil else {
                throw EncryptionSDKError.invalidMaterials(
                    "a multi-keyring with a generator got materials that hold a data key"
                )
            }
            materials = try await generator.onEncrypt(materials)
        } else if materials.plaintextDataKey == nil {
            throw EncryptionSDKError.invalidMaterials(
                "a multi-keyring without a generator needs materials that hold a data key"
            )
        }
        for child in children {
            materials = try await child.onEncrypt(materials)
        }
        return materials
    }

    public func onDecrypt(
        _ materials: DecryptionMaterials,
        encryptedDataKeys: [EncryptedDataKey]
    ) async throws -> DecryptionMaterials {
        guard materials.plaintextDataKey == nil else {
            throw EncryptionSDKError.invalidMaterials("materials already hold a data key")
        }
        var failures: [String] = []
        for keyring in (generator.map { [$0] } ?? []) + children {
            do {
                return try await keyring.onDecrypt(materials, encryptedDataKeys: encryptedDataKeys)
            } catch let error as EncryptionSDKError {
                failures.append(error.reason)
            } catch {
                failures.append(String(describing: type(of: error)))
            }
        }
        throw EncryptionSDKError.noDecryptableKey(
            "no keyring could decrypt a data key: " + failures.joined(separator: "; ")
        )
    }
}
