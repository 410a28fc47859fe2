public import Foundation

// The identity shapes of the `/v1` API (`/v1/iam/…`): teams, users, access keys and roles.

/// `POST /v1/iam/teams`.
public struct TeamInput: Codable, Sendable, Hashable {
    public var teamName: String

    public init(teamName: String) { self.teamName = teamName }

    enum CodingKeys: String, CodingKey { case teamName = "TeamName" }
}

/// `POST /v1/iam/teams/{team}/members`.
public struct MemberInput: Codable, Sendable, Hashable {
    /// A user of the platform's IAM.
    public var userName: String?
    /// In AWS mode: an AWS principal of the governed account (`arn:aws:iam::ACCOUNT:user/NAME` or
    /// `arn:aws:iam::ACCOUNT:role/NAME`). Exactly one of the two is given.
    public var principalArn: String?

    public init(userName: String) { self.userName = userName }

    public init(principalArn: String) { self.principalArn = principalArn }

    enum CodingKeys: String, CodingKey {
        case userName = "UserName"
        case principalArn = "PrincipalArn"
    }
}

/// `PUT /v1/iam/{teams|users|roles}/{name}/policies/{policy}` and `PUT /v1/iam/roles/{role}/trust`.
public struct PolicyInput: Codable, Sendable, Hashable {
    public var policyDocument: String

    public init(policyDocument: String) { self.policyDocument = policyDocument }

    enum CodingKeys: String, CodingKey { case policyDocument = "PolicyDocument" }
}

/// `POST /v1/iam/users`.
public struct CreateUserInput: Codable, Sendable, Hashable {
    public var userName: String
    /// A team to put the user in.
    public var team: String?

    public init(userName: String, team: String? = nil) {
        self.userName = userName
        self.team = team
    }

    enum CodingKeys: String, CodingKey {
        case userName = "UserName"
        case team = "Team"
    }
}

/// `POST /v1/iam/roles`.
public struct CreateRoleInput: Codable, Sendable, Hashable {
    public var roleName: String
    public var assumeRolePolicyDocument: String
    public var description: String?
    /// Seconds (default 3600).
    public var maxSessionDuration: Int?
    /// Permission policies by name.
    public var policies: [String: String]?

    public init(
        roleName: String,
        assumeRolePolicyDocument: String,
        description: String? = nil,
        maxSessionDuration: Int? = nil,
        policies: [String: String]? = nil
    ) {
        self.roleName = roleName
        self.assumeRolePolicyDocument = assumeRolePolicyDocument
        self.description = description
        self.maxSessionDuration = maxSessionDuration
        self.policies = policies
    }

    enum CodingKeys: String, CodingKey {
        case roleName = "RoleName"
        case assumeRolePolicyDocument = "AssumeRolePolicyDocument"
        case description = "Description"
        case maxSessionDuration = "MaxSessionDuration"
        case policies = "Policies"
    }
}

/// A team (`Team`, and each of `Teams`).
public struct TeamOutput: Codable, Sendable, Hashable {
    public var teamName: String
    public var arn: String
    public var createDate: Date
    /// The names of the team's policies, sorted.
    public var policies: [String]

    public init(teamName: String, arn: String, createDate: Date, policies: [String]) {
        self.teamName = teamName
        self.arn = arn
        self.createDate = createDate
        self.policies = policies
    }

    enum CodingKeys: String, CodingKey {
        case teamName = "TeamName"
        case arn = "Arn"
        case createDate = "CreateDate"
        case policies = "Policies"
    }
}

/// A user (each of `Users`).
public struct UserOutput: Codable, Sendable, Hashable {
    public var userName: String
    public var arn: String
    public var teams: [String]
    public var createDate: Date

    public init(userName: String, arn: String, teams: [String], createDate: Date) {
        self.userName = userName
        self.arn = arn
        self.teams = teams
        self.createDate = createDate
    }

    enum CodingKeys: String, CodingKey {
        case userName = "UserName"
        case arn = "Arn"
        case teams = "Teams"
        case createDate = "CreateDate"
    }
}

/// A new user and its first access key: the secret is in this answer and nowhere else.
public struct CreatedUserOutput: Codable, Sendable, Hashable {
    public var userName: String
    public var arn: String
    public var teams: [String]
    public var accessKeyId: String
    public var secretAccessKey: String

    public init(userName: String, arn: String, teams: [String], accessKeyId: String, secretAccessKey: String) {
        self.userName = userName
        self.arn = arn
        self.teams = teams
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
    }

    enum CodingKeys: String, CodingKey {
        case userName = "UserName"
        case arn = "Arn"
        case teams = "Teams"
        case accessKeyId = "AccessKeyId"
        case secretAccessKey = "SecretAccessKey"
    }
}

/// An access key without its secret (each of `AccessKeys`).
public struct AccessKeyOutput: Codable, Sendable, Hashable {
    public var accessKeyId: String
    /// `Active` or `Inactive`.
    public var status: String
    public var createDate: Date

    public init(accessKeyId: String, status: String, createDate: Date) {
        self.accessKeyId = accessKeyId
        self.status = status
        self.createDate = createDate
    }

    enum CodingKeys: String, CodingKey {
        case accessKeyId = "AccessKeyId"
        case status = "Status"
        case createDate = "CreateDate"
    }
}

/// A new access key with its secret, shown once (`AccessKey`).
public struct NewAccessKeyOutput: Codable, Sendable, Hashable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var status: String
    public var userArn: String

    public init(accessKeyId: String, secretAccessKey: String, status: String, userArn: String) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.status = status
        self.userArn = userArn
    }

    enum CodingKeys: String, CodingKey {
        case accessKeyId = "AccessKeyId"
        case secretAccessKey = "SecretAccessKey"
        case status = "Status"
        case userArn = "UserArn"
    }
}

/// A role with its trust policy and permission policies (`Role`, and each of `Roles`).
public struct RoleOutput: Codable, Sendable, Hashable {
    public var roleName: String
    public var arn: String
    public var description: String
    public var assumeRolePolicyDocument: String
    public var policies: [String: String]
    public var maxSessionDuration: Int
    public var createDate: Date

    public init(
        roleName: String,
        arn: String,
        description: String,
        assumeRolePolicyDocument: String,
        policies: [String: String],
        maxSessionDuration: Int,
        createDate: Date
    ) {
        self.roleName = roleName
        self.arn = arn
        self.description = description
        self.assumeRolePolicyDocument = assumeRolePolicyDocument
        self.policies = policies
        self.maxSessionDuration = maxSessionDuration
        self.createDate = createDate
    }

    enum CodingKeys: String, CodingKey {
        case roleName = "RoleName"
        case arn = "Arn"
        case description = "Description"
        case assumeRolePolicyDocument = "AssumeRolePolicyDocument"
        case policies = "Policies"
        case maxSessionDuration = "MaxSessionDuration"
        case createDate = "CreateDate"
    }
}

/// `GET /v1/iam/teams`: `{"Teams": [...]}`.
public struct TeamList: Codable, Sendable, Hashable {
    public var teams: [TeamOutput]
    public init(teams: [TeamOutput]) { self.teams = teams }
    enum CodingKeys: String, CodingKey { case teams = "Teams" }
}

/// `POST /v1/iam/teams`: `{"Team": ...}`.
public struct TeamAnswer: Codable, Sendable, Hashable {
    public var team: TeamOutput
    public init(team: TeamOutput) { self.team = team }
    enum CodingKeys: String, CodingKey { case team = "Team" }
}

/// `GET /v1/iam/users`: `{"Users": [...]}`.
public struct UserList: Codable, Sendable, Hashable {
    public var users: [UserOutput]
    public init(users: [UserOutput]) { self.users = users }
    enum CodingKeys: String, CodingKey { case users = "Users" }
}

/// `GET /v1/iam/users/{user}/access-keys`: `{"AccessKeys": [...]}`.
public struct AccessKeyList: Codable, Sendable, Hashable {
    public var accessKeys: [AccessKeyOutput]
    public init(accessKeys: [AccessKeyOutput]) { self.accessKeys = accessKeys }
    enum CodingKeys: String, CodingKey { case accessKeys = "AccessKeys" }
}

/// `POST /v1/iam/users/{user}/access-keys`: `{"AccessKey": ...}`.
public struct NewAccessKeyAnswer: Codable, Sendable, Hashable {
    public var accessKey: NewAccessKeyOutput
    public init(accessKey: NewAccessKeyOutput) { self.accessKey = accessKey }
    enum CodingKeys: String, CodingKey { case accessKey = "AccessKey" }
}

/// `GET /v1/iam/roles`: `{"Roles": [...]}`.
public struct RoleList: Codable, Sendable, Hashable {
    public var roles: [RoleOutput]
    public init(roles: [RoleOutput]) { self.roles = roles }
    enum CodingKeys: String, CodingKey { case roles = "Roles" }
}

/// `GET /v1/iam/roles/{role}` and `POST /v1/iam/roles`: `{"Role": ...}`.
public struct RoleAnswer: Codable, Sendable, Hashable {
    public var role: RoleOutput
    public init(role: RoleOutput) { self.role = role }
    enum CodingKeys: String, CodingKey { case role = "Role" }
}
