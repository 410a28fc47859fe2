public import Foundation

/// A user: a service or a person, with up to two access keys, member of teams, with inline policies.
public struct User: Sendable, Hashable, Codable {
    public var name: String
    /// `arn:aws:iam::ACCOUNT:user/NAME`.
    public var arn: String
    /// The names of the teams the user belongs to, sorted.
    public var teams: [String]
    /// Inline identity policies by name (JSON text, validated when stored).
    public var policies: [String: String]
    public var creationDate: Date
    /// The stored version this record was read from (0: not stored yet), as ``Role/version``: kept by the store beside
    /// the document, not in it.
    public var version = 0

    private enum CodingKeys: String, CodingKey {
        case name, arn, teams, policies, creationDate
    }

    public init(name: String, arn: String, teams: [String] = [], policies: [String: String] = [:], creationDate: Date) {
        self.name = name
        self.arn = arn
        self.teams = teams
        self.policies = policies
        self.creationDate = creationDate
    }
}

/// A team groups users (an IAM group); the owning team of a domain encrypts its events and reviews access to them.
public struct Team: Sendable, Hashable, Codable {
    public var name: String
    /// `arn:aws:iam::ACCOUNT:group/NAME`.
    public var arn: String
    /// Inline identity policies by name, which apply to every member.
    public var policies: [String: String]
    public var creationDate: Date
    /// The members that are not users (AWS mode): role ARNs and role-session patterns, sorted (users name their
    /// teams in ``User/teams``).
    public var principals: [String]
    /// The stored version this record was read from (0: not stored yet), as ``Role/version``: kept by the store beside
    /// the document, not in it.
    public var version = 0

    private enum CodingKeys: String, CodingKey {
        case name, arn, policies, creationDate, principals
    }

    public init(
        name: String,
        arn: String,
        policies: [String: String] = [:],
        creationDate: Date,
        principals: [String] = []
    ) {
        self.name = name
        self.arn = arn
        self.policies = policies
        self.creationDate = creationDate
        self.principals = principals
    }

    /// Reads a team stored before teams had ``principals`` as one without.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        arn = try container.decode(String.self, forKey: .arn)
        policies = try container.decode([String: String].self, forKey: .policies)
        creationDate = try container.decode(Date.self, forKey: .creationDate)
        principals = try container.decodeIfPresent([String].self, forKey: .principals) ?? []
    }
}

/// A role: a trust policy (who may assume it) and permission policies (what its sessions may do).
public struct Role: Sendable, Hashable, Codable {
    public var name: String
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    public var arn: String
    public var roleDescription: String
    /// The trust policy (`AssumeRolePolicyDocument`), JSON text.
    public var trustPolicy: String
    /// Inline permission policies by name.
    public var policies: [String: String]
    /// The longest session, in seconds (3,600 to 43,200; AWS's default 3,600).
    public var maxSessionDuration: Int
    public var creationDate: Date
    /// The stored version this record was read from (0: not stored yet). A store writes a role only over the
    /// version it was read from, as the next version, so two changes based on the same read cannot both land. Kept
    /// by the store beside the document, not in it.
    public var version = 0

    private enum CodingKeys: String, CodingKey {
        case name, arn, roleDescription, trustPolicy, policies, maxSessionDuration, creationDate
    }

    public init(
        name: String,
        arn: String,
        roleDescription: String = "",
        trustPolicy: String,
        policies: [String: String] = [:],
        maxSessionDuration: Int = 3600,
        creationDate: Date
    ) {
        self.name = name
        self.arn = arn
        self.roleDescription = roleDescription
        self.trustPolicy = trustPolicy
        self.policies = policies
        self.maxSessionDuration = maxSessionDuration
        self.creationDate = creationDate
    }
}

/// The credentials of a role session, as `AssumeRole` returns them.
public struct RoleSession: Sendable, Hashable, CustomStringConvertible {
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    public var arn: String
    /// `AROA…:SESSION`.
    public var assumedRoleID: String
    public var accessKey: AccessKey

    public init(arn: String, assumedRoleID: String, accessKey: AccessKey) {
        self.arn = arn
        self.assumedRoleID = assumedRoleID
        self.accessKey = accessKey
    }

    /// Never shows the secret or the token.
    public var description: String { "RoleSession(\(arn), \(accessKey.id))" }
}

/// Names as IAM accepts them.
enum Names {
    /// IAM user, group and role names: 1–64 characters of `A–Z a–z 0–9 + = , . @ _ -` (roles: 1–64).
    static func validate(_ name: String, kind: String, maximum: Int = 64) throws(AccessControlError) {
        guard !name.isEmpty, name.count <= maximum,
            name.unicodeScalars.allSatisfy({ scalar in
                scalar.isASCII
                    && (CharacterSet.alphanumerics.contains(scalar) || "+=,.@_-".unicodeScalars.contains(scalar))
            })
        else {
            throw AccessControlError(
                .validationError,
                "The \(kind) name '\(name)' is invalid: use 1 to \(maximum) letters, digits and + = , . @ _ -."
            )
        }
    }

    /// A role session name: 2–64 characters of `A–Z a–z 0–9 + = , . @ _ -`.
    static func validateSessionName(_ name: String) throws(AccessControlError) {
        guard name.count >= 2 else {
            throw AccessControlError(
                .validationError,
                "1 validation error detected: Value '\(name)' at 'roleSessionName' failed to satisfy constraint: "
                    + "Member must have length greater than or equal to 2"
            )
        }
        try validate(name, kind: "role session", maximum: 64)
    }
}
