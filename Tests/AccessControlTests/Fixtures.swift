import AccessControl
import Foundation

/// Shared identities and resources. Account ids and key ids follow the AWS documentation's examples.
enum Fixtures {
    static let account = "111122223333"
    static let otherAccount = "444455556666"
    static let keyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    static let otherKeyArn = "arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    static let foreignKeyArn = "arn:aws:kms:us-east-1:444455556666:key/1111aaaa-22bb-33cc-44dd-555566667777"
    static let roleArn = "arn:aws:iam::111122223333:role/reader-payments-card-captured"

    static let alice = CallerIdentity(arn: "arn:aws:iam::111122223333:user/alice")
    static let bob = CallerIdentity(arn: "arn:aws:iam::111122223333:user/bob")
    static let mallory = CallerIdentity(arn: "arn:aws:iam::444455556666:user/mallory")
    static let session = CallerIdentity(
        arn: "arn:aws:sts::111122223333:assumed-role/reader-payments-card-captured/consumer-1"
    )
    static let root = CallerIdentity(arn: "arn:aws:iam::111122223333:root")

    /// 2027-01-15T08:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static let eventContext: [String: String] = ["eventType": "payments.card.captured", "domain": "payments"]

    static func context(
        encryptionContext: [String: String]? = eventContext,
        sourceIP: String? = "203.0.113.7",
        extra: [String: [String]] = [:]
    ) -> RequestContext {
        var context = RequestContext(encryptionContext: encryptionContext, sourceIP: sourceIP, currentTime: now)
        for (key, values) in extra { context.setValues(values, forKey: key) }
        return context
    }

    static func identity(_ text: String) throws -> PolicyDocument {
        try PolicyDocument(parsing: text, kind: .identity)
    }

    static func resource(_ text: String) throws -> PolicyDocument {
        try PolicyDocument(parsing: text, kind: .resource)
    }

    static func trust(_ text: String) throws -> PolicyDocument {
        try PolicyDocument(parsing: text, kind: .trust)
    }

    /// An identity policy allowing `kms:Decrypt` on every key under one `Condition` block.
    static func decryptPolicy(condition: String) throws -> PolicyDocument {
        try identity(
            """
            {"Version": "2012-10-17", "Statement": {"Sid": "C", "Effect": "Allow", "Action": "kms:Decrypt",
             "Resource": "*", "Condition": \(condition)}}
            """
        )
    }

    /// The default key policy's delegation statement (KMS Developer Guide, "Default key policy": "Allows access to
    /// the AWS account and enables IAM policies"), optionally with more statements.
    static func keyPolicy(extraStatements: String = "") throws -> PolicyDocument {
        try resource(
            """
            {
              "Version": "2012-10-17",
              "Id": "key-default-1",
              "Statement": [
                {
                  "Sid": "Enable IAM User Permissions",
                  "Effect": "Allow",
                  "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                  "Action": "kms:*",
                  "Resource": "*"
                }\(extraStatements.isEmpty ? "" : ",\n" + extraStatements)
              ]
            }
            """
        )
    }
}

/// The kind of a decision and its deciding statement's Sid, for table expectations.
enum Outcome: Hashable, CustomStringConvertible {
    case allow(String?)
    case deny(String?)
    case implicit

    init(_ decision: Decision) {
        switch decision {
        case .allow(let s): self = .allow(s.sid)
        case .explicitDeny(let s): self = .deny(s.sid)
        case .implicitDeny: self = .implicit
        }
    }

    var description: String {
        switch self {
        case .allow(let sid): "allow(\(sid ?? "-"))"
        case .deny(let sid): "deny(\(sid ?? "-"))"
        case .implicit: "implicit"
        }
    }
}
