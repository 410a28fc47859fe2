import AccessControl
import Foundation
import Testing

/// Cases shaped after AWS's documented examples (policies rewritten for our fixtures, not copied). Each cites the
/// page it follows.
struct DocumentedExampleTests {
    // KMS Developer Guide, "kms:EncryptionContext:context-key": a key policy statement that allows kms:Decrypt only
    // when the encryption context has the pair AppName=ExampleApp; values are case-sensitive under StringEquals, and
    // other pairs in the request do not matter.
    static let appNamePolicy = """
        {"Version": "2012-10-17", "Statement": [
          {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
           "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
          {"Sid": "AppNameOnly", "Effect": "Allow",
           "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"}, "Action": "kms:Decrypt", "Resource": "*",
           "Condition": {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}}
        ]}
        """

    struct ContextRow: Sendable, CustomTestStringConvertible {
        let name: String
        let encryptionContext: [String: String]?
        let allowed: Bool
        var testDescription: String { name }
    }

    static let appNameRows: [ContextRow] = [
        ContextRow(name: "exact pair", encryptionContext: ["AppName": "ExampleApp"], allowed: true),
        ContextRow(
            name: "exact pair among others",
            encryptionContext: ["AppName": "ExampleApp", "FilePath": "/var/opt/secrets/"],
            allowed: true
        ),
        ContextRow(name: "value in another case", encryptionContext: ["AppName": "exampleapp"], allowed: false),
        ContextRow(name: "other value", encryptionContext: ["AppName": "Other"], allowed: false),
        ContextRow(name: "no encryption context", encryptionContext: nil, allowed: false),
    ]

    @Test("KMS: kms:EncryptionContext:AppName in a key policy", arguments: appNameRows)
    func appName(_ row: ContextRow) throws {
        let keyPolicy = try Fixtures.resource(Self.appNamePolicy)
        let request = EvaluationRequest(
            principal: Fixtures.bob,
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            context: Fixtures.context(encryptionContext: row.encryptionContext)
        )
        #expect(
            PolicyEvaluator.evaluate(request, resourcePolicy: keyPolicy, identityPolicies: []).isAllowed == row.allowed
        )
    }

    // KMS Developer Guide, "kms:EncryptionContextKeys": ForAllValues:StringEquals with AppName and FilePath allows
    // requests whose context keys are among those two, and — because ForAllValues over no values is true — requests
    // with no encryption context, unless a "Null": false condition is added, as the guide recommends.
    static let keysRows: [ContextRow] = [
        ContextRow(name: "both keys", encryptionContext: ["AppName": "a", "FilePath": "b"], allowed: true),
        ContextRow(name: "one key", encryptionContext: ["AppName": "a"], allowed: true),
        ContextRow(name: "an extra key", encryptionContext: ["AppName": "a", "Owner": "c"], allowed: false),
        ContextRow(name: "key in another case", encryptionContext: ["appname": "a"], allowed: false),
        ContextRow(name: "no context: allowed without the Null check", encryptionContext: nil, allowed: true),
    ]

    @Test("KMS: ForAllValues over kms:EncryptionContextKeys", arguments: keysRows)
    func contextKeys(_ row: ContextRow) throws {
        let policy = try Fixtures.decryptPolicy(
            condition: #"{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName", "FilePath"]}}"#
        )
        let guarded = try Fixtures.decryptPolicy(
            condition:
                #"{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName", "FilePath"]}, "Null": {"kms:EncryptionContextKeys": "false"}}"#
        )
        let request = EvaluationRequest(
            principal: Fixtures.alice,
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            context: Fixtures.context(encryptionContext: row.encryptionContext)
        )
        #expect(PolicyEvaluator.evaluate(request, identityPolicies: [policy]).isAllowed == row.allowed)
        let guardedExpected = row.allowed && row.encryptionContext != nil
        #expect(PolicyEvaluator.evaluate(request, identityPolicies: [guarded]).isAllowed == guardedExpected)
    }

    // KMS Developer Guide, "kms:CallerAccount": a key policy statement that allows use of the key to every principal
    // (`"AWS": "*"`) but only when the caller is in the key's account.
    @Test("KMS: kms:CallerAccount with a wildcard principal")
    func callerAccount() throws {
        let keyPolicy = try Fixtures.resource(
            """
            {"Version": "2012-10-17", "Statement": {"Sid": "SameAccount", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
             "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}}}
            """
        )
        let inside = EvaluationRequest(
            principal: Fixtures.bob,
            action: "kms:GenerateDataKey",
            resource: Fixtures.keyArn
        )
        let outside = EvaluationRequest(
            principal: Fixtures.mallory,
            action: "kms:GenerateDataKey",
            resource: Fixtures.keyArn
        )
        #expect(PolicyEvaluator.evaluate(inside, resourcePolicy: keyPolicy, identityPolicies: []).isAllowed)
        #expect(!PolicyEvaluator.evaluate(outside, resourcePolicy: keyPolicy, identityPolicies: []).isAllowed)
    }

    // IAM User Guide, "IAM JSON policy elements: Condition operators", IP address condition operators: a Deny outside
    // 203.0.113.0/24 and 2001:DB8:1234:5678::/64 (the guide's ranges); other addresses are denied.
    struct IPRow: Sendable, CustomTestStringConvertible {
        let ip: String?
        let denied: Bool
        var testDescription: String { ip ?? "no source IP" }
    }

    static let ipRows: [IPRow] = [
        IPRow(ip: "203.0.113.200", denied: false),
        IPRow(ip: "2001:db8:1234:5678:abcd::1", denied: false),
        IPRow(ip: "198.51.100.1", denied: true),
        IPRow(ip: "2001:db8:1234:5679::1", denied: true),
        IPRow(ip: nil, denied: true),
    ]

    @Test("IAM: deny outside the corporate ranges", arguments: ipRows)
    func ipDeny(_ row: IPRow) throws {
        let policy = try Fixtures.identity(
            """
            {"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
              {"Sid": "DenyOutside", "Effect": "Deny", "Action": "*", "Resource": "*",
               "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}}
            ]}
            """
        )
        let request = EvaluationRequest(
            principal: Fixtures.alice,
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            context: Fixtures.context(sourceIP: row.ip)
        )
        let decision = PolicyEvaluator.evaluate(request, identityPolicies: [policy])
        #expect((decision.statement?.sid == "DenyOutside") == row.denied, "\(decision)")
    }

    // IAM User Guide, "Example IAM identity-based policies: Allows access within specific dates" (DateGreaterThan and
    // DateLessThan on aws:CurrentTime, ANDed).
    @Test(
        "IAM: access within a date window",
        arguments: [
            (1_799_000_000.0, false), (1_800_000_000.0, true), (1_801_000_000.0, false),
        ]
    )
    func dateWindow(_ time: Double, _ allowed: Bool) throws {
        let policy = try Fixtures.decryptPolicy(
            condition:
                #"{"DateGreaterThan": {"aws:CurrentTime": "2027-01-10T00:00:00Z"}, "DateLessThan": {"aws:CurrentTime": "2027-01-20T23:59:59Z"}}"#
        )
        let request = EvaluationRequest(
            principal: Fixtures.alice,
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            context: RequestContext(currentTime: Date(timeIntervalSince1970: time))
        )
        #expect(PolicyEvaluator.evaluate(request, identityPolicies: [policy]).isAllowed == allowed)
    }

    // IAM User Guide, "Policy evaluation logic" / "Explicit and implicit denies": a policy allowing all actions
    // together with one denying a single action; the denied action is refused whatever the order, and a user with no
    // policy at all is implicitly denied.
    @Test("IAM: explicit deny overrides an allow of everything")
    func denyOverrides() throws {
        let allowAll = try Fixtures.identity(#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#)
        let denyDelete = try Fixtures.identity(
            #"{"Statement": {"Sid": "NoDeletion", "Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}}"#
        )
        let deletion = EvaluationRequest(
            principal: Fixtures.alice,
            action: "kms:ScheduleKeyDeletion",
            resource: Fixtures.keyArn
        )
        let describe = EvaluationRequest(
            principal: Fixtures.alice,
            action: "kms:DescribeKey",
            resource: Fixtures.keyArn
        )
        #expect(
            Outcome(PolicyEvaluator.evaluate(deletion, identityPolicies: [allowAll, denyDelete])) == .deny("NoDeletion")
        )
        #expect(
            Outcome(PolicyEvaluator.evaluate(deletion, identityPolicies: [denyDelete, allowAll])) == .deny("NoDeletion")
        )
        #expect(PolicyEvaluator.evaluate(describe, identityPolicies: [allowAll, denyDelete]).isAllowed)
        #expect(PolicyEvaluator.evaluate(describe, identityPolicies: []) == .implicitDeny)
    }

    // IAM User Guide, "IAM JSON policy elements: NotAction": Allow with NotAction "iam:*" grants everything except IAM;
    // Deny with NotAction denies everything except the listed actions.
    @Test("IAM: NotAction in Allow and in Deny")
    func notAction() throws {
        let allowAllButIAM = try Fixtures.identity(
            #"{"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}"#
        )
        let denyAllButDecrypt = try Fixtures.identity(
            #"{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "OnlyDecrypt", "Effect": "Deny", "NotAction": "kms:Decrypt", "Resource": "*"}]}"#
        )
        func request(_ action: String) -> EvaluationRequest {
            EvaluationRequest(principal: Fixtures.alice, action: action, resource: Fixtures.keyArn)
        }
        #expect(PolicyEvaluator.evaluate(request("kms:Encrypt"), identityPolicies: [allowAllButIAM]).isAllowed)
        #expect(!PolicyEvaluator.evaluate(request("iam:CreateUser"), identityPolicies: [allowAllButIAM]).isAllowed)
        #expect(PolicyEvaluator.evaluate(request("kms:Decrypt"), identityPolicies: [denyAllButDecrypt]).isAllowed)
        #expect(
            Outcome(PolicyEvaluator.evaluate(request("kms:Encrypt"), identityPolicies: [denyAllButDecrypt]))
                == .deny("OnlyDecrypt")
        )
    }
}

/// Dates, IP ranges and patterns at their edges.
struct ValueParsingTests {
    @Test(
        "condition dates",
        arguments: [
            ("2027-01-15T08:00:00Z", 1_800_000_000.0),
            ("2027-01-15T08:00:00.500Z", 1_800_000_000.5),
            ("2027-01-15T10:00:00+02:00", 1_800_000_000.0),
            ("2027-01-15", 1_799_971_200.0),
            ("1800000000", 1_800_000_000.0),
            ("1970-01-01T00:00:00Z", 0.0),
        ]
    )
    func dates(_ text: String, _ epoch: Double) throws {
        let policy = try Fixtures.decryptPolicy(condition: #"{"DateEquals": {"aws:CurrentTime": "\#(text)"}}"#)
        let request = EvaluationRequest(
            principal: Fixtures.alice,
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            context: RequestContext(currentTime: Date(timeIntervalSince1970: epoch))
        )
        #expect(PolicyEvaluator.evaluate(request, identityPolicies: [policy]).isAllowed)
    }

    @Test(
        "IP ranges",
        arguments: [
            ("10.0.0.0/8", "10.255.255.255", true),
            ("10.0.0.0/8", "11.0.0.0", false),
            ("10.1.2.3/32", "10.1.2.3", true),
            ("::/0", "2001:db8::1", true),
            ("2001:db8::/32", "2001:db8:ffff::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("2001:db8::1/128", "2001:db8:0:0:0:0:0:1", true),
            ("2001:db8::/127", "2001:db8::1", true),
            ("10.0.0.0/8", "::ffff:10.1.2.3", true),
            ("::ffff:10.0.0.0/104", "10.9.9.9", true),
            ("10.0.0.0/8", "not-an-ip", false),
            ("10.0.0.0/8", "10.0.0", false),
        ]
    )
    func ipRanges(_ range: String, _ ip: String, _ inside: Bool) throws {
        let policy = try Fixtures.decryptPolicy(condition: #"{"IpAddress": {"aws:SourceIp": "\#(range)"}}"#)
        let request = EvaluationRequest(
            principal: Fixtures.alice,
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            context: Fixtures.context(sourceIP: ip)
        )
        #expect(PolicyEvaluator.evaluate(request, identityPolicies: [policy]).isAllowed == inside)
    }
}
