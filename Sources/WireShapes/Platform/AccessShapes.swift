public import Foundation

// The access-request shapes of the `/v1` API (`/v1/access/…`): requests, reviews, grants and usage.

/// `POST /v1/access/requests`.
public struct AccessRequestInput: Codable, Sendable, Hashable {
    public var eventType: String
    /// Why the requester needs to read it; reviewers see this.
    public var justification: String
    /// How long access lasts once approved; `nil`: until revoked.
    public var durationSeconds: Int?

    public init(eventType: String, justification: String, durationSeconds: Int? = nil) {
        self.eventType = eventType
        self.justification = justification
        self.durationSeconds = durationSeconds
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "EventType"
        case justification = "Justification"
        case durationSeconds = "DurationSeconds"
    }
}

/// `POST /v1/access/requests/{id}/approve|deny|cancel|revoke`.
public struct CommentInput: Codable, Sendable, Hashable {
    public var comment: String?

    public init(comment: String? = nil) { self.comment = comment }

    enum CodingKeys: String, CodingKey { case comment = "Comment" }
}

/// An approval, a denial or a closing of an access request.
public struct ReviewOutput: Codable, Sendable, Hashable {
    public var reviewer: String
    public var comment: String
    public var date: Date

    public init(reviewer: String, comment: String, date: Date) {
        self.reviewer = reviewer
        self.comment = comment
        self.date = date
    }

    enum CodingKeys: String, CodingKey {
        case reviewer = "Reviewer"
        case comment = "Comment"
        case date = "Date"
    }
}

/// An access request and where it stands.
public struct AccessRequestOutput: Codable, Sendable, Hashable {
    public var requestId: String
    public var eventType: String
    public var requester: String
    public var justification: String
    public var durationSeconds: Int?
    /// `pending`, `approved`, `denied`, `cancelled`, `revoked` or `expired`.
    public var status: String
    public var approvalsRequired: Int
    public var approvals: [ReviewOutput]
    public var denial: ReviewOutput?
    public var closing: ReviewOutput?
    public var createDate: Date
    public var approvalDate: Date?
    /// When an approved grant ends (its duration counted from the final approval).
    public var expirationDate: Date?
    /// While pending: when it expires undecided.
    public var pendingExpirationDate: Date?

    public init(
        requestId: String,
        eventType: String,
        requester: String,
        justification: String,
        durationSeconds: Int?,
        status: String,
        approvalsRequired: Int,
        approvals: [ReviewOutput],
        denial: ReviewOutput?,
        closing: ReviewOutput?,
        createDate: Date,
        approvalDate: Date?,
        expirationDate: Date?,
        pendingExpirationDate: Date? = nil
    ) {
        self.requestId = requestId
        self.eventType = eventType
        self.requester = requester
        self.justification = justification
        self.durationSeconds = durationSeconds
        self.status = status
        self.approvalsRequired = approvalsRequired
        self.approvals = approvals
        self.denial = denial
        self.closing = closing
        self.createDate = createDate
        self.approvalDate = approvalDate
        self.expirationDate = expirationDate
        self.pendingExpirationDate = pendingExpirationDate
    }

    enum CodingKeys: String, CodingKey {
        case requestId = "RequestId"
        case eventType = "EventType"
        case requester = "Requester"
        case justification = "Justification"
        case durationSeconds = "DurationSeconds"
        case status = "Status"
        case approvalsRequired = "ApprovalsRequired"
        case approvals = "Approvals"
        case denial = "Denial"
        case closing = "Closing"
        case createDate = "CreateDate"
        case approvalDate = "ApprovalDate"
        case expirationDate = "ExpirationDate"
        case pendingExpirationDate = "PendingExpirationDate"
    }
}

/// Who may read an event type, until when, and who approved (each of `Grants`).
public struct GrantOutput: Codable, Sendable, Hashable {
    public var eventType: String
    public var principal: String
    public var requestId: String
    public var approvedBy: [String]
    public var approvalDate: Date?
    /// `nil`: until revoked.
    public var expirationDate: Date?

    public init(
        eventType: String,
        principal: String,
        requestId: String,
        approvedBy: [String],
        approvalDate: Date?,
        expirationDate: Date?
    ) {
        self.eventType = eventType
        self.principal = principal
        self.requestId = requestId
        self.approvedBy = approvedBy
        self.approvalDate = approvalDate
        self.expirationDate = expirationDate
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "EventType"
        case principal = "Principal"
        case requestId = "RequestId"
        case approvedBy = "ApprovedBy"
        case approvalDate = "ApprovalDate"
        case expirationDate = "ExpirationDate"
    }
}

/// `GET /v1/access/requests`: `{"AccessRequests": [...]}`.
public struct AccessRequestList: Codable, Sendable, Hashable {
    public var accessRequests: [AccessRequestOutput]
    public init(accessRequests: [AccessRequestOutput]) { self.accessRequests = accessRequests }
    enum CodingKeys: String, CodingKey { case accessRequests = "AccessRequests" }
}

/// `GET /v1/access/matrix`: `{"Grants": [...]}`.
public struct GrantList: Codable, Sendable, Hashable {
    public var grants: [GrantOutput]
    public init(grants: [GrantOutput]) { self.grants = grants }
    enum CodingKeys: String, CodingKey { case grants = "Grants" }
}

/// `GET /v1/access/usage`: decrypts and denials per event type and principal (from the audit trail).
public struct UsageReportOutput: Codable, Sendable, Hashable {
    /// One event type and principal; either is `null` when the records did not name it.
    public struct Row: Codable, Sendable, Hashable {
        public var eventType: String?
        public var principal: String?
        public var decrypts: Int
        public var denials: Int

        public init(eventType: String?, principal: String?, decrypts: Int, denials: Int) {
            self.eventType = eventType
            self.principal = principal
            self.decrypts = decrypts
            self.denials = denials
        }

        enum CodingKeys: String, CodingKey {
            case eventType = "EventType"
            case principal = "Principal"
            case decrypts = "Decrypts"
            case denials = "Denials"
        }
    }

    /// ISO 8601, as sent.
    public var since: String
    public var until: String
    public var rows: [Row]

    public init(since: String, until: String, rows: [Row]) {
        self.since = since
        self.until = until
        self.rows = rows
    }

    enum CodingKeys: String, CodingKey {
        case since = "Since"
        case until = "Until"
        case rows = "Rows"
    }
}

/// The answer of `CreateConsoleLink`: the path of a one-time sign-in link to the web console (to open on the server's
/// own address) and when it stops working. The path holds a bearer secret until it is used or expires.
public struct ConsoleLinkOutput: Codable, Sendable, Hashable {
    public var path: String
    public var expiration: Date

    public init(path: String, expiration: Date) {
        self.path = path
        self.expiration = expiration
    }

    enum CodingKeys: String, CodingKey {
        case path = "Path"
        case expiration = "Expiration"
    }
}
