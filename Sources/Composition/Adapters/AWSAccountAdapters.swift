public import AccessControl
public import Catalog
public import Foundation

/// The catalog's keys, reader roles and producer grants in the governed AWS account (``AWSAccountGovernor``): a
/// domain's key is the key its alias `alias/sealed/<domain>` names, created when missing; an event type's reader role
/// is `/sealed/sealed-reader-<type>`; the owning team's members that are users or roles of the account get the
/// domain's producer policy (attached to the user or the role; a role-session pattern member gets none).
public struct AWSKeyProvisioner: KeyProvisioner {
    let governor: AWSAccountGovernor
    let identities: IdentityService

    public init(governor: AWSAccountGovernor, identities: IdentityService) {
        self.governor = governor
        self.identities = identities
    }

    public func createKey(forDomain domain: String, owner: String) async throws -> String {
        try await governor.domainKey(domain)
    }

    /// - Throws: `ValidationError` naming what makes the key unfit (missing, asymmetric, disabled, or the domain's
    ///   alias naming another key).
    public func adoptKey(_ keyARN: String, forDomain domain: String, owner: String) async throws -> String {
        do {
            return try await governor.adoptKey(keyARN, domain: domain)
        } catch let error as AWSGovernanceError {
            throw AccessControlError(.validationError, "The key cannot be adopted for \(domain): \(error.message).")
        }
    }

    /// - Throws: `ValidationError` for a type with a subject field: its branch keys live in the platform's own
    ///   keystore and key service, which AWS mode does not serve.
    public func createReaderRole(eventType: String, keyARN: String, subjectKeys: Bool) async throws -> String? {
        guard !subjectKeys else {
            throw AccessControlError(
                .validationError,
                "Event types with a subject field are not available in AWS mode yet: their branch keys would live in "
                    + "the platform's own keystore, which AWS mode does not serve."
            )
        }
        return try await governor.readerRole(eventType: eventType, keyARN: keyARN)
    }

    public func grantProducers(domain: String, keyARN: String, eventTypes: [String], owner: String) async throws {
        try await governor.producerPolicy(
            domain: domain,
            keyARN: keyARN,
            eventTypes: eventTypes,
            // A role-session pattern names sessions, which hold no policy: only its users and roles get it.
            principals: identities.members(of: owner).filter { AWSAccountGovernor.principalName($0) != nil }
        )
    }
}

/// Approvals, revocations and expiries made in the reader roles' trust policies of the governed AWS account.
public struct AWSAccountGrants: AccessGrantEffects {
    let governor: AWSAccountGovernor

    public init(governor: AWSAccountGovernor) { self.governor = governor }

    public func grant(eventType: String, to principal: String, until end: Date?) async throws {
        try await governor.grant(eventType: eventType, to: principal, until: end)
    }

    public func revoke(eventType: String, from principal: String) async throws {
        try await governor.revoke(eventType: eventType, from: principal)
    }
}
