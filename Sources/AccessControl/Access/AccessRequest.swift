public import Foundation

/// A consumer's request to read one event type, and its life: pending → approved | denied | cancelled | expired (not
/// decided by its ``pendingExpirationDate``), and approved → revoked | expired.
///
/// The transitions are pure: each mutating method checks the rules, changes the value, and returns the ``Effect``
/// the service must apply to the reader role's trust policy. Tests drive them without I/O.
public struct AccessRequest: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        case pending, approved, denied, cancelled, revoked, expired
    }

    /// One reviewer's decision.
    public struct Review: Sendable, Hashable, Codable {
        public var reviewer: String
        public var comment: String
        public var date: Date
    }

    /// What a transition asks of the reader role.
    public enum Effect: Sendable, Hashable {
        /// Nothing yet (a first approval of two, a denial, a cancellation).
        case none
        /// Add the requester to the trust policy, until the date if one is given.
        case grant(until: Date?)
        /// Remove the requester from the trust policy.
        case removeGrant
    }

    public var id: String
    public var eventType: String
    /// The requester's base identity: a user's ARN, or for a role session the role's ARN (any session of the role
    /// acts for it).
    public var requester: String
    public var justification: String
    /// How long access lasts once approved, in seconds; `nil` until revoked.
    public var durationSeconds: Int?
    /// How many different reviewers must approve (1 or 2, from the catalog when the request was made).
    public var approvalsRequired: Int
    public var status: Status
    public var creationDate: Date
    public var approvals: [Review]
    public var denial: Review?
    /// When the request reached its final approval.
    public var approvalDate: Date?
    /// When an approved grant ends by itself: its duration counted from the final approval.
    public var expirationDate: Date?
    /// When a request still pending expires undecided (set when it is made; `nil` in requests stored before
    /// pending requests expired, which the workflow then dates from their creation).
    public var pendingExpirationDate: Date?
    /// When the owning and requesting teams were told that the grant ends within a day (told once).
    public var expiryNoticeDate: Date?
    /// Who revoked it, when, and why; or who cancelled it.
    public var closing: Review?
    /// The stored version this value was read from (0: not stored yet). A store writes a request only over the
    /// version it was read from, as the next version, so two transitions based on the same read cannot both land.
    /// Kept by the store beside the document, not in it.
    public var version = 0

    private enum CodingKeys: String, CodingKey {
        case id, eventType, requester, justification, durationSeconds, approvalsRequired, status, creationDate
        case approvals, denial, approvalDate, expirationDate, closing, pendingExpirationDate, expiryNoticeDate
    }

    public init(
        id: String,
        eventType: String,
        requester: String,
        justification: String,
        durationSeconds: Int?,
        approvalsRequired: Int,
        creationDate: Date,
        pendingExpirationDate: Date? = nil
    ) {
        self.id = id
        self.eventType = eventType
        self.requester = requester
        self.justification = justification
        self.durationSeconds = durationSeconds
        self.approvalsRequired = approvalsRequired
        self.status = .pending
        self.creationDate = creationDate
        self.pendingExpirationDate = pendingExpirationDate
        self.approvals = []
    }

    /// An approval by `reviewer`, who must not be the requester nor have approved already. The last required
    /// approval grants access.
    public mutating func approve(
        by reviewer: String,
        comment: String,
        at date: Date
    ) throws(AccessControlError)
        -> Effect
    {
        try expect(.pending, to: "approve")
        guard reviewer != requester else {
            throw AccessControlError(.accessDenied, "A requester cannot approve their own access request \(id).")
        }
        guard !approvals.contains(where: { $0.reviewer == reviewer }) else {
            throw AccessControlError(
                .invalidState,
                "\(reviewer) already approved access request \(id); it needs \(approvalsRequired) different reviewers."
            )
        }
        approvals.append(Review(reviewer: reviewer, comment: comment, date: date))
        guard approvals.count >= approvalsRequired else { return .none }
        status = .approved
        approvalDate = date
        expirationDate = durationSeconds.map { date.addingTimeInterval(Double($0)) }
        return .grant(until: expirationDate)
    }

    /// A denial by `reviewer` (not the requester), with a comment.
    public mutating func deny(by reviewer: String, comment: String, at date: Date) throws(AccessControlError) -> Effect
    {
        try expect(.pending, to: "deny")
        guard reviewer != requester else {
            throw AccessControlError(.accessDenied, "A requester cannot decide their own access request \(id).")
        }
        guard !comment.isEmpty else {
            throw AccessControlError(.validationError, "A denial needs a comment that tells the requester why.")
        }
        status = .denied
        denial = Review(reviewer: reviewer, comment: comment, date: date)
        return .none
    }

    /// The requester withdraws a pending request.
    public mutating func cancel(by principal: String, at date: Date) throws(AccessControlError) -> Effect {
        guard principal == requester else {
            throw AccessControlError(.accessDenied, "Only the requester can cancel access request \(id).")
        }
        try expect(.pending, to: "cancel")
        status = .cancelled
        closing = Review(reviewer: principal, comment: "", date: date)
        return .none
    }

    /// Ends an approved grant before its time (the owning team or an administrator; the service checks who).
    public mutating func revoke(
        by principal: String,
        comment: String,
        at date: Date
    ) throws(AccessControlError)
        -> Effect
    {
        try expect(.approved, to: "revoke")
        status = .revoked
        closing = Review(reviewer: principal, comment: comment, date: date)
        return .removeGrant
    }

    /// Ends an approved grant whose expiration date has passed; `nil` when it has not.
    public mutating func expireIfDue(at date: Date) -> Effect? {
        guard status == .approved, let expirationDate, expirationDate <= date else { return nil }
        status = .expired
        closing = Review(reviewer: "sealed", comment: "expired", date: date)
        return .removeGrant
    }

    /// Ends a pending request whose ``pendingExpirationDate`` has passed; `nil` when it has not (or it has none).
    public mutating func expirePendingIfDue(at date: Date) -> Effect? {
        guard status == .pending, let pendingExpirationDate, pendingExpirationDate <= date else { return nil }
        status = .expired
        closing = Review(reviewer: "sealed", comment: "not decided in time", date: date)
        return Effect.none
    }

    /// Whether this request gives access at `date`.
    public func grantsAccess(at date: Date) -> Bool {
        status == .approved && (expirationDate.map { date < $0 } ?? true)
    }

    private func expect(_ state: Status, to verb: String) throws(AccessControlError) {
        guard status == state else {
            throw AccessControlError(.invalidState, "Cannot \(verb) access request \(id): it is \(status.rawValue).")
        }
    }
}
