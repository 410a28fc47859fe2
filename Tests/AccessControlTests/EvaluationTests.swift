import AccessControl
import Foundation
import Testing

private let allowDecrypt = #"{"Sid": "AllowDecrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}"#
private let allowAll = #"{"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"}"#
private let denyDecrypt = #"{"Sid": "DenyDecrypt", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}"#
private let denyOtherIPs =
    #"{"Sid": "DenyOutside", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}"#
private let allowEncrypt = #"{"Sid": "AllowEncrypt", "Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}"#

private func identityPolicy(_ statements: String...) throws -> PolicyDocument {
    try Fixtures.identity(#"{"Version": "2012-10-17", "Statement": [\#(statements.joined(separator: ", "))]}"#)
}

/// Explicit deny beats allow beats implicit deny (IAM User Guide, "Policy evaluation logic" and "Determining whether
/// a request is allowed or denied within an account").
struct PrecedenceTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let policies: [[String]]
        let action: String
        let sourceIP: String
        let expected: Outcome
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "no policies: implicit deny",
            policies: [],
            action: "kms:Decrypt",
            sourceIP: "203.0.113.7",
            expected: .implicit
        ),
        Row(
            name: "an allow",
            policies: [[allowDecrypt]],
            action: "kms:Decrypt",
            sourceIP: "203.0.113.7",
            expected: .allow("AllowDecrypt")
        ),
        Row(
            name: "action not allowed: implicit",
            policies: [[allowDecrypt]],
            action: "kms:Encrypt",
            sourceIP: "203.0.113.7",
            expected: .implicit
        ),
        Row(
            name: "deny beats allow in one policy",
            policies: [[allowAll, denyDecrypt]],
            action: "kms:Decrypt",
            sourceIP: "203.0.113.7",
            expected: .deny("DenyDecrypt")
        ),
        Row(
            name: "deny beats allow in another policy",
            policies: [[allowAll], [denyDecrypt]],
            action: "kms:Decrypt",
            sourceIP: "203.0.113.7",
            expected: .deny("DenyDecrypt")
        ),
        Row(
            name: "deny first, allow after",
            policies: [[denyDecrypt], [allowAll]],
            action: "kms:Decrypt",
            sourceIP: "203.0.113.7",
            expected: .deny("DenyDecrypt")
        ),
        Row(
            name: "deny of another action leaves the allow",
            policies: [[allowAll, denyDecrypt]],
            action: "kms:Encrypt",
            sourceIP: "203.0.113.7",
            expected: .allow("AllowAll")
        ),
        Row(
            name: "a deny alone is not an allow",
            policies: [[denyDecrypt]],
            action: "kms:Encrypt",
            sourceIP: "203.0.113.7",
            expected: .implicit
        ),
        Row(
            name: "conditional deny applies",
            policies: [[allowAll, denyOtherIPs]],
            action: "kms:Decrypt",
            sourceIP: "198.51.100.1",
            expected: .deny("DenyOutside")
        ),
        Row(
            name: "conditional deny does not apply",
            policies: [[allowAll, denyOtherIPs]],
            action: "kms:Decrypt",
            sourceIP: "203.0.113.9",
            expected: .allow("AllowAll")
        ),
        Row(
            name: "first allowing statement is reported",
            policies: [[allowDecrypt, allowAll]],
            action: "kms:Decrypt",
            sourceIP: "203.0.113.7",
            expected: .allow("AllowDecrypt")
        ),
        Row(
            name: "allows from two policies union",
            policies: [[allowDecrypt], [allowEncrypt]],
            action: "kms:Encrypt",
            sourceIP: "203.0.113.7",
            expected: .allow("AllowEncrypt")
        ),
    ]

    @Test("deny, allow and implicit deny", arguments: rows)
    func precedence(_ row: Row) throws {
        let policies = try row.policies.map { statements in
            try Fixtures.identity(#"{"Version": "2012-10-17", "Statement": [\#(statements.joined(separator: ", "))]}"#)
        }
        let request = EvaluationRequest(
            principal: Fixtures.alice,
            action: row.action,
            resource: Fixtures.keyArn,
            context: Fixtures.context(sourceIP: row.sourceIP)
        )
        #expect(Outcome(PolicyEvaluator.evaluate(request, identityPolicies: policies)) == row.expected)
    }
}

/// A key policy must allow the call, directly or by delegating to the account's IAM policies (KMS Developer Guide,
/// "Key policies in AWS KMS", "Default key policy", "Allowing users in other accounts to use a KMS key").
struct KeyPolicyTests {
    enum KeyPolicy: String, Sendable {
        case delegating, delegatingBareAccount, directAlice, directRole, wildcard, wildcardAWS, delegatingAndDenyBob,
            aliceWithoutDelegation, foreignAccount, foreignAlice, notPrincipalDenyAlice, denyAccount
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let keyPolicy: KeyPolicy
        let identity: [String]
        let caller: CallerIdentity
        let action: String
        let resource: String
        let expected: Outcome
        init(
            _ name: String,
            _ keyPolicy: KeyPolicy,
            identity: [String],
            caller: CallerIdentity = Fixtures.alice,
            action: String = "kms:Decrypt",
            resource: String = Fixtures.keyArn,
            _ expected: Outcome
        ) {
            self.name = name
            self.keyPolicy = keyPolicy
            self.identity = identity
            self.caller = caller
            self.action = action
            self.resource = resource
            self.expected = expected
        }
        var testDescription: String { name }
    }

    static func document(_ policy: KeyPolicy) throws -> PolicyDocument {
        func statement(
            _ principal: String,
            effect: String = "Allow",
            sid: String,
            action: String = "kms:Decrypt"
        )
            -> String
        {
            #"{"Sid": "\#(sid)", "Effect": "\#(effect)", "Principal": \#(principal), "Action": "\#(action)", "Resource": "*"}"#
        }
        let statements: String
        switch policy {
        case .delegating:
            return try Fixtures.keyPolicy()
        case .delegatingBareAccount:
            statements = statement(#"{"AWS": "111122223333"}"#, sid: "Enable IAM User Permissions", action: "kms:*")
        case .directAlice:
            statements = statement(#"{"AWS": "arn:aws:iam::111122223333:user/alice"}"#, sid: "AliceDecrypts")
        case .directRole:
            statements = statement(
                #"{"AWS": ["arn:aws:iam::111122223333:role/reader-payments-card-captured"]}"#,
                sid: "RoleDecrypts"
            )
        case .wildcard:
            statements = statement(#""*""#, sid: "Anyone")
        case .wildcardAWS:
            statements = statement(#"{"AWS": "*"}"#, sid: "AnyoneAWS")
        case .delegatingAndDenyBob:
            return try Fixtures.keyPolicy(
                extraStatements: statement(
                    #"{"AWS": "arn:aws:iam::111122223333:user/bob"}"#,
                    effect: "Deny",
                    sid: "DenyBob"
                )
            )
        case .aliceWithoutDelegation:
            statements = statement(
                #"{"AWS": "arn:aws:iam::111122223333:user/alice"}"#,
                sid: "AliceEncrypts",
                action: "kms:Encrypt"
            )
        case .foreignAccount:
            return try Fixtures.keyPolicy(
                extraStatements: statement(#"{"AWS": "arn:aws:iam::444455556666:root"}"#, sid: "ExternalAccount")
            )
        case .foreignAlice:
            statements = statement(#"{"AWS": "arn:aws:iam::444455556666:user/mallory"}"#, sid: "ExternalUser")
        case .notPrincipalDenyAlice:
            return try Fixtures.keyPolicy(
                extraStatements: statement(
                    #"{"AWS": "arn:aws:iam::111122223333:user/alice"}"#,
                    effect: "Deny",
                    sid: "OnlyAlice"
                )
                .replacingOccurrences(of: "\"Principal\"", with: "\"NotPrincipal\"")
            )
        case .denyAccount:
            return try Fixtures.keyPolicy(
                extraStatements: statement(
                    #"{"AWS": "111122223333"}"#,
                    effect: "Deny",
                    sid: "DenyAccount",
                    action: "kms:Decrypt"
                )
            )
        }
        return try Fixtures.resource(#"{"Version": "2012-10-17", "Statement": [\#(statements)]}"#)
    }

    static let rows: [Row] = [
        Row("delegation + IAM allow", .delegating, identity: [allowDecrypt], .allow("AllowDecrypt")),
        Row("delegation without IAM allow", .delegating, identity: [], .implicit),
        Row("delegation + IAM allow of another action", .delegating, identity: [allowEncrypt], .implicit),
        Row("delegation + IAM deny", .delegating, identity: [allowAll, denyDecrypt], .deny("DenyDecrypt")),
        Row("delegation by bare account id", .delegatingBareAccount, identity: [allowDecrypt], .allow("AllowDecrypt")),
        Row(
            "the account root itself is direct",
            .delegating,
            identity: [],
            caller: Fixtures.root,
            .allow("Enable IAM User Permissions")
        ),
        Row("direct principal, no IAM policy needed", .directAlice, identity: [], .allow("AliceDecrypts")),
        Row("direct principal, other caller", .directAlice, identity: [allowAll], caller: Fixtures.bob, .implicit),
        Row("direct principal, IAM deny wins", .directAlice, identity: [denyDecrypt], .deny("DenyDecrypt")),
        Row("direct principal, other action", .directAlice, identity: [allowAll], action: "kms:Encrypt", .implicit),
        Row("IAM allow without key policy delegation", .aliceWithoutDelegation, identity: [allowAll], .implicit),
        Row(
            "role principal matches its sessions",
            .directRole,
            identity: [],
            caller: Fixtures.session,
            .allow("RoleDecrypts")
        ),
        Row("role principal does not match users", .directRole, identity: [allowAll], .implicit),
        Row("Principal * matches anyone", .wildcard, identity: [], caller: Fixtures.bob, .allow("Anyone")),
        Row("Principal AWS * matches anyone", .wildcardAWS, identity: [], caller: Fixtures.bob, .allow("AnyoneAWS")),
        Row(
            "key policy deny wins over IAM allow",
            .delegatingAndDenyBob,
            identity: [allowAll],
            caller: Fixtures.bob,
            .deny("DenyBob")
        ),
        Row("key policy deny of someone else", .delegatingAndDenyBob, identity: [allowAll], .allow("AllowAll")),
        Row("NotPrincipal deny spares the named", .notPrincipalDenyAlice, identity: [allowAll], .allow("AllowAll")),
        Row(
            "NotPrincipal deny hits the others",
            .notPrincipalDenyAlice,
            identity: [allowAll],
            caller: Fixtures.bob,
            .deny("OnlyAlice")
        ),
        Row("deny naming the account hits its users", .denyAccount, identity: [allowAll], .deny("DenyAccount")),
        Row("other account: not delegated", .delegating, identity: [allowAll], caller: Fixtures.mallory, .implicit),
        Row(
            "other account delegated + its IAM allow",
            .foreignAccount,
            identity: [allowDecrypt],
            caller: Fixtures.mallory,
            .allow("AllowDecrypt")
        ),
        Row(
            "other account delegated, no IAM allow",
            .foreignAccount,
            identity: [],
            caller: Fixtures.mallory,
            .implicit
        ),
        Row(
            "other account's user named, still needs its IAM allow",
            .foreignAlice,
            identity: [],
            caller: Fixtures.mallory,
            .implicit
        ),
        Row(
            "other account's user named + its IAM allow",
            .foreignAlice,
            identity: [allowDecrypt],
            caller: Fixtures.mallory,
            .allow("ExternalUser")
        ),
    ]

    @Test("key policy and identity policies", arguments: rows)
    func keyPolicies(_ row: Row) throws {
        let keyPolicy = try Self.document(row.keyPolicy)
        let identity = try row.identity.isEmpty ? [] : [identityPolicy(row.identity.joined(separator: ", "))]
        let request = EvaluationRequest(
            principal: row.caller,
            action: row.action,
            resource: row.resource,
            context: Fixtures.context()
        )
        let decision = PolicyEvaluator.evaluate(request, resourcePolicy: keyPolicy, identityPolicies: identity)
        #expect(Outcome(decision) == row.expected, "\(decision)")
    }
}

/// `sts:AssumeRole` against a role's trust policy (IAM User Guide, "Roles terms and concepts: trust policy" and
/// "Granting a user permissions to switch roles").
struct TrustPolicyTests {
    static let trustUsers = """
        {"Version": "2012-10-17", "Statement": {"Sid": "Consumers", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::111122223333:user/alice"]}, "Action": "sts:AssumeRole"}}
        """
    static let trustAccount = """
        {"Version": "2012-10-17", "Statement": {"Sid": "Account", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}}
        """
    static let trustEmpty = #"{"Version": "2012-10-17", "Statement": []}"#
    static let trustExpiring = """
        {"Version": "2012-10-17", "Statement": {"Sid": "Until", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "sts:AssumeRole",
         "Condition": {"DateLessThan": {"aws:CurrentTime": "2027-01-15T00:00:00Z"}}}}
        """
    static let allowAssume =
        #"{"Sid": "MayAssume", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::111122223333:role/reader-*"}"#
    static let denyAssume = #"{"Sid": "NoAssume", "Effect": "Deny", "Action": "sts:*", "Resource": "*"}"#

    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let trust: String
        let identity: [String]
        let caller: CallerIdentity
        let expected: Outcome
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "named user", trust: trustUsers, identity: [], caller: Fixtures.alice, expected: .allow("Consumers")),
        Row(
            name: "user not named",
            trust: trustUsers,
            identity: [allowAssume],
            caller: Fixtures.bob,
            expected: .implicit
        ),
        Row(
            name: "named user, identity deny wins",
            trust: trustUsers,
            identity: [denyAssume],
            caller: Fixtures.alice,
            expected: .deny("NoAssume")
        ),
        Row(
            name: "empty trust policy",
            trust: trustEmpty,
            identity: [allowAssume],
            caller: Fixtures.alice,
            expected: .implicit
        ),
        Row(
            name: "account delegation + identity allow",
            trust: trustAccount,
            identity: [allowAssume],
            caller: Fixtures.bob,
            expected: .allow("MayAssume")
        ),
        Row(
            name: "account delegation without identity allow",
            trust: trustAccount,
            identity: [],
            caller: Fixtures.bob,
            expected: .implicit
        ),
        Row(
            name: "account delegation, other account",
            trust: trustAccount,
            identity: [allowAssume],
            caller: Fixtures.mallory,
            expected: .implicit
        ),
        Row(name: "expired grant", trust: trustExpiring, identity: [], caller: Fixtures.alice, expected: .implicit),
    ]

    @Test("trust policies", arguments: rows)
    func trust(_ row: Row) throws {
        let trust = try Fixtures.trust(row.trust)
        let identity = try row.identity.isEmpty ? [] : [identityPolicy(row.identity.joined(separator: ", "))]
        let decision = PolicyEvaluator.evaluateAssumeRole(
            caller: row.caller,
            roleArn: Fixtures.roleArn,
            trustPolicy: trust,
            identityPolicies: identity,
            context: Fixtures.context()
        )
        #expect(Outcome(decision) == row.expected, "\(decision)")
    }

    @Test("the trust policy names a principal exactly: no prefix or case variants")
    func exactPrincipal() throws {
        let trust = try Fixtures.trust(Self.trustUsers)
        for arn in ["arn:aws:iam::111122223333:user/alice2", "arn:aws:iam::111122223333:user/Alice"] {
            let decision = PolicyEvaluator.evaluateAssumeRole(
                caller: CallerIdentity(arn: arn),
                roleArn: Fixtures.roleArn,
                trustPolicy: trust,
                identityPolicies: []
            )
            #expect(decision == .implicitDeny)
        }
    }
}

/// The reader role of DESIGN.md's access model: `kms:Decrypt` on the domain key with
/// `kms:EncryptionContext:eventType` = the event type, and nothing more; the key policy delegates to IAM.
struct ReaderRoleTests {
    static let reader = """
        {
          "Version": "2012-10-17",
          "Statement": [{
            "Sid": "ReadPaymentsCardCaptured",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "Condition": {"StringEquals": {"kms:EncryptionContext:eventType": "payments.card.captured"}}
          }]
        }
        """

    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let action: String
        let resource: String
        let encryptionContext: [String: String]?
        let allowed: Bool
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "Decrypt of its type",
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            encryptionContext: Fixtures.eventContext,
            allowed: true
        ),
        Row(
            name: "Decrypt of another type",
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            encryptionContext: ["eventType": "payments.card.refunded", "domain": "payments"],
            allowed: false
        ),
        Row(
            name: "Decrypt without context",
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            encryptionContext: nil,
            allowed: false
        ),
        Row(
            name: "GenerateDataKey of its type",
            action: "kms:GenerateDataKey",
            resource: Fixtures.keyArn,
            encryptionContext: Fixtures.eventContext,
            allowed: false
        ),
        Row(
            name: "Encrypt of its type",
            action: "kms:Encrypt",
            resource: Fixtures.keyArn,
            encryptionContext: Fixtures.eventContext,
            allowed: false
        ),
        Row(
            name: "Decrypt on another key",
            action: "kms:Decrypt",
            resource: Fixtures.otherKeyArn,
            encryptionContext: Fixtures.eventContext,
            allowed: false
        ),
    ]

    @Test("the reader role decrypts its event type and nothing else", arguments: rows)
    func reader(_ row: Row) throws {
        let keyPolicy = try Fixtures.keyPolicy()
        let readerPolicy = try Fixtures.identity(Self.reader)
        let request = EvaluationRequest(
            principal: Fixtures.session,
            action: row.action,
            resource: row.resource,
            context: Fixtures.context(encryptionContext: row.encryptionContext)
        )
        let decision = PolicyEvaluator.evaluate(request, resourcePolicy: keyPolicy, identityPolicies: [readerPolicy])
        #expect(decision.isAllowed == row.allowed, "\(decision)")
        if row.allowed { #expect(decision.statement?.sid == "ReadPaymentsCardCaptured") }
    }
}
