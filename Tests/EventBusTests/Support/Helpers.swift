import EventBus
import Foundation
import SealedTesting

/// An event whose payload names its id, so a test can check that payloads travel with their ids.
func event(_ id: String, size: Int? = nil) -> OutgoingEvent {
    var payload = Array(#"{"metaData":{"eventId":"\#(id)"},"data":"#.utf8)
    if let size {
        payload += Array(repeating: UInt8(ascii: "x"), count: max(0, size - payload.count - 1))
    }
    payload.append(UInt8(ascii: "}"))
    return OutgoingEvent(eventID: id, payload: payload)
}

/// Every event of a topic, read from the start.
func readAll(_ transport: any Transport, topic: String) async throws -> [StoredEvent] {
    var all: [StoredEvent] = []
    var next: UInt64 = 1
    while true {
        let batch = try await transport.read(topic: topic, from: next, limit: 500, wait: .zero)
        guard let last = batch.last else { return all }
        all += batch
        next = last.offset + 1
    }
}

/// The events a group gets from its next fetches, fetching until it gets any (redelivery may take a redelivery
/// timeout) or `attempts` fetches of `wait` each came back empty.
func fetchUntilSome(
    _ transport: any Transport,
    group: String,
    topic: String,
    limit: Int = 100,
    wait: Duration = .seconds(2),
    attempts: Int = 10
) async throws -> [StoredEvent] {
    for _ in 0..<attempts {
        let events = try await transport.fetch(group: group, topic: topic, limit: limit, wait: wait)
        if !events.isEmpty { return events }
    }
    return []
}

extension StoredEvent {
    var payloadText: String { String(decoding: payload, as: UTF8.self) }
}
