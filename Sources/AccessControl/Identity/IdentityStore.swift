import Foundation

/// Where users, teams and roles are kept. Every change of one operation arrives as one list applied atomically.
public protocol IdentityStore: Sendable {
    /// Everything stored, to load the service's in-memory directory at start.
    func load() async throws -> IdentitySnapshot
    /// Applies all changes atomically, in order.
    func apply(_ changes: [IdentityChange]) async throws
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

    /// Applies one change in memory, as a store applies it.
    public mutating func apply(_ change: IdentityChange) {
        switch change {
        case .putUser(let user): users[user.name] = user
        case .deleteUser(let name): users[name] = nil
        case .putTeam(let team): teams[team.name] = team
        case .putRole(let role): roles[role.name] = role
        case .deleteRole(let name): roles[name] = nil
        }
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

    public func apply(_ changes: [IdentityChange]) {
        for change in changes { snapshot.apply(change) }
    }
}
