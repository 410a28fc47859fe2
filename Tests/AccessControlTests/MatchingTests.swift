import AccessControl
import Foundation
import Testing

/// Wildcards in `Action` (case-insensitive) and `Resource` (case-sensitive), and `NotAction`/`NotResource`.
struct MatchingTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let element: String
        let pattern: String
        let subject: String
        let matches: Bool
        var testDescription: String { "\(element) \(pattern) vs \(subject)" }
    }

    static let actionRows: [Row] = [
        Row(element: "Action", pattern: "*", subject: "kms:Decrypt", matches: true),
        Row(element: "Action", pattern: "kms:*", subject: "kms:Decrypt", matches: true),
        Row(element: "Action", pattern: "kms:*", subject: "sts:AssumeRole", matches: false),
        Row(element: "Action", pattern: "kms:Decrypt", subject: "kms:Decrypt", matches: true),
        Row(element: "Action", pattern: "KMS:DECRYPT", subject: "kms:Decrypt", matches: true),
        Row(element: "Action", pattern: "kms:decrypt", subject: "KMS:Decrypt", matches: true),
        Row(element: "Action", pattern: "kms:Decrypt", subject: "kms:DecryptX", matches: false),
        Row(element: "Action", pattern: "kms:Generate*", subject: "kms:GenerateDataKey", matches: true),
        Row(element: "Action", pattern: "kms:Generate*", subject: "kms:GenerateDataKeyWithoutPlaintext", matches: true),
        Row(element: "Action", pattern: "kms:Generate*", subject: "kms:Encrypt", matches: false),
        Row(element: "Action", pattern: "kms:?ecrypt", subject: "kms:Decrypt", matches: true),
        Row(element: "Action", pattern: "kms:?ecrypt", subject: "kms:Encrypt", matches: false),
        Row(element: "Action", pattern: "kms:*Key*", subject: "kms:GenerateDataKeyPair", matches: true),
        Row(element: "Action", pattern: "kms:*Key", subject: "kms:GenerateDataKeyPair", matches: false),
        Row(element: "Action", pattern: "kms:Re*", subject: "kms:ReEncryptFrom", matches: true),
        Row(element: "NotAction", pattern: "kms:Decrypt", subject: "kms:Encrypt", matches: true),
        Row(element: "NotAction", pattern: "kms:Decrypt", subject: "kms:Decrypt", matches: false),
        Row(element: "NotAction", pattern: "kms:*", subject: "kms:Decrypt", matches: false),
        Row(element: "NotAction", pattern: "iam:*", subject: "kms:Decrypt", matches: true),
    ]

    static let resourceRows: [Row] = [
        Row(element: "Resource", pattern: "*", subject: Fixtures.keyArn, matches: true),
        Row(element: "Resource", pattern: Fixtures.keyArn, subject: Fixtures.keyArn, matches: true),
        Row(element: "Resource", pattern: Fixtures.keyArn, subject: Fixtures.otherKeyArn, matches: false),
        Row(element: "Resource", pattern: "arn:aws:kms:*:111122223333:key/*", subject: Fixtures.keyArn, matches: true),
        Row(
            element: "Resource",
            pattern: "arn:aws:kms:*:111122223333:key/*",
            subject: Fixtures.foreignKeyArn,
            matches: false
        ),
        Row(
            element: "Resource",
            pattern: "arn:aws:kms:us-east-1:111122223333:key/1234*",
            subject: Fixtures.keyArn,
            matches: true
        ),
        Row(element: "Resource", pattern: "arn:aws:kms:*", subject: Fixtures.foreignKeyArn, matches: true),
        Row(
            element: "Resource",
            pattern: "arn:aws:kms:us-east-?:111122223333:key/*",
            subject: Fixtures.keyArn,
            matches: true
        ),
        Row(
            element: "Resource",
            pattern: "arn:aws:kms:us-east-1:111122223333:alias/*",
            subject: Fixtures.keyArn,
            matches: false
        ),
        Row(element: "Resource", pattern: "arn:aws:KMS:*", subject: Fixtures.keyArn, matches: false),
        Row(
            element: "Resource",
            pattern: "arn:aws:kms:us-east-1:111122223333:key/1234ABCD-*",
            subject: Fixtures.keyArn,
            matches: false
        ),
        Row(
            element: "Resource",
            pattern: "arn:aws:kms:*:*:key/*-1234567890ab",
            subject: Fixtures.keyArn,
            matches: true
        ),
        Row(element: "NotResource", pattern: Fixtures.otherKeyArn, subject: Fixtures.keyArn, matches: true),
        Row(
            element: "NotResource",
            pattern: "arn:aws:kms:*:111122223333:key/*",
            subject: Fixtures.keyArn,
            matches: false
        ),
        Row(
            element: "NotResource",
            pattern: "arn:aws:kms:*:111122223333:key/*",
            subject: Fixtures.foreignKeyArn,
            matches: true
        ),
    ]

    private func decide(
        _ row: Row,
        action: String,
        resource: String,
        actionElement: String,
        resourceElement: String
    )
        throws -> Bool
    {
        let actionName = row.element.hasSuffix("Action") ? row.element : actionElement
        let resourceName = row.element.hasSuffix("Resource") ? row.element : resourceElement
        let actionValue = row.element.hasSuffix("Action") ? row.pattern : "*"
        let resourceValue = row.element.hasSuffix("Resource") ? row.pattern : "*"
        let policy = try Fixtures.identity(
            """
            {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "\(actionName)": "\(actionValue)",
             "\(resourceName)": "\(resourceValue)"}}
            """
        )
        let request = EvaluationRequest(principal: Fixtures.alice, action: action, resource: resource)
        return PolicyEvaluator.evaluate(request, identityPolicies: [policy]).isAllowed
    }

    @Test("Action and NotAction wildcards", arguments: actionRows)
    func actions(_ row: Row) throws {
        let allowed = try decide(
            row,
            action: row.subject,
            resource: Fixtures.keyArn,
            actionElement: "Action",
            resourceElement: "Resource"
        )
        #expect(allowed == row.matches)
    }

    @Test("Resource and NotResource wildcards", arguments: resourceRows)
    func resources(_ row: Row) throws {
        let allowed = try decide(
            row,
            action: "kms:Decrypt",
            resource: row.subject,
            actionElement: "Action",
            resourceElement: "Resource"
        )
        #expect(allowed == row.matches)
    }

    @Test("a list of actions is ORed")
    func actionList() throws {
        let policy = try Fixtures.identity(
            #"{"Statement": {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*"}}"#
        )
        for (action, expected) in [("kms:Encrypt", true), ("kms:GenerateDataKeyPair", true), ("kms:Decrypt", false)] {
            let request = EvaluationRequest(principal: Fixtures.alice, action: action, resource: Fixtures.keyArn)
            #expect(PolicyEvaluator.evaluate(request, identityPolicies: [policy]).isAllowed == expected)
        }
    }

    @Test("a non-ASCII question mark matches one character, not one byte")
    func unicodeQuestionMark() throws {
        let policy = try Fixtures.decryptPolicy(
            condition: #"{"StringLike": {"kms:EncryptionContext:city": "M?nchen"}}"#
        )
        let munich = EvaluationRequest(
            principal: Fixtures.alice,
            action: "kms:Decrypt",
            resource: Fixtures.keyArn,
            context: Fixtures.context(encryptionContext: ["city": "München"])
        )
        #expect(PolicyEvaluator.evaluate(munich, identityPolicies: [policy]).isAllowed)
    }
}
