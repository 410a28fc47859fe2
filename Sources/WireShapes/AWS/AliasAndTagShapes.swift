public import Foundation

/// `CreateAlias` input.
public struct CreateAliasRequest: KMSRequest, Hashable {
    public typealias Response = EmptyResponse
    public static let operation = KMSOperation.createAlias

    /// `alias/<name>`.
    public var aliasName: String
    public var targetKeyId: String

    public init(aliasName: String, targetKeyId: String) {
        self.aliasName = aliasName
        self.targetKeyId = targetKeyId
    }

    enum CodingKeys: String, CodingKey {
        case aliasName = "AliasName"
        case targetKeyId = "TargetKeyId"
    }
}

/// `UpdateAlias` input.
public struct UpdateAliasRequest: KMSRequest, Hashable {
    public typealias Response = EmptyResponse
    public static let operation = KMSOperation.updateAlias

    public var aliasName: String
    public var targetKeyId: String

    public init(aliasName: String, targetKeyId: String) {
        self.aliasName = aliasName
        self.targetKeyId = targetKeyId
    }

    enum CodingKeys: String, CodingKey {
        case aliasName = "AliasName"
        case targetKeyId = "TargetKeyId"
    }
}

/// `DeleteAlias` input.
public struct DeleteAliasRequest: KMSRequest, Hashable {
    public typealias Response = EmptyResponse
    public static let operation = KMSOperation.deleteAlias

    public var aliasName: String

    public init(aliasName: String) { self.aliasName = aliasName }

    enum CodingKeys: String, CodingKey { case aliasName = "AliasName" }
}

/// `ListAliases` input.
public struct ListAliasesRequest: KMSRequest, Hashable {
    public typealias Response = ListAliasesResponse
    public static let operation = KMSOperation.listAliases

    /// Only the aliases of this key, when set.
    public var keyId: String?
    public var limit: Int?
    public var marker: String?

    public init(keyId: String? = nil, limit: Int? = nil, marker: String? = nil) {
        self.keyId = keyId
        self.limit = limit
        self.marker = marker
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case limit = "Limit"
        case marker = "Marker"
    }
}

/// One alias of a `ListAliases` page (`AliasListEntry`).
public struct AliasListEntry: Codable, Sendable, Hashable {
    public var aliasName: String?
    public var aliasArn: String?
    public var targetKeyId: String?
    public var creationDate: Date?
    public var lastUpdatedDate: Date?

    public init(
        aliasName: String? = nil,
        aliasArn: String? = nil,
        targetKeyId: String? = nil,
        creationDate: Date? = nil,
        lastUpdatedDate: Date? = nil
    ) {
        self.aliasName = aliasName
        self.aliasArn = aliasArn
        self.targetKeyId = targetKeyId
        self.creationDate = creationDate
        self.lastUpdatedDate = lastUpdatedDate
    }

    enum CodingKeys: String, CodingKey {
        case aliasName = "AliasName"
        case aliasArn = "AliasArn"
        case targetKeyId = "TargetKeyId"
        case creationDate = "CreationDate"
        case lastUpdatedDate = "LastUpdatedDate"
    }
}

/// `ListAliases` output.
public struct ListAliasesResponse: Codable, Sendable, Hashable {
    public var aliases: [AliasListEntry]?
    public var nextMarker: String?
    public var truncated: Bool?

    public init(aliases: [AliasListEntry]? = nil, nextMarker: String? = nil, truncated: Bool? = nil) {
        self.aliases = aliases
        self.nextMarker = nextMarker
        self.truncated = truncated
    }

    enum CodingKeys: String, CodingKey {
        case aliases = "Aliases"
        case nextMarker = "NextMarker"
        case truncated = "Truncated"
    }
}

/// `TagResource` input.
public struct TagResourceRequest: KMSRequest, Hashable {
    public typealias Response = EmptyResponse
    public static let operation = KMSOperation.tagResource

    public var keyId: String
    public var tags: [Tag]

    public init(keyId: String, tags: [Tag]) {
        self.keyId = keyId
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case tags = "Tags"
    }
}

/// `UntagResource` input.
public struct UntagResourceRequest: KMSRequest, Hashable {
    public typealias Response = EmptyResponse
    public static let operation = KMSOperation.untagResource

    public var keyId: String
    public var tagKeys: [String]

    public init(keyId: String, tagKeys: [String]) {
        self.keyId = keyId
        self.tagKeys = tagKeys
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case tagKeys = "TagKeys"
    }
}

/// `ListResourceTags` input.
public struct ListResourceTagsRequest: KMSRequest, Hashable {
    public typealias Response = ListResourceTagsResponse
    public static let operation = KMSOperation.listResourceTags

    public var keyId: String
    public var limit: Int?
    public var marker: String?

    public init(keyId: String, limit: Int? = nil, marker: String? = nil) {
        self.keyId = keyId
        self.limit = limit
        self.marker = marker
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case limit = "Limit"
        case marker = "Marker"
    }
}

/// `ListResourceTags` output.
public struct ListResourceTagsResponse: Codable, Sendable, Hashable {
    public var tags: [Tag]?
    public var nextMarker: String?
    public var truncated: Bool?

    public init(tags: [Tag]? = nil, nextMarker: String? = nil, truncated: Bool? = nil) {
        self.tags = tags
        self.nextMarker = nextMarker
        self.truncated = truncated
    }

    enum CodingKeys: String, CodingKey {
        case tags = "Tags"
        case nextMarker = "NextMarker"
        case truncated = "Truncated"
    }
}
