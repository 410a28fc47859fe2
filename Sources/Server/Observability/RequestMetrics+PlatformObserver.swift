public import Composition

/// The platform's audit commits and tamper alarms, counted beside the requests' metrics.
extension RequestMetrics: PlatformObserver {
    public func auditCommitted(records: Int, duration: Duration, succeeded: Bool) {
        recordAuditCommit(records: records, duration: duration, succeeded: succeeded)
    }

    public func auditTampered() { recordAuditTamper() }
}
