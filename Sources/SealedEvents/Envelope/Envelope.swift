internal import SealedSupport

/// A Sealed Events envelope: routing metadata the platform reads, and the event's data, sealed in whole or in
/// part.
///
/// ```json
/// {"metaData": {"eventId": "01JD3…", "eventType": "payments.card.captured", "domain": "payments",
///               "source": "checkout-service", "time": "2026-11-29T10:15:00Z",
///               "classification": "restricted", "regulations": ["PCI-DSS"],
///               "encryption": {"keyArn": "arn:aws:kms:…", "format": "aws-esdk", "algorithmSuite": "0x0578",
///                              "scope": "data", "encryptionContext": {"eventType": "…", "domain": "…"}}},
///  "data": "AgV4…"}
/// ```
///
/// Members this SDK does not know — at the top level, in `metaData` and in `metaData.encryption` — are kept
/// in ``additionalMembers`` and written back unchanged (same values, same order among themselves, after the
/// known members), so an envelope passes through an older SDK without losing what a newer producer added.
/// `docs/sealed-events-format.md` describes the layout.
public struct Envelope: Sendable, Hashable {
    /// The routing metadata.
    public var metaData: MetaData
    /// The event's data: any JSON before sealing; after sealing the base64 ESDK message (scope `data`), or the
    /// data with sealed places replaced by ``Envelope/sealedMarker`` (scope `fields`).
    public var data: JSONValue
    /// Top-level members other than `metaData` and `data`, in their order.
    public var additionalMembers: JSONObject

    public init(metaData: MetaData, data: JSONValue, additionalMembers: JSONObject = [:]) {
        self.metaData = metaData
        self.data = data
        self.additionalMembers = additionalMembers
    }

    /// The value that stands in the place of each sealed field in scope `fields`: `{"sealed": true}`.
    public static let sealedMarker: JSONValue = ["sealed": true]

    /// What a redacted view shows in the place of each sealed part of an event whose data subject was erased:
    /// `{"erased": true}`.
    public static let erasedMarker: JSONValue = ["erased": true]

    /// Whether the envelope carries an encryption block.
    public var isSealed: Bool { metaData.encryption != nil }
}

/// The routing metadata of an event (the envelope's `metaData`).
public struct MetaData: Sendable, Hashable {
    /// Unique per event; bound into the sealed payload.
    public var eventId: String
    /// The catalog's event type, e.g. `payments.card.captured`.
    public var eventType: String
    /// The domain owning the event type and its key, e.g. `payments`.
    public var domain: String
    /// The producing service.
    public var source: String
    /// When the event happened, RFC 3339 (kept as written).
    public var time: String?
    /// The data classification of the event type.
    public var classification: Classification?
    /// Regulations that apply to the data, e.g. `PCI-DSS`, `GDPR`.
    public var regulations: [String]?
    /// How the data is sealed; `nil` for an event that is not sealed.
    public var encryption: Encryption?
    /// Members of `metaData` this SDK does not know, in their order.
    public var additionalMembers: JSONObject

    public init(
        eventId: String,
        eventType: String,
        domain: String,
        source: String,
        time: String? = nil,
        classification: Classification? = nil,
        regulations: [String]? = nil,
        encryption: Encryption? = nil,
        additionalMembers: JSONObject = [:]
    ) {
        self.eventId = eventId
        self.eventType = eventType
        self.domain = domain
        self.source = source
        self.time = time
        self.classification = classification
        self.regulations = regulations
        self.encryption = encryption
        self.additionalMembers = additionalMembers
    }
}

/// The envelope's `metaData.encryption` block: how and with which key the data is sealed.
public struct Encryption: Sendable, Hashable {
    /// The ARN (or, for raw keyrings, `raw:NAMESPACE/NAME` identifier) of the key that wraps the data key.
    public var keyArn: String
    /// The message format; `aws-esdk` is the only one.
    public var format: String
    /// The ESDK algorithm suite as written, `0x0478` or `0x0578`.
    public var algorithmSuite: String
    /// `data` or `fields`.
    public var scope: Scope
    /// The ESDK encryption context without the ESDK's own `aws-crypto-` pairs: `eventType` and `domain`.
    public var encryptionContext: [String: String]
    /// Scope `fields`: the JSON Pointers of the sealed places in `data`, in the order the sealed payload lists
    /// them.
    public var sealedFields: [JSONPointer]?
    /// Scope `fields`: the base64 ESDK message holding every sealed value of the event.
    public var ciphertext: String?
    /// Members of the block this SDK does not know, in their order.
    public var additionalMembers: JSONObject

    /// The one format this SDK writes and reads.
    public static let esdkFormat = "aws-esdk"

    public init(
        keyArn: String,
        format: String = Encryption.esdkFormat,
        algorithmSuite: String,
        scope: Scope,
        encryptionContext: [String: String],
        sealedFields: [JSONPointer]? = nil,
        ciphertext: String? = nil,
        additionalMembers: JSONObject = [:]
    ) {
        self.keyArn = keyArn
        self.format = format
        self.algorithmSuite = algorithmSuite
        self.scope = scope
        self.encryptionContext = encryptionContext
        self.sealedFields = sealedFields
        self.ciphertext = ciphertext
        self.additionalMembers = additionalMembers
    }
}

/// What part of an event is sealed: an open set on the wire (`data`, `fields`).
public struct Scope: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The whole `data` element is one ESDK message.
    public static let data = Scope(rawValue: "data")
    /// Only some fields are sealed, all in one ESDK message; the rest of `data` stays readable.
    public static let fields = Scope(rawValue: "fields")
}

/// The data classification of an event type: `public`, `internal`, `confidential` or `restricted`.
public struct Classification: Sendable, Hashable, CustomStringConvertible, Codable {
    private enum Level: String, CaseIterable {
        case `public`, `internal`, confidential, restricted
    }

    private let level: Level

    private init(_ level: Level) { self.level = level }

    /// The classification with this wire name, or `nil`.
    public init?(rawValue: String) {
        guard let level = Level(rawValue: rawValue) else { return nil }
        self.level = level
    }

    /// The wire name.
    public var rawValue: String { level.rawValue }
    public var description: String { level.rawValue }

    /// Anyone may read it.
    public static let `public` = Classification(.public)
    /// Inside the company.
    public static let `internal` = Classification(.internal)
    /// A need-to-know basis; sealed.
    public static let confidential = Classification(.confidential)
    /// Regulated data (cardholder, health); sealed, often with two approvals for access.
    public static let restricted = Classification(.restricted)

    /// Every classification, from least to most sensitive.
    public static let all: [Classification] = Level.allCases.map(Classification.init)

    /// Whether events of this classification must be sealed (`confidential`, `restricted`).
    public var requiresSealing: Bool { level == .confidential || level == .restricted }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Classification(rawValue: text) else {
            throw SealedEventsError.malformed("unknown classification \"\(text)\"")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
