import Crypto
public import EncryptionSDK
import Foundation

/// The AWS KMS keyring of the Encryption SDK (ESDK spec `framework/aws-kms/aws-kms-keyring.md`,
/// `aws-kms-discovery-keyring.md`; docs/esdk-format.md §5.3).
///
/// A **strict** keyring names its KMS keys. On encrypt, without a data key yet, the generator key makes one with
/// `GenerateDataKey` (`NumberOfBytes` = the suite's key length); every other named key (and the generator, when
/// the materials already hold a data key) wraps it with `Encrypt`. Each encrypted data key has the provider ID
/// `aws-kms` and, as provider info, the key ARN KMS answered with. On decrypt it tries, in header order, the
/// `aws-kms` encrypted data keys whose provider info equals one of its key identifiers, calling `Decrypt` with
/// that identifier as `KeyId`, and accepts the result only if KMS answers with the same key id and a data key
/// of the suite's length. Name keys by ARN for decrypt: an alias or bare key id never equals the provider info.
///
/// A **discovery** keyring decrypts with whichever key an `aws-kms` encrypted data key names, optionally only
/// keys of one partition and a set of accounts (``DiscoveryFilter``), and refuses to encrypt.
///
/// Both pass the full encryption context of the materials to KMS, which binds it to the ciphertext, and the
/// grant tokens. An `aws-kms` encrypted data key whose provider info is not a valid KMS key ARN fails the
/// decrypt. Errors from KMS on encrypt propagate unchanged (``KMSError``, ``ClientError``); on decrypt they are
/// collected, and if no key decrypts, the keyring throws `EncryptionSDKError` `noDecryptableDataKey` whose
/// reason lists each KMS error code and message.
public struct KMSKeyring: Keyring, CustomStringConvertible {
    /// The provider ID of encrypted data keys made by KMS.
    public static let providerID = "aws-kms"

    /// Limits a discovery keyring to keys of one partition and a set of accounts.
    public struct DiscoveryFilter: Sendable, Hashable {
        public var partition: String
        public var accounts: Set<String>

        /// - Parameters:
        ///   - partition: The ARN partition, such as `aws`.
        ///   - accounts: The accounts whose keys may be used; at least one.
        public init(partition: String, accounts: Set<String>) {
            self.partition = partition
            self.accounts = accounts
        }

        func allows(_ arn: KMSARN) -> Bool { arn.partition == partition && accounts.contains(arn.account) }
    }

    private enum Mode: Sendable {
        case strict(generator: String?, keyIds: [String])
        case discovery(DiscoveryFilter?)
    }

    /// The KMS the keyring calls: a ``KMSClient``, or any other ``KMSAPI``.
    public let client: any KMSAPI
    public let grantTokens: [String]
    private let mode: Mode

    /// A strict keyring.
    ///
    /// - Parameters:
    ///   - generatorKeyId: The key that generates data keys (key id, key ARN, alias name or alias ARN); `nil` for a
    ///     keyring that only wraps data keys made elsewhere (a child of a multi-keyring).
    ///   - keyIds: Further keys that each wrap the data key.
    ///   - client: The KMS client.
    ///   - grantTokens: Grant tokens sent with every call.
    /// - Throws: `EncryptionSDKError` `invalidArgument` when no key is named or an identifier is empty.
    public init(
        generatorKeyId: String?,
        keyIds: [String] = [],
        client: any KMSAPI,
        grantTokens: [String] = []
    ) throws(EncryptionSDKError) {
        guard generatorKeyId != nil || !keyIds.isEmpty else {
            throw EncryptionSDKError(.invalidArgument, "a KMS keyring needs a generator or at least one key id")
        }
        guard !(keyIds + [generatorKeyId ?? "x"]).contains(where: \.isEmpty) else {
            throw EncryptionSDKError(.invalidArgument, "a KMS key identifier is empty")
        }
        self.mode = .strict(generator: generatorKeyId, keyIds: keyIds)
        self.client = client
        self.grantTokens = grantTokens
    }

    /// A discovery keyring: it decrypts with any KMS key (within the filter) and cannot encrypt.
    ///
    /// - Parameters:
    ///   - client: The KMS client.
    ///   - filter: The partition and accounts whose keys may be used; `nil` for any.
    ///   - grantTokens: Grant tokens sent with every call.
    /// - Returns: The keyring.
    /// - Throws: `EncryptionSDKError` `invalidArgument` for a filter without partition or accounts.
    public static func discovery(
        client: any KMSAPI,
        filter: DiscoveryFilter? = nil,
        grantTokens: [String] = []
    ) throws(EncryptionSDKError) -> KMSKeyring {
        if let filter, filter.partition.isEmpty || filter.accounts.isEmpty || filter.accounts.contains("") {
            throw EncryptionSDKError(.invalidArgument, "a discovery filter needs a partition and at least one account")
        }
        return KMSKeyring(mode: .discovery(filter), client: client, grantTokens: grantTokens)
    }

    private init(mode: Mode, client: any KMSAPI, grantTokens: [String]) {
        self.mode = mode
        self.client = client
        self.grantTokens = grantTokens
    }

    public var description: String {
        switch mode {
        case .strict(let generator, let keyIds):
            let names = (generator.map { ["generator \($0)"] } ?? []) + keyIds
            return "KMSKeyring(\(names.joined(separator: ", ")))"
        case .discovery(let filter):
            guard let filter else { return "KMSKeyring(discovery)" }
            return "KMSKeyring(discovery: \(filter.partition), \(filter.accounts.sorted().joined(separator: ", ")))"
        }
    }

    public func onEncrypt(_ materials: EncryptionMaterials) async throws -> EncryptionMaterials {
        guard case .strict(let generator, let keyIds) = mode else {
            throw EncryptionSDKError(.keyringFailure, "a KMS discovery keyring cannot encrypt")
        }
        var materials = materials
        let keyLength = materials.algorithmSuite.keyLength
        let context = materials.encryptionContext
        var wrappingKeys = keyIds
        if materials.plaintextDataKey == nil {
            guard let generator else {
                throw EncryptionSDKError(
                    .invalidMaterials,
                    "a KMS keyring without a generator needs materials that hold a data key"
                )
            }
            let response = try await client.send(
                GenerateDataKeyRequest(
                    keyId: generator,
                    encryptionContext: context,
                    numberOfBytes: keyLength,
                    grantTokens: nonEmptyTokens
                )
            )
            guard let plaintext = response.plaintext, plaintext.count == keyLength else {
                throw EncryptionSDKError(.keyringFailure, "KMS GenerateDataKey returned a data key of the wrong length")
            }
            let edk = try Self.encryptedDataKey(
                keyId: response.keyId,
                ciphertext: response.ciphertextBlob,
                operation: "GenerateDataKey"
            )
            materials.plaintextDataKey = SymmetricKey(data: plaintext)
            materials.encryptedDataKeys.append(edk)
        } else if let generator {
            wrappingKeys.insert(generator, at: 0)
        }
        guard let dataKey = materials.plaintextDataKey else { return materials }
        let plaintext = dataKey.withUnsafeBytes { Data($0) }
        for keyId in wrappingKeys {
            let response = try await client.send(
                EncryptRequest(
                    keyId: keyId,
                    plaintext: plaintext,
                    encryptionContext: context,
                    grantTokens: nonEmptyTokens
                )
            )
            materials.encryptedDataKeys.append(
                try Self.encryptedDataKey(
                    keyId: response.keyId,
                    ciphertext: response.ciphertextBlob,
                    operation: "Encrypt"
                )
            )
        }
        return materials
    }

    public func onDecrypt(
        _ materials: DecryptionMaterials,
        encryptedDataKeys: [EncryptedDataKey]
    ) async throws -> DecryptionMaterials {
        guard materials.plaintextDataKey == nil else {
            throw EncryptionSDKError(.invalidMaterials, "materials already hold a data key")
        }
        let keyLength = materials.algorithmSuite.keyLength
        var failures: [String] = []
        var errors: [any Error & Sendable] = []
        for edk in encryptedDataKeys where edk.providerID == Self.providerID {
            let info = String(decoding: edk.providerInfo, as: UTF8.self)
            guard let arn = KMSARN(info), arn.resourceType == .key, Array(info.utf8) == edk.providerInfo else {
                throw EncryptionSDKError(
                    .noDecryptableDataKey,
                    "an aws-kms encrypted data key's provider info is not a valid KMS key ARN"
                )
            }
            let keyId: String
            switch mode {
            case .strict(let generator, let keyIds):
                guard (generator.map { [$0] } ?? []).contains(info) || keyIds.contains(info) else { continue }
                keyId = info
            case .discovery(let filter):
                if let filter, !filter.allows(arn) { continue }
                keyId = info
            }
            do {
                let response = try await client.send(
                    DecryptRequest(
                        ciphertextBlob: Data(edk.ciphertext),
                        encryptionContext: materials.encryptionContext,
                        grantTokens: nonEmptyTokens,
                        keyId: keyId
                    )
                )
                guard response.keyId == keyId else {
                    failures.append("\(keyId): KMS answered for another key")
                    continue
                }
                guard let plaintext = response.plaintext, plaintext.count == keyLength else {
                    failures.append("\(keyId): KMS returned a data key of the wrong length")
                    continue
                }
                var materials = materials
                materials.plaintextDataKey = SymmetricKey(data: plaintext)
                return materials
            } catch let error as KMSError {
                failures.append("\(keyId): \(error.code): \(error.message)")
                errors.append(error)
            } catch let error as ClientError {
                failures.append("\(keyId): \(error)")
                errors.append(error)
            }
        }
        throw EncryptionSDKError(
            .noDecryptableDataKey,
            failures.isEmpty
                ? "no aws-kms encrypted data key matches \(self)"
                : "KMS could not decrypt any data key: " + failures.joined(separator: "; "),
            underlyingErrors: errors
        )
    }

    private var nonEmptyTokens: [String]? { grantTokens.isEmpty ? nil : grantTokens }

    private static func encryptedDataKey(
        keyId: String?,
        ciphertext: Data?,
        operation: String
    ) throws -> EncryptedDataKey {
        guard let keyId, let arn = KMSARN(keyId), arn.resourceType == .key else {
            throw EncryptionSDKError(.keyringFailure, "KMS \(operation) did not answer with a valid key ARN")
        }
        guard let ciphertext, !ciphertext.isEmpty, ciphertext.count <= Int(UInt16.max) else {
            throw EncryptionSDKError(.keyringFailure, "KMS \(operation) returned no usable ciphertext blob")
        }
        return EncryptedDataKey(providerID: providerID, providerInfo: Array(keyId.utf8), ciphertext: Array(ciphertext))
    }
}
