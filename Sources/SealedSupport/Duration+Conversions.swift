/// `Duration` as the numbers other APIs take: nanoseconds for NIO's `TimeAmount`, metrics timers and JetStream, seconds
/// and milliseconds as `Double` for Foundation's `TimeInterval` and logs.
extension Duration {
    /// The duration in whole nanoseconds (attoseconds truncated towards zero), saturated at `Int64.max` and
    /// `Int64.min` instead of trapping (about ±292 years).
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (total, sumOverflow) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return sumOverflow ? (seconds < 0 ? .min : .max) : total
    }

    /// The duration in seconds, as a `Double` (Foundation's `TimeInterval`).
    package var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in milliseconds, as a `Double`.
    package var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e3 + Double(attoseconds) / 1e15
    }
}
