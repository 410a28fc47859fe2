import Foundation
import Logging
import SealedTesting
import Synchronization
import Testing

@testable import NATS

/// Starts a nats-server for `body` (or returns after printing a skip note when the binary is missing
/// outside CI).
func withServer(arguments: [String] = [], _ body: (NATSServer) async throws -> Void) async throws {
    guard let binary = try NATSServer.binary() else { return }
    let server = try NATSServer(binary: binary, arguments: arguments)
    defer { server.kill() }
    try await body(server)
}

/// The first `count` messages of a subscription; fails (instead of hanging) when they do not come.
func take(_ count: Int, from subscription: Subscription, limit: Duration = .seconds(20)) async throws -> [Message] {
    try await withThrowingTaskGroup(of: [Message]?.self) { group in
        group.addTask {
            var messages: [Message] = []
            for try await message in subscription {
                messages.append(message)
                if messages.count == count { break }
            }
            return messages
        }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let messages = try await group.next() ?? nil else {
            throw FixtureError(description: "\(count) messages did not arrive")
        }
        return messages
    }
}

extension Connection {
    /// How many connections (handshakes) this client has started.
    var connectionEpoch: UInt64 { state.withLock { $0.epoch } }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

/// Every message in a stream, read through a throw-away durable consumer with `ack_policy none`.
func readAll(_ jetStream: JetStream, stream: String) async throws -> [JetStreamMessage] {
    let name = "verify\(UUID().uuidString.prefix(8))"
    try await jetStream.createConsumer(stream: stream, config: ConsumerConfig(durableName: name, ackPolicy: .none))
    var all: [JetStreamMessage] = []
    while true {
        let batch = try await jetStream.fetch(stream: stream, consumer: name, batch: 256, expires: .milliseconds(500))
        if batch.isEmpty { break }
        all.append(contentsOf: batch)
    }
    try await jetStream.deleteConsumer(stream: stream, consumer: name)
    return all
}

/// Retries a JetStream call while a (new) cluster elects its leaders.
func retryingWhileUnavailable<T>(limit: Duration = .seconds(30), _ body: () async throws -> T) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while true {
        do {
            return try await body()
        } catch {
            guard clock.now < deadline else { throw error }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}

/// Thread-safe collection of outcomes for load tests.
final class Outcomes: Sendable {
    let acked = Mutex<[String: PubAck]>([:])
    /// Message id → the error description the caller got.
    let failed = Mutex<[String: String]>([:])
    /// Whether the disturbance has returned (see `publishLoad(holdingFrom:)`).
    let disturbed = Mutex(false)

    /// How many publishes ended which way, with a few of the errors: what a failed wait reports.
    var summary: String {
        let acknowledged = acked.withLock { $0.count }
        let errors = failed.withLock { $0 }
        let examples = errors.sorted { $0.key < $1.key }.prefix(3).map { "\($0.key): \($0.value)" }
        return "\(acknowledged) acknowledged, \(errors.count) failed"
            + (examples.isEmpty ? "" : " (\(examples.joined(separator: "; ")))")
    }
}
