public import Foundation
import SealedSupport

/// Something that happened to an access request that teams want to hear of, and which teams: what the access workflow
/// hands to an ``AccessNotificationSink`` after each transition.
public struct AccessNotification: Sendable, Hashable {
    /// What happened; the raw value is the `event` member of a webhook's body and its `Sealed-Event` header.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A consumer asked for access; the owning team's reviewers hear of it.
        public static let requestCreated = Kind(rawValue: "access_request.created")
        /// The last required approval granted access.
        public static let requestApproved = Kind(rawValue: "access_request.approved")
        public static let requestDenied = Kind(rawValue: "access_request.denied")
        /// The owning team or an administrator ended a grant.
        public static let grantRevoked = Kind(rawValue: "access_grant.revoked")
        /// A grant ends within a day (sent once per grant).
        public static let grantExpiring = Kind(rawValue: "access_grant.expiring")
        /// A grant reached its end: the consumer may no longer assume the reader role.
        public static let grantExpired = Kind(rawValue: "access_grant.expired")
        /// A pending request was not decided in time and expired.
        public static let requestExpired = Kind(rawValue: "access_request.expired")
    }

    public var kind: Kind
    /// The request as it stands after the transition.
    public var request: AccessRequest
    /// The teams told, each through its own webhook (sorted, without repeats).
    public var teams: [String]
    /// The team that owns the event type and reviews its requests.
    public var owningTeam: String
    /// The reviewer or revoker, when a person made the transition.
    public var actor: String?
    public var comment: String?
    public var date: Date

    public init(
        kind: Kind,
        request: AccessRequest,
        teams: [String],
        owningTeam: String,
        actor: String? = nil,
        comment: String? = nil,
        date: Date
    ) {
        self.kind = kind
        self.request = request
        self.teams = Array(Set(teams)).sorted()
        self.owningTeam = owningTeam
        self.actor = actor
        self.comment = comment
        self.date = date
    }

    /// The JSON body sent to `team`'s webhook: the event, the request's facts (ISO 8601 UTC dates, absent members
    /// omitted), and a Slack-compatible `text` summary, so a Slack incoming webhook takes it as is. Keys sorted.
    public func body(for team: String) -> [UInt8] {
        var object: [String: Any] = [
            "event": kind.rawValue,
            "team": team,
            "owningTeam": owningTeam,
            "requestId": request.id,
            "eventType": request.eventType,
            "requester": request.requester,
            "status": request.status.rawValue,
            "justification": request.justification,
            "approvals": request.approvals.map(\.reviewer),
            "approvalsRequired": request.approvalsRequired,
            "createdAt": ISO8601.format(request.creationDate),
            "occurredAt": ISO8601.format(date),
            "text": slackText,
        ]
        object["durationSeconds"] = request.durationSeconds
        object["actor"] = actor
        object["comment"] = comment.flatMap { $0.isEmpty ? nil : $0 }
        object["approvedAt"] = request.approvalDate.map { ISO8601.format($0) }
        object["expiresAt"] = request.expirationDate.map { ISO8601.format($0) }
        if request.status == .pending {
            object["pendingExpiresAt"] = request.pendingExpirationDate.map { ISO8601.format($0) }
        }
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        // Only strings, numbers and arrays of strings: serialization cannot fail.
        return (try? Array(JSONSerialization.data(withJSONObject: object, options: options))) ?? []
    }

    /// One line for people, in Slack's `mrkdwn` (`&`, `<`, `>` escaped as Slack asks, so user text cannot make links
    /// or mentions).
    public var slackText: String {
        let id = request.id
        let type = request.eventType
        let who = request.requester
        let text: String
        switch kind {
        case .requestCreated:
            let duration = request.durationSeconds.map { " for \(Self.describe(seconds: $0))" } ?? " until revoked"
            text =
                "\(who) asks to read \(type)\(duration) (\(id), \(request.approvalsRequired) approval(s) needed): "
                + "\(request.justification)"
        case .requestApproved:
            let until = request.expirationDate.map { " until \(ISO8601.format($0))" } ?? " until revoked"
            text = "\(actor ?? "a reviewer") approved \(id): \(who) may read \(type)\(until)"
        case .requestDenied:
            text = "\(actor ?? "a reviewer") denied \(id) (\(who) for \(type)): \(comment ?? "")"
        case .grantRevoked:
            text = "\(actor ?? "an administrator") revoked \(who)'s access to \(type) (\(id))"
        case .grantExpiring:
            let at = request.expirationDate.map { ISO8601.format($0) } ?? "soon"
            text = "\(who)'s access to \(type) (\(id)) ends at \(at)"
        case .grantExpired:
            text = "\(who)'s access to \(type) (\(id)) has ended"
        case .requestExpired:
            text = "\(id) (\(who) for \(type)) expired without a decision"
        default:
            text = "\(kind.rawValue): \(id) (\(who) for \(type))"
        }
        return Self.slackEscaped(text)
    }

    static func slackEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    static func describe(seconds: Int) -> String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}

/// Where the access workflow's notifications go. ``notify(_:)`` must return at once: it runs inside the workflow's
/// transitions, which a slow or unreachable receiver must never delay.
public protocol AccessNotificationSink: Sendable {
    func notify(_ notification: AccessNotification)
}
