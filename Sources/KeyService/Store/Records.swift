public import Foundation
public import WireShapes

/// A KMS key as the store keeps it: metadata, state, policy, tags, rotation settings and its key-material versions,
/// each sealed under the service's root key.
///
/// The store persists records whole and never sees plaintext key material. ``revision`` is the optimistic
/// concurrency token of ``KeyStore/commit(_:)``.
public struct KeyRecord: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The key id: a lowercase UUID.
    public var id: String
    public var arn: String
    /// The key's description (`Description`).
    public var keyDescription: String
    public var creationDate: Date
    /// `Enabled`, `Disabled` or `PendingDeletion`.
    public var state: KeyState
    /// When a key pending deletion is destroyed.
    public var deletionDate: Date?
    public var pendingWindowInDays: Int?
    public var keyUsage: KeyUsage
    public var keySpec: KeySpec
    public var origin: Origin
    public var tags: [Tag]
    /// The key policy document, JSON text.
    public var policy: String
    public var rotation: RotationSettings
    /// The key-material versions, oldest first; the last one encrypts.
    public var materials: [SealedMaterial]
    /// Bumped by the service on every change.
    public var revision: Int

    public init(
        id: String,
        arn: String,
        keyDescription: String,
        creationDate: Date,
        state: KeyState,
        deletionDate: Date? = nil,
        pendingWindowInDays: Int? = nil,
        keyUsage: KeyUsage = .encryptDecrypt,
        keySpec: KeySpec = .symmetricDefault,
        origin: Origin = .awsKMS,
        tags: [Tag] = [],
        policy: String,
        rotation: RotationSettings = RotationSettings(),
        materials: [SealedMaterial],
        revision: Int = 0
    ) {
        self.id = id
        self.arn = arn
        self.keyDescription = keyDescription
        self.creationDate = creationDate
        self.state = state
        self.deletionDate = deletionDate
        self.pendingWindowInDays = pendingWindowInDays
        self.keyUsage = keyUsage
        self.keySpec = keySpec
        self.origin = origin
        self.tags = tags
        self.policy = policy
        self.rotation = rotation
        self.materials = materials
        self.revision = revision
    }

    /// The newest key-material version: the one that encrypts.
    public var currentMaterial: SealedMaterial? { materials.last }

    /// The earliest time maintenance has work on this key (its destruction or its automatic rotation); a store may
    /// index it to answer ``KeyStore/keysNeedingMaintenance(at:)``.
    public var nextMaintenanceDate: Date? {
        switch state {
        case .pendingDeletion: deletionDate
        case .enabled where rotation.isEnabled: rotation.nextRotationDate
        default: nil
        }
    }

    public var description: String {
        "KeyRecord(\(id), \(state), \(materials.count) material version(s), revision \(revision))"
    }
}

/// Automatic rotation settings of a key.
public struct RotationSettings: Sendable, Hashable, Codable {
    public var isEnabled: Bool
    /// 90 to 2560 days.
    public var periodInDays: Int?
    public var nextRotationDate: Date?

    public init(isEnabled: Bool = false, periodInDays: Int? = nil, nextRotationDate: Date? = nil) {
        self.isEnabled = isEnabled
        self.periodInDays = periodInDays
        self.nextRotationDate = nextRotationDate
    }
}

/// One key-material version, sealed: a 256-bit AES key encrypted with AES-256-GCM under the root key, with the key
/// id and version as associated data.
public struct SealedMaterial: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How a version came to be.
    public struct Origin: WireEnumeration {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The material the key was created with.
        public static let creation: Origin = "CREATION"
        /// `RotationType` `AUTOMATIC`.
        public static let automatic: Origin = "AUTOMATIC"
        /// `RotationType` `ON_DEMAND`.
        public static let onDemand: Origin = "ON_DEMAND"
    }

    /// 1 for the first material, then one more per rotation; carried in ciphertext blobs.
    public var version: UInt32
    /// The `KeyMaterialId`: 64 hex digits, random (not derived from the material).
    public var materialID: String
    public var creationDate: Date
    public var origin: Origin
    /// nonce ‖ ciphertext ‖ tag of the material under the root key.
    public var sealed: Data

    public init(version: UInt32, materialID: String, creationDate: Date, origin: Origin, sealed: Data) {
        self.version = version
        self.materialID = materialID
        self.creationDate = creationDate
        self.origin = origin
        self.sealed = sealed
    }

    public var description: String { "SealedMaterial(version \(version), \(origin))" }
}

/// An alias: `alias/NAME` pointing at one key.
public struct AliasRecord: Sendable, Hashable, Codable {
    /// The full name, `alias/…`.
    public var name: String
    public var targetKeyID: String
    public var creationDate: Date
    public var lastUpdatedDate: Date
    public var revision: Int

    public init(name: String, targetKeyID: String, creationDate: Date, lastUpdatedDate: Date, revision: Int = 0) {
        self.name = name
        self.targetKeyID = targetKeyID
        self.creationDate = creationDate
        self.lastUpdatedDate = lastUpdatedDate
        self.revision = revision
    }
}
