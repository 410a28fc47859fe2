public import Foundation

// Wire shapes of UpdateKeyDescription and ListKeyRotations, after botocore's `kms/2014-11-01`.

/// `UpdateKeyDescription` input.
public struct UpdateKeyDescriptionRequest: KMSRequest, Hashable {
    public typealias Response = EmptyResponse
    public static let operation = KMSOperation.updateKeyDescription

    /// A key id or key ARN.
    public var keyId: String
    public var description: String

    public init(keyId: String, description: String) {
        self.keyId = keyId
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case description = "Description"
    }
}

/// `ListKeyRotations` input.
public struct ListKeyRotationsRequest: KMSRequest, Hashable {
    public typealias Response = ListKeyRotationsResponse
    public static let operation = KMSOperation.listKeyRotations

    /// A key id or key ARN.
    public var keyId: String
    /// `ROTATIONS_ONLY` (the default: completed rotations) or `ALL_KEY_MATERIAL` (also the first material).
    public var includeKeyMaterial: String?
    public var limit: Int?
    public var marker: String?

    public init(keyId: String, includeKeyMaterial: String? = nil, limit: Int? = nil, marker: String? = nil) {
        self.keyId = keyId
        self.includeKeyMaterial = includeKeyMaterial
        self.limit = limit
        self.marker = marker
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case includeKeyMaterial = "IncludeKeyMaterial"
        case limit = "Limit"
        case marker = "Marker"
    }
}

/// One key-material version of a `ListKeyRotations` page (`RotationsListEntry`).
public struct RotationsListEntry: Codable, Sendable, Hashable {
    public var keyId: String?
    public var keyMaterialId: String?
    /// `CURRENT` or `NON_CURRENT`.
    public var keyMaterialState: String?
    public var rotationDate: Date?
    /// `AUTOMATIC` or `ON_DEMAND`; absent for the key's first material.
    public var rotationType: String?

    public init(
        keyId: String? = nil,
        keyMaterialId: String? = nil,
        keyMaterialState: String? = nil,
        rotationDate: Date? = nil,
        rotationType: String? = nil
    ) {
        self.keyId = keyId
        self.keyMaterialId = keyMaterialId
        self.keyMaterialState = keyMaterialState
        self.rotationDate = rotationDate
        self.rotationType = rotationType
    }

    enum CodingKeys: String, CodingKey {
        case keyId = "KeyId"
        case keyMaterialId = "KeyMaterialId"
        case keyMaterialState = "KeyMaterialState"
        case rotationDate = "RotationDate"
        case rotationType = "RotationType"
    }
}

/// `ListKeyRotations` output.
public struct ListKeyRotationsResponse: Codable, Sendable, Hashable {
    public var rotations: [RotationsListEntry]?
    public var nextMarker: String?
    public var truncated: Bool?

    public init(rotations: [RotationsListEntry]? = nil, nextMarker: String? = nil, truncated: Bool? = nil) {
        self.rotations = rotations
        self.nextMarker = nextMarker
        self.truncated = truncated
    }

    enum CodingKeys: String, CodingKey {
        case rotations = "Rotations"
        case nextMarker = "NextMarker"
        case truncated = "Truncated"
    }
}
