public import Foundation
import Synchronization

/// Who asks for a change: a principal, whose identity policies must allow the action, or the platform itself
/// (the catalog creating a reader role, the access workflow changing a trust policy), which is trusted.
public enum Requester: Sendable, Hashable {
    case principal(String)
    case platform
}

/// Users, teams, roles, their access keys and policies, and role sessions (STS `AssumeRole`).
///
/// Changes run one at a time under a FIFO lock, from reading the directory to writing the store (the actor alone
/// would let another change read the same state while one awaits its store, and one of the two would be lost), and
/// are written to the ``IdentityStore`` before they are visible; roles are written compare-and-set on their
/// ``Role/version``. Reads that sit on every request (``identityPolicies(of:)``, ``teams(of:)``) answer from an
/// in-memory directory under a mutex, with the parsed policies of each principal cached until the next change.
public actor IdentityService {
    public nonisolated let account: String
    public nonisolated let credentials: any CredentialStore
    let store: any IdentityStore
    nonisolated let now: @Sendable () -> Date
    nonisolated let directory: Mutex<Directory>
    nonisolated let policyCache = PolicyCache(capacity: 4096)
    /// Held by every change from its read of the directory to its commit.
    let changes = AsyncLock()

    /// The policy of administrators: everything.
    public static let administratorPolicy =
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
    /// The name of the inline policy that makes a user an administrator.
    public static let administratorPolicyName = "AdministratorAccess"

    struct Directory {
        var snapshot: IdentitySnapshot
        /// Parsed identity policies by principal ARN; cleared on every change.
        var policies: [String: [PolicyDocument]] = [:]
        /// Advanced by every change, so a lookup that read policy texts before a change does not cache what it
        /// parsed from them after it.
        var generation: UInt64 = 0
    }

    /// Loads the identities from `store`.
    public init(
        account: String,
        store: any IdentityStore,
        credentials: any CredentialStore,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws {
        self.account = account
        self.store = store
        self.credentials = credentials
        self.now = now
        self.directory = Mutex(Directory(snapshot: try await store.load()))
    }

    // MARK: - ARNs

    public nonisolated func userARN(_ name: String) -> String { "arn:aws:iam::\(account):user/\(name)" }
    public nonisolated func teamARN(_ name: String) -> String { "arn:aws:iam::\(account):group/\(name)" }
    public nonisolated func roleARN(_ name: String) -> String { "arn:aws:iam::\(account):role/\(name)" }

    /// The user name of a user ARN of this account, or `nil`.
    public nonisolated func userName(of arn: String) -> String? {
        let prefix = "arn:aws:iam::\(account):user/"
        guard arn.hasPrefix(prefix) else { return nil }
        return String(arn.dropFirst(prefix.count))
    }

    /// The role name of a role ARN of this account, or `nil`.
    public nonisolated func roleName(of arn: String) -> String? {
        let prefix = "arn:aws:iam::\(account):role/"
        guard arn.hasPrefix(prefix) else { return nil }
        return String(arn.dropFirst(prefix.count))
    }

    // MARK: - Reads on the request path

    /// The parsed identity policies of a principal: a user's own and its teams', or a role session's role's.
    /// Unknown principals have none.
    public nonisolated func identityPolicies(of principal: String) -> [PolicyDocument] {
        if let cached = directory.withLock({ $0.policies[principal] }) { return cached }
        let (texts, generation) = policyTexts(of: principal)
        // Stored policies were validated when stored; one that no longer parses grants nothing.
        let parsed = texts.compactMap { try? policyCache.policy(for: $0, kind: .identity) }
        cachePolicies(parsed, of: principal, readAt: generation)
        return parsed
    }

    /// The identity policy texts of a principal, with the generation of the directory they were read from.
    nonisolated func policyTexts(of principal: String) -> (texts: [String], generation: UInt64) {
        directory.withLock { directory in
            (policyTexts(of: principal, in: directory.snapshot), directory.generation)
        }
    }

    /// Caches `policies` as `principal`'s, unless the directory changed since generation `generation`.
    nonisolated func cachePolicies(_ policies: [PolicyDocument], of principal: String, readAt generation: UInt64) {
        directory.withLock { directory in
            if directory.generation == generation { directory.policies[principal] = policies }
        }
    }

    /// A user's own policies then its teams', or a role session's role's then the teams' that have a role or
    /// role-session member admitting it (``TeamMember``); none for other principals.
    private nonisolated func policyTexts(of principal: String, in snapshot: IdentitySnapshot) -> [String] {
        if let name = userName(of: principal), let user = snapshot.users[name] {
            var texts = user.policies.sorted { $0.key < $1.key }.map(\.value)
            for team in user.teams {
                texts += (snapshot.teams[team]?.policies ?? [:]).sorted { $0.key < $1.key }.map(\.value)
            }
            return texts
        }
        var texts: [String] = []
        let caller = CallerIdentity(arn: principal, account: account)
        if let roleArn = caller.roleArn, principal != roleArn, let name = roleName(of: roleArn),
            let role = snapshot.roles[name]
        {
            texts = role.policies.sorted { $0.key < $1.key }.map(\.value)
        }
        for team in teamsAdmitting(principal, in: snapshot).sorted(by: { $0.name < $1.name }) {
            texts += team.policies.sorted { $0.key < $1.key }.map(\.value)
        }
        return texts
    }

    /// The teams of `principal`: a user's own, or those with a role or role-session member admitting it
    /// (``TeamMember``: a role's sessions are its members too).
    public nonisolated func teams(of principal: String) -> [String] {
        let current = snapshot
        if let name = userName(of: principal) { return current.users[name]?.teams ?? [] }
        return teamsAdmitting(principal, in: current).map(\.name).sorted()
    }

    /// The identity a principal acts as in the access workflow: for a role session
    /// (`arn:aws:sts::ACCOUNT:assumed-role/R/SESSION`) its role's ARN, for any other principal its own ARN.
    public nonisolated func baseIdentity(of principal: String) -> String {
        CallerIdentity(arn: principal, account: account).principalArn
    }

    /// Whether `caller` is the role `roleArn`'s session or may assume it now, directly or through a chain of roles
    /// (a role whose sessions may assume it, and so on): each step evaluated as `assumeRole` evaluates it, at the
    /// current time and without a source address.
    public nonisolated func mayActAs(role roleArn: String, caller: String) -> Bool {
        if baseIdentity(of: caller) == roleArn { return true }
        let roles = snapshot.roles.values.sorted { $0.name < $1.name }
        let context = RequestContext(currentTime: now())
        var reached: Set<String> = []
        var callers = [caller]
        while let principal = callers.popLast() {
            let identity = CallerIdentity(arn: principal, account: account)
            let policies = identityPolicies(of: principal)
            for role in roles where !reached.contains(role.arn) {
                guard let trust = try? policyCache.policy(for: role.trustPolicy, kind: .trust),
                    PolicyEvaluator.evaluateAssumeRole(
                        caller: identity,
                        roleArn: role.arn,
                        trustPolicy: trust,
                        identityPolicies: policies,
                        context: context
                    ).isAllowed
                else { continue }
                if role.arn == roleArn { return true }
                reached.insert(role.arn)
                callers.append("arn:aws:sts::\(account):assumed-role/\(role.name)/sealed-review")
            }
        }
        return false
    }

    /// Whether identity policies allow `principal` to do `action` on `resource`, with `aws:CurrentTime` now and
    /// `aws:SourceIp` the task's ``CallerAddress``.
    public nonisolated func isAllowed(_ principal: String, _ action: String, on resource: String) -> Bool {
        let request = EvaluationRequest(
            principal: CallerIdentity(arn: principal, account: account),
            action: action,
            resource: resource,
            context: RequestContext(sourceIP: CallerAddress.current, currentTime: now())
        )
        return PolicyEvaluator.evaluate(request, identityPolicies: identityPolicies(of: principal)).isAllowed
    }

    nonisolated func authorize(_ requester: Requester, _ action: String, on resource: String) throws(AccessControlError)
    {
        guard case .principal(let principal) = requester else { return }
        guard isAllowed(principal, action, on: resource) else {
            throw AccessControlError(
                .accessDenied,
                "User: \(principal) is not authorized to perform: \(action) on resource: \(resource)"
            )
        }
    }

    nonisolated var snapshot: IdentitySnapshot { directory.withLock { $0.snapshot } }

    // MARK: - Changing

    /// Reads the directory from the store again, replacing the one in memory: another process sharing the store (a
    /// replica on the same database) changed it. Waits for the changes in progress here, so none is lost.
    public func reload() async throws {
        try await changes.withLock {
            let snapshot = try await store.load()
            directory.withLock { directory in
                directory.snapshot = snapshot
                directory.policies = [:]
                directory.generation &+= 1
            }
        }
    }

    /// Writes `changes` to the store, then makes them visible. Callers hold ``changes``.
    func commit(_ changes: [IdentityChange]) async throws {
        try await store.apply(changes)
        directory.withLock { directory in
            for change in changes { directory.snapshot.apply(change) }
            directory.policies = [:]
            directory.generation &+= 1
        }
    }

    /// Makes sure the administrator user exists with the administrator policy (first start, and every start).
    public func ensureAdministrator(named name: String) async throws {
        try await changes.withLock {
            var user = snapshot.users[name] ?? User(name: name, arn: userARN(name), creationDate: now())
            guard user.policies[Self.administratorPolicyName] != Self.administratorPolicy else { return }
            user.policies[Self.administratorPolicyName] = Self.administratorPolicy
            try await commit([.putUser(user)])
        }
    }

    public func createTeam(_ name: String, by requester: Requester) async throws -> Team {
        try Names.validate(name, kind: "team", maximum: 128)
        try authorize(requester, "iam:CreateGroup", on: teamARN(name))
        return try await changes.withLock {
            guard snapshot.teams[name] == nil else {
                throw AccessControlError(.entityAlreadyExists, "Group with name \(name) already exists.")
            }
            let team = Team(name: name, arn: teamARN(name), creationDate: now())
            try await commit([.putTeam(team)])
            return team
        }
    }

    /// Creates a user, optionally in a team, with one access key.
    ///
    /// Each part needs its own permission, as the separate calls would on AWS: `iam:CreateUser` and
    /// `iam:CreateAccessKey` on the user, and `iam:AddUserToGroup` on the team when one is given.
    public func createUser(_ name: String, team: String?, by requester: Requester) async throws -> (User, AccessKey) {
        try Names.validate(name, kind: "user")
        try authorize(requester, "iam:CreateUser", on: userARN(name))
        if let team { try authorize(requester, "iam:AddUserToGroup", on: teamARN(team)) }
        try authorize(requester, "iam:CreateAccessKey", on: userARN(name))
        return try await changes.withLock {
            let current = snapshot
            guard current.users[name] == nil else {
                throw AccessControlError(.entityAlreadyExists, "User with name \(name) already exists.")
            }
            if let team, current.teams[team] == nil { throw Self.noSuchTeam(team) }
            let user = User(name: name, arn: userARN(name), teams: team.map { [$0] } ?? [], creationDate: now())
            let key = AccessKey.generate(for: user.arn, at: now())
            try await commit([.putUser(user)])
            try await credentials.create(key)
            return (user, key)
        }
    }

    public func addUser(_ userName: String, toTeam teamName: String, by requester: Requester) async throws {
        try authorize(requester, "iam:AddUserToGroup", on: teamARN(teamName))
        try await changes.withLock {
            let current = snapshot
            guard current.teams[teamName] != nil else { throw Self.noSuchTeam(teamName) }
            guard var user = current.users[userName] else { throw Self.noSuchUser(userName) }
            guard !user.teams.contains(teamName) else { return }
            user.teams = (user.teams + [teamName]).sorted()
            try await commit([.putUser(user)])
        }
    }

    /// A new access key for a user; a user has at most two.
    public func createAccessKey(for userName: String, by requester: Requester) async throws -> AccessKey {
        try authorize(requester, "iam:CreateAccessKey", on: userARN(userName))
        return try await changes.withLock {
            guard let user = snapshot.users[userName] else { throw Self.noSuchUser(userName) }
            guard try await credentials.accessKeys(of: user.arn).count < 2 else {
                throw AccessControlError(.limitExceeded, "Cannot exceed quota for AccessKeysPerUser: 2")
            }
            let key = AccessKey.generate(for: user.arn, at: now())
            try await credentials.create(key)
            return key
        }
    }

    /// The access keys of a user, without secrets.
    public func accessKeys(of userName: String, by requester: Requester) async throws -> [AccessKey.Metadata] {
        try authorize(requester, "iam:ListAccessKeys", on: userARN(userName))
        guard let user = snapshot.users[userName] else { throw Self.noSuchUser(userName) }
        return try await credentials.accessKeys(of: user.arn)
    }

    /// Deactivates an access key: it stays listed, and no request signed with it verifies.
    public func deactivateAccessKey(_ id: String, by requester: Requester) async throws {
        let key = try await ownedAccessKey(id)
        try authorize(requester, "iam:UpdateAccessKey", on: key.principalARN)
        try await credentials.deactivate(id: id)
    }

    public func deleteAccessKey(_ id: String, by requester: Requester) async throws {
        let key = try await ownedAccessKey(id)
        try authorize(requester, "iam:DeleteAccessKey", on: key.principalARN)
        try await credentials.delete(id: id)
    }

    private func ownedAccessKey(_ id: String) async throws -> AccessKey {
        guard let key = try await credentials.accessKey(id: id), key.sessionToken == nil,
            userName(of: key.principalARN) != nil
        else {
            throw AccessControlError(.noSuchEntity, "The Access Key with id \(id) cannot be found.")
        }
        return key
    }

    /// Creates a role; its trust policy and permission policies must parse. Inline `policies` also need
    /// `iam:PutRolePolicy` on the role, as the separate call would: `iam:CreateRole` alone cannot make a role more
    /// powerful than its creator.
    public func createRole(
        _ name: String,
        trustPolicy: String,
        policies: [String: String] = [:],
        description: String = "",
        maxSessionDuration: Int = 3600,
        by requester: Requester
    ) async throws -> Role {
        try Names.validate(name, kind: "role")
        try authorize(requester, "iam:CreateRole", on: roleARN(name))
        if !policies.isEmpty { try authorize(requester, "iam:PutRolePolicy", on: roleARN(name)) }
        guard (3600...43_200).contains(maxSessionDuration) else {
            throw AccessControlError(.validationError, "MaxSessionDuration must be between 3600 and 43200 seconds.")
        }
        try Self.validate(trustPolicy, kind: .trust, name: "AssumeRolePolicyDocument")
        for (policyName, text) in policies {
            try Self.validate(text, kind: .identity, name: policyName)
        }
        return try await changes.withLock {
            guard snapshot.roles[name] == nil else {
                throw AccessControlError(.entityAlreadyExists, "Role with name \(name) already exists.")
            }
            let role = Role(
                name: name,
                arn: roleARN(name),
                roleDescription: description,
                trustPolicy: trustPolicy,
                policies: policies,
                maxSessionDuration: maxSessionDuration,
                creationDate: now()
            )
            try await commit([.putRole(role)])
            return snapshot.roles[name] ?? role
        }
    }

    /// Adds or replaces an inline permission policy of a role.
    public func putRolePolicy(_ roleName: String, name: String, document: String, by requester: Requester) async throws
    {
        try authorize(requester, "iam:PutRolePolicy", on: roleARN(roleName))
        try Self.validate(document, kind: .identity, name: name)
        try await changes.withLock {
            guard var role = snapshot.roles[roleName] else { throw Self.noSuchRole(roleName) }
            role.policies[name] = document
            try await commit([.putRole(role)])
        }
    }

    /// Replaces a role's trust policy.
    public func updateTrustPolicy(_ roleName: String, document: String, by requester: Requester) async throws {
        try authorize(requester, "iam:UpdateAssumeRolePolicy", on: roleARN(roleName))
        try Self.validate(document, kind: .trust, name: "AssumeRolePolicyDocument")
        try await changes.withLock {
            guard var role = snapshot.roles[roleName] else { throw Self.noSuchRole(roleName) }
            role.trustPolicy = document
            try await commit([.putRole(role)])
        }
    }

    /// Adds or replaces an inline policy of a team (`iam:PutGroupPolicy`); `nil` removes it
    /// (`iam:DeleteGroupPolicy`).
    public func putTeamPolicy(_ teamName: String, name: String, document: String?, by requester: Requester) async throws
    {
        let action = document == nil ? "iam:DeleteGroupPolicy" : "iam:PutGroupPolicy"
        try authorize(requester, action, on: teamARN(teamName))
        if let document { try Self.validate(document, kind: .identity, name: name) }
        try await changes.withLock {
            guard var team = snapshot.teams[teamName] else { throw Self.noSuchTeam(teamName) }
            team.policies[name] = document
            try await commit([.putTeam(team)])
        }
    }

    /// Adds or replaces an inline policy of a user.
    public func putUserPolicy(_ userName: String, name: String, document: String, by requester: Requester) async throws
    {
        try authorize(requester, "iam:PutUserPolicy", on: userARN(userName))
        try Self.validate(document, kind: .identity, name: name)
        try await changes.withLock {
            guard var user = snapshot.users[userName] else { throw Self.noSuchUser(userName) }
            user.policies[name] = document
            try await commit([.putUser(user)])
        }
    }

    // MARK: - Listing

    public func users(by requester: Requester) throws -> [User] {
        try authorize(requester, "iam:ListUsers", on: "arn:aws:iam::\(account):user/*")
        return snapshot.users.values.sorted { $0.name < $1.name }
    }

    public func teams(by requester: Requester) throws -> [Team] {
        try authorize(requester, "iam:ListGroups", on: "arn:aws:iam::\(account):group/*")
        return snapshot.teams.values.sorted { $0.name < $1.name }
    }

    public func roles(by requester: Requester) throws -> [Role] {
        try authorize(requester, "iam:ListRoles", on: "arn:aws:iam::\(account):role/*")
        return snapshot.roles.values.sorted { $0.name < $1.name }
    }

    public func role(named name: String, by requester: Requester) throws -> Role {
        try authorize(requester, "iam:GetRole", on: roleARN(name))
        guard let role = snapshot.roles[name] else { throw Self.noSuchRole(name) }
        return role
    }

    /// The team of this name, for the platform's own checks.
    public nonisolated func team(named name: String) -> Team? { snapshot.teams[name] }

    /// The user of this name, for the platform's own checks.
    public nonisolated func user(named name: String) -> User? { snapshot.users[name] }

    // MARK: - Errors and validation

    static func validate(_ text: String, kind: PolicyKind, name: String) throws(AccessControlError) {
        do {
            _ = try PolicyDocument(parsing: text, kind: kind)
        } catch {
            throw AccessControlError(.malformedPolicyDocument, "\(name): \(error)")
        }
    }

    static func noSuchUser(_ name: String) -> AccessControlError {
        AccessControlError(.noSuchEntity, "The user with name \(name) cannot be found.")
    }

    static func noSuchTeam(_ name: String) -> AccessControlError {
        AccessControlError(.noSuchEntity, "The group with name \(name) cannot be found.")
    }

    static func noSuchRole(_ name: String) -> AccessControlError {
        AccessControlError(.noSuchEntity, "The role with name \(name) cannot be found.")
    }
}
