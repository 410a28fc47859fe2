import CoreMetrics
public import Prometheus
import Synchronization

/// The server's request metrics, in a Prometheus registry of its own (no global `MetricsSystem` bootstrap, so
/// several servers in one process — tests — keep separate counts).
///
/// - `sealed_requests_total{operation, outcome}`: requests by KMS operation (`health`, `metrics`, `Unknown` for the
///   rest) and outcome (`success`, or the AWS error code answered, or `HTTP<status>`).
/// - `sealed_request_duration_seconds{operation}`: a latency histogram.
public struct RequestMetrics: Sendable {
    /// Where the metrics are kept; `GET /metrics` prints it.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ]
        self.factory = factory
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
        let nanoseconds =
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        timer.recordNanoseconds(nanoseconds)
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
