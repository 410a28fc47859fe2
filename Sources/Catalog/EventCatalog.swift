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
/// - An event type with a subject field (its events are sealed under the subject's branch key, whose custom
///   encryption context is `{"eventType", "domain"}`) adds to its reader role `kms:Decrypt` on the domain key when
///   `kms:EncryptionContext:aws-crypto-ec:eventType` equals the type, and `dynamodb:GetItem` on the keystore table
///   ``keyStoreTableName``: a reader fetches any branch key item, but KMS unwraps only its own type's. The producer
///   policy of a domain with such types adds `kms:Decrypt` when `aws-crypto-ec:domain` names the domain (to read
///   active branch keys), `dynamodb:GetItem` on the table, `catalog:ResolveSubject` on the domain's event types, and
///   `catalog:EraseSubject`, `catalog:DescribeSubject` and `catalog:LiftSubjectFence` on the domain.
/// - ``refreshPolicies()`` rewrites the roles and team policies whose documents are not what the catalog makes of
///   them now, so a catalog created by an older version gets the new statements at start.
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

    /// Reads the domains and event types from the store again, replacing those in memory: another process sharing
    /// the store (a replica on the same database) changed them.
    public func reload() async throws {
        let (domains, eventTypes) = try await store.load()
        self.domains = Dictionary(domains.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.eventTypes = Dictionary(eventTypes.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    // MARK: - Domains

    /// Creates a domain owned by `owner` with a new key, or with the existing key `keyARN` adopted (AWS mode).
    public func createDomain(_ name: String, owner: String, keyARN existingKey: String? = nil, by principal: String)
        async throws -> Domain
    {
        try Self.validateDomainName(name)
        try authorize(principal, "catalog:CreateDomain", PlatformARN.domain(name, account: identities.account))
        guard domains[name] == nil else {
            throw AccessControlError(.entityAlreadyExists, "The domain \(name) already exists.")
        }
        guard identities.team(named: owner) != nil else {
            throw AccessControlError(.noSuchEntity, "The team \(owner) does not exist.")
        }
        let keyARN =
            if let existingKey {
                try await keys.adoptKey(existingKey, forDomain: name, owner: owner)
            } else {
                try await keys.createKey(forDomain: name, owner: owner)
            }
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
        /// The JSON Pointer of the data subject's id in `data`; see ``EventType/subjectField``.
        public var subjectField: String?
        public var algorithmSuite: String
        public var approvalsRequired: Int

        public init(
            name: String,
            domain: String,
            classification: Classification = .confidential,
            regulations: [String] = [],
            sensitiveFields: [String] = [],
            subjectField: String? = nil,
            algorithmSuite: String = "0x0578",
            approvalsRequired: Int = 1
        ) {
            self.name = name
            self.domain = domain
            self.classification = classification
            self.regulations = regulations
            self.sensitiveFields = sensitiveFields
            self.subjectField = subjectField
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
        // Where the key lives in an AWS account, the reader role consumers assume is made there first (idempotent:
        // a failure leaves nothing here, and creating the type again finds it).
        let externalRole = try await keys.createReaderRole(
            eventType: spec.name,
            keyARN: domain.keyARN,
            subjectKeys: spec.subjectField != nil
        )
        let roleName = Self.readerRoleName(of: spec.name)
        let role = try await identities.createRole(
            roleName,
            trustPolicy: #"{"Version":"2012-10-17","Statement":[]}"#,
            policies: [
                "read-\(spec.name)": Self.readerPolicy(
                    keyARN: domain.keyARN,
                    eventType: spec.name,
                    subjectKeys: spec.subjectField != nil
                )
            ],
            description: "Reads \(spec.name) events: kms:Decrypt on the \(domain.name) key for this type only.",
            by: .platform
        )
        let eventType = EventType(
            name: spec.name,
            domain: spec.domain,
            classification: spec.classification,
            regulations: spec.regulations,
            sensitiveFields: spec.sensitiveFields,
            subjectField: spec.subjectField,
            algorithmSuite: spec.algorithmSuite,
            approvalsRequired: spec.approvalsRequired,
            readerRoleARN: externalRole ?? role.arn,
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

    /// The DynamoDB table of the platform's branch keystore (its logical keystore name is the same).
    public static let keyStoreTableName = "sealed-branch-keys"

    /// The keystore table's ARN, in the region and account of the domain key `keyARN`.
    static func keyStoreTableARN(besideKey keyARN: String) -> String {
        let fields = keyARN.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard fields.count == 6 else { return "arn:aws:dynamodb:*:*:table/\(keyStoreTableName)" }
        return "arn:\(fields[1]):dynamodb:\(fields[3]):\(fields[4]):table/\(keyStoreTableName)"
    }

    static func readerPolicy(keyARN: String, eventType: String, subjectKeys: Bool) -> String {
        var statements: [[String: Any]] = [
            [
                "Sid": "DecryptThisEventTypeOnly", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": keyARN,
                "Condition": ["StringEquals": ["kms:EncryptionContext:eventType": eventType]],
            ]
        ]
        if subjectKeys {
            statements += [
                [
                    "Sid": "UnwrapThisEventTypesSubjectKeys", "Effect": "Allow", "Action": "kms:Decrypt",
                    "Resource": keyARN,
                    "Condition": ["StringEquals": ["kms:EncryptionContext:aws-crypto-ec:eventType": eventType]],
                ],
                [
                    "Sid": "ReadBranchKeys", "Effect": "Allow", "Action": "dynamodb:GetItem",
                    "Resource": keyStoreTableARN(besideKey: keyARN),
                ],
            ]
        }
        return policy(statements)
    }

    /// Rewrites each reader role's and producer team's policy whose document differs from what the catalog makes
    /// of it now (statements added by a newer version); an unchanged one is not written. Returns how many were.
    @discardableResult
    public func refreshPolicies() async throws -> Int {
        var written = 0
        for type in eventTypes.values.sorted(by: { $0.name < $1.name }) {
            guard let domain = domains[type.domain] else { continue }
            let name = "read-\(type.name)"
            let document = Self.readerPolicy(
                keyARN: domain.keyARN,
                eventType: type.name,
                subjectKeys: type.subjectField != nil
            )
            let role = try await identities.role(named: type.readerRoleName, by: .platform)
            guard role.policies[name] != document else { continue }
            try await identities.putRolePolicy(type.readerRoleName, name: name, document: document, by: .platform)
            written += 1
        }
        for domain in domains.values.sorted(by: { $0.name < $1.name }) {
            let current = identities.team(named: domain.owner)?.policies["produce-\(domain.name)"]
            guard current != producerPolicy(of: domain) else { continue }
            try await refreshProducerPolicy(of: domain)
            written += 1
        }
        return written
    }

    /// Grants the producer policies of the domains `team` owns again where the keys live (an AWS account), so a
    /// member who just joined gets them.
    public func grantProducers(ofTeam team: String) async throws {
        for domain in domains.values.sorted(by: { $0.name < $1.name }) where domain.owner == team {
            try await keys.grantProducers(
                domain: domain.name,
                keyARN: domain.keyARN,
                eventTypes: eventTypeList(domain: domain.name).map(\.name),
                owner: domain.owner
            )
        }
    }

    /// The owning team's policy for a domain: encrypt for the domain's event types.
    func refreshProducerPolicy(of domain: Domain) async throws {
        try await keys.grantProducers(
            domain: domain.name,
            keyARN: domain.keyARN,
            eventTypes: eventTypeList(domain: domain.name).map(\.name),
            owner: domain.owner
        )
        try await identities.putTeamPolicy(
            domain.owner,
            name: "produce-\(domain.name)",
            document: producerPolicy(of: domain),
            by: .platform
        )
    }

    func producerPolicy(of domain: Domain) -> String {
        let domainTypes = eventTypeList(domain: domain.name)
        let types = domainTypes.map(\.name)
        let domainARN = PlatformARN.domain(domain.name, account: identities.account)
        var statements: [[String: Any]] = [
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
        ]
        if domainTypes.contains(where: { $0.subjectField != nil }) {
            statements += [
                [
                    "Sid": "ReadActiveSubjectKeys", "Effect": "Allow", "Action": "kms:Decrypt",
                    "Resource": domain.keyARN,
                    "Condition": ["StringEquals": ["kms:EncryptionContext:aws-crypto-ec:domain": domain.name]],
                ],
                [
                    "Sid": "ReadBranchKeys", "Effect": "Allow", "Action": "dynamodb:GetItem",
                    "Resource": Self.keyStoreTableARN(besideKey: domain.keyARN),
                ],
                [
                    "Sid": "ResolveDomainSubjects", "Effect": "Allow", "Action": "catalog:ResolveSubject",
                    "Resource": domainARN + "/event-type/*",
                ],
                [
                    "Sid": "ManageDomainSubjects", "Effect": "Allow",
                    "Action": ["catalog:DescribeSubject", "catalog:EraseSubject", "catalog:LiftSubjectFence"],
                    "Resource": domainARN,
                ],
            ]
        }
        return Self.policy(statements)
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
        if let subjectField = spec.subjectField { try validate(subjectField: subjectField, of: spec) }
    }

    /// A subject field is a JSON Pointer into `data`, of a type that is sealed, and lies in the sealed part: the
    /// subject id must never travel in the clear.
    static func validate(subjectField: String, of spec: EventTypeSpecification) throws(AccessControlError) {
        guard subjectField.count > 1, let tokens = pointerTokens(subjectField) else {
            throw AccessControlError(
                .validationError,
                "The subject field '\(subjectField)' is not a JSON Pointer into data (it starts with '/', and '~' is "
                    + "followed by 0 or 1)."
            )
        }
        guard spec.classification.requiresSealing else {
            throw AccessControlError(
                .validationError,
                "Only confidential and restricted event types name a subject field: the subject's data is sealed "
                    + "under its key, and \(spec.classification) events are not sealed."
            )
        }
        let sealed =
            spec.sensitiveFields.isEmpty
            || spec.sensitiveFields.contains { field in
                pointerTokens(field).map { tokens.starts(with: $0) } ?? false
            }
        guard sealed else {
            throw AccessControlError(
                .validationError,
                "The subject field '\(subjectField)' must be sealed, so the subject id never travels in the clear: "
                    + "seal the whole data, or make it one of the sensitive fields or lie inside one."
            )
        }
    }

    /// The unescaped reference tokens of a JSON Pointer (RFC 6901) that starts with `/`; `nil` for one that does not,
    /// or holds a `~` not followed by `0` or `1`.
    static func pointerTokens(_ pointer: String) -> [String]? {
        guard pointer.hasPrefix("/") else { return nil }
        var tokens: [String] = []
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var escaped = false
            for character in raw {
                if escaped {
                    guard character == "0" || character == "1" else { return nil }
                    token.append(character == "0" ? "~" : "/")
                    escaped = false
                } else if character == "~" {
                    escaped = true
                } else {
                    token.append(character)
                }
            }
            guard !escaped else { return nil }
            tokens.append(token)
        }
        return tokens
    }

    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }
}
