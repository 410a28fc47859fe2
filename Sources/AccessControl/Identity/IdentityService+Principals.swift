import Foundation

/// AWS principals in the platform's IAM, for AWS mode: the callers are the governed account's users and roles
/// (proved by a signed `GetCallerIdentity`), and the platform's IAM holds, under the same ARNs, what the platform
/// knows of them — their teams and, for the administrators, the administrator policy. No access key is made for
/// them: they never sign with the platform's keys.
extension IdentityService {
    /// A principal of this account the platform's IAM can hold: a user or a role, by name (no path).
    public enum AccountPrincipal: Sendable, Hashable {
        case user(String)
        case role(String)
    }

    /// The user or role `arn` names in this account.
    ///
    /// - Throws: `ValidationError` for another account, a path, or another kind of ARN.
    public nonisolated func accountPrincipal(_ arn: String) throws(AccessControlError) -> AccountPrincipal {
        let principal: AccountPrincipal
        if let name = userName(of: arn) {
            principal = .user(name)
        } else if let name = roleName(of: arn) {
            principal = .role(name)
        } else {
            throw AccessControlError(
                .validationError,
                "\(arn) is not a user or role ARN of the account \(account) (arn:aws:iam::\(account):user/NAME or "
                    + "arn:aws:iam::\(account):role/NAME)."
            )
        }
        switch principal {
        case .user(let name), .role(let name):
            guard !name.contains("/") else {
                throw AccessControlError(
                    .validationError,
                    "\(arn) has a path: give the principal without it, as STS names its sessions."
                )
            }
            try Names.validate(name, kind: "principal")
        }
        return principal
    }

    /// Makes `arn` (a user or role of this account) an administrator: the principal exists here with the
    /// administrator policy (a role's sessions have its policies).
    public func ensureAdministrator(principal arn: String) async throws {
        switch try accountPrincipal(arn) {
        case .user(let name):
            try await ensureAdministrator(named: name)
        case .role(let name):
            try await changes.withLock {
                var role =
                    snapshot.roles[name]
                    ?? Role(name: name, arn: roleARN(name), trustPolicy: Self.emptyTrustPolicy, creationDate: now())
                guard role.policies[Self.administratorPolicyName] != Self.administratorPolicy else { return }
                role.policies[Self.administratorPolicyName] = Self.administratorPolicy
                try await commit([.putRole(role)])
            }
        }
    }

    /// Adds the AWS principal `arn` to a team: a user (recorded here first when it is new, without an access key),
    /// a role (its sessions act as it), or a role-session pattern (``TeamMember``), kept on the team.
    ///
    /// Needs `iam:AddUserToGroup` on the team, as ``addUser(_:toTeam:by:)``.
    ///
    /// - Throws: `ValidationError` for an ARN of another account or of another kind, `NoSuchEntity` for a missing
    ///   team.
    public func addMember(principal arn: String, toTeam teamName: String, by requester: Requester) async throws {
        try authorize(requester, "iam:AddUserToGroup", on: teamARN(teamName))
        guard let name = userName(of: arn) else {
            _ = try TeamMember(arn, account: account)
            return try await changes.withLock {
                guard var team = snapshot.teams[teamName] else { throw Self.noSuchTeam(teamName) }
                guard !team.principals.contains(arn) else { return }
                team.principals = (team.principals + [arn]).sorted()
                try await commit([.putTeam(team)])
            }
        }
        _ = try accountPrincipal(arn)  // the user's name, checked
        try await changes.withLock {
            let current = snapshot
            guard current.teams[teamName] != nil else { throw Self.noSuchTeam(teamName) }
            var user = current.users[name] ?? User(name: name, arn: userARN(name), creationDate: now())
            guard !user.teams.contains(teamName) else { return }
            user.teams = (user.teams + [teamName]).sorted()
            try await commit([.putUser(user)])
        }
    }

    /// The ARNs of a team's members: its users, then its roles and role-session patterns.
    public nonisolated func members(of teamName: String) -> [String] {
        let current = snapshot
        let users = current.users.values.filter { $0.teams.contains(teamName) }.map(\.arn).sorted()
        return users + (current.teams[teamName]?.principals ?? [])
    }

    /// The teams that have a role or role-session member admitting `principal`.
    nonisolated func teamsAdmitting(_ principal: String, in snapshot: IdentitySnapshot) -> [Team] {
        snapshot.teams.values.filter { team in
            team.principals.contains { (try? TeamMember($0, account: account))?.admits(principal) == true }
        }
    }

    static let emptyTrustPolicy = #"{"Version":"2012-10-17","Statement":[]}"#
}
