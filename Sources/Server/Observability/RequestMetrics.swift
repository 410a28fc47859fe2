import CoreMetrics
public import Prometheus
import SealedSupport
import Synchronization

/// The server's request metrics, in a Prometheus registry of its own (no global `MetricsSystem` bootstrap, so
/// several servers in one process — tests — keep separate counts).
///
/// - `sealed_requests_total{operation, outcome}`: requests by KMS operation (`health`, `metrics`, `Unknown` for the
///   rest) and outcome (`success`, or the AWS error code answered, or `HTTP<status>`).
/// - `sealed_request_duration_seconds{operation}`: a latency histogram.
///
/// And the audit trail's writes, which every audited request waits for (``recordAuditCommit(records:duration:succeeded:)``):
///
/// - `sealed_audit_transactions_total{outcome}`: group commits, `committed` or `failed` (a failed one refused every
///   request whose record it held: alert on it);
/// - `sealed_audit_records_total`: records committed (divided by the committed transactions: records per `fsync`);
/// - `sealed_audit_commit_duration_seconds`: a histogram of each transaction from `BEGIN` to the end of its `COMMIT`,
///   the `fsync` included.
///
/// And, on a replica of a PostgreSQL database, the reads of the cache epoch that its cached keys and access keys wait
/// for (``recordCacheEpochRead(callers:duration:succeeded:moved:)``):
///
/// - `sealed_cache_epoch_reads_total{outcome}`: `read` or `failed` (PostgreSQL unreachable: the lookups waiting for
///   it failed, and their requests were answered 503);
/// - `sealed_cache_epoch_waiters_total`: the lookups that waited for a read: a request's first (its later ones use
///   the same read without waiting), so over the reads, about the requests that shared each read;
/// - `sealed_cache_epoch_changes_total`: reads that found the epoch moved, each dropping the replica's caches;
/// - `sealed_cache_epoch_read_duration_seconds`: a histogram of each read, from its start to its answer.
public struct RequestMetrics: Sendable {
    /// Where the metrics are kept; `GET /metrics` prints it.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    private let audit: AuditInstruments
    private let cacheEpoch: CacheEpochInstruments

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ]
        self.factory = factory
        audit = AuditInstruments(factory: factory)
        cacheEpoch = CacheEpochInstruments(factory: factory)
    }

    /// Counts one read of the cache epoch.
    public func recordCacheEpochRead(callers: Int, duration: Duration, succeeded: Bool, moved: Bool) {
        cacheEpoch.reads.count(succeeded: succeeded)
        cacheEpoch.waiters.increment(by: callers)
        if moved { cacheEpoch.changes.increment() }
        cacheEpoch.duration.recordNanoseconds(duration.nanoseconds)
    }

    /// Counts one group commit of the audit trail.
    public func recordAuditCommit(records: Int, duration: Duration, succeeded: Bool) {
        audit.transactions.count(succeeded: succeeded)
        if succeeded { audit.records.increment(by: records) }
        audit.duration.recordNanoseconds(duration.nanoseconds)
    }

    /// Counts a refusal of the digest service to sign a trail that disagrees with its newest digest
    /// (`sealed_audit_tamper_alarms_total`): any is an alarm.
    public func recordAuditTamper() {
        registry.makeCounter(name: "sealed_audit_tamper_alarms_total").increment()
    }

    func record(operation: String, outcome: String, duration: Duration) {
        let factory = self.factory
        let (counter, timer) = instruments.entries.withLock { instruments in
            let key = InstrumentKey(operation: operation, outcome: outcome)
            if let found = instruments[key] { return found }
            // Made once per operation and outcome (the registry looks metrics up by name and labels, which cost
            // more than the counting on every request).
            let made = (
                CoreMetrics.Counter(
                    label: "sealed_requests_total",
                    dimensions: [("operation", operation), ("outcome", outcome)],
                    factory: factory
                ),
                CoreMetrics.Timer(
                    label: "sealed_request_duration_seconds",
                    dimensions: [("operation", operation)],
                    factory: factory
                )
            )
            instruments[key] = made
            return made
        }
        counter.increment()
        timer.recordNanoseconds(duration.nanoseconds)
    }

    /// The counter and timer of each operation and outcome seen so far (a bounded set: the operations, and the
    /// error codes and statuses they answer with).
    private let instruments = Instruments()

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }
}

private struct InstrumentKey: Hashable {
    var operation: String
    var outcome: String
}

private final class Instruments: Sendable {
    let entries = Mutex<[InstrumentKey: (CoreMetrics.Counter, CoreMetrics.Timer)]>([:])
}

/// One counter with an `outcome` label of two values: what succeeded and what failed.
private struct OutcomeCounter: Sendable {
    let succeeded: CoreMetrics.Counter
    let failed: CoreMetrics.Counter

    init(label: String, succeeded success: String, factory: PrometheusMetricsFactory) {
        succeeded = CoreMetrics.Counter(label: label, dimensions: [("outcome", success)], factory: factory)
        failed = CoreMetrics.Counter(label: label, dimensions: [("outcome", "failed")], factory: factory)
    }

    func count(succeeded: Bool) { (succeeded ? self.succeeded : failed).increment() }
}

/// The audit trail's instruments, made once with the registry.
private struct AuditInstruments: Sendable {
    let transactions: OutcomeCounter
    let records: CoreMetrics.Counter
    let duration: CoreMetrics.Timer

    init(factory: PrometheusMetricsFactory) {
        transactions = OutcomeCounter(
            label: "sealed_audit_transactions_total",
            succeeded: "committed",
            factory: factory
        )
        records = CoreMetrics.Counter(label: "sealed_audit_records_total", factory: factory)
        duration = CoreMetrics.Timer(label: "sealed_audit_commit_duration_seconds", factory: factory)
    }
}

/// The cache epoch's instruments, made once with the registry.
private struct CacheEpochInstruments: Sendable {
    let reads: OutcomeCounter
    let waiters: CoreMetrics.Counter
    let changes: CoreMetrics.Counter
    let duration: CoreMetrics.Timer

    init(factory: PrometheusMetricsFactory) {
        reads = OutcomeCounter(label: "sealed_cache_epoch_reads_total", succeeded: "read", factory: factory)
        waiters = CoreMetrics.Counter(label: "sealed_cache_epoch_waiters_total", factory: factory)
        changes = CoreMetrics.Counter(label: "sealed_cache_epoch_changes_total", factory: factory)
        duration = CoreMetrics.Timer(label: "sealed_cache_epoch_read_duration_seconds", factory: factory)
    }
}
