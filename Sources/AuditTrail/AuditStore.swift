public import Foundation

/// Where the server writes audit records.
///
/// Writing the record is part of the operation it records: ``record(_:)`` returns only once the record is durable
/// (committed to the chain), and throws when it cannot be written, in which case the operation must fail and must not
/// be acknowledged. There is no unaudited key use.
public protocol AuditSink: Sendable {
    /// Appends `record` to the chain and returns once it is durable.
    ///
    /// - Throws: when the record could not be written; nothing about it was acknowledged.
    func record(_ record: Record) async throws
}

/// What ``DigestService`` needs from a store: the chain's head and the digest chain.
public protocol DigestStore: Sendable {
    /// The newest record's sequence number and hash (``ChainHead/empty`` for an empty chain).
    func chainHead() async throws -> ChainHead

    /// The newest signed digest, or `nil` when none was signed yet.
    func latestDigest() async throws -> SignedDigest?

    /// The hash (32 bytes) of the record stored at `sequence`, or `nil` when there is none.
    func recordHash(at sequence: Int64) async throws -> Data?

    /// Stores a signed digest, which must follow ``latestDigest()`` (its `digestSequence` one higher).
    ///
    /// - Throws: ``AuditError`` `digestConflict` when another digest took its place.
    func appendDigest(_ digest: SignedDigest) async throws
}

/// Reading the audit trail: the newest records, filtered queries and the usage report.
public protocol AuditReader: Sendable {
    /// Up to `limit` records with a sequence number above `sequence`, oldest first.
    func tail(after sequence: Int64, limit: Int) async throws -> [StoredRecord]

    /// The records that match `query`, oldest first, or newest first when ``AuditQuery/newestFirst``; the limit keeps
    /// the first ones in that order.
    func query(_ query: AuditQuery) async throws -> [StoredRecord]

    /// Successful `Decrypt` calls and denials per event type and principal in `period`.
    func usageReport(in period: DateInterval) async throws -> UsageReport

    /// All signed digests, oldest first.
    func digests() async throws -> [SignedDigest]
}

/// Where the newest signed digest is kept outside the audit store, so that removing digests from the store (and
/// rewriting the records they covered) is noticed: ``DigestService`` compares the two before it signs.
public protocol DigestAnchor: Sendable {
    /// The newest digest kept, or `nil` when none was kept yet.
    func load() throws -> SignedDigest?

    /// Keeps `digest` (the newest) durably, replacing the one kept.
    func store(_ digest: SignedDigest) throws
}

/// A complete audit store: the sink, the reader and the digest chain.
public protocol AuditStore: AuditSink, AuditReader, DigestStore {}

/// A filter over audit records; every criterion that is set must match.
public struct AuditQuery: Sendable, Hashable {
    /// A key id, key ARN, alias name or alias ARN (matched against ``Record/keyIdentifiers``; a key's ARN and its id
    /// find the same records).
    public var key: String?
    /// A principal ARN: `userIdentity.arn` or, for role sessions, the issuing role's ARN.
    public var principalARN: String?
    /// The platform event type: `requestParameters.encryptionContext.eventType`.
    public var eventType: String?
    /// The API operation (`Decrypt`…).
    public var eventName: String?
    /// Records at or after this time.
    public var since: Date?
    /// Records before this time.
    public var until: Date?
    /// Only records with an `errorCode`.
    public var errorsOnly: Bool
    /// Only records with a sequence number above this (for paging oldest first).
    public var afterSequence: Int64
    /// Only records with a sequence number below this (for paging newest first); `nil` for no bound.
    public var beforeSequence: Int64?
    /// At most this many records.
    public var limit: Int
    /// The answer newest first (descending sequence numbers), so the limit keeps the newest matches: a page of a
    /// trail read backwards, the next one `beforeSequence` the lowest sequence number shown.
    public var newestFirst: Bool

    public init(
        key: String? = nil,
        principalARN: String? = nil,
        eventType: String? = nil,
        eventName: String? = nil,
        since: Date? = nil,
        until: Date? = nil,
        errorsOnly: Bool = false,
        afterSequence: Int64 = 0,
        beforeSequence: Int64? = nil,
        limit: Int = 1000,
        newestFirst: Bool = false
    ) {
        self.key = key
        self.principalARN = principalARN
        self.eventType = eventType
        self.eventName = eventName
        self.since = since
        self.until = until
        self.errorsOnly = errorsOnly
        self.afterSequence = afterSequence
        self.beforeSequence = beforeSequence
        self.limit = limit
        self.newestFirst = newestFirst
    }

    /// Whether a stored record matches (the reference semantics every store implements).
    public func matches(_ stored: StoredRecord) -> Bool {
        let record = stored.record
        if stored.sequence <= afterSequence { return false }
        if let beforeSequence, stored.sequence >= beforeSequence { return false }
        if let key, !record.keyIdentifiers.contains(Record.keyIdentifier(key)) { return false }
        if let principalARN, !record.principalARNs.contains(principalARN) { return false }
        if let eventType, record.contextEventType != eventType { return false }
        if let eventName, record.eventName != eventName { return false }
        if let since, record.eventTime < since { return false }
        if let until, record.eventTime >= until { return false }
        if errorsOnly, record.errorCode == nil { return false }
        return true
    }
}

/// Key use per event type and principal over a period.
public struct UsageReport: Sendable, Hashable {
    /// One event type and principal.
    public struct Row: Sendable, Hashable {
        /// `requestParameters.encryptionContext.eventType`, or `nil` for records without one.
        public var eventType: String?
        /// `userIdentity.arn` (for role sessions the session's ARN, which names the role and the session), or `nil`
        /// for unidentified callers.
        public var principalARN: String?
        /// `Decrypt` calls without an error.
        public var successfulDecrypts: Int
        /// Calls refused with a ``Record/denialErrorCodes`` error (any operation).
        public var denials: Int

        public init(eventType: String?, principalARN: String?, successfulDecrypts: Int, denials: Int) {
            self.eventType = eventType
            self.principalARN = principalARN
            self.successfulDecrypts = successfulDecrypts
            self.denials = denials
        }
    }

    public var period: DateInterval
    /// Sorted by event type, then principal (`nil` first); rows with neither decrypts nor denials are left out.
    public var rows: [Row]

    public init(period: DateInterval, rows: [Row]) {
        self.period = period
        self.rows = rows
    }

    /// Builds a report from records (the reference semantics every store implements).
    public init(period: DateInterval, records: some Sequence<Record>) {
        var counts: [UsageKey: (decrypts: Int, denials: Int)] = [:]
        for record in records where record.eventTime >= period.start && record.eventTime < period.end {
            let isDecrypt = record.eventName == "Decrypt" && record.errorCode == nil
            let isDenial = record.isDenial
            guard isDecrypt || isDenial else { continue }
            let key = UsageKey(eventType: record.contextEventType, principal: record.userIdentity.arn)
            counts[key, default: (0, 0)].decrypts += isDecrypt ? 1 : 0
            counts[key, default: (0, 0)].denials += isDenial ? 1 : 0
        }
        self.init(
            period: period,
            rows: counts.map {
                Row(
                    eventType: $0.key.eventType,
                    principalARN: $0.key.principal,
                    successfulDecrypts: $0.value.decrypts,
                    denials: $0.value.denials
                )
            }
            .sorted(by: Self.order)
        )
    }

    /// The rows' order: event type, then principal, `nil` first.
    public static func order(_ lhs: Row, _ rhs: Row) -> Bool {
        func key(_ row: Row) -> (Int, String, Int, String) {
            (row.eventType == nil ? 0 : 1, row.eventType ?? "", row.principalARN == nil ? 0 : 1, row.principalARN ?? "")
        }
        return key(lhs) < key(rhs)
    }
}

private struct UsageKey: Hashable {
    var eventType: String?
    var principal: String?
}
