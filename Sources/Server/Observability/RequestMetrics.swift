import CoreMetrics
public import Prometheus

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
        CoreMetrics.Counter(
            label: "sealed_requests_total",
            dimensions: [("operation", operation), ("outcome", outcome)],
            factory: factory
        ).increment()
        let nanoseconds =
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        CoreMetrics.Timer(
            label: "sealed_request_duration_seconds",
            dimensions: [("operation", operation)],
            factory: factory
        ).recordNanoseconds(nanoseconds)
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }
}
