public import AccessControl
public import Catalog
import Crypto
public import Foundation
import SealedSupport

/// Data subjects on the platform: their pseudonyms, their branch keys (one per event type, created on first use),
/// their erasure and its fence.
///
/// - **Pseudonyms.** A subject is known in each domain by ``Pseudonym/of(_:secret:)`` under the domain's 32-byte
///   secret, generated on first need and kept by the store (sealed at rest by the SQLite store). The subject id
///   itself is never stored, logged or put in an error message; callers pass it and forget it.
/// - **Resolve.** ``resolve(subjectID:eventType:by:)`` gives a producer the subject's branch key for an event type,
///   creating it through the ``BranchKeyCustodian`` on first use (id `<event type>/<pseudonym>`, custom encryption
///   context `{"eventType", "domain"}`, wrapped by the domain key). Needs `catalog:ResolveSubject` on the event type,
///   which the owning team's producer policy grants.
/// - **Erase.** ``erase(subjectID:domain:reason:by:)`` first records the erasure's fence, then destroys the
///   subject's branch keys: from then on resolving the subject in the domain fails with ``SubjectError``
///   `subjectErased`, and a failure half way is finished by erasing again (the fence stands, the keys left are
///   destroyed, the counts add up). Needs `catalog:EraseSubject` on the domain: the owning team, or an administrator.
/// - **Lift.** ``liftFence(subjectID:domain:reason:by:)`` lets the subject's keys be created again (new keys: what
///   the erasure destroyed stays destroyed). Needs `catalog:LiftSubjectFence` on the domain.
///
/// Creating, erasing and lifting run one at a time (a key is never created behind an erasure's back); a resolve that
/// finds the key registered and no fence answers without waiting.
public actor SubjectService {
    public nonisolated let catalog: EventCatalog
    public nonisolated let custodian: any BranchKeyCustodian
    let store: any SubjectStore
    nonisolated let now: @Sendable () -> Date
    /// The domains' pseudonym secrets read so far.
    private var secrets: [String: SymmetricKey] = [:]
    /// Held by every change (creating a key, erasing, lifting) from its first read to its last write.
    private let changes = AsyncLock()

    public nonisolated var identities: IdentityService { catalog.identities }

    public init(
        catalog: EventCatalog,
        store: any SubjectStore,
        custodian: any BranchKeyCustodian,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.catalog = catalog
        self.store = store
        self.custodian = custodian
        self.now = now
    }

    // MARK: - Resolve

    /// The branch key of `subjectID` for `eventType`, created on first use.
    ///
    /// - Throws: ``SubjectError`` `subjectErased` while the subject's fence stands in the event type's domain;
    ///   `AccessControlError` `accessDenied` without `catalog:ResolveSubject` on the event type, `noSuchEntity` for an
    ///   unknown event type, `validationError` for a blank or oversized subject id or a type without a subject field;
    ///   the custodian's errors.
    public func resolve(subjectID: String, eventType: String, by principal: String) async throws -> SubjectKey {
        try Self.validate(subjectID: subjectID)
        let type = try await catalog.eventType(named: eventType)
        try authorize(
            principal,
            "catalog:ResolveSubject",
            PlatformARN.eventType(type.name, domain: type.domain, account: identities.account)
        )
        guard type.subjectField != nil else {
            throw AccessControlError(
                .validationError,
                "The event type \(type.name) names no subject field: its events are not sealed under subjects' keys."
            )
        }
        let domain = try await domain(named: type.domain)
        let pseudonym = try await pseudonym(of: subjectID, in: domain.name)
        if let key = try await usableKey(type.name, pseudonym: pseudonym, domain: domain.name) { return key }
        return try await changes.withLock {
            if let key = try await usableKey(type.name, pseudonym: pseudonym, domain: domain.name) { return key }
            let id = Pseudonym.branchKeyID(eventType: type.name, pseudonym: pseudonym)
            try await custodian.createBranchKey(
                id: id,
                kmsKeyARN: domain.keyARN,
                encryptionContext: Pseudonym.encryptionContext(eventType: type.name, domain: domain.name)
            )
            let key = SubjectKey(
                branchKeyID: id,
                pseudonym: pseudonym,
                domain: domain.name,
                eventType: type.name,
                kmsKeyARN: domain.keyARN,
                creationDate: now()
            )
            try await store.putKey(key)
            return key
        }
    }

    /// The registered key of `pseudonym` for `eventType`; `nil` when there is none yet.
    ///
    /// - Throws: ``SubjectError`` `subjectErased` when the subject's fence stands in `domain`.
    private func usableKey(_ eventType: String, pseudonym: String, domain: String) async throws -> SubjectKey? {
        if let fence = try await store.fence(domain: domain, pseudonym: pseudonym), fence.isStanding {
            throw Self.erased(fence)
        }
        return try await store.keys(domain: domain, pseudonym: pseudonym).first { $0.eventType == eventType }
    }

    static func erased(_ fence: SubjectFence) -> SubjectError {
        SubjectError(
            .subjectErased,
            "The subject \(fence.pseudonym) was erased in the domain \(fence.domain) at "
                + "\(ISO8601.format(fence.erasureDate)); its keys are not created again unless the owning team lifts "
                + "the fence."
        )
    }

    // MARK: - Erase

    /// Erases `subjectID` in `domain`, or (`nil`) in every domain where the caller may erase: records the fence,
    /// then destroys every branch key of the subject in the domain (all versions, the active item and the beacon
    /// key of each). Erasing again repeats nothing and finishes what a failed erasure left; erasing a subject that
    /// never had keys still fences it.
    ///
    /// - Parameter domain: One domain; `nil` for every domain the caller may erase in, which must include every
    ///   domain where the subject has keys (otherwise nothing is erased, and the caller names the domains it owns).
    /// - Returns: One receipt per domain, by domain name.
    /// - Throws: `AccessControlError` `accessDenied` without `catalog:EraseSubject` (on `domain`, on a domain where
    ///   the subject has keys, or anywhere), `noSuchEntity` for an unknown domain, `validationError` for a blank
    ///   reason or subject id; the custodian's errors (the fence stands: erase again to finish).
    public func erase(
        subjectID: String,
        domain: String?,
        reason: String,
        by principal: String
    ) async throws -> [ErasureReceipt] {
        try Self.validate(subjectID: subjectID)
        let reason = try Self.validate(reason: reason, of: "An erasure")
        let targets: [Domain]
        if let domain {
            let found = try await self.domain(named: domain)
            try authorize(principal, "catalog:EraseSubject", domainARN(found.name))
            targets = [found]
        } else {
            var allowed: [Domain] = []
            for candidate in try await catalog.domainList(by: principal) {
                let resource = domainARN(candidate.name)
                if identities.isAllowed(principal, "catalog:EraseSubject", on: resource) {
                    allowed.append(candidate)
                } else if let pseudonym = try await existingPseudonym(of: subjectID, in: candidate.name),
                    !(try await store.keys(domain: candidate.name, pseudonym: pseudonym).isEmpty)
                {
                    try authorize(principal, "catalog:EraseSubject", resource)
                }
            }
            guard !allowed.isEmpty else {
                throw AccessControlError(
                    .accessDenied,
                    "User: \(principal) is not authorized to perform: catalog:EraseSubject on any domain."
                )
            }
            targets = allowed
        }
        var pseudonyms: [String] = []
        for target in targets { pseudonyms.append(try await pseudonym(of: subjectID, in: target.name)) }
        return try await changes.withLock {
            var receipts: [ErasureReceipt] = []
            for (target, pseudonym) in zip(targets, pseudonyms) {
                receipts.append(try await erase(pseudonym, in: target, reason: reason, by: principal))
            }
            return receipts
        }
    }

    /// Fences `pseudonym` in `domain` (keeping a standing fence), then destroys its branch keys: those registered,
    /// and `<type>/<pseudonym>` for each of the domain's subject-keyed types, in case a key was created and its
    /// record lost. Callers hold ``changes``.
    private func erase(
        _ pseudonym: String,
        in domain: Domain,
        reason: String,
        by principal: String
    ) async throws -> ErasureReceipt {
        var fence: SubjectFence
        if let standing = try await store.fence(domain: domain.name, pseudonym: pseudonym), standing.isStanding {
            fence = standing
        } else {
            fence = SubjectFence(
                domain: domain.name,
                pseudonym: pseudonym,
                erasureDate: now(),
                reason: reason,
                principal: principal
            )
            try await store.putFence(fence)
        }
        let registered = try await store.keys(domain: domain.name, pseudonym: pseudonym)
        let derived = await catalog.eventTypeList(domain: domain.name).filter { $0.subjectField != nil }.map {
            Pseudonym.branchKeyID(eventType: $0.name, pseudonym: pseudonym)
        }
        for id in Set(registered.map(\.branchKeyID) + derived).sorted() {
            let keyARN = registered.first { $0.branchKeyID == id }?.kmsKeyARN ?? domain.keyARN
            let destroyed = try await custodian.destroyBranchKey(id: id, kmsKeyARN: keyARN)
            if destroyed > 0 {
                fence.keysDestroyed += destroyed
                try await store.putFence(fence)
            }
            if registered.contains(where: { $0.branchKeyID == id }) { try await store.deleteKey(branchKeyID: id) }
        }
        return ErasureReceipt(
            domain: domain.name,
            pseudonym: pseudonym,
            erasureDate: fence.erasureDate,
            keysDestroyed: fence.keysDestroyed
        )
    }

    // MARK: - Show and lift

    /// The subject in `domain`, or (`nil`) in each domain the caller may describe where it has keys or an erasure.
    ///
    /// - Throws: `AccessControlError` `accessDenied` without `catalog:DescribeSubject` on `domain` (or anywhere),
    ///   `noSuchEntity` for an unknown domain, `validationError` for a blank subject id.
    public func show(subjectID: String, domain: String?, by principal: String) async throws -> [SubjectStatus] {
        try Self.validate(subjectID: subjectID)
        if let domain {
            let found = try await self.domain(named: domain)
            try authorize(principal, "catalog:DescribeSubject", domainARN(found.name))
            let pseudonym = try await pseudonym(of: subjectID, in: found.name)
            return [try await status(pseudonym, in: found.name)]
        }
        var statuses: [SubjectStatus] = []
        var allowedAnywhere = false
        for candidate in try await catalog.domainList(by: principal)
        where identities.isAllowed(principal, "catalog:DescribeSubject", on: domainARN(candidate.name)) {
            allowedAnywhere = true
            guard let pseudonym = try await existingPseudonym(of: subjectID, in: candidate.name) else { continue }
            let status = try await status(pseudonym, in: candidate.name)
            if !status.keys.isEmpty || status.fence != nil { statuses.append(status) }
        }
        guard allowedAnywhere else {
            throw AccessControlError(
                .accessDenied,
                "User: \(principal) is not authorized to perform: catalog:DescribeSubject on any domain."
            )
        }
        return statuses
    }

    private func status(_ pseudonym: String, in domain: String) async throws -> SubjectStatus {
        SubjectStatus(
            domain: domain,
            pseudonym: pseudonym,
            keys: try await store.keys(domain: domain, pseudonym: pseudonym),
            fence: try await store.fence(domain: domain, pseudonym: pseudonym)
        )
    }

    /// Lifts the standing fence of `subjectID` in `domain`: its keys may be created again (new ones).
    ///
    /// - Returns: The subject in the domain, its fence lifted.
    /// - Throws: `AccessControlError` `invalidState` when no fence stands, `accessDenied` without
    ///   `catalog:LiftSubjectFence` on the domain, `noSuchEntity` for an unknown domain, `validationError` for a blank
    ///   reason or subject id.
    public func liftFence(
        subjectID: String,
        domain: String,
        reason: String,
        by principal: String
    ) async throws -> SubjectStatus {
        try Self.validate(subjectID: subjectID)
        let reason = try Self.validate(reason: reason, of: "Lifting a fence")
        let found = try await self.domain(named: domain)
        try authorize(principal, "catalog:LiftSubjectFence", domainARN(found.name))
        let pseudonym = try await existingPseudonym(of: subjectID, in: found.name)
        return try await changes.withLock {
            guard let pseudonym, var fence = try await store.fence(domain: found.name, pseudonym: pseudonym),
                fence.isStanding
            else {
                throw AccessControlError(.invalidState, "The subject is not fenced in the domain \(found.name).")
            }
            fence.lift = SubjectFence.Lift(date: now(), reason: reason, principal: principal)
            try await store.putFence(fence)
            return try await status(pseudonym, in: found.name)
        }
    }

    // MARK: - Pseudonyms

    /// The pseudonym of `subjectID` in `domain`, generating the domain's secret on first need.
    func pseudonym(of subjectID: String, in domain: String) async throws -> String {
        if let secret = try await secret(of: domain) { return Pseudonym.of(subjectID, secret: secret) }
        let secret = try await store.insertDomainSecret(SymmetricKey(size: .bits256), for: domain)
        secrets[domain] = secret
        return Pseudonym.of(subjectID, secret: secret)
    }

    /// The pseudonym of `subjectID` in `domain`; `nil` when the domain has no secret yet (so no subject there has a
    /// key or a fence).
    func existingPseudonym(of subjectID: String, in domain: String) async throws -> String? {
        try await secret(of: domain).map { Pseudonym.of(subjectID, secret: $0) }
    }

    private func secret(of domain: String) async throws -> SymmetricKey? {
        if let secret = secrets[domain] { return secret }
        let stored = try await store.domainSecret(domain)
        if let stored { secrets[domain] = stored }
        return stored
    }

    // MARK: - Checks

    private func domain(named name: String) async throws -> Domain {
        guard let domain = await catalog.domain(named: name) else {
            throw AccessControlError(.noSuchEntity, "The domain \(name) does not exist.")
        }
        return domain
    }

    private nonisolated func domainARN(_ name: String) -> String {
        PlatformARN.domain(name, account: identities.account)
    }

    /// Requires the identity policies of `principal` to allow `action` on `resource`.
    nonisolated func authorize(_ principal: String, _ action: String, _ resource: String) throws(AccessControlError) {
        guard identities.isAllowed(principal, action, on: resource) else {
            throw AccessControlError(
                .accessDenied,
                "User: \(principal) is not authorized to perform: \(action) on resource: \(resource)"
            )
        }
    }

    /// A subject id is 1 to ``Pseudonym/maximumSubjectIDBytes`` bytes of UTF-8, not blank. The message never
    /// repeats it.
    static func validate(subjectID: String) throws(AccessControlError) {
        guard subjectID.utf8.count <= Pseudonym.maximumSubjectIDBytes,
            subjectID.contains(where: { !$0.isWhitespace })
        else {
            throw AccessControlError(
                .validationError,
                "A subject id is 1 to \(Pseudonym.maximumSubjectIDBytes) bytes of UTF-8, not blank."
            )
        }
    }

    /// A reason, trimmed: not blank, at most 1024 characters.
    static func validate(reason: String, of what: String) throws(AccessControlError) -> String {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 1024 else {
            throw AccessControlError(.validationError, "\(what) needs a reason (not blank, at most 1024 characters).")
        }
        return trimmed
    }
}
