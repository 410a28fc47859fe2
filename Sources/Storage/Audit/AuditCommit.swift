/// What one group commit of an audit store did: told to the store's observer after each batch (for metrics).
public struct AuditCommit: Sendable, Hashable {
    /// The records the batch held.
    public var records: Int
    /// When it began.
    public var started: ContinuousClock.Instant
    /// From its beginning to the end of its sync (or of its failure).
    public var duration: Duration
    /// Whether it was made durable; when not, every one of its records was refused to its caller.
    public var succeeded: Bool

    public init(records: Int, started: ContinuousClock.Instant, duration: Duration, succeeded: Bool) {
        self.records = records
        self.started = started
        self.duration = duration
        self.succeeded = succeeded
    }
}

/// How an audit store's group commit went so far.
public struct AuditCommitStatistics: Sendable, Hashable {
    /// Records waiting for a batch right now.
    public var pendingRecords: Int
    /// Batches attempted (write transactions, or writes of the log).
    public var transactions: Int
    /// Records made durable.
    public var committedRecords: Int

    public init(pendingRecords: Int, transactions: Int, committedRecords: Int) {
        self.pendingRecords = pendingRecords
        self.transactions = transactions
        self.committedRecords = committedRecords
    }
}
