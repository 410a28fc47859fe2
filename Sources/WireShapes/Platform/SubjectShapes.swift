public import Foundation

// The data-subject shapes of the `/v1` API (`/v1/subjects:…`). The subject id travels only in request bodies, never
// in a path or a query string, and no answer repeats it: answers name the subject by its pseudonym in each domain.

/// `POST /v1/subjects:resolve`: the branch key of a subject for an event type, created on first use.
public struct ResolveSubjectInput: Codable, Sendable, Hashable {
    public var eventType: String
    public var subjectId: String

    public init(eventType: String, subjectId: String) {
        self.eventType = eventType
        self.subjectId = subjectId
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "EventType"
        case subjectId = "SubjectId"
    }
}

/// The branch keystore a subject's branch key is in.
public struct KeyStoreOutput: Codable, Sendable, Hashable {
    public var tableName: String
    public var logicalKeyStoreName: String

    public init(tableName: String, logicalKeyStoreName: String) {
        self.tableName = tableName
        self.logicalKeyStoreName = logicalKeyStoreName
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName"
        case logicalKeyStoreName = "LogicalKeyStoreName"
    }
}

/// The answer of `POST /v1/subjects:resolve`.
public struct SubjectKeyOutput: Codable, Sendable, Hashable {
    /// `<event type>/<pseudonym>`: the hierarchical keyring's branch key id, and the `subjectKey` encryption context.
    public var branchKeyId: String
    public var pseudonym: String
    public var domain: String
    public var eventType: String
    /// The domain key, which wraps the branch key.
    public var kmsKeyArn: String
    public var keyStore: KeyStoreOutput
    public var createDate: Date

    public init(
        branchKeyId: String,
        pseudonym: String,
        domain: String,
        eventType: String,
        kmsKeyArn: String,
        keyStore: KeyStoreOutput,
        createDate: Date
    ) {
        self.branchKeyId = branchKeyId
        self.pseudonym = pseudonym
        self.domain = domain
        self.eventType = eventType
        self.kmsKeyArn = kmsKeyArn
        self.keyStore = keyStore
        self.createDate = createDate
    }

    enum CodingKeys: String, CodingKey {
        case branchKeyId = "BranchKeyId"
        case pseudonym = "Pseudonym"
        case domain = "Domain"
        case eventType = "EventType"
        case kmsKeyArn = "KmsKeyArn"
        case keyStore = "KeyStore"
        case createDate = "CreateDate"
    }
}

/// `POST /v1/subjects:erase`: erase a subject in one domain, or (no `Domain`) in every domain the caller may.
public struct EraseSubjectInput: Codable, Sendable, Hashable {
    public var subjectId: String
    public var domain: String?
    public var reason: String

    public init(subjectId: String, domain: String? = nil, reason: String) {
        self.subjectId = subjectId
        self.domain = domain
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case subjectId = "SubjectId"
        case domain = "Domain"
        case reason = "Reason"
    }
}

/// What an erasure did in one domain.
public struct ErasureReceiptOutput: Codable, Sendable, Hashable {
    public var domain: String
    public var pseudonym: String
    /// When the subject was erased in the domain (the first erasure, when this one repeated it).
    public var erasedAt: Date
    /// Keystore items destroyed in the domain: every version, the active item and the beacon key of each branch key.
    public var keysDestroyed: Int

    public init(domain: String, pseudonym: String, erasedAt: Date, keysDestroyed: Int) {
        self.domain = domain
        self.pseudonym = pseudonym
        self.erasedAt = erasedAt
        self.keysDestroyed = keysDestroyed
    }

    enum CodingKeys: String, CodingKey {
        case domain = "Domain"
        case pseudonym = "Pseudonym"
        case erasedAt = "ErasedAt"
        case keysDestroyed = "KeysDestroyed"
    }
}

/// The answer of `POST /v1/subjects:erase`: a receipt per domain, and the audit record that holds them.
public struct ErasureOutput: Codable, Sendable, Hashable {
    public var receipts: [ErasureReceiptOutput]
    /// The `eventID` of the erasure's audit record (its outcome record: the pseudonyms, the reason, the counts);
    /// absent when the server does not audit.
    public var auditRecordId: String?

    public init(receipts: [ErasureReceiptOutput], auditRecordId: String?) {
        self.receipts = receipts
        self.auditRecordId = auditRecordId
    }

    enum CodingKeys: String, CodingKey {
        case receipts = "Receipts"
        case auditRecordId = "AuditRecordId"
    }
}

/// `POST /v1/subjects:show`: a subject in one domain, or (no `Domain`) wherever the caller may look and it has keys
/// or an erasure.
public struct ShowSubjectInput: Codable, Sendable, Hashable {
    public var subjectId: String
    public var domain: String?

    public init(subjectId: String, domain: String? = nil) {
        self.subjectId = subjectId
        self.domain = domain
    }

    enum CodingKeys: String, CodingKey {
        case subjectId = "SubjectId"
        case domain = "Domain"
    }
}

/// `POST /v1/subjects:lift-fence`: let an erased subject's keys be created again in a domain.
public struct LiftSubjectFenceInput: Codable, Sendable, Hashable {
    public var subjectId: String
    public var domain: String
    public var reason: String

    public init(subjectId: String, domain: String, reason: String) {
        self.subjectId = subjectId
        self.domain = domain
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case subjectId = "SubjectId"
        case domain = "Domain"
        case reason = "Reason"
    }
}

/// One branch key of a subject.
public struct SubjectBranchKeyOutput: Codable, Sendable, Hashable {
    public var eventType: String
    public var branchKeyId: String
    public var createDate: Date

    public init(eventType: String, branchKeyId: String, createDate: Date) {
        self.eventType = eventType
        self.branchKeyId = branchKeyId
        self.createDate = createDate
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "EventType"
        case branchKeyId = "BranchKeyId"
        case createDate = "CreateDate"
    }
}

/// A subject's last erasure in a domain, and whether its fence stands.
public struct SubjectErasureOutput: Codable, Sendable, Hashable {
    public var erasedAt: Date
    public var reason: String
    public var erasedBy: String
    public var keysDestroyed: Int
    /// Whether the fence stands: the subject's keys are not created again.
    public var fenced: Bool
    public var liftedAt: Date?
    public var liftReason: String?
    public var liftedBy: String?

    public init(
        erasedAt: Date,
        reason: String,
        erasedBy: String,
        keysDestroyed: Int,
        fenced: Bool,
        liftedAt: Date? = nil,
        liftReason: String? = nil,
        liftedBy: String? = nil
    ) {
        self.erasedAt = erasedAt
        self.reason = reason
        self.erasedBy = erasedBy
        self.keysDestroyed = keysDestroyed
        self.fenced = fenced
        self.liftedAt = liftedAt
        self.liftReason = liftReason
        self.liftedBy = liftedBy
    }

    enum CodingKeys: String, CodingKey {
        case erasedAt = "ErasedAt"
        case reason = "Reason"
        case erasedBy = "ErasedBy"
        case keysDestroyed = "KeysDestroyed"
        case fenced = "Fenced"
        case liftedAt = "LiftedAt"
        case liftReason = "LiftReason"
        case liftedBy = "LiftedBy"
    }
}

/// A subject in one domain: its pseudonym, its branch keys, its last erasure.
public struct SubjectOutput: Codable, Sendable, Hashable {
    public var domain: String
    public var pseudonym: String
    public var keys: [SubjectBranchKeyOutput]
    /// Absent when the subject was never erased in the domain.
    public var erasure: SubjectErasureOutput?

    public init(domain: String, pseudonym: String, keys: [SubjectBranchKeyOutput], erasure: SubjectErasureOutput?) {
        self.domain = domain
        self.pseudonym = pseudonym
        self.keys = keys
        self.erasure = erasure
    }

    enum CodingKeys: String, CodingKey {
        case domain = "Domain"
        case pseudonym = "Pseudonym"
        case keys = "Keys"
        case erasure = "Erasure"
    }
}

/// The answer of `POST /v1/subjects:show`: `{"Subjects": [...]}`, one per domain.
public struct SubjectList: Codable, Sendable, Hashable {
    public var subjects: [SubjectOutput]
    public init(subjects: [SubjectOutput]) { self.subjects = subjects }
    enum CodingKeys: String, CodingKey { case subjects = "Subjects" }
}
