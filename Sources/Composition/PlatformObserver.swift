/// What the platform reports while it runs, for the edge's metrics.
public protocol PlatformObserver: Sendable {
    /// An audit write transaction ended: how many records it held, how long it took, whether it committed.
    func auditCommitted(records: Int, duration: Duration, succeeded: Bool)
    /// The digest service found the trail changed behind its back.
    func auditTampered()
}
