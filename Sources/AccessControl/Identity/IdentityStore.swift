import Foundation

/// Where users, teams and roles are kept. Every change of one operation arrives as one list applied atomically.
///
/// Users, teams and roles are versioned: ``IdentityChange/putRole(_:)`` writes a role only when the stored version is
/// the role's ``Role/version`` (0: absent), and stores it as the next version, and so do `putUser` and `putTeam`, so
/// a change based on a stale read fails rather than dropping another (a second server on the same database, or a
/// bug). The service serialises its own changes; the versions keep the guarantee for stores shared by several
/// processes.
public protocol IdentityStore: Sendable {
    /// Everything stored, to load the service's in-memory directory at start, with the stored versions.
    func load() async throws -> IdentitySnapshot
    /// Applies all changes atomically, in order.
    ///
    /// - Throws: ``AccessControlError`` `concurrentModification` when a user's, team's or role's stored version is not
    ///   the one it was read from; then nothing is applied.
    func apply(_ changes: [IdentityChange]) async throws
    /// The stored version of role `name` (0 when absent), for a store that other processes write too (replicas on
    /// one database): the service compares it with its in-memory role before it lets anyone assume the role, so a
    /// trust policy changed elsewhere is never acted on stale. `nil` (the default): the service is the store's only
    /// writer and its directory is exact.
    func roleVersion(named name: String) async throws -> Int?
}

extension IdentityStore {
    public func roleVersion(named name: String) async throws -> Int? { nil }
}

/// The whole content of an ``IdentityStore``.
public struct IdentitySnapshot: Sendable, Hashable {
    public var users: [String: User]
    public var teams: [String: Team]
    public var roles: [String: Role]

    public init(users: [String: User] = [:], teams: [String: Team] = [:], roles: [String: Role] = [:]) {
        self.users = users
        self.teams = teams
        self.roles = roles
    }

    /// Applies one change in memory, as a store applies it: a user, team or role is stored as its next version.
    public mutating func apply(_ change: IdentityChange) {
        switch change {
        case .putUser(var user):
            user.version += 1
            users[user.name] = user
        case .deleteUser(let name): users[name] = nil
        case .putTeam(var team):
            team.version += 1
            teams[team.name] = team
        case .putRole(var role):
            role.version += 1
            roles[role.name] = role
        case .deleteRole(let name): roles[name] = nil
        }
    }

    /// Applies one change as a versioned store does: a user, team or role whose stored version is not the one it
    /// carries is refused.
    public mutating func applyChecked(_ change: IdentityChange) throws(AccessControlError) {
        let (what, stored, carried): (String, Int, Int)
        switch change {
        case .putUser(let user): (what, stored, carried) = ("user \(user.name)", users[user.name]?.version ?? 0, user.version)
        case .putTeam(let team): (what, stored, carried) = ("team \(team.name)", teams[team.name]?.version ?? 0, team.version)
        case .putRole(let role): (what, stored, carried) = ("role \(role.name)", roles[role.name]?.version ?? 0, role.version)
        case .deleteUser, .deleteRole: (what, stored, carried) = ("", 0, 0)
        }
        guard stored == carried else { throw AccessControlError.staleVersion(of: what) }
        apply(change)
    }
}

/// One change to the identities.
public enum IdentityChange: Sendable, Hashable {
    case putUser(User)
    case deleteUser(String)
    case putTeam(Team)
    case putRole(Role)
    case deleteRole(String)
}

/// An ``IdentityStore`` in memory, for tests and ephemeral servers.
public actor InMemoryIdentityStore: IdentityStore {
    private var snapshot = IdentitySnapshot()

    public init() {}

    public func load() -> IdentitySnapshot { snapshot }

    public func apply(_ changes: [IdentityChange]) throws {
        var changed = snapshot
        for change in changes { try changed.applyChecked(change) }
        snapshot = changed
    }
}
