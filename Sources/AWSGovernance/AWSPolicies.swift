import SealedSupport

/// The policy documents the platform writes in AWS, as JSON text.
///
/// Each binds decryption to the event type through the encryption context, the pattern's core: a domain key's policy
/// refuses `kms:Decrypt` to everyone when the request names no `eventType` in its encryption context; a reader role
/// may decrypt with the domain key only when the `eventType` is its own; a domain's producers may make and wrap data
/// keys only for the domain's event types.
public enum AWSPolicies {
    /// The condition key of the event type in a KMS request's encryption context.
    public static let eventTypeKey = "kms:EncryptionContext:eventType"

    /// A domain key's policy: the account's IAM policies decide (the key delegates to IAM), and nobody may decrypt
    /// without an `eventType` in the encryption context.
    public static func keyPolicy(account: String) -> String {
        text([
            "Version": "2012-10-17",
            "Statement": [
                [
                    "Sid": "DelegateToIAM", "Effect": "Allow",
                    "Principal": ["AWS": .string("arn:aws:iam::\(account):root")], "Action": "kms:*", "Resource": "*",
                ],
                [
                    "Sid": "DenyDecryptWithoutEventType", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt",
                    "Resource": "*", "Condition": ["Null": [eventTypeKey: "true"]],
                ],
            ],
        ])
    }

    /// A reader role's permission policy: `kms:Decrypt` with the domain key, only for `eventType`.
    public static func readerPolicy(keyARN: String, eventType: String) -> String {
        text([
            "Version": "2012-10-17",
            "Statement": [
                [
                    "Sid": "DecryptOneEventType", "Effect": "Allow", "Action": "kms:Decrypt",
                    "Resource": .string(keyARN),
                    "Condition": ["StringEquals": [eventTypeKey: .string(eventType)]],
                ]
            ],
        ])
    }

    /// A domain's producer policy: data keys from the domain key, and wrapping with it, only for the domain's event
    /// types (sorted); describing the key. With no event type yet, it allows describing only.
    public static func producerPolicy(keyARN: String, eventTypes: [String]) -> String {
        var statements: [JSONValue] = [
            ["Sid": "DescribeDomainKey", "Effect": "Allow", "Action": "kms:DescribeKey", "Resource": .string(keyARN)]
        ]
        if !eventTypes.isEmpty {
            statements.append([
                "Sid": "SealDomainEventTypes", "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Encrypt"], "Resource": .string(keyARN),
                "Condition": [
                    "StringEquals": [eventTypeKey: .array(Set(eventTypes).sorted().map(JSONValue.string))]
                ],
            ])
        }
        return text(["Version": "2012-10-17", "Statement": .array(statements)])
    }

    static func text(_ document: JSONValue) -> String { String(decoding: document.serialized(), as: UTF8.self) }
}
