import AccessControl
import Foundation
import Testing

/// One row: a `Condition` block, a request context, and whether the condition holds.
struct ConditionCase: Sendable, CustomTestStringConvertible {
    let name: String
    let condition: String
    let context: RequestContext
    let principal: CallerIdentity
    let holds: Bool

    init(
        _ name: String,
        _ condition: String,
        _ context: RequestContext = Fixtures.context(),
        principal: CallerIdentity = Fixtures.alice,
        holds: Bool
    ) {
        self.name = name
        self.condition = condition
        self.context = context
        self.principal = principal
        self.holds = holds
    }

    var testDescription: String { name }

    func evaluate() throws -> Bool {
        let policy = try Fixtures.decryptPolicy(condition: condition)
        let request = EvaluationRequest(
            principal: principal,
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            context: context
        )
        return PolicyEvaluator.evaluate(request, identityPolicies: [policy]).isAllowed
    }
}

private let noContext = Fixtures.context(encryptionContext: nil, sourceIP: nil)
private let emptyEC = Fixtures.context(encryptionContext: [:])
private let secure = Fixtures.context(extra: ["aws:SecureTransport": ["true"], "test:count": ["5"]])
private let ipv6 = Fixtures.context(sourceIP: "2001:db8:1234:5678::1")

struct ConditionOperatorTests {
    static let stringCases: [ConditionCase] = [
        .init(
            "StringEquals match",
            #"{"StringEquals": {"kms:EncryptionContext:eventType": "payments.card.captured"}}"#,
            holds: true
        ),
        .init(
            "StringEquals mismatch",
            #"{"StringEquals": {"kms:EncryptionContext:eventType": "orders.created"}}"#,
            holds: false
        ),
        .init(
            "StringEquals values are ORed",
            #"{"StringEquals": {"kms:EncryptionContext:eventType": ["orders.created", "payments.card.captured"]}}"#,
            holds: true
        ),
        .init(
            "StringEquals is case-sensitive on values",
            #"{"StringEquals": {"kms:EncryptionContext:eventType": "Payments.Card.Captured"}}"#,
            holds: false
        ),
        .init("StringEquals missing key", #"{"StringEquals": {"kms:EncryptionContext:tenant": "a"}}"#, holds: false),
        .init(
            "StringEquals no encryption context",
            #"{"StringEquals": {"kms:EncryptionContext:eventType": "payments.card.captured"}}"#,
            noContext,
            holds: false
        ),
        .init(
            "StringNotEquals on the value",
            #"{"StringNotEquals": {"kms:EncryptionContext:eventType": "payments.card.captured"}}"#,
            holds: false
        ),
        .init(
            "StringNotEquals other value",
            #"{"StringNotEquals": {"kms:EncryptionContext:eventType": ["a", "b"]}}"#,
            holds: true
        ),
        .init(
            "StringNotEquals missing key is true",
            #"{"StringNotEquals": {"kms:EncryptionContext:tenant": "a"}}"#,
            holds: true
        ),
        .init(
            "StringEqualsIgnoreCase",
            #"{"StringEqualsIgnoreCase": {"kms:EncryptionContext:domain": "PAYMENTS"}}"#,
            holds: true
        ),
        .init(
            "StringEqualsIgnoreCase mismatch",
            #"{"StringEqualsIgnoreCase": {"kms:EncryptionContext:domain": "ORDERS"}}"#,
            holds: false
        ),
        .init(
            "StringNotEqualsIgnoreCase",
            #"{"StringNotEqualsIgnoreCase": {"kms:EncryptionContext:domain": "PAYMENTS"}}"#,
            holds: false
        ),
        .init("StringLike star", #"{"StringLike": {"kms:EncryptionContext:eventType": "payments.*"}}"#, holds: true),
        .init(
            "StringLike question mark",
            #"{"StringLike": {"kms:EncryptionContext:eventType": "pay?ents.card.*"}}"#,
            holds: true
        ),
        .init("StringLike mismatch", #"{"StringLike": {"kms:EncryptionContext:eventType": "orders.*"}}"#, holds: false),
        .init(
            "StringLike is case-sensitive",
            #"{"StringLike": {"kms:EncryptionContext:eventType": "PAYMENTS.*"}}"#,
            holds: false
        ),
        .init("StringLike missing key", #"{"StringLike": {"kms:EncryptionContext:tenant": "*"}}"#, holds: false),
        .init("StringNotLike", #"{"StringNotLike": {"kms:EncryptionContext:eventType": "orders.*"}}"#, holds: true),
        .init(
            "StringNotLike matching",
            #"{"StringNotLike": {"kms:EncryptionContext:eventType": ["orders.*", "payments.*"]}}"#,
            holds: false
        ),
        .init(
            "StringNotLike missing key is true",
            #"{"StringNotLike": {"kms:EncryptionContext:tenant": "*"}}"#,
            holds: true
        ),
        .init(
            "StringEqualsIfExists missing key",
            #"{"StringEqualsIfExists": {"kms:EncryptionContext:tenant": "a"}}"#,
            holds: true
        ),
        .init(
            "StringEqualsIfExists present mismatch",
            #"{"StringEqualsIfExists": {"kms:EncryptionContext:eventType": "a"}}"#,
            holds: false
        ),
        .init(
            "StringEqualsIfExists present match",
            #"{"StringEqualsIfExists": {"kms:EncryptionContext:eventType": "payments.card.captured"}}"#,
            holds: true
        ),
        .init(
            "StringLikeIfExists missing key",
            #"{"StringLikeIfExists": {"kms:EncryptionContext:tenant": "x*"}}"#,
            holds: true
        ),
        .init(
            "two keys are ANDed",
            #"{"StringEquals": {"kms:EncryptionContext:eventType": "payments.card.captured", "kms:EncryptionContext:domain": "orders"}}"#,
            holds: false
        ),
        .init(
            "two operators are ANDed",
            #"{"StringEquals": {"kms:EncryptionContext:eventType": "payments.card.captured"}, "StringLike": {"kms:EncryptionContext:domain": "pay*"}}"#,
            holds: true
        ),
        .init(
            "operator names are case-insensitive",
            #"{"stringequals": {"kms:EncryptionContext:domain": "payments"}}"#,
            holds: true
        ),
        .init(
            "ArnLike on aws:PrincipalArn",
            #"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/*"}}"#,
            holds: true
        ),
        .init(
            "ArnNotEquals on aws:PrincipalArn",
            #"{"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice"}}"#,
            holds: false
        ),
    ]

    static let otherCases: [ConditionCase] = [
        .init("Bool true", #"{"Bool": {"aws:SecureTransport": "true"}}"#, secure, holds: true),
        .init("Bool JSON literal", #"{"Bool": {"aws:SecureTransport": true}}"#, secure, holds: true),
        .init("Bool false", #"{"Bool": {"aws:SecureTransport": "false"}}"#, secure, holds: false),
        .init("Bool missing key", #"{"Bool": {"aws:SecureTransport": "false"}}"#, holds: false),
        .init("BoolIfExists missing key", #"{"BoolIfExists": {"aws:SecureTransport": "true"}}"#, holds: true),
        .init("NumericLessThan", #"{"NumericLessThan": {"test:count": "10"}}"#, secure, holds: true),
        .init("NumericGreaterThan", #"{"NumericGreaterThan": {"test:count": 10}}"#, secure, holds: false),
        .init("NumericEquals", #"{"NumericEquals": {"test:count": "5"}}"#, secure, holds: true),
        .init("NumericNotEquals", #"{"NumericNotEquals": {"test:count": "5"}}"#, secure, holds: false),
        .init("NumericLessThanEquals", #"{"NumericLessThanEquals": {"test:count": "5"}}"#, secure, holds: true),
        .init("DateLessThan before", #"{"DateLessThan": {"aws:CurrentTime": "2027-01-16T00:00:00Z"}}"#, holds: true),
        .init("DateLessThan after", #"{"DateLessThan": {"aws:CurrentTime": "2027-01-15T00:00:00Z"}}"#, holds: false),
        .init("DateGreaterThan", #"{"DateGreaterThan": {"aws:CurrentTime": "2027-01-15T00:00:00Z"}}"#, holds: true),
        .init("DateGreaterThan future", #"{"DateGreaterThan": {"aws:CurrentTime": "2027-01-16"}}"#, holds: false),
        .init("DateEquals exact", #"{"DateEquals": {"aws:CurrentTime": "2027-01-15T08:00:00Z"}}"#, holds: true),
        .init("DateNotEquals exact", #"{"DateNotEquals": {"aws:CurrentTime": "2027-01-15T08:00:00Z"}}"#, holds: false),
        .init(
            "DateLessThanEquals exact",
            #"{"DateLessThanEquals": {"aws:CurrentTime": "2027-01-15T08:00:00Z"}}"#,
            holds: true
        ),
        .init(
            "DateGreaterThanEquals with offset",
            #"{"DateGreaterThanEquals": {"aws:CurrentTime": "2027-01-15T09:00:00+01:00"}}"#,
            holds: true
        ),
        .init("DateLessThan epoch seconds", #"{"DateLessThan": {"aws:CurrentTime": "1800000001"}}"#, holds: true),
        .init("DateLessThan on aws:EpochTime", #"{"DateLessThan": {"aws:EpochTime": "1800000000"}}"#, holds: false),
        .init("IpAddress in IPv4 CIDR", #"{"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#, holds: true),
        .init("IpAddress outside IPv4 CIDR", #"{"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}"#, holds: false),
        .init("IpAddress single host", #"{"IpAddress": {"aws:SourceIp": "203.0.113.7"}}"#, holds: true),
        .init(
            "IpAddress list is ORed",
            #"{"IpAddress": {"aws:SourceIp": ["198.51.100.0/24", "203.0.113.0/28"]}}"#,
            holds: true
        ),
        .init("IpAddress /0", #"{"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}"#, holds: true),
        .init("IpAddress IPv6 CIDR", #"{"IpAddress": {"aws:SourceIp": "2001:DB8:1234:5678::/64"}}"#, ipv6, holds: true),
        .init(
            "IpAddress IPv6 outside",
            #"{"IpAddress": {"aws:SourceIp": "2001:db8:1234:5679::/64"}}"#,
            ipv6,
            holds: false
        ),
        .init(
            "IpAddress IPv4 range vs IPv6 caller",
            #"{"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}"#,
            ipv6,
            holds: false
        ),
        .init("NotIpAddress outside", #"{"NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}}"#, holds: true),
        .init("NotIpAddress inside", #"{"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#, holds: false),
        .init("IpAddress missing source", #"{"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}"#, noContext, holds: false),
        .init(
            "NotIpAddress missing source is true",
            #"{"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#,
            noContext,
            holds: true
        ),
        .init(
            "IpAddressIfExists missing source",
            #"{"IpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}}"#,
            noContext,
            holds: true
        ),
        .init("Null false, key present", #"{"Null": {"kms:EncryptionContext:eventType": "false"}}"#, holds: true),
        .init("Null false, key absent", #"{"Null": {"kms:EncryptionContext:tenant": false}}"#, holds: false),
        .init("Null true, key absent", #"{"Null": {"kms:EncryptionContext:tenant": "true"}}"#, holds: true),
        .init("Null true, key present", #"{"Null": {"kms:EncryptionContext:eventType": "true"}}"#, holds: false),
        .init(
            "Null on multivalued key, empty set",
            #"{"Null": {"kms:EncryptionContextKeys": "true"}}"#,
            emptyEC,
            holds: true
        ),
    ]

    /// Set qualifiers (IAM User Guide, "Set operators for multivalued context keys"), over `kms:EncryptionContextKeys`
    /// whose values here are `eventType` and `domain`.
    static let setCases: [ConditionCase] = [
        .init(
            "ForAnyValue one matches",
            #"{"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["domain", "x"]}}"#,
            holds: true
        ),
        .init(
            "ForAnyValue none matches",
            #"{"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["x", "y"]}}"#,
            holds: false
        ),
        .init(
            "ForAnyValue missing key is false",
            #"{"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "domain"}}"#,
            noContext,
            holds: false
        ),
        .init(
            "ForAnyValue empty set is false",
            #"{"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "domain"}}"#,
            emptyEC,
            holds: false
        ),
        .init(
            "ForAnyValue IfExists missing key is true",
            #"{"ForAnyValue:StringEqualsIfExists": {"kms:EncryptionContextKeys": "domain"}}"#,
            noContext,
            holds: true
        ),
        .init(
            "ForAnyValue:StringLike",
            #"{"ForAnyValue:StringLike": {"kms:EncryptionContextKeys": "event*"}}"#,
            holds: true
        ),
        .init(
            "ForAnyValue:StringNotEquals some value outside",
            #"{"ForAnyValue:StringNotEquals": {"kms:EncryptionContextKeys": "domain"}}"#,
            holds: true
        ),
        .init(
            "ForAnyValue:StringNotEquals all inside",
            #"{"ForAnyValue:StringNotEquals": {"kms:EncryptionContextKeys": ["domain", "eventType"]}}"#,
            holds: false
        ),
        .init(
            "ForAllValues all allowed",
            #"{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["eventType", "domain", "extra"]}}"#,
            holds: true
        ),
        .init(
            "ForAllValues one not allowed",
            #"{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["eventType"]}}"#,
            holds: false
        ),
        .init(
            "ForAllValues missing key is true",
            #"{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["eventType"]}}"#,
            noContext,
            holds: true
        ),
        .init(
            "ForAllValues empty set is true",
            #"{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["eventType"]}}"#,
            emptyEC,
            holds: true
        ),
        .init(
            "ForAllValues with Null guard, missing key",
            #"{"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["eventType", "domain"]}, "Null": {"kms:EncryptionContextKeys": "false"}}"#,
            noContext,
            holds: false
        ),
        .init(
            "ForAllValues:StringNotEquals none forbidden",
            #"{"ForAllValues:StringNotEquals": {"kms:EncryptionContextKeys": ["tenant"]}}"#,
            holds: true
        ),
        .init(
            "ForAllValues:StringNotEquals one forbidden",
            #"{"ForAllValues:StringNotEquals": {"kms:EncryptionContextKeys": ["domain"]}}"#,
            holds: false
        ),
        .init(
            "ForAllValues:StringLike",
            #"{"ForAllValues:StringLike": {"kms:EncryptionContextKeys": ["event*", "dom*"]}}"#,
            holds: true
        ),
        .init(
            "qualifier on single-valued key",
            #"{"ForAnyValue:StringEquals": {"kms:EncryptionContext:domain": "payments"}}"#,
            holds: true
        ),
        .init(
            "unqualified StringEquals on multivalued key matches any",
            #"{"StringEquals": {"kms:EncryptionContextKeys": "domain"}}"#,
            holds: true
        ),
    ]

    @Test("string and ARN operators", arguments: stringCases)
    func stringOperators(_ row: ConditionCase) throws {
        #expect(try row.evaluate() == row.holds)
    }

    @Test("Bool, numeric, date, IP address and Null operators", arguments: otherCases)
    func otherOperators(_ row: ConditionCase) throws {
        #expect(try row.evaluate() == row.holds)
    }

    @Test("ForAnyValue and ForAllValues", arguments: setCases)
    func setQualifiers(_ row: ConditionCase) throws {
        #expect(try row.evaluate() == row.holds)
    }
}

/// Condition keys: where each value comes from.
struct ConditionKeyTests {
    static let cases: [ConditionCase] = [
        // kms:EncryptionContext:<k>: the key name is matched case-insensitively (IAM folds condition key names), the
        // value as the operator says. KMS Developer Guide, "kms:EncryptionContext:context-key".
        .init(
            "EC key name case-insensitive",
            #"{"StringEquals": {"kms:EncryptionContext:EVENTTYPE": "payments.card.captured"}}"#,
            holds: true
        ),
        .init(
            "EC value case-sensitive",
            #"{"StringEquals": {"kms:EncryptionContext:eventType": "PAYMENTS.CARD.CAPTURED"}}"#,
            holds: false
        ),
        .init(
            "EC prefix case-insensitive",
            #"{"StringEquals": {"KMS:encryptioncontext:domain": "payments"}}"#,
            holds: true
        ),
        .init(
            "EC exact key wins over case variant",
            #"{"StringEquals": {"kms:EncryptionContext:Domain": "B"}}"#,
            Fixtures.context(encryptionContext: ["domain": "A", "Domain": "B"]),
            holds: true
        ),
        // kms:EncryptionContextKeys keeps the case of the request's keys: the way to require an exact key name.
        .init(
            "EC keys case-sensitive",
            #"{"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "EventType"}}"#,
            holds: false
        ),
        .init(
            "EC keys exact",
            #"{"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "eventType"}}"#,
            holds: true
        ),
        .init(
            "aws:PrincipalArn user",
            #"{"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/alice"}}"#,
            holds: true
        ),
        .init(
            "aws:PrincipalArn other user",
            #"{"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/bob"}}"#,
            holds: false
        ),
        .init(
            "aws:PrincipalArn of a role session is the role",
            #"{"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/reader-payments-card-captured"}}"#,
            principal: Fixtures.session,
            holds: true
        ),
        .init(
            "aws:PrincipalArn is not the session ARN",
            #"{"StringLike": {"aws:PrincipalArn": "arn:aws:sts::*"}}"#,
            principal: Fixtures.session,
            holds: false
        ),
        .init("aws:CurrentTime as a string", #"{"StringLike": {"aws:CurrentTime": "2027-01-15T08:*"}}"#, holds: true),
        .init(
            "aws:CurrentTime as a date",
            #"{"DateGreaterThan": {"aws:CurrentTime": "2027-01-15T07:59:59Z"}}"#,
            holds: true
        ),
        .init("aws:SourceIp", #"{"IpAddress": {"aws:SourceIp": "203.0.113.0/29"}}"#, holds: true),
        .init("aws:SourceIp as a string", #"{"StringEquals": {"aws:SourceIp": "203.0.113.7"}}"#, holds: true),
        .init(
            "kms:CallerAccount from the principal",
            #"{"StringEquals": {"kms:CallerAccount": "111122223333"}}"#,
            holds: true
        ),
        .init(
            "kms:CallerAccount other account",
            #"{"StringEquals": {"kms:CallerAccount": "111122223333"}}"#,
            principal: Fixtures.mallory,
            holds: false
        ),
        .init(
            "kms:CallerAccount from the context",
            #"{"StringEquals": {"kms:CallerAccount": "999999999999"}}"#,
            RequestContext(currentTime: Fixtures.now, callerAccount: "999999999999"),
            holds: true
        ),
        .init(
            "aws:PrincipalAccount",
            #"{"StringEquals": {"aws:PrincipalAccount": "444455556666"}}"#,
            principal: Fixtures.mallory,
            holds: true
        ),
        .init(
            "other keys from the context, case-insensitive",
            #"{"StringEquals": {"KMS:ViaService": "events.us-east-1.amazonaws.com"}}"#,
            Fixtures.context(extra: ["kms:ViaService": ["events.us-east-1.amazonaws.com"]]),
            holds: true
        ),
        .init("unknown key is missing", #"{"StringEquals": {"aws:username": "alice"}}"#, holds: false),
    ]

    @Test("condition keys", arguments: cases)
    func conditionKeys(_ row: ConditionCase) throws {
        #expect(try row.evaluate() == row.holds)
    }

    @Test("a role session's role ARN is derived from its ARN")
    func sessionRole() {
        #expect(Fixtures.session.roleArn == Fixtures.roleArn)
        #expect(Fixtures.session.account == Fixtures.account)
        #expect(Fixtures.alice.roleArn == nil)
        #expect(Fixtures.alice.principalArn == Fixtures.alice.arn)
    }
}
