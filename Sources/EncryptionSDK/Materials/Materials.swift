public import Crypto

/// What a message is encrypted with: the suite, the full encryption context, the plaintext data key
/// and its encrypted copies, and for signed suites the signing key.
public struct EncryptionMaterials: Sendable {
    public var algorithmSuite: AlgorithmSuite
    /// The full context: the caller's pairs plus `aws-crypto-public-key` for signed suites.
    public var encryptionContext: EncryptionContext
    /// Context keys that are authenticated but not stored in the message (required-EC CMM).
    public var requiredEncryptionContextKeys: [String]
    /// The data key; `nil` until a keyring generates it.
    public var plaintextDataKey: SymmetricKey?
    public var encryptedDataKeys: [EncryptedDataKey]
    public var signingKey: SigningKey?

    public init(
        algorithmSuite: AlgorithmSuite,
        encryptionContext: EncryptionContext,
        requiredEncryptionContextKeys: [String] = [],
        plaintextDataKey: SymmetricKey? = nil,
        encryptedDataKeys: [EncryptedDataKey] = [],
        signingKey: SigningKey? = nil
    ) {
        self.algorithmSuite = algorithmSuite
        self.encryptionContext = encryptionContext
        self.requiredEncryptionContextKeys = requiredEncryptionContextKeys
        self.plaintextDataKey = plaintextDataKey
        self.encryptedDataKeys = encryptedDataKeys
        self.signingKey = signingKey
    }
}

/// What a message is decrypted with: the suite, the full encryption context, the data key a keyring
/// recovered, and for signed suites the verification key.
public struct DecryptionMaterials: Sendable {
    public var algorithmSuite: AlgorithmSuite
    /// The stored context plus any reproduced pairs that were not stored.
    public var encryptionContext: EncryptionContext
    /// Context keys supplied by the caller but absent from the header: authenticate-only pairs.
    public var requiredEncryptionContextKeys: [String]
    /// The data key; `nil` until a keyring decrypts one.
    public var plaintextDataKey: SymmetricKey?
    var verificationKey: VerificationKey?

    public init(
        algorithmSuite: AlgorithmSuite,
        encryptionContext: EncryptionContext,
        requiredEncryptionContextKeys: [String] = [],
        plaintextDataKey: SymmetricKey? = nil
    ) {
        self.algorithmSuite = algorithmSuite
        self.encryptionContext = encryptionContext
        self.requiredEncryptionContextKeys = requiredEncryptionContextKeys
        self.plaintextDataKey = plaintextDataKey
    }
}

/// A request for encryption materials.
public struct EncryptionMaterialsRequest: Sendable {
    public var encryptionContext: EncryptionContext
    /// The suite the caller asked for, or `nil` for the policy's default.
    public var algorithmSuite: AlgorithmSuite?
    public var commitmentPolicy: CommitmentPolicy
    /// An upper bound of the plaintext length, or `nil` when unknown (streaming).
    public var maxPlaintextLength: Int?
    public var requiredEncryptionContextKeys: [String]

    public init(
        encryptionContext: EncryptionContext,
        algorithmSuite: AlgorithmSuite? = nil,
        commitmentPolicy: CommitmentPolicy = .requireEncryptRequireDecrypt,
        maxPlaintextLength: Int? = nil,
        requiredEncryptionContextKeys: [String] = []
    ) {
        self.encryptionContext = encryptionContext
        self.algorithmSuite = algorithmSuite
        self.commitmentPolicy = commitmentPolicy
        self.maxPlaintextLength = maxPlaintextLength
        self.requiredEncryptionContextKeys = requiredEncryptionContextKeys
    }
}

/// A request for decryption materials, built from a message header.
public struct DecryptionMaterialsRequest: Sendable {
    public var algorithmSuite: AlgorithmSuite
    public var commitmentPolicy: CommitmentPolicy
    public var encryptedDataKeys: [EncryptedDataKey]
    /// The context stored in the header.
    public var encryptionContext: EncryptionContext
    /// The context the caller supplied to check against (and complete) the stored one.
    public var reproducedEncryptionContext: EncryptionContext

    public init(
        algorithmSuite: AlgorithmSuite,
        commitmentPolicy: CommitmentPolicy,
        encryptedDataKeys: [EncryptedDataKey],
        encryptionContext: EncryptionContext,
        reproducedEncryptionContext: EncryptionContext = [:]
    ) {
        self.algorithmSuite = algorithmSuite
        self.commitmentPolicy = commitmentPolicy
        self.encryptedDataKeys = encryptedDataKeys
        self.encryptionContext = encryptionContext
        self.reproducedEncryptionContext = reproducedEncryptionContext
    }
}

/// Provides the materials for each message: the ESDK's cryptographic materials manager (CMM).
///
/// ESDK spec `framework/cmm-interface.md`. Implementations: ``DefaultMaterialsManager`` (over a
/// keyring), ``CachingMaterialsManager`` and ``RequiredEncryptionContextMaterialsManager``.
public protocol CryptographicMaterialsManager: Sendable {
    /// Materials to encrypt one message with.
    func encryptionMaterials(for request: EncryptionMaterialsRequest) async throws -> EncryptionMaterials
    /// Materials to decrypt one message with.
    func decryptionMaterials(for request: DecryptionMaterialsRequest) async throws -> DecryptionMaterials
}
