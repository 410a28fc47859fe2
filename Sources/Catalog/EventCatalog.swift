public import AccessControl
public import Foundation

/// The event catalog: domains with their owners and keys, event types with classification, sensitive fields and
/// reader roles — and the policies that follow from them.
///
/// - Creating a domain creates its KMS key (through the ``KeyProvisioner``).
/// - Creating an event type creates its reader role: an empty trust policy, and one permission, `kms:Decrypt` on
///   the domain key when `kms:EncryptionContext:eventType` equals the type — nothing else. It also refreshes the
///   owning team's producer policy: `kms:Encrypt`, `kms:GenerateDataKey*` and `kms:DescribeKey` on the domain key
///   when the encryption context names the domain and one of its event types.
public actor EventCatalog: EventTypeDirectory {
    public nonisolated let identities: IdentityService
    let store: any CatalogStore
    let keys: any KeyProvisioner
    nonisolated let now: @Sendable () -> Date
    private var domains: [String: Domain] = [:]
    private var eventTypes: [String: EventType] = [:]

    public init(
        identities: IdentityService,
        store: any CatalogStore,
        keys: any KeyProvisioner,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws {
        self.identities = identities
        self.store = store
        self.keys = keys
        self.now = now
        let (domains, eventTypes) = try await store.load()
        for domain in domains { self.domains[domain.name] = domain }
        for eventType in eventTypes { self.eventTypes[eventType.name] = eventType }
    }

    // MARK: - Domains

    public func createDomain(_ name: String, owner: String, by principal: String) async throws -> Domain {
        try Self.validateDomainName(name)
        try authorize(principal, "catalog:CreateDomain", PlatformARN.domain(name, account: identities.account))
        guard domains[name] == nil else {
            throw AccessControlError(.entityAlreadyExists, "The domain \(name) already exists.")
        }
        guard identities.team(named: owner) != nil else {
            throw AccessControlError(.noSuchEntity, "The team \(owner) does not exist.")
        }
        let keyARN = try await keys.createKey(forDomain: name, owner: owner)
        let domain = Domain(name: name, owner: owner, keyARN: keyARN, creationDate: now())
        try await store.put(domain)
        domains[name] = domain
        return domain
    }

    public func domainList(by principal: String) throws -> [Domain] {
        domains.values.sorted { $0.name < $1.name }
    }

    // MARK: - Event types

    /// Parameters of a new event type.
    public struct EventTypeSpecification: Sendable, Hashable {
        public var name: String
        public var domain: String
        public var classification: Classification
        public var regulations: [String]
        public var sensitiveFields: [String]
        public var algorithmSuite: String
        public var approvalsRequired: Int

        public init(
            name: String,
            domain: String,
            classification: Classification = .confidential,
            regulations: [String] = [],
            sensitiveFields: [String] = [],
            algorithmSuite: String = "0x0578",
            approvalsRequired: Int = 1
        ) {
            self.name = name
            self.domain = domain
            self.classification = classification
            self.regulations = regulations
            self.sensitiveFields = sensitiveFields
            self.algorithmSuite = algorithmSuite
            self.approvalsRequired = approvalsRequired
        }
    }

    public func createEventType(
        _ specification: EventTypeSpecification,
        by principal: String
    ) async throws
        -> EventType
    {
        let spec = specification
        try authorize(
            principal,
            "catalog:CreateEventType",
            PlatformARN.eventType(spec.name, domain: spec.domain, account: identities.account)
        )
        guard let domain = domains[spec.domain] else {
            throw AccessControlError(.noSuchEntity, "The domain \(spec.domain) does not exist.")
        }
        try Self.validate(spec)
        guard eventTypes[spec.name] == nil else {
            throw AccessControlError(.entityAlreadyExists, "The event type \(spec.name) already exists.")
        }
        let roleName = Self.readerRoleName(of: spec.name)
        let role = try await identities.createRole(
            roleName,
            trustPolicy: #"{"Version":"2012-10-17","Statement":[]}"#,
            policies: ["read-\(spec.name)": Self.readerPolicy(keyARN: domain.keyARN, eventType: spec.name)],
            description: "Reads \(spec.name) events: kms:Decrypt on the \(domain.name) key for this type only.",
            by: .platform
        )
        let eventType = EventType(
            name: spec.name,
            domain: spec.domain,
            classification: spec.classification,
            regulations: spec.regulations,
            sensitiveFields: spec.sensitiveFields,
            algorithmSuite: spec.algorithmSuite,
            approvalsRequired: spec.approvalsRequired,
            readerRoleARN: role.arn,
            readerRoleName: role.name,
            creationDate: now()
        )
        try await store.put(eventType)
        eventTypes[spec.name] = eventType
        try await refreshProducerPolicy(of: domain)
        return eventType
    }

    public func eventTypeList(domain: String? = nil) -> [EventType] {
        eventTypes.values.filter { domain == nil || $0.domain == domain }.sorted { $0.name < $1.name }
    }

    public func eventType(named name: String) throws -> EventType {
        guard let eventType = eventTypes[name] else {
            throw AccessControlError(.noSuchEntity, "The event type \(name) is not in the catalog.")
        }
        return eventType
    }

    public func domain(named name: String) -> Domain? { domains[name] }

    public func accessTarget(for eventType: String) -> AccessTarget? {
        guard let type = eventTypes[eventType], let domain = domains[type.domain] else { return nil }
        return AccessTarget(
            eventType: type.name,
            domain: domain.name,
            owningTeam: domain.owner,
            approvalsRequired: type.approvalsRequired,
            readerRoleName: type.readerRoleName
        )
    }

    // MARK: - Policies

    /// `reader-<event type>` (event type names have at most 57 characters, role names 64).
    static func readerRoleName(of eventType: String) -> String { "reader-" + eventType }

    static func readerPolicy(keyARN: String, eventType: String) -> String {
        policy([
            [
                "Sid": "DecryptThisEventTypeOnly", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": keyARN,
                "Condition": ["StringEquals": ["kms:EncryptionContext:eventType": eventType]],
            ]
        ])
    }

    /// The owning team's policy for a domain: encrypt for the domain's event types.
    func refreshProducerPolicy(of domain: Domain) async throws {
        let types = eventTypeList(domain: domain.name).map(\.name)
        let document = Self.policy([
            [
                "Sid": "ProduceDomainEvents", "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
                "Resource": domain.keyARN,
                "Condition": [
                    "StringEquals": [
                        "kms:EncryptionContext:domain": domain.name, "kms:EncryptionContext:eventType": types,
                    ]
                ],
            ],
            ["Sid": "DescribeDomainKey", "Effect": "Allow", "Action": "kms:DescribeKey", "Resource": domain.keyARN],
        ])
        try await identities.putTeamPolicy(
            domain.owner,
            name: "produce-\(domain.name)",
            document: document,
            by: .platform
        )
    }

    static func policy(_ statements: [[String: Any]]) -> String {
        let document: [String: Any] = ["Version": "2012-10-17", "Statement": statements]
        let data =
            (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: - Validation

    /// Requires the identity policies of `principal` to allow `action` on `resource`, an ARN of ``PlatformARN``.
    nonisolated func authorize(_ principal: String, _ action: String, _ resource: String) throws(AccessControlError) {
        guard identities.isAllowed(principal, action, on: resource) else {
            throw AccessControlError(
                .accessDenied,
                "User: \(principal) is not authorized to perform: \(action) on resource: \(resource)"
            )
        }
    }

    static func validateDomainName(_ name: String) throws(AccessControlError) {
        guard Self.matches(name, #"^[a-z][a-z0-9-]{0,39}$"#) else {
            throw AccessControlError(
                .validationError,
                "The domain name '\(name)' is invalid: 1 to 40 lower-case letters, digits and hyphens, starting with a letter."
            )
        }
    }

    static func validate(_ spec: EventTypeSpecification) throws(AccessControlError) {
        guard spec.name.hasPrefix(spec.domain + "."),
            Self.matches(spec.name, #"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9_-]*)+$"#),
            spec.name.count <= 57
        else {
            throw AccessControlError(
                .validationError,
                "The event type '\(spec.name)' is invalid: it is '\(spec.domain).' followed by dot-separated lower-case "
                    + "words (letters, digits, '-' and '_'), at most 57 characters."
            )
        }
        guard spec.algorithmSuite == "0x0578" || spec.algorithmSuite == "0x0478" else {
            throw AccessControlError(.validationError, "The algorithm suite must be 0x0578 or 0x0478.")
        }
        guard spec.approvalsRequired == 1 || spec.approvalsRequired == 2 else {
            throw AccessControlError(.validationError, "Approvals required must be 1 or 2.")
        }
        for pointer in spec.sensitiveFields {
            guard pointer.hasPrefix("/"), pointer.count > 1 else {
                throw AccessControlError(
                    .validationError,
                    "The sensitive field '\(pointer)' is not a JSON Pointer into data (it starts with '/')."
                )
            }
        }
        guard Set(spec.sensitiveFields).count == spec.sensitiveFields.count else {
            throw AccessControlError(.validationError, "A sensitive field is listed twice.")
        }
    }

    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }
}
