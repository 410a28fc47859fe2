public import Foundation

/// `Encrypt` input.
public struct EncryptRequest: KMSRequest, Hashable, CustomStringConvertible {
    public typealias Response = EncryptResponse
    public static let operation = KMSOperation.encrypt

    /// A key id, key ARN, alias name or alias ARN.
    public var keyId: String
    /// The data to encrypt (at most 4096 bytes).
    public var plaintext: Data
    public var encryptionContext: [String: String]?
    public var grantTokens: [String]?
    public var encryptionAlgorithm: EncryptionAlgorithm?
    public var dryRun: Bool?

    public init(
        keyId: String,
        plaintext: Data,
        encryptionContext: [String: String]? = nil,
        grantTokens: [String]? = nil,
        encryptionAlgorithm: EncryptionAlgorithm? = nil,
        dryRun: Bool? = nil
    ) {
        self.keyId = keyId
        self.plaintext = plaintext
        self.encryptionContext = encryptionContext
        self.grantTokens = grantTokens
        self.encryptionAlgorithm = encryptionAlgorithm
        self.dryRun = dryRun
    }

    public var description: String { "EncryptRequest(keyId: \(keyId), plaintext: <\(plaintext.count) bytes>)" }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case plaintext = "Plaintext"
        case encryptionContext = "EncryptionContext"
        case grantTokens = "GrantTokens"
        case encryptionAlgorithm = "EncryptionAlgorithm"
        case dryRun = "DryRun"
    }
}

/// `Encrypt` output.
public struct EncryptResponse: Codable, Sendable, Hashable {
    public var ciphertextBlob: Data?
    /// The ARN of the key that encrypted.
    public var keyId: String?
    public var encryptionAlgorithm: EncryptionAlgorithm?

    public init(ciphertextBlob: Data? = nil, keyId: String? = nil, encryptionAlgorithm: EncryptionAlgorithm? = nil) {
        self.ciphertextBlob = ciphertextBlob
        self.keyId = keyId
        self.encryptionAlgorithm = encryptionAlgorithm
    }

    enum CodingKeys: String, CodingKey {
        case ciphertextBlob = "CiphertextBlob"
        case keyId = "KeyId"
        case encryptionAlgorithm = "EncryptionAlgorithm"
    }
}

/// `Decrypt` input.
public struct DecryptRequest: KMSRequest, Hashable {
    public typealias Response = DecryptResponse
    public static let operation = KMSOperation.decrypt

    public var ciphertextBlob: Data
    public var encryptionContext: [String: String]?
    public var grantTokens: [String]?
    /// The key that must have encrypted the ciphertext; required for asymmetric keys, a best practice otherwise.
    public var keyId: String?
    public var encryptionAlgorithm: EncryptionAlgorithm?
    public var dryRun: Bool?

    public init(
        ciphertextBlob: Data,
        encryptionContext: [String: String]? = nil,
        grantTokens: [String]? = nil,
        keyId: String? = nil,
        encryptionAlgorithm: EncryptionAlgorithm? = nil,
        dryRun: Bool? = nil
    ) {
        self.ciphertextBlob = ciphertextBlob
        self.encryptionContext = encryptionContext
        self.grantTokens = grantTokens
        self.keyId = keyId
        self.encryptionAlgorithm = encryptionAlgorithm
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey {
        case ciphertextBlob = "CiphertextBlob"
        case encryptionContext = "EncryptionContext"
        case grantTokens = "GrantTokens"
        case keyId = "KeyId"
        case encryptionAlgorithm = "EncryptionAlgorithm"
        case dryRun = "DryRun"
    }
}

/// `Decrypt` output.
public struct DecryptResponse: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The ARN of the key that decrypted.
    public var keyId: String?
    public var plaintext: Data?
    public var encryptionAlgorithm: EncryptionAlgorithm?
    public var keyMaterialId: String?

    public init(
        keyId: String? = nil,
        plaintext: Data? = nil,
        encryptionAlgorithm: EncryptionAlgorithm? = nil,
        keyMaterialId: String? = nil
    ) {
        self.keyId = keyId
        self.plaintext = plaintext
        self.encryptionAlgorithm = encryptionAlgorithm
        self.keyMaterialId = keyMaterialId
    }

    public var description: String {
        "DecryptResponse(keyId: \(keyId ?? "nil"), plaintext: <\(plaintext?.count ?? 0) bytes>)"
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case plaintext = "Plaintext"
        case encryptionAlgorithm = "EncryptionAlgorithm"
        case keyMaterialId = "KeyMaterialId"
    }
}

/// `ReEncrypt` input.
public struct ReEncryptRequest: KMSRequest, Hashable {
    public typealias Response = ReEncryptResponse
    public static let operation = KMSOperation.reEncrypt

    public var ciphertextBlob: Data
    public var sourceEncryptionContext: [String: String]?
    public var sourceKeyId: String?
    public var destinationKeyId: String
    public var destinationEncryptionContext: [String: String]?
    public var sourceEncryptionAlgorithm: EncryptionAlgorithm?
    public var destinationEncryptionAlgorithm: EncryptionAlgorithm?
    public var grantTokens: [String]?
    public var dryRun: Bool?

    public init(
        ciphertextBlob: Data,
        sourceEncryptionContext: [String: String]? = nil,
        sourceKeyId: String? = nil,
        destinationKeyId: String,
        destinationEncryptionContext: [String: String]? = nil,
        sourceEncryptionAlgorithm: EncryptionAlgorithm? = nil,
        destinationEncryptionAlgorithm: EncryptionAlgorithm? = nil,
        grantTokens: [String]? = nil,
        dryRun: Bool? = nil
    ) {
        self.ciphertextBlob = ciphertextBlob
        self.sourceEncryptionContext = sourceEncryptionContext
        self.sourceKeyId = sourceKeyId
        self.destinationKeyId = destinationKeyId
        self.destinationEncryptionContext = destinationEncryptionContext
        self.sourceEncryptionAlgorithm = sourceEncryptionAlgorithm
        self.destinationEncryptionAlgorithm = destinationEncryptionAlgorithm
        self.grantTokens = grantTokens
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey {
        case ciphertextBlob = "CiphertextBlob"
        case sourceEncryptionContext = "SourceEncryptionContext"
        case sourceKeyId = "SourceKeyId"
        case destinationKeyId = "DestinationKeyId"
        case destinationEncryptionContext = "DestinationEncryptionContext"
        case sourceEncryptionAlgorithm = "SourceEncryptionAlgorithm"
        case destinationEncryptionAlgorithm = "DestinationEncryptionAlgorithm"
        case grantTokens = "GrantTokens"
        case dryRun = "DryRun"
    }
}

/// `ReEncrypt` output.
public struct ReEncryptResponse: Codable, Sendable, Hashable {
    public var ciphertextBlob: Data?
    public var sourceKeyId: String?
    public var keyId: String?
    public var sourceEncryptionAlgorithm: EncryptionAlgorithm?
    public var destinationEncryptionAlgorithm: EncryptionAlgorithm?

    public init(
        ciphertextBlob: Data? = nil,
        sourceKeyId: String? = nil,
        keyId: String? = nil,
        sourceEncryptionAlgorithm: EncryptionAlgorithm? = nil,
        destinationEncryptionAlgorithm: EncryptionAlgorithm? = nil
    ) {
        self.ciphertextBlob = ciphertextBlob
        self.sourceKeyId = sourceKeyId
        self.keyId = keyId
        self.sourceEncryptionAlgorithm = sourceEncryptionAlgorithm
        self.destinationEncryptionAlgorithm = destinationEncryptionAlgorithm
    }

    enum CodingKeys: String, CodingKey {
        case ciphertextBlob = "CiphertextBlob"
        case sourceKeyId = "SourceKeyId"
        case keyId = "KeyId"
        case sourceEncryptionAlgorithm = "SourceEncryptionAlgorithm"
        case destinationEncryptionAlgorithm = "DestinationEncryptionAlgorithm"
    }
}

/// `GenerateDataKey` input.
public struct GenerateDataKeyRequest: KMSRequest, Hashable {
    public typealias Response = GenerateDataKeyResponse
    public static let operation = KMSOperation.generateDataKey

    public var keyId: String
    public var encryptionContext: [String: String]?
    /// 1 to 1024; give this or ``keySpec``.
    public var numberOfBytes: Int?
    public var keySpec: DataKeySpec?
    public var grantTokens: [String]?
    public var dryRun: Bool?

    public init(
        keyId: String,
        encryptionContext: [String: String]? = nil,
        numberOfBytes: Int? = nil,
        keySpec: DataKeySpec? = nil,
        grantTokens: [String]? = nil,
        dryRun: Bool? = nil
    ) {
        self.keyId = keyId
        self.encryptionContext = encryptionContext
        self.numberOfBytes = numberOfBytes
        self.keySpec = keySpec
        self.grantTokens = grantTokens
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case encryptionContext = "EncryptionContext"
        case numberOfBytes = "NumberOfBytes"
        case keySpec = "KeySpec"
        case grantTokens = "GrantTokens"
        case dryRun = "DryRun"
    }
}

/// `GenerateDataKey` output.
public struct GenerateDataKeyResponse: Codable, Sendable, Hashable, CustomStringConvertible {
    public var ciphertextBlob: Data?
    public var plaintext: Data?
    /// The ARN of the key that encrypted the data key.
    public var keyId: String?
    public var keyMaterialId: String?

    public init(ciphertextBlob: Data? = nil, plaintext: Data? = nil, keyId: String? = nil, keyMaterialId: String? = nil)
    {
        self.ciphertextBlob = ciphertextBlob
        self.plaintext = plaintext
        self.keyId = keyId
        self.keyMaterialId = keyMaterialId
    }

    public var description: String {
        "GenerateDataKeyResponse(keyId: \(keyId ?? "nil"), plaintext: <\(plaintext?.count ?? 0) bytes>)"
    }

    enum CodingKeys: String, CodingKey {
        case ciphertextBlob = "CiphertextBlob"
        case plaintext = "Plaintext"
        case keyId = "KeyId"
        case keyMaterialId = "KeyMaterialId"
    }
}

/// `GenerateDataKeyWithoutPlaintext` input.
public struct GenerateDataKeyWithoutPlaintextRequest: KMSRequest, Hashable {
    public typealias Response = GenerateDataKeyWithoutPlaintextResponse
    public static let operation = KMSOperation.generateDataKeyWithoutPlaintext

    public var keyId: String
    public var encryptionContext: [String: String]?
    public var keySpec: DataKeySpec?
    public var numberOfBytes: Int?
    public var grantTokens: [String]?
    public var dryRun: Bool?

    public init(
        keyId: String,
        encryptionContext: [String: String]? = nil,
        keySpec: DataKeySpec? = nil,
        numberOfBytes: Int? = nil,
        grantTokens: [String]? = nil,
        dryRun: Bool? = nil
    ) {
        self.keyId = keyId
        self.encryptionContext = encryptionContext
        self.keySpec = keySpec
        self.numberOfBytes = numberOfBytes
        self.grantTokens = grantTokens
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case encryptionContext = "EncryptionContext"
        case keySpec = "KeySpec"
        case numberOfBytes = "NumberOfBytes"
        case grantTokens = "GrantTokens"
        case dryRun = "DryRun"
    }
}

/// `GenerateDataKeyWithoutPlaintext` output.
public struct GenerateDataKeyWithoutPlaintextResponse: Codable, Sendable, Hashable {
    public var ciphertextBlob: Data?
    public var keyId: String?
    public var keyMaterialId: String?

    public init(ciphertextBlob: Data? = nil, keyId: String? = nil, keyMaterialId: String? = nil) {
        self.ciphertextBlob = ciphertextBlob
        self.keyId = keyId
        self.keyMaterialId = keyMaterialId
    }

    enum CodingKeys: String, CodingKey {
        case ciphertextBlob = "CiphertextBlob"
        case keyId = "KeyId"
        case keyMaterialId = "KeyMaterialId"
    }
}

/// `GenerateRandom` input.
public struct GenerateRandomRequest: KMSRequest, Hashable {
    public typealias Response = GenerateRandomResponse
    public static let operation = KMSOperation.generateRandom

    /// 1 to 1024.
    public var numberOfBytes: Int?
    public var customKeyStoreId: String?

    public init(numberOfBytes: Int?, customKeyStoreId: String? = nil) {
        self.numberOfBytes = numberOfBytes
        self.customKeyStoreId = customKeyStoreId
    }

    enum CodingKeys: String, CodingKey {
        case numberOfBytes = "NumberOfBytes"
        case customKeyStoreId = "CustomKeyStoreId"
    }
}

/// `GenerateRandom` output.
public struct GenerateRandomResponse: Codable, Sendable, Hashable, CustomStringConvertible {
    public var plaintext: Data?

    public init(plaintext: Data?) { self.plaintext = plaintext }

    public var description: String { "GenerateRandomResponse(plaintext: <\(plaintext?.count ?? 0) bytes>)" }

    enum CodingKeys: String, CodingKey { case plaintext = "Plaintext" }
}
