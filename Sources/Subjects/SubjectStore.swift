public import Crypto

/// Where the subject service keeps the domains' pseudonym secrets, the registry of subjects' branch keys, and the
/// erasure fences. It never holds a subject id: records are keyed by pseudonym.
public protocol SubjectStore: Sendable {
    /// The pseudonym secret of `domain`, if it has one.
    func domainSecret(_ domain: String) async throws -> SymmetricKey?
    /// Stores `secret` as `domain`'s pseudonym secret unless it has one already; returns the one it has then.
    func insertDomainSecret(_ secret: SymmetricKey, for domain: String) async throws -> SymmetricKey

    /// The branch keys of the subject `pseudonym` in `domain`, by event type.
    func keys(domain: String, pseudonym: String) async throws -> [SubjectKey]
    func putKey(_ key: SubjectKey) async throws
    func deleteKey(branchKeyID: String) async throws

    /// The last erasure of `pseudonym` in `domain`.
    func fence(domain: String, pseudonym: String) async throws -> SubjectFence?
    /// Inserts or replaces the erasure of `fence.pseudonym` in `fence.domain`.
    func putFence(_ fence: SubjectFence) async throws
}

/// A ``SubjectStore`` in memory.
public actor InMemorySubjectStore: SubjectStore {
    private var secrets: [String: SymmetricKey] = [:]
    private var keys: [String: SubjectKey] = [:]
    private var fences: [String: SubjectFence] = [:]

    public init() {}

    public func domainSecret(_ domain: String) -> SymmetricKey? { secrets[domain] }

    public func insertDomainSecret(_ secret: SymmetricKey, for domain: String) -> SymmetricKey {
        if let existing = secrets[domain] { return existing }
        secrets[domain] = secret
        return secret
    }

    public func keys(domain: String, pseudonym: String) -> [SubjectKey] {
        keys.values.filter { $0.domain == domain && $0.pseudonym == pseudonym }.sorted { $0.eventType < $1.eventType }
    }

    public func putKey(_ key: SubjectKey) { keys[key.branchKeyID] = key }

    public func deleteKey(branchKeyID: String) { keys[branchKeyID] = nil }

    public func fence(domain: String, pseudonym: String) -> SubjectFence? { fences[domain + "/" + pseudonym] }

    public func putFence(_ fence: SubjectFence) { fences[fence.domain + "/" + fence.pseudonym] = fence }
}
