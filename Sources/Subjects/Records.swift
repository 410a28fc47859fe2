public import Foundation

/// One branch key of a subject: the subject's key for one event type, in the event type's domain.
public struct SubjectKey: Sendable, Hashable, Codable {
    /// `<event type>/<pseudonym>`: the branch key id, also the ESDK message's `subjectKey` encryption context.
    public var branchKeyID: String
    /// `s-` and 32 hex digits: the subject's pseudonym in ``domain``.
    public var pseudonym: String
    public var domain: String
    public var eventType: String
    /// The domain's KMS key, which wraps the branch key.
    public var kmsKeyARN: String
    public var creationDate: Date

    public init(
        branchKeyID: String,
        pseudonym: String,
        domain: String,
        eventType: String,
        kmsKeyARN: String,
        creationDate: Date
    ) {
        self.branchKeyID = branchKeyID
        self.pseudonym = pseudonym
        self.domain = domain
        self.eventType = eventType
        self.kmsKeyARN = kmsKeyARN
        self.creationDate = creationDate
    }
}

/// A subject's erasure in a domain, and the fence it set: while it stands (``lift`` is `nil`) the subject's keys are
/// not created again.
public struct SubjectFence: Sendable, Hashable, Codable {
    /// Lifting the fence: who, when, why.
    public struct Lift: Sendable, Hashable, Codable {
        public var date: Date
        public var reason: String
        public var principal: String

        public init(date: Date, reason: String, principal: String) {
            self.date = date
            self.reason = reason
            self.principal = principal
        }
    }

    public var domain: String
    public var pseudonym: String
    public var erasureDate: Date
    public var reason: String
    /// Who erased.
    public var principal: String
    /// Keystore items destroyed by this erasure so far (every version, active and beacon item of each branch key).
    public var keysDestroyed: Int
    /// Set when the owning team lifted the fence.
    public var lift: Lift?

    public init(
        domain: String,
        pseudonym: String,
        erasureDate: Date,
        reason: String,
        principal: String,
        keysDestroyed: Int = 0,
        lift: Lift? = nil
    ) {
        self.domain = domain
        self.pseudonym = pseudonym
        self.erasureDate = erasureDate
        self.reason = reason
        self.principal = principal
        self.keysDestroyed = keysDestroyed
        self.lift = lift
    }

    /// Whether the fence stands.
    public var isStanding: Bool { lift == nil }
}

/// What an erasure did in one domain.
public struct ErasureReceipt: Sendable, Hashable {
    public var domain: String
    public var pseudonym: String
    /// When the subject was erased in the domain (the first erasure, when this one repeated it).
    public var erasureDate: Date
    /// Keystore items destroyed in the domain by this erasure, retries included.
    public var keysDestroyed: Int

    public init(domain: String, pseudonym: String, erasureDate: Date, keysDestroyed: Int) {
        self.domain = domain
        self.pseudonym = pseudonym
        self.erasureDate = erasureDate
        self.keysDestroyed = keysDestroyed
    }
}

/// A subject in one domain: its pseudonym, its branch keys, its erasure.
public struct SubjectStatus: Sendable, Hashable {
    public var domain: String
    public var pseudonym: String
    /// By event type.
    public var keys: [SubjectKey]
    /// The last erasure, lifted or not; `nil` when the subject was never erased in the domain.
    public var fence: SubjectFence?

    public init(domain: String, pseudonym: String, keys: [SubjectKey], fence: SubjectFence?) {
        self.domain = domain
        self.pseudonym = pseudonym
        self.keys = keys
        self.fence = fence
    }
}
