public import Composition

/// The platform's audit commits, tamper alarms and cache epoch reads, counted beside the requests' metrics.
extension RequestMetrics: PlatformObserver {
    public func auditCommitted(records: Int, duration: Duration, succeeded: Bool) {
        recordAuditCommit(records: records, duration: duration, succeeded: succeeded)
    }

    public func auditTampered() { recordAuditTamper() }

    public func cacheEpochRead(callers: Int, duration: Duration, succeeded: Bool, moved: Bool) {
        recordCacheEpochRead(callers: callers, duration: duration, succeeded: succeeded, moved: moved)
    }
}
