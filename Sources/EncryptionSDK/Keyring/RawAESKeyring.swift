public import Crypto
import SealedSupport

/// Wraps data keys with an AES-GCM key the caller holds (ESDK spec `framework/raw-aes-keyring.md`).
///
/// The encrypted data key binds the whole encryption context as AES-GCM additional data, so a key
/// moved to a message with another context does not unwrap. Interoperates with the official SDKs'
/// raw AES keyring and `RawMasterKey` given the same namespace, name and key.
public struct RawAESKeyring: Keyring, CustomStringConvertible {
    /// The key namespace, written as the provider ID.
    public let keyNamespace: String
    /// The key name, written at the start of the provider info.
    public let keyName: String
    private let wrappingKey: SymmetricKey
    private let nameBytes: [UInt8]

    private static let tagLengthBits: UInt32 = 128
    private static let ivLength = 12

    /// - Parameters:
    ///   - keyNamespace: the provider ID; must not start with `aws-kms`.
    ///   - keyName: identifies the key inside the namespace.
    ///   - wrappingKey: 16, 24 or 32 bytes.
    /// - Throws: ``EncryptionSDKError`` `invalidArgument` for a bad key size or namespace.
    public init(keyNamespace: String, keyName: String, wrappingKey: SymmetricKey) throws(EncryptionSDKError) {
        guard [128, 192, 256].contains(wrappingKey.bitCount) else {
            throw .invalidArgument("a raw AES wrapping key must be 16, 24 or 32 bytes, not \(wrappingKey.bitCount / 8)")
        }
        guard !keyNamespace.hasPrefix("aws-kms") else {
            throw .invalidArgument("the key namespace \"aws-kms\" is reserved for AWS KMS")
        }
        guard keyNamespace.utf8.count <= Int(UInt16.max), keyName.utf8.count <= Int(UInt16.max) - 20 else {
            throw .invalidArgument("key namespace or name is too long")
        }
        self.keyNamespace = keyNamespace
        self.keyName = keyName
        self.wrappingKey = wrappingKey
        self.nameBytes = Array(keyName.utf8)
    }

    public var description: String { "RawAESKeyring(\(keyNamespace)/\(keyName), AES-\(wrappingKey.bitCount))" }

    public func onEncrypt(_ materials: EncryptionMaterials) async throws -> EncryptionMaterials {
        try wrap(materials)
    }

    public func onDecrypt(
        _ materials: DecryptionMaterials,
        encryptedDataKeys: [EncryptedDataKey]
    ) async throws -> DecryptionMaterials {
        try unwrap(materials, encryptedDataKeys: encryptedDataKeys)
    }

    func wrap(_ materials: EncryptionMaterials) throws -> EncryptionMaterials {
        var materials = materials
        let dataKey =
            materials.plaintextDataKey ?? SymmetricKey(size: .init(bitCount: materials.algorithmSuite.keyLength * 8))
        let aad = try ContextCoding.serialize(materials.encryptionContext)
        let nonce = AES.GCM.Nonce()
        let sealed = try dataKey.withUnsafeBytes {
            try AES.GCM.seal($0, using: wrappingKey, nonce: nonce, authenticating: aad)
        }
        var info = nameBytes
        info.appendU32(Self.tagLengthBits)
        info.appendU32(UInt32(Self.ivLength))
        info.append(contentsOf: nonce)
        materials.plaintextDataKey = dataKey
        materials.encryptedDataKeys.append(
            EncryptedDataKey(
                providerID: keyNamespace,
                providerInfo: info,
                ciphertext: Array(sealed.ciphertext + sealed.tag)
            )
        )
        return materials
    }

    func unwrap(_ materials: DecryptionMaterials, encryptedDataKeys: [EncryptedDataKey]) throws -> DecryptionMaterials {
        guard materials.plaintextDataKey == nil else {
            throw EncryptionSDKError.invalidMaterials("materials already hold a data key")
        }
        let keyLength = materials.algorithmSuite.keyLength
        let aad = try ContextCoding.serialize(materials.encryptionContext)
        for edk in encryptedDataKeys where edk.providerID.hasSameUTF8(as: keyNamespace) {
            let info = edk.providerInfo
            guard info.count == nameBytes.count + 8 + Self.ivLength, info.starts(with: nameBytes),
                edk.ciphertext.count == keyLength + 16
            else { continue }
            let tail = Array(info[nameBytes.count...])
            let tagBits = UInt32(tail[0]) << 24 | UInt32(tail[1]) << 16 | UInt32(tail[2]) << 8 | UInt32(tail[3])
            let ivLength = UInt32(tail[4]) << 24 | UInt32(tail[5]) << 16 | UInt32(tail[6]) << 8 | UInt32(tail[7])
            guard tagBits == Self.tagLengthBits, ivLength == UInt32(Self.ivLength) else { continue }
            guard let nonce = try? AES.GCM.Nonce(data: tail[8...]),
                let box = try? AES.GCM.SealedBox(
                    nonce: nonce,
                    ciphertext: edk.ciphertext[..<keyLength],
                    tag: edk.ciphertext[keyLength...]
                ),
                let key = try? AES.GCM.open(box, using: wrappingKey, authenticating: aad),
                key.count == keyLength
            else { continue }
            var materials = materials
            materials.plaintextDataKey = SymmetricKey(data: key)
            return materials
        }
        throw EncryptionSDKError.noDecryptableKey("no encrypted data key unwraps with \(keyNamespace)/\(keyName)")
    }
}
