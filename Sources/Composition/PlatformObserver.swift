/// What the platform reports while it runs, for the edge's metrics.
public protocol PlatformObserver: Sendable {
    /// An audit write transaction ended: how many records it held, how long it took, whether it committed.
    func auditCommitted(records: Int, duration: Duration, succeeded: Bool)
    /// The digest service found the trail changed behind its back.
    func auditTampered()
    /// A replica on PostgreSQL read the cache epoch for `callers` lookups (the requests that shared the read); `moved`
    /// when the epoch had changed since the read before, so its caches were dropped.
    func cacheEpochRead(callers: Int, duration: Duration, succeeded: Bool, moved: Bool)
}
