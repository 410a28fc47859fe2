/// An AWS KMS ARN: `arn:PARTITION:kms:REGION:ACCOUNT:key/ID` or `…:alias/NAME`.
///
/// Validity follows ESDK spec `framework/aws-kms/aws-kms-key-arn.md` (docs/esdk-format.md §5.3): six
/// `:`-separated parts, `arn`, a non-empty partition, the service `kms`, a non-empty region and account, and a
/// resource `key/<id>` or `alias/<name>` (split on the first `/`, both halves non-empty).
public struct KMSARN: Sendable, Hashable, CustomStringConvertible {
    /// The resource type of a KMS ARN.
    public enum ResourceType: String, Sendable, Hashable {
        case key
        case alias
    }

    public let partition: String
    public let region: String
    public let account: String
    public let resourceType: ResourceType
    /// The key id or the alias name (without `alias/`).
    public let resourceId: String

    /// Parses an ARN; `nil` when it is not a valid KMS ARN.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", !parts[1].isEmpty, parts[2] == "kms", !parts[3].isEmpty,
            !parts[4].isEmpty
        else { return nil }
        let resource = parts[5]
        guard let slash = resource.firstIndex(of: "/"),
            let type = ResourceType(rawValue: String(resource[..<slash]))
        else { return nil }
        let id = resource[resource.index(after: slash)...]
        guard !id.isEmpty else { return nil }
        partition = String(parts[1])
        region = String(parts[3])
        account = String(parts[4])
        resourceType = type
        resourceId = String(id)
    }

    /// Whether this is a multi-Region key (`key/mrk-…`).
    public var isMultiRegionKey: Bool { resourceType == .key && resourceId.hasPrefix("mrk-") }

    public var description: String {
        "arn:\(partition):kms:\(region):\(account):\(resourceType.rawValue)/\(resourceId)"
    }
}
