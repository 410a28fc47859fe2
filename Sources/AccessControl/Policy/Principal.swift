/// The principals a `Principal` or `NotPrincipal` element names.
public struct PrincipalSet: Sendable, Hashable {
    /// One `AWS` principal, an ARN; account ids are stored as `arn:aws:iam::ID:root`.
    package struct AWSPrincipal: Sendable, Hashable {
        package let arn: String
        /// The account when the principal is an account root, which delegates to the account's IAM policies.
        package let rootAccount: String?
    }

    /// `"*"` or `{"AWS": "*"}`: everyone.
    public let isWildcard: Bool
    package let aws: [AWSPrincipal]
    /// `Service` principals, such as `ec2.amazonaws.com`.
    public let services: [String]
    /// `Federated` principals (parsed, matched by exact name against the caller's service; no web identity support).
    public let federated: [String]
    /// `CanonicalUser` principals (parsed; never match, this server has no canonical users).
    public let canonicalUsers: [String]

    package init(
        isWildcard: Bool,
        aws: [AWSPrincipal] = [],
        services: [String] = [],
        federated: [String] = [],
        canonicalUsers: [String] = []
    ) {
        self.isWildcard = isWildcard
        self.aws = aws
        self.services = services
        self.federated = federated
        self.canonicalUsers = canonicalUsers
    }

    /// The `AWS` principals, as ARNs.
    public var awsPrincipals: [String] { aws.map(\.arn) }

    package enum Match: Sendable, Hashable {
        case none
        /// The caller is named: its ARN, its role (for sessions), its service, or everyone.
        case direct
        /// The caller's account root is named: the account's identity policies decide.
        case account
    }

    package func match(_ caller: CallerIdentity) -> Match {
        if isWildcard { return .direct }
        var result = Match.none
        for principal in aws {
            if principal.arn == caller.arn || principal.arn == caller.roleArn { return .direct }
            if let account = principal.rootAccount, account == caller.account { result = .account }
        }
        if let service = caller.service, services.contains(service) || federated.contains(service) { return .direct }
        return result
    }
}
