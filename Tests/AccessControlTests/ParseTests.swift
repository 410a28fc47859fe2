import AccessControl
import Foundation
import Testing

/// Policies that break JSON or the IAM grammar are rejected with their position (IAM User Guide, "Grammar of the IAM
/// JSON policy language" and "IAM JSON policy elements reference").
struct ParseErrorTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let kind: PolicyKind
        let code: PolicyError.Code
        let line: Int
        let column: Int
        let path: String?
        init(
            _ name: String,
            _ text: String,
            kind: PolicyKind = .identity,
            _ code: PolicyError.Code,
            line: Int,
            column: Int,
            path: String? = nil
        ) {
            self.name = name
            self.text = text
            self.kind = kind
            self.code = code
            self.line = line
            self.column = column
            self.path = path
        }
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row("not JSON", "hello", .malformedJSON, line: 1, column: 1),
        Row("empty text", "", .malformedJSON, line: 1, column: 1),
        Row(
            "trailing comma",
            """
            {
              "Statement": {
                "Effect": "Allow",
              }
            }
            """,
            .malformedJSON,
            line: 4,
            column: 3
        ),
        Row("unterminated string", #"{"Version": "2012-10-17"#, .malformedJSON, line: 1, column: 24),
        Row("text after the value", #"{"Statement": []} x"#, .malformedJSON, line: 1, column: 19),
        Row("top level not an object", #"["Statement"]"#, .invalidType, line: 1, column: 1, path: "$"),
        Row(
            "unknown top-level element",
            """
            {
              "Version": "2012-10-17",
              "Statements": []
            }
            """,
            .unknownElement,
            line: 3,
            column: 3,
            path: "$.Statements"
        ),
        Row("missing Statement", #"{"Version": "2012-10-17"}"#, .missingElement, line: 1, column: 1, path: "$"),
        Row(
            "unsupported Version",
            #"{"Version": "2012-10-18", "Statement": []}"#,
            .unsupportedVersion,
            line: 1,
            column: 13,
            path: "$.Version"
        ),
        Row(
            "Statement is a string",
            #"{"Statement": "Allow"}"#,
            .invalidType,
            line: 1,
            column: 15,
            path: "$.Statement"
        ),
        Row(
            "missing Effect",
            """
            {
              "Version": "2012-10-17",
              "Statement": [
                {"Action": "kms:Decrypt", "Resource": "*"}
              ]
            }
            """,
            .missingElement,
            line: 4,
            column: 5,
            path: "$.Statement[0]"
        ),
        Row(
            "Effect not Allow or Deny",
            """
            {
              "Statement": {
                "Effect": "allow",
                "Action": "kms:Decrypt",
                "Resource": "*"
              }
            }
            """,
            .invalidValue,
            line: 3,
            column: 15,
            path: "$.Statement.Effect"
        ),
        Row(
            "both Action and NotAction",
            """
            {
              "Statement": {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "NotAction": "kms:Encrypt",
                "Resource": "*"
              }
            }
            """,
            .conflictingElements,
            line: 5,
            column: 5,
            path: "$.Statement.NotAction"
        ),
        Row(
            "missing Action",
            #"{"Statement": {"Effect": "Allow", "Resource": "*"}}"#,
            .missingElement,
            line: 1,
            column: 15
        ),
        Row(
            "missing Resource",
            #"{"Statement": {"Effect": "Allow", "Action": "kms:*"}}"#,
            .missingElement,
            line: 1,
            column: 15
        ),
        Row(
            "both Resource and NotResource",
            #"{"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*", "NotResource": "*"}}"#,
            .conflictingElements,
            line: 1,
            column: 71
        ),
        Row(
            "action without service",
            #"{"Statement": {"Effect": "Allow", "Action": ["kms:Encrypt", "Decrypt"], "Resource": "*"}}"#,
            .invalidValue,
            line: 1,
            column: 61,
            path: "$.Statement.Action[1]"
        ),
        Row(
            "empty action list",
            #"{"Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}"#,
            .invalidValue,
            line: 1,
            column: 45
        ),
        Row(
            "resource not an ARN",
            #"{"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "key/1"}}"#,
            .invalidValue,
            line: 1,
            column: 66
        ),
        Row(
            "action of the wrong type",
            #"{"Statement": {"Effect": "Allow", "Action": 7, "Resource": "*"}}"#,
            .invalidType,
            line: 1,
            column: 45
        ),
        Row(
            "unknown statement element",
            #"{"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Conditions": {}}}"#,
            .unknownElement,
            line: 1,
            column: 71,
            path: "$.Statement.Conditions"
        ),
        Row(
            "duplicate Effect",
            """
            {
              "Statement": {
                "Effect": "Allow",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*"
              }
            }
            """,
            .duplicateElement,
            line: 4,
            column: 5
        ),
        Row(
            "unknown condition operator",
            """
            {
              "Statement": {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEqualz": {"kms:CallerAccount": "111122223333"}}
              }
            }
            """,
            .unknownConditionOperator,
            line: 6,
            column: 19,
            path: "$.Statement.Condition.StringEqualz"
        ),
        Row(
            "unknown set qualifier",
            #"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"ForSomeValues:StringEquals": {"a:b": "c"}}}}"#,
            .unknownConditionOperator,
            line: 1,
            column: 81
        ),
        Row(
            "NullIfExists",
            #"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"NullIfExists": {"a:b": "true"}}}}"#,
            .unknownConditionOperator,
            line: 1,
            column: 81
        ),
        Row(
            "bad date",
            #"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "tomorrow"}}}}"#,
            .invalidConditionValue,
            line: 1,
            column: 117
        ),
        Row(
            "bad CIDR",
            #"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "10.0.0.0/33"]}}}}"#,
            .invalidConditionValue,
            line: 1,
            column: 126
        ),
        Row(
            "bad Bool",
            #"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}}"#,
            .invalidConditionValue,
            line: 1,
            column: 113
        ),
        Row(
            "condition value an object",
            #"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"a:b": {}}}}}"#,
            .invalidType,
            line: 1,
            column: 105
        ),
        Row(
            "empty encryption context key",
            #"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:": "x"}}}}"#,
            .invalidValue,
            line: 1,
            column: 98
        ),
        Row(
            "Principal in an identity policy",
            #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}"#,
            .prohibitedElement,
            line: 1,
            column: 35,
            path: "$.Statement.Principal"
        ),
        Row(
            "missing Principal in a key policy",
            #"{"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}}"#,
            kind: .resource,
            .missingElement,
            line: 1,
            column: 15
        ),
        Row(
            "Resource in a trust policy",
            #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"}}"#,
            kind: .trust,
            .prohibitedElement,
            line: 1,
            column: 81
        ),
        Row(
            "both Principal and NotPrincipal",
            #"{"Statement": {"Effect": "Deny", "Principal": "*", "NotPrincipal": "*", "Action": "*", "Resource": "*"}}"#,
            kind: .resource,
            .conflictingElements,
            line: 1,
            column: 52
        ),
        Row(
            "wildcard inside a principal ARN",
            #"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/*"}, "Action": "*", "Resource": "*"}}"#,
            kind: .resource,
            .invalidPrincipal,
            line: 1,
            column: 56,
            path: "$.Statement.Principal.AWS"
        ),
        Row(
            "principal string not *",
            #"{"Statement": {"Effect": "Allow", "Principal": "111122223333", "Action": "*", "Resource": "*"}}"#,
            kind: .resource,
            .invalidPrincipal,
            line: 1,
            column: 48
        ),
        Row(
            "unknown principal type",
            #"{"Statement": {"Effect": "Allow", "Principal": {"User": "alice"}, "Action": "*", "Resource": "*"}}"#,
            kind: .resource,
            .invalidPrincipal,
            line: 1,
            column: 49
        ),
        Row("column counts characters, not bytes", #"{"Id": "é€", "Bogus": 1}"#, .unknownElement, line: 1, column: 14),
    ]

    @Test("rejected policies and their positions", arguments: rows)
    func rejected(_ row: Row) {
        do {
            _ = try PolicyDocument(parsing: row.text, kind: row.kind)
            Issue.record("parsed, expected \(row.code)")
        } catch {
            #expect(error.code == row.code, "\(error)")
            #expect(error.position == SourcePosition(line: row.line, column: row.column), "\(error)")
            if let path = row.path { #expect(error.path == path, "\(error)") }
        }
    }

    @Test("accepted shapes")
    func accepted() throws {
        let policy = try PolicyDocument(
            parsing: """
                {
                  "Version": "2008-10-17",
                  "Id": "p1",
                  "Statement": [
                    {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:user/alice"], "Service": "kms.amazonaws.com"},
                     "Action": ["kms:Decrypt"], "Resource": ["*"],
                     "Condition": {"ForAllValues:StringEqualsIgnoreCaseIfExists": {"kms:EncryptionContextKeys": ["a", "b"]},
                                   "NumericLessThanEquals": {"x:n": 3.5e1}, "Null": {"aws:SourceIp": false}}},
                    {"Effect": "Deny", "NotPrincipal": {"AWS": "*"}, "NotAction": "kms:*", "NotResource": "arn:aws:kms:*"}
                  ]
                }
                """,
            kind: .resource
        )
        #expect(policy.version == "2008-10-17")
        #expect(policy.id == "p1")
        #expect(policy.statements.count == 2)
        #expect(policy.statements[0].sid == "A")
        #expect(policy.statements[1].effect == .deny)
        #expect(policy.statements[1].index == 1)
        #expect(policy.statements[1].position == SourcePosition(line: 9, column: 5))
        if case .principal(let set) = policy.statements[0].principal {
            #expect(set.awsPrincipals == ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/alice"])
            #expect(set.services == ["kms.amazonaws.com"])
        } else {
            Issue.record("expected a Principal")
        }
        let noVersion = try PolicyDocument(
            parsing: #"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#
        )
        #expect(noVersion.version == "2008-10-17")
        let escaped = try PolicyDocument(
            parsing:
                #"{"Statement": {"Sid": "\u00e9\ud83d\ude00\n", "Effect": "Allow", "Action": "*", "Resource": "*"}}"#
        )
        #expect(escaped.statements[0].sid == "é😀\n")
    }

    @Test("errors compare on their code")
    func errorEquality() {
        let a = PolicyError(code: .invalidValue, reason: "a", position: SourcePosition(line: 1, column: 1), path: "$")
        let b = PolicyError(code: .invalidValue, reason: "b", position: SourcePosition(line: 2, column: 2), path: "$.x")
        #expect(a == b)
        #expect(a != PolicyError(code: .missingElement, reason: "a", position: a.position, path: "$"))
    }

    @Test("deep nesting is refused, not a crash")
    func deepNesting() {
        let text = String(repeating: "[", count: 10_000)
        #expect(throws: PolicyError.self) { try PolicyDocument(parsing: text) }
    }
}

struct PolicyCacheTests {
    @Test("a cached policy is parsed once and kept per kind")
    func cache() throws {
        let cache = PolicyCache(capacity: 2)
        let text = #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}}"#
        let first = try cache.policy(for: text, kind: .resource)
        let second = try cache.policy(for: text, kind: .resource)
        #expect(first == second)
        #expect(cache.count == 1)
        #expect(throws: PolicyError.self) { try cache.policy(for: text, kind: .identity) }
        #expect(cache.count == 1)
        _ = try cache.policy(for: text.replacingOccurrences(of: "kms:*", with: "kms:Decrypt"), kind: .resource)
        _ = try cache.policy(for: text.replacingOccurrences(of: "kms:*", with: "kms:Encrypt"), kind: .resource)
        #expect(cache.count <= 2)
    }
}
