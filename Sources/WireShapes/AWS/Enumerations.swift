/// The state of a KMS key (`KeyState`).
public struct KeyState: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let creating: KeyState = "Creating"
    public static let enabled: KeyState = "Enabled"
    public static let disabled: KeyState = "Disabled"
    public static let pendingDeletion: KeyState = "PendingDeletion"
    public static let pendingImport: KeyState = "PendingImport"
    public static let pendingReplicaDeletion: KeyState = "PendingReplicaDeletion"
    public static let unavailable: KeyState = "Unavailable"
    public static let updating: KeyState = "Updating"
}

/// What a KMS key is for (`KeyUsageType`).
public struct KeyUsage: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let encryptDecrypt: KeyUsage = "ENCRYPT_DECRYPT"
    public static let signVerify: KeyUsage = "SIGN_VERIFY"
    public static let generateVerifyMAC: KeyUsage = "GENERATE_VERIFY_MAC"
    public static let keyAgreement: KeyUsage = "KEY_AGREEMENT"
    public static let encapsulateDecapsulate: KeyUsage = "ENCAPSULATE_DECAPSULATE"
}

/// The type of a KMS key (`KeySpec`, also used for the deprecated `CustomerMasterKeySpec`).
public struct KeySpec: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let symmetricDefault: KeySpec = "SYMMETRIC_DEFAULT"
    public static let rsa2048: KeySpec = "RSA_2048"
    public static let rsa3072: KeySpec = "RSA_3072"
    public static let rsa4096: KeySpec = "RSA_4096"
    public static let eccNISTP256: KeySpec = "ECC_NIST_P256"
    public static let eccNISTP384: KeySpec = "ECC_NIST_P384"
    public static let eccNISTP521: KeySpec = "ECC_NIST_P521"
    public static let hmac256: KeySpec = "HMAC_256"
}

/// Where a key's material comes from (`OriginType`).
public struct Origin: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let awsKMS: Origin = "AWS_KMS"
    public static let external: Origin = "EXTERNAL"
    public static let awsCloudHSM: Origin = "AWS_CLOUDHSM"
    public static let externalKeyStore: Origin = "EXTERNAL_KEY_STORE"
}

/// An encryption algorithm (`EncryptionAlgorithmSpec`).
public struct EncryptionAlgorithm: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let symmetricDefault: EncryptionAlgorithm = "SYMMETRIC_DEFAULT"
    public static let rsaesOAEPSHA1: EncryptionAlgorithm = "RSAES_OAEP_SHA_1"
    public static let rsaesOAEPSHA256: EncryptionAlgorithm = "RSAES_OAEP_SHA_256"
    public static let sm2PKE: EncryptionAlgorithm = "SM2PKE"
}

/// The length of a generated data key (`DataKeySpec`).
public struct DataKeySpec: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let aes256: DataKeySpec = "AES_256"
    public static let aes128: DataKeySpec = "AES_128"
}

/// Who manages a key (`KeyManagerType`).
public struct KeyManager: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let aws: KeyManager = "AWS"
    public static let customer: KeyManager = "CUSTOMER"
}

/// Whether imported key material expires (`ExpirationModelType`).
public struct ExpirationModel: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let keyMaterialExpires: ExpirationModel = "KEY_MATERIAL_EXPIRES"
    public static let keyMaterialDoesNotExpire: ExpirationModel = "KEY_MATERIAL_DOES_NOT_EXPIRE"
}

/// Which keys `ListKeys` returns (`ResourceOwnerType`).
public struct ResourceOwner: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let this: ResourceOwner = "SELF"
    public static let otherAccountsViaRAM: ResourceOwner = "OTHER_ACCOUNTS_VIA_RAM"
}

/// Whether a multi-Region key is the primary or a replica (`MultiRegionKeyType`).
public struct MultiRegionKeyType: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let primary: MultiRegionKeyType = "PRIMARY"
    public static let replica: MultiRegionKeyType = "REPLICA"
}
