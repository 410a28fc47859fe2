/// A KMS API operation, named as in the `X-Amz-Target: TrentService.<Operation>` header.
public struct KMSOperation: WireEnumeration {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The `X-Amz-Target` header value: `TrentService.<Operation>`.
    public var target: String { "TrentService.\(rawValue)" }

    /// The operation named by an `X-Amz-Target` value, or `nil` when it is not `TrentService.<Operation>`.
    public init?(target: String) {
        let prefix = "TrentService."
        guard target.hasPrefix(prefix), target.count > prefix.count else { return nil }
        self.init(rawValue: String(target.dropFirst(prefix.count)))
    }

    public static let createKey: KMSOperation = "CreateKey"
    public static let describeKey: KMSOperation = "DescribeKey"
    public static let listKeys: KMSOperation = "ListKeys"
    public static let createAlias: KMSOperation = "CreateAlias"
    public static let updateAlias: KMSOperation = "UpdateAlias"
    public static let deleteAlias: KMSOperation = "DeleteAlias"
    public static let listAliases: KMSOperation = "ListAliases"
    public static let encrypt: KMSOperation = "Encrypt"
    public static let decrypt: KMSOperation = "Decrypt"
    public static let reEncrypt: KMSOperation = "ReEncrypt"
    public static let generateDataKey: KMSOperation = "GenerateDataKey"
    public static let generateDataKeyWithoutPlaintext: KMSOperation = "GenerateDataKeyWithoutPlaintext"
    public static let generateRandom: KMSOperation = "GenerateRandom"
    public static let enableKey: KMSOperation = "EnableKey"
    public static let disableKey: KMSOperation = "DisableKey"
    public static let enableKeyRotation: KMSOperation = "EnableKeyRotation"
    public static let disableKeyRotation: KMSOperation = "DisableKeyRotation"
    public static let getKeyRotationStatus: KMSOperation = "GetKeyRotationStatus"
    public static let rotateKeyOnDemand: KMSOperation = "RotateKeyOnDemand"
    public static let scheduleKeyDeletion: KMSOperation = "ScheduleKeyDeletion"
    public static let cancelKeyDeletion: KMSOperation = "CancelKeyDeletion"
    public static let getKeyPolicy: KMSOperation = "GetKeyPolicy"
    public static let putKeyPolicy: KMSOperation = "PutKeyPolicy"
    public static let tagResource: KMSOperation = "TagResource"
    public static let untagResource: KMSOperation = "UntagResource"
    public static let listResourceTags: KMSOperation = "ListResourceTags"
    public static let listKeyRotations: KMSOperation = "ListKeyRotations"
    public static let updateKeyDescription: KMSOperation = "UpdateKeyDescription"
}

/// The input shape of one KMS operation, tied to its operation name and output shape.
///
/// A client sends it as the JSON body of `TrentService.<operation>`; a server decodes the body of that target
/// into it and answers with a ``Response``.
public protocol KMSRequest: Codable, Sendable {
    /// The output shape.
    associatedtype Response: Codable, Sendable
    /// The operation this is the input of.
    static var operation: KMSOperation { get }
}

/// The output of operations that return nothing (`CreateAlias`, `EnableKey`, …): the JSON body `{}`.
public struct EmptyResponse: Codable, Sendable, Hashable {
    public init() {}
}

/// A key–value tag (`Tag`).
public struct Tag: Codable, Sendable, Hashable {
    public var tagKey: String
    public var tagValue: String

    public init(key: String, value: String) {
        self.tagKey = key
        self.tagValue = value
    }

    enum CodingKeys: String, CodingKey {
        case tagKey = "TagKey"
        case tagValue = "TagValue"
    }
}
