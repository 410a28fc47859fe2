/// The ARNs of the platform's own resources, for the `Resource` element of identity policies, in the form
/// `arn:sealed:SERVICE::ACCOUNT:RESOURCE` (no region: like IAM's, they are the same everywhere).
///
/// | resource | ARN |
/// | --- | --- |
/// | a topic | `arn:sealed:bus::ACCOUNT:topic/NAME` |
/// | a consumer group of a topic | `arn:sealed:bus::ACCOUNT:topic/NAME/group/GROUP` |
/// | a domain | `arn:sealed:catalog::ACCOUNT:domain/DOMAIN` |
/// | an event type of a domain | `arn:sealed:catalog::ACCOUNT:domain/DOMAIN/event-type/TYPE` |
/// | the audit trail | `arn:sealed:audit::ACCOUNT:trail` |
///
/// Topic, group, domain and event type names never contain `/`, so a pattern such as
/// `arn:sealed:catalog::*:domain/payments/*` covers exactly the event types of `payments`.
public enum PlatformARN {
    public static func topic(_ name: String, account: String) -> String { "arn:sealed:bus::\(account):topic/\(name)" }

    public static func group(_ group: String, topic: String, account: String) -> String {
        "arn:sealed:bus::\(account):topic/\(topic)/group/\(group)"
    }

    public static func domain(_ name: String, account: String) -> String {
        "arn:sealed:catalog::\(account):domain/\(name)"
    }

    public static func eventType(_ name: String, domain: String, account: String) -> String {
        "arn:sealed:catalog::\(account):domain/\(domain)/event-type/\(name)"
    }

    public static func auditTrail(account: String) -> String { "arn:sealed:audit::\(account):trail" }
}
