public import Foundation

// The catalog shapes of the `/v1` API (`/v1/catalog/…`): domains and event types.

/// `POST /v1/catalog/domains`.
public struct CreateDomainInput: Codable, Sendable, Hashable {
    public var domain: String
    /// The owning team.
    public var owner: String
    /// An existing key to adopt as the domain's key (AWS mode only); absent: the platform creates one.
    public var keyArn: String?

    public init(domain: String, owner: String, keyArn: String? = nil) {
        self.domain = domain
        self.owner = owner
        self.keyArn = keyArn
    }

    enum CodingKeys: String, CodingKey {
        case domain = "Domain"
        case owner = "Owner"
        case keyArn = "KeyArn"
    }
}

/// `POST /v1/catalog/event-types`; absent members take the server's defaults (`confidential`, no regulations, the
/// whole data sealed, suite `0x0578`, one approval).
public struct EventTypeInput: Codable, Sendable, Hashable {
    public var eventType: String
    public var domain: String
    public var classification: String?
    public var regulations: [String]?
    public var sensitiveFields: [String]?
    /// The JSON Pointer of the data subject's id in `data`; absent: events are not about a subject.
    public var subjectField: String?
    public var algorithmSuite: String?
    public var approvalsRequired: Int?

    public init(
        eventType: String,
        domain: String,
        classification: String? = nil,
        regulations: [String]? = nil,
        sensitiveFields: [String]? = nil,
        subjectField: String? = nil,
        algorithmSuite: String? = nil,
        approvalsRequired: Int? = nil
    ) {
        self.eventType = eventType
        self.domain = domain
        self.classification = classification
        self.regulations = regulations
        self.sensitiveFields = sensitiveFields
        self.subjectField = subjectField
        self.algorithmSuite = algorithmSuite
        self.approvalsRequired = approvalsRequired
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "EventType"
        case domain = "Domain"
        case classification = "Classification"
        case regulations = "Regulations"
        case sensitiveFields = "SensitiveFields"
        case subjectField = "SubjectField"
        case algorithmSuite = "AlgorithmSuite"
        case approvalsRequired = "ApprovalsRequired"
    }
}

/// A domain with its key (`POST /v1/catalog/domains`, and each of `Domains`).
public struct DomainOutput: Codable, Sendable, Hashable {
    public var domain: String
    public var owner: String
    public var keyArn: String
    public var createDate: Date

    public init(domain: String, owner: String, keyArn: String, createDate: Date) {
        self.domain = domain
        self.owner = owner
        self.keyArn = keyArn
        self.createDate = createDate
    }

    enum CodingKeys: String, CodingKey {
        case domain = "Domain"
        case owner = "Owner"
        case keyArn = "KeyArn"
        case createDate = "CreateDate"
    }
}

/// An event type as the catalog holds it, with its domain's key (each of `EventTypes`, and the single answers).
public struct EventTypeOutput: Codable, Sendable, Hashable {
    public var eventType: String
    public var domain: String
    public var classification: String
    public var regulations: [String]
    /// JSON Pointers into `data` that are sealed; empty when the whole data is.
    public var sensitiveFields: [String]
    public var scope: String
    /// The JSON Pointer of the data subject's id in `data`: events are sealed under the subject's branch key.
    public var subjectField: String?
    public var algorithmSuite: String
    public var approvalsRequired: Int
    public var readerRoleArn: String
    /// The domain's key; absent when the domain is gone.
    public var keyArn: String?
    public var createDate: Date

    public init(
        eventType: String,
        domain: String,
        classification: String,
        regulations: [String],
        sensitiveFields: [String],
        scope: String,
        subjectField: String? = nil,
        algorithmSuite: String,
        approvalsRequired: Int,
        readerRoleArn: String,
        keyArn: String?,
        createDate: Date
    ) {
        self.eventType = eventType
        self.domain = domain
        self.classification = classification
        self.regulations = regulations
        self.sensitiveFields = sensitiveFields
        self.scope = scope
        self.subjectField = subjectField
        self.algorithmSuite = algorithmSuite
        self.approvalsRequired = approvalsRequired
        self.readerRoleArn = readerRoleArn
        self.keyArn = keyArn
        self.createDate = createDate
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "EventType"
        case domain = "Domain"
        case classification = "Classification"
        case regulations = "Regulations"
        case sensitiveFields = "SensitiveFields"
        case scope = "Scope"
        case subjectField = "SubjectField"
        case algorithmSuite = "AlgorithmSuite"
        case approvalsRequired = "ApprovalsRequired"
        case readerRoleArn = "ReaderRoleArn"
        case keyArn = "KeyArn"
        case createDate = "CreateDate"
    }
}

/// `GET /v1/catalog/domains`: `{"Domains": [...]}`.
public struct DomainList: Codable, Sendable, Hashable {
    public var domains: [DomainOutput]
    public init(domains: [DomainOutput]) { self.domains = domains }
    enum CodingKeys: String, CodingKey { case domains = "Domains" }
}

/// `GET /v1/catalog/event-types`: `{"EventTypes": [...]}`.
public struct EventTypeList: Codable, Sendable, Hashable {
    public var eventTypes: [EventTypeOutput]
    public init(eventTypes: [EventTypeOutput]) { self.eventTypes = eventTypes }
    enum CodingKeys: String, CodingKey { case eventTypes = "EventTypes" }
}
