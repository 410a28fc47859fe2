internal import AccessControl
public import Foundation

/// How sensitive an event type's data is. `confidential` and `restricted` types must be sealed at publish.
public struct Classification: RawRepresentable, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    public let rawValue: String
    public init?(rawValue: String) {
        guard Self.allCases.contains(where: { $0.rawValue == rawValue }) else { return nil }
        self.rawValue = rawValue
    }
    private init(_ value: String) { self.rawValue = value }

    public static let `public` = Classification("public")
    public static let `internal` = Classification("internal")
    public static let confidential = Classification("confidential")
    public static let restricted = Classification("restricted")
    public static let allCases: [Classification] = [.public, .internal, .confidential, .restricted]

    /// Whether events of this class must be sealed with the domain's key.
    public var requiresSealing: Bool { self == .confidential || self == .restricted }
    public var description: String { rawValue }
}

/// A domain: an area of the business owned by one team, with one KMS key.
public struct Domain: Sendable, Hashable, Codable {
    public var name: String
    /// The owning team.
    public var owner: String
    public var keyARN: String
    public var creationDate: Date

    public init(name: String, owner: String, keyARN: String, creationDate: Date) {
        self.name = name
        self.owner = owner
        self.keyARN = keyARN
        self.creationDate = creationDate
    }

    /// The alias of the domain's key: `alias/sealed/<domain>`.
    public var keyAlias: String { Self.keyAlias(of: name) }

    /// The alias the platform gives the key of the domain `name`.
    public static func keyAlias(of name: String) -> String { "alias/sealed/" + name }
}

/// An event type of a domain, its classification, what of it is sensitive, and who may read it.
public struct EventType: Sendable, Hashable, Codable {
    public var name: String
    public var domain: String
    public var classification: Classification
    /// Regulations the data falls under (`GDPR`, `PCI-DSS`, …).
    public var regulations: [String]
    /// JSON Pointers of the sensitive fields of `data`; empty means the whole `data` is sealed.
    public var sensitiveFields: [String]
    /// The JSON Pointer into `data` of the data subject's id (`/customer/id`), when events of this type are about a
    /// person: they are sealed under that subject's branch key, which erasure destroys. Always inside the sealed part.
    public var subjectField: String?
    /// The ESDK algorithm suite producers seal with: `0x0578` (signed, the default) or `0x0478`.
    public var algorithmSuite: String
    /// 1 or 2 different reviewers must approve an access request.
    public var approvalsRequired: Int
    /// The role that may decrypt this type and nothing else.
    public var readerRoleARN: String
    public var readerRoleName: String
    public var creationDate: Date

    public init(
        name: String,
        domain: String,
        classification: Classification,
        regulations: [String],
        sensitiveFields: [String],
        subjectField: String? = nil,
        algorithmSuite: String,
        approvalsRequired: Int,
        readerRoleARN: String,
        readerRoleName: String,
        creationDate: Date
    ) {
        self.name = name
        self.domain = domain
        self.classification = classification
        self.regulations = regulations
        self.sensitiveFields = sensitiveFields
        self.subjectField = subjectField
        self.algorithmSuite = algorithmSuite
        self.approvalsRequired = approvalsRequired
        self.readerRoleARN = readerRoleARN
        self.readerRoleName = readerRoleName
        self.creationDate = creationDate
    }

    /// `fields` when sensitive fields are listed, `data` otherwise.
    public var scope: String { sensitiveFields.isEmpty ? "data" : "fields" }
}

/// Where the catalog is kept.
public protocol CatalogStore: Sendable {
    func load() async throws -> (domains: [Domain], eventTypes: [EventType])
    func put(_ domain: Domain) async throws
    func put(_ eventType: EventType) async throws
}

/// A ``CatalogStore`` in memory.
public actor InMemoryCatalogStore: CatalogStore {
    private var domains: [String: Domain] = [:]
    private var eventTypes: [String: EventType] = [:]
    public init() {}
    public func load() -> (domains: [Domain], eventTypes: [EventType]) {
        (Array(domains.values), Array(eventTypes.values))
    }
    public func put(_ domain: Domain) { domains[domain.name] = domain }
    public func put(_ eventType: EventType) { eventTypes[eventType.name] = eventType }
}

/// Creates the KMS key of a new domain; the server implements it with the key service, or in an AWS account.
///
/// When the keys live in an AWS account, the reader roles and producer grants are made there too: the catalog asks
/// for them with ``createReaderRole(eventType:keyARN:)`` and ``grantProducers(domain:keyARN:eventTypes:owner:)``,
/// whose default implementations do nothing (the embedded key service is governed by the platform's own IAM).
public protocol KeyProvisioner: Sendable {
    /// Creates a symmetric key for `domain`, returns its ARN.
    func createKey(forDomain domain: String, owner: String) async throws -> String
    /// Adopts the existing key `keyARN` as `domain`'s key (checked usable, tagged), returns its ARN.
    func adoptKey(_ keyARN: String, forDomain domain: String, owner: String) async throws -> String
    /// Creates (or finds) the reader role of a new event type where the key lives; returns its ARN, or `nil` when
    /// the platform's own IAM is where consumers assume it. `subjectKeys`: its events are sealed under data subjects'
    /// branch keys (the type has a subject field).
    func createReaderRole(eventType: String, keyARN: String, subjectKeys: Bool) async throws -> String?
    /// Lets the members of `owner` encrypt `eventTypes` under the domain's key where the key lives.
    func grantProducers(domain: String, keyARN: String, eventTypes: [String], owner: String) async throws
}

extension KeyProvisioner {
    /// - Throws: `ValidationError`: only a key service outside the platform (AWS mode) has keys to adopt.
    public func adoptKey(_ keyARN: String, forDomain domain: String, owner: String) async throws -> String {
        throw AccessControlError(
            .validationError,
            "Adopting an existing key (--key-arn) is only available in AWS mode: the platform's own key service "
                + "creates each domain's key."
        )
    }
    public func createReaderRole(eventType: String, keyARN: String, subjectKeys: Bool) async throws -> String? {
        nil
    }
    public func grantProducers(domain: String, keyARN: String, eventTypes: [String], owner: String) async throws {}
}
