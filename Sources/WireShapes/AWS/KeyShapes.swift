public import Foundation

/// Everything KMS says about a key (`KeyMetadata`).
public struct KeyMetadata: Codable, Sendable, Hashable {
    public var awsAccountId: String?
    public var keyId: String
    public var arn: String?
    public var creationDate: Date?
    public var enabled: Bool?
    public var description: String?
    public var keyUsage: KeyUsage?
    public var keyState: KeyState?
    public var deletionDate: Date?
    public var validTo: Date?
    public var origin: Origin?
    public var customKeyStoreId: String?
    public var expirationModel: ExpirationModel?
    public var keyManager: KeyManager?
    public var customerMasterKeySpec: KeySpec?
    public var keySpec: KeySpec?
    public var encryptionAlgorithms: [EncryptionAlgorithm]?
    public var signingAlgorithms: [String]?
    public var macAlgorithms: [String]?
    public var multiRegion: Bool?
    public var multiRegionConfiguration: MultiRegionConfiguration?
    public var pendingDeletionWindowInDays: Int?
    public var currentKeyMaterialId: String?

    public init(
        awsAccountId: String? = nil,
        keyId: String,
        arn: String? = nil,
        creationDate: Date? = nil,
        enabled: Bool? = nil,
        description: String? = nil,
        keyUsage: KeyUsage? = nil,
        keyState: KeyState? = nil,
        deletionDate: Date? = nil,
        validTo: Date? = nil,
        origin: Origin? = nil,
        customKeyStoreId: String? = nil,
        expirationModel: ExpirationModel? = nil,
        keyManager: KeyManager? = nil,
        customerMasterKeySpec: KeySpec? = nil,
        keySpec: KeySpec? = nil,
        encryptionAlgorithms: [EncryptionAlgorithm]? = nil,
        signingAlgorithms: [String]? = nil,
        macAlgorithms: [String]? = nil,
        multiRegion: Bool? = nil,
        multiRegionConfiguration: MultiRegionConfiguration? = nil,
        pendingDeletionWindowInDays: Int? = nil,
        currentKeyMaterialId: String? = nil
    ) {
        self.awsAccountId = awsAccountId
        self.keyId = keyId
        self.arn = arn
        self.creationDate = creationDate
        self.enabled = enabled
        self.description = description
        self.keyUsage = keyUsage
        self.keyState = keyState
        self.deletionDate = deletionDate
        self.validTo = validTo
        self.origin = origin
        self.customKeyStoreId = customKeyStoreId
        self.expirationModel = expirationModel
        self.keyManager = keyManager
        self.customerMasterKeySpec = customerMasterKeySpec
        self.keySpec = keySpec
        self.encryptionAlgorithms = encryptionAlgorithms
        self.signingAlgorithms = signingAlgorithms
        self.macAlgorithms = macAlgorithms
        self.multiRegion = multiRegion
        self.multiRegionConfiguration = multiRegionConfiguration
        self.pendingDeletionWindowInDays = pendingDeletionWindowInDays
        self.currentKeyMaterialId = currentKeyMaterialId
    }

    enum CodingKeys: String, CodingKey {
        case awsAccountId = "AWSAccountId"
        case keyId = "KeyId"
        case arn = "Arn"
        case creationDate = "CreationDate"
        case enabled = "Enabled"
        case description = "Description"
        case keyUsage = "KeyUsage"
        case keyState = "KeyState"
        case deletionDate = "DeletionDate"
        case validTo = "ValidTo"
        case origin = "Origin"
        case customKeyStoreId = "CustomKeyStoreId"
        case expirationModel = "ExpirationModel"
        case keyManager = "KeyManager"
        case customerMasterKeySpec = "CustomerMasterKeySpec"
        case keySpec = "KeySpec"
        case encryptionAlgorithms = "EncryptionAlgorithms"
        case signingAlgorithms = "SigningAlgorithms"
        case macAlgorithms = "MacAlgorithms"
        case multiRegion = "MultiRegion"
        case multiRegionConfiguration = "MultiRegionConfiguration"
        case pendingDeletionWindowInDays = "PendingDeletionWindowInDays"
        case currentKeyMaterialId = "CurrentKeyMaterialId"
    }
}

/// The primary and replicas of a multi-Region key (`MultiRegionConfiguration`).
public struct MultiRegionConfiguration: Codable, Sendable, Hashable {
    /// One key of a multi-Region set (`MultiRegionKey`).
    public struct Key: Codable, Sendable, Hashable {
        public var arn: String?
        public var region: String?
        public init(arn: String? = nil, region: String? = nil) {
            self.arn = arn
            self.region = region
        }
        enum CodingKeys: String, CodingKey {
            case arn = "Arn"
            case region = "Region"
        }
    }

    public var multiRegionKeyType: MultiRegionKeyType?
    public var primaryKey: Key?
    public var replicaKeys: [Key]?

    public init(multiRegionKeyType: MultiRegionKeyType? = nil, primaryKey: Key? = nil, replicaKeys: [Key]? = nil) {
        self.multiRegionKeyType = multiRegionKeyType
        self.primaryKey = primaryKey
        self.replicaKeys = replicaKeys
    }

    enum CodingKeys: String, CodingKey {
        case multiRegionKeyType = "MultiRegionKeyType"
        case primaryKey = "PrimaryKey"
        case replicaKeys = "ReplicaKeys"
    }
}

/// `CreateKey` input.
public struct CreateKeyRequest: KMSRequest, Hashable {
    public typealias Response = CreateKeyResponse
    public static let operation = KMSOperation.createKey

    public var policy: String?
    public var description: String?
    public var keyUsage: KeyUsage?
    public var customerMasterKeySpec: KeySpec?
    public var keySpec: KeySpec?
    public var origin: Origin?
    public var customKeyStoreId: String?
    public var bypassPolicyLockoutSafetyCheck: Bool?
    public var tags: [Tag]?
    public var multiRegion: Bool?
    public var xksKeyId: String?

    public init(
        policy: String? = nil,
        description: String? = nil,
        keyUsage: KeyUsage? = nil,
        customerMasterKeySpec: KeySpec? = nil,
        keySpec: KeySpec? = nil,
        origin: Origin? = nil,
        customKeyStoreId: String? = nil,
        bypassPolicyLockoutSafetyCheck: Bool? = nil,
        tags: [Tag]? = nil,
        multiRegion: Bool? = nil,
        xksKeyId: String? = nil
    ) {
        self.policy = policy
        self.description = description
        self.keyUsage = keyUsage
        self.customerMasterKeySpec = customerMasterKeySpec
        self.keySpec = keySpec
        self.origin = origin
        self.customKeyStoreId = customKeyStoreId
        self.bypassPolicyLockoutSafetyCheck = bypassPolicyLockoutSafetyCheck
        self.tags = tags
        self.multiRegion = multiRegion
        self.xksKeyId = xksKeyId
    }

    enum CodingKeys: String, CodingKey {
        case policy = "Policy"
        case description = "Description"
        case keyUsage = "KeyUsage"
        case customerMasterKeySpec = "CustomerMasterKeySpec"
        case keySpec = "KeySpec"
        case origin = "Origin"
        case customKeyStoreId = "CustomKeyStoreId"
        case bypassPolicyLockoutSafetyCheck = "BypassPolicyLockoutSafetyCheck"
        case tags = "Tags"
        case multiRegion = "MultiRegion"
        case xksKeyId = "XksKeyId"
    }
}

/// `CreateKey` output.
public struct CreateKeyResponse: Codable, Sendable, Hashable {
    public var keyMetadata: KeyMetadata?
    public init(keyMetadata: KeyMetadata?) { self.keyMetadata = keyMetadata }
    enum CodingKeys: String, CodingKey { case keyMetadata = "KeyMetadata" }
}

/// `DescribeKey` input.
public struct DescribeKeyRequest: KMSRequest, Hashable {
    public typealias Response = DescribeKeyResponse
    public static let operation = KMSOperation.describeKey

    /// A key id, key ARN, alias name or alias ARN.
    public var keyId: String
    public var grantTokens: [String]?

    public init(keyId: String, grantTokens: [String]? = nil) {
        self.keyId = keyId
        self.grantTokens = grantTokens
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case grantTokens = "GrantTokens"
    }
}

/// `DescribeKey` output.
public struct DescribeKeyResponse: Codable, Sendable, Hashable {
    public var keyMetadata: KeyMetadata?
    public init(keyMetadata: KeyMetadata?) { self.keyMetadata = keyMetadata }
    enum CodingKeys: String, CodingKey { case keyMetadata = "KeyMetadata" }
}

/// `ListKeys` input.
public struct ListKeysRequest: KMSRequest, Hashable {
    public typealias Response = ListKeysResponse
    public static let operation = KMSOperation.listKeys

    public var limit: Int?
    public var marker: String?
    public var resourceOwners: [ResourceOwner]?

    public init(limit: Int? = nil, marker: String? = nil, resourceOwners: [ResourceOwner]? = nil) {
        self.limit = limit
        self.marker = marker
        self.resourceOwners = resourceOwners
    }

    enum CodingKeys: String, CodingKey {
        case limit = "Limit"
        case marker = "Marker"
        case resourceOwners = "ResourceOwners"
    }
}

/// One key of a `ListKeys` page (`KeyListEntry`).
public struct KeyListEntry: Codable, Sendable, Hashable {
    public var keyId: String?
    public var keyArn: String?
    public init(keyId: String? = nil, keyArn: String? = nil) {
        self.keyId = keyId
        self.keyArn = keyArn
    }
    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case keyArn = "KeyArn"
    }
}

/// `ListKeys` output.
public struct ListKeysResponse: Codable, Sendable, Hashable {
    public var keys: [KeyListEntry]?
    public var nextMarker: String?
    public var truncated: Bool?

    public init(keys: [KeyListEntry]? = nil, nextMarker: String? = nil, truncated: Bool? = nil) {
        self.keys = keys
        self.nextMarker = nextMarker
        self.truncated = truncated
    }

    enum CodingKeys: String, CodingKey {
        case keys = "Keys"
        case nextMarker = "NextMarker"
        case truncated = "Truncated"
    }
}

/// Input of the operations that name only a key: `EnableKey`, `DisableKey`, `DisableKeyRotation`,
/// `GetKeyRotationStatus`, `RotateKeyOnDemand`, `CancelKeyDeletion`.
public struct KeyIdRequest<Response: Codable & Sendable, Operation: KeyOperationTag>: KMSRequest, Hashable {
    public static var operation: KMSOperation { Operation.operation }

    /// A key id or key ARN.
    public var keyId: String

    public init(keyId: String) { self.keyId = keyId }

    enum CodingKeys: String, CodingKey { case keyId = "KeyId" }
}

/// Names the operation of a ``KeyIdRequest``.
public protocol KeyOperationTag: Hashable, Sendable {
    static var operation: KMSOperation { get }
}

/// Operation names of the ``KeyIdRequest`` family.
public enum KeyOperation {
    public enum Enable: KeyOperationTag { public static var operation: KMSOperation { .enableKey } }
    public enum Disable: KeyOperationTag { public static var operation: KMSOperation { .disableKey } }
    public enum DisableRotation: KeyOperationTag {
        public static var operation: KMSOperation { .disableKeyRotation }
    }
    public enum GetRotationStatus: KeyOperationTag {
        public static var operation: KMSOperation { .getKeyRotationStatus }
    }
    public enum RotateOnDemand: KeyOperationTag { public static var operation: KMSOperation { .rotateKeyOnDemand } }
    public enum CancelDeletion: KeyOperationTag { public static var operation: KMSOperation { .cancelKeyDeletion } }
}

/// `EnableKey` input.
public typealias EnableKeyRequest = KeyIdRequest<EmptyResponse, KeyOperation.Enable>
/// `DisableKey` input.
public typealias DisableKeyRequest = KeyIdRequest<EmptyResponse, KeyOperation.Disable>
/// `DisableKeyRotation` input.
public typealias DisableKeyRotationRequest = KeyIdRequest<EmptyResponse, KeyOperation.DisableRotation>
/// `GetKeyRotationStatus` input.
public typealias GetKeyRotationStatusRequest = KeyIdRequest<
    GetKeyRotationStatusResponse, KeyOperation.GetRotationStatus
>
/// `RotateKeyOnDemand` input.
public typealias RotateKeyOnDemandRequest = KeyIdRequest<KeyIdResponse, KeyOperation.RotateOnDemand>
/// `CancelKeyDeletion` input.
public typealias CancelKeyDeletionRequest = KeyIdRequest<KeyIdResponse, KeyOperation.CancelDeletion>

/// Output that names only a key: `RotateKeyOnDemand`, `CancelKeyDeletion`.
public struct KeyIdResponse: Codable, Sendable, Hashable {
    /// The key ARN.
    public var keyId: String?
    public init(keyId: String?) { self.keyId = keyId }
    enum CodingKeys: String, CodingKey { case keyId = "KeyId" }
}

/// `EnableKeyRotation` input.
public struct EnableKeyRotationRequest: KMSRequest, Hashable {
    public typealias Response = EmptyResponse
    public static let operation = KMSOperation.enableKeyRotation

    public var keyId: String
    /// 90 to 2560 days; KMS defaults to 365.
    public var rotationPeriodInDays: Int?

    public init(keyId: String, rotationPeriodInDays: Int? = nil) {
        self.keyId = keyId
        self.rotationPeriodInDays = rotationPeriodInDays
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case rotationPeriodInDays = "RotationPeriodInDays"
    }
}

/// `GetKeyRotationStatus` output.
public struct GetKeyRotationStatusResponse: Codable, Sendable, Hashable {
    public var keyRotationEnabled: Bool?
    public var keyId: String?
    public var rotationPeriodInDays: Int?
    public var nextRotationDate: Date?
    public var onDemandRotationStartDate: Date?

    public init(
        keyRotationEnabled: Bool? = nil,
        keyId: String? = nil,
        rotationPeriodInDays: Int? = nil,
        nextRotationDate: Date? = nil,
        onDemandRotationStartDate: Date? = nil
    ) {
        self.keyRotationEnabled = keyRotationEnabled
        self.keyId = keyId
        self.rotationPeriodInDays = rotationPeriodInDays
        self.nextRotationDate = nextRotationDate
        self.onDemandRotationStartDate = onDemandRotationStartDate
    }

    enum CodingKeys: String, CodingKey {
        case keyRotationEnabled = "KeyRotationEnabled"
        case keyId = "KeyId"
        case rotationPeriodInDays = "RotationPeriodInDays"
        case nextRotationDate = "NextRotationDate"
        case onDemandRotationStartDate = "OnDemandRotationStartDate"
    }
}

/// `ScheduleKeyDeletion` input.
public struct ScheduleKeyDeletionRequest: KMSRequest, Hashable {
    public typealias Response = ScheduleKeyDeletionResponse
    public static let operation = KMSOperation.scheduleKeyDeletion

    public var keyId: String
    /// 7 to 30 days; KMS defaults to 30.
    public var pendingWindowInDays: Int?

    public init(keyId: String, pendingWindowInDays: Int? = nil) {
        self.keyId = keyId
        self.pendingWindowInDays = pendingWindowInDays
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case pendingWindowInDays = "PendingWindowInDays"
    }
}

/// `ScheduleKeyDeletion` output.
public struct ScheduleKeyDeletionResponse: Codable, Sendable, Hashable {
    public var keyId: String?
    public var deletionDate: Date?
    public var keyState: KeyState?
    public var pendingWindowInDays: Int?

    public init(
        keyId: String? = nil,
        deletionDate: Date? = nil,
        keyState: KeyState? = nil,
        pendingWindowInDays: Int? = nil
    ) {
        self.keyId = keyId
        self.deletionDate = deletionDate
        self.keyState = keyState
        self.pendingWindowInDays = pendingWindowInDays
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case deletionDate = "DeletionDate"
        case keyState = "KeyState"
        case pendingWindowInDays = "PendingWindowInDays"
    }
}

/// `GetKeyPolicy` input.
public struct GetKeyPolicyRequest: KMSRequest, Hashable {
    public typealias Response = GetKeyPolicyResponse
    public static let operation = KMSOperation.getKeyPolicy

    public var keyId: String
    /// Only `default` exists.
    public var policyName: String?

    public init(keyId: String, policyName: String? = "default") {
        self.keyId = keyId
        self.policyName = policyName
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case policyName = "PolicyName"
    }
}

/// `GetKeyPolicy` output.
public struct GetKeyPolicyResponse: Codable, Sendable, Hashable {
    /// The policy document (JSON).
    public var policy: String?
    public var policyName: String?

    public init(policy: String? = nil, policyName: String? = nil) {
        self.policy = policy
        self.policyName = policyName
    }

    enum CodingKeys: String, CodingKey {
        case policy = "Policy"
        case policyName = "PolicyName"
    }
}

/// `PutKeyPolicy` input.
public struct PutKeyPolicyRequest: KMSRequest, Hashable {
    public typealias Response = EmptyResponse
    public static let operation = KMSOperation.putKeyPolicy

    public var keyId: String
    public var policyName: String?
    /// The policy document (JSON).
    public var policy: String
    public var bypassPolicyLockoutSafetyCheck: Bool?

    public init(
        keyId: String,
        policyName: String? = "default",
        policy: String,
        bypassPolicyLockoutSafetyCheck: Bool? = nil
    ) {
        self.keyId = keyId
        self.policyName = policyName
        self.policy = policy
        self.bypassPolicyLockoutSafetyCheck = bypassPolicyLockoutSafetyCheck
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case policyName = "PolicyName"
        case policy = "Policy"
        case bypassPolicyLockoutSafetyCheck = "BypassPolicyLockoutSafetyCheck"
    }
}
