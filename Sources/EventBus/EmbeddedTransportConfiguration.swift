/// Settings shared by the embedded transports (``InMemoryTransport``, the SQLite and the PostgreSQL transports).
public struct EmbeddedTransportConfiguration: Sendable, Hashable {
    /// How long events handed to a consumer group stay reserved for it before a fetch hands them out
    /// again, counted from the group's latest fetch.
    public var redeliveryTimeout: Duration
    /// The largest payload accepted, in bytes (NATS's default `max_payload` is 1 MiB).
    public var maxEventBytes: Int

    /// Creates a configuration.
    public init(redeliveryTimeout: Duration = .seconds(30), maxEventBytes: Int = 1 << 20) {
        self.redeliveryTimeout = redeliveryTimeout
        self.maxEventBytes = maxEventBytes
    }

    /// Checks a batch before anything is stored: valid ids, no payload above ``maxEventBytes``.
    ///
    /// - Throws: ``BusError/Code/invalidArgument``, ``BusError/Code/payloadTooLarge``.
    package func validate(_ events: [OutgoingEvent]) throws {
        for (index, event) in events.enumerated() {
            try event.validate()
            if event.payload.count > maxEventBytes {
                throw BusError(
                    .payloadTooLarge,
                    "event \(index) of the batch has \(event.payload.count) bytes; the limit is \(maxEventBytes)"
                )
            }
        }
    }
}

/// Checks the arguments shared by reads and fetches.
package func validateLimit(_ limit: Int) throws {
    guard limit >= 1 else { throw BusError.invalidArgument("limit must be at least 1") }
}
