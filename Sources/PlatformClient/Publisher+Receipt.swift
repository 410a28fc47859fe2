package import NIOCore
import Synchronization

extension Publisher {
    /// What became of one published event: its offset once acknowledged, or why it was not stored.
    public struct Receipt: Sendable {
        /// The event's `metaData.eventId`, when known.
        public let eventId: String?
        private let promise = Promise()

        init(eventId: String?) { self.eventId = eventId }

        /// The event's offset in the topic, once it is stored durably.
        ///
        /// - Throws: ``EventRefusal`` when governance refused it; the error that ended the publisher when it was
        ///   never acknowledged.
        public var offset: UInt64 {
            get async throws { try await promise.value() }
        }

        func resolve(_ result: Result<UInt64, any Error>) { promise.resolve(result) }
    }

    /// A result set once and awaited by any number of tasks.
    final class Promise: Sendable {
        private let state = Mutex<
            (result: Result<UInt64, any Error>?, waiters: [CheckedContinuation<UInt64, any Error>])
        >(
            (nil, [])
        )

        func resolve(_ result: Result<UInt64, any Error>) {
            let waiters = state.withLock { state -> [CheckedContinuation<UInt64, any Error>] in
                guard state.result == nil else { return [] }
                state.result = result
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(with: result) }
        }

        func value() async throws -> UInt64 {
            try await withCheckedThrowingContinuation { continuation in
                let result = state.withLock { state -> Result<UInt64, any Error>? in
                    if state.result == nil { state.waiters.append(continuation) }
                    return state.result
                }
                if let result { continuation.resume(with: result) }
            }
        }
    }
}

/// An event the platform refused to store, by one of its governance rules.
public struct EventRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The event's id, when it had a readable one.
    public let eventId: String?
    /// The rule: `EventTooLarge`, `MalformedEnvelope`, `UnknownEventType`, `DomainMismatch` or `EventNotSealed`.
    public let rule: String
    /// Why.
    public let message: String

    public init(eventId: String?, rule: String, message: String) {
        self.eventId = eventId
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(eventId ?? "-"): \(rule): \(message)" }
}

/// Splits the acknowledgement stream into lines (without their newlines).
package struct AcknowledgementLines {
    private var partial: [UInt8] = []

    package init() {}

    /// The lines `chunk` completes; the rest is kept for the next chunk.
    package mutating func lines(in chunk: ByteBuffer) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in chunk.readableBytesView {
            if byte == UInt8(ascii: "\n") {
                lines.append(partial)
                partial = []
            } else {
                partial.append(byte)
            }
        }
        return lines
    }
}
