public import WireShapes

/// The forms of key identifier a KMS operation accepts: key id, key ARN, alias name, alias ARN.
///
/// Per botocore's service model (`kms/2014-11-01`): the cryptographic operations and `DescribeKey` accept all four
/// forms; key management operations (`EnableKey`, `DisableKey`, rotation, deletion, key policies, tags,
/// `UpdateKeyDescription`) and the target of `CreateAlias`/`UpdateAlias` or the filter of `ListAliases` accept a key
/// id or key ARN only.
public struct IdentifierForms: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `1234abcd-12ab-34cd-56ef-1234567890ab`.
    public static let keyID = IdentifierForms(rawValue: 1 << 0)
    /// `arn:aws:kms:us-east-1:000000000000:key/1234abcd-…`.
    public static let keyARN = IdentifierForms(rawValue: 1 << 1)
    /// `alias/ExampleAlias`.
    public static let aliasName = IdentifierForms(rawValue: 1 << 2)
    /// `arn:aws:kms:us-east-1:000000000000:alias/ExampleAlias`.
    public static let aliasARN = IdentifierForms(rawValue: 1 << 3)

    /// A key id or key ARN.
    public static let keyOnly: IdentifierForms = [.keyID, .keyARN]
    /// Any of the four forms.
    public static let any: IdentifierForms = [.keyID, .keyARN, .aliasName, .aliasARN]

    /// The forms the `KeyId` member (or `SourceKeyId`/`DestinationKeyId`/`TargetKeyId`) of an operation accepts.
    public static func accepted(by operation: KMSOperation) -> IdentifierForms {
        switch operation {
        case .describeKey, .encrypt, .decrypt, .reEncrypt, .generateDataKey, .generateDataKeyWithoutPlaintext:
            .any
        default:
            .keyOnly
        }
    }
}

/// A key identifier as a request spells it, classified into one of its four forms.
enum KeyIdentifier: Hashable, Sendable {
    case keyID(String)
    case keyARN(String)
    /// The full alias name, `alias/…`.
    case aliasName(String)
    /// The full alias name, `alias/…`, taken from an alias ARN.
    case aliasARN(String)

    var form: IdentifierForms {
        switch self {
        case .keyID: .keyID
        case .keyARN: .keyARN
        case .aliasName: .aliasName
        case .aliasARN: .aliasARN
        }
    }

    /// Classifies `text`; `nil` when it is no identifier at all (an ARN of another service or a malformed ARN).
    ///
    /// An ARN of another region, account or partition parses; it simply names nothing in this service.
    init?(_ text: String, in configuration: KeyService.Configuration) {
        if text.hasPrefix("arn:") {
            guard let arn = KMSARN(text) else { return nil }
            let local =
                arn.partition == configuration.partition && arn.region == configuration.region
                && arn.account == configuration.accountID
            switch arn.resourceType {
            case .key: self = .keyARN(local ? arn.resourceId : "")
            case .alias: self = .aliasARN(local ? "alias/" + arn.resourceId : "")
            }
        } else if text.hasPrefix("alias/") {
            self = .aliasName(text)
        } else {
            self = .keyID(text)
        }
    }
}
