internal import Foundation

/// A team member the platform's IAM holds on the team itself, not as a user (AWS mode): a role of the account,
/// whose sessions act as it, or a role-session pattern, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` where `*`
/// in SESSION stands for any run of characters (`…/ci-*`, `…/*`): the sessions of that role with a matching name.
///
/// A member admits a caller by its ARN as STS names it; two sessions of one role still act as one principal, the
/// role, in the access workflow (one approval, not two).
struct TeamMember: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case role(arn: String)
        case sessions(roleName: String, sessionPattern: String)
    }

    let kind: Kind
    let account: String

    /// The member `arn` names in `account`, validated.
    ///
    /// - Throws: `ValidationError` for an ARN that is neither a role of the account (without a path) nor a
    ///   role-session pattern of it.
    init(_ arn: String, account: String) throws(AccessControlError) {
        self.account = account
        let rolePrefix = "arn:aws:iam::\(account):role/"
        let sessionPrefix = "arn:aws:sts::\(account):assumed-role/"
        if arn.hasPrefix(rolePrefix) {
            let name = String(arn.dropFirst(rolePrefix.count))
            guard !name.contains("/") else {
                throw AccessControlError(
                    .validationError,
                    "\(arn) has a path: give the role without it, as STS names its sessions."
                )
            }
            try Names.validate(name, kind: "role")
            kind = .role(arn: arn)
        } else if arn.hasPrefix(sessionPrefix) {
            let parts = arn.dropFirst(sessionPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw AccessControlError(
                    .validationError,
                    "\(arn) is not a role-session pattern: use \(sessionPrefix)ROLE/SESSION, SESSION with * for any run."
                )
            }
            try Names.validate(String(parts[0]), kind: "role")
            let pattern = String(parts[1])
            try Names.validate(pattern.replacingOccurrences(of: "*", with: "x"), kind: "role session pattern")
            kind = .sessions(roleName: String(parts[0]), sessionPattern: pattern)
        } else {
            throw AccessControlError(
                .validationError,
                "\(arn) is not a user, role or role-session ARN of the account \(account)."
            )
        }
    }

    /// Whether the caller `principal` (as STS names it) is this member: the role itself or one of its sessions; a
    /// session of the role whose name matches the pattern.
    func admits(_ principal: String) -> Bool {
        switch kind {
        case .role(let arn):
            return principal == arn || CallerIdentity(arn: principal, account: account).roleArn == arn
        case .sessions(let roleName, let sessionPattern):
            let prefix = "arn:aws:sts::\(account):assumed-role/\(roleName)/"
            guard principal.hasPrefix(prefix) else { return false }
            let session = principal.dropFirst(prefix.count)
            return !session.contains("/") && Self.glob(sessionPattern[...], matches: session)
        }
    }

    /// Whether `text` matches `pattern`, where `*` stands for any run of characters (none included).
    static func glob(_ pattern: Substring, matches text: Substring) -> Bool {
        let pieces = pattern.split(separator: "*", omittingEmptySubsequences: false)
        guard pieces.count > 1 else { return pattern == text }
        guard text.hasPrefix(pieces[0]), text.dropFirst(pieces[0].count).hasSuffix(pieces[pieces.count - 1]) else {
            return false
        }
        var rest = text.dropFirst(pieces[0].count).dropLast(pieces[pieces.count - 1].count)
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let found = rest.range(of: piece) else { return false }
            rest = rest[found.upperBound...]
        }
        return true
    }
}
