@testable import Server
import Testing

/// The publish stream's queue: bounded by count and by bytes, a full queue makes the producer wait (told through its
/// hook) until the consumer takes, and a failed or cancelled wait ends.
@Suite struct BoundedQueueTests {
    struct Failed: Error {}

    /// A queue of byte counts (each element counts for its value), and a stream of the producer's waits.
    func queue(elements: Int, bytes: Int) -> (BoundedQueue<Int>, AsyncStream<(Int, Int)>) {
        let (waits, waited) = AsyncStream.makeStream(of: (Int, Int).self)
        let queue = BoundedQueue<Int>(
            limits: .init(elements: elements, bytes: bytes),
            size: { $0 },
            onProducerWaits: { waited.yield(($0, $1)) }
        )
        return (queue, waits)
    }

    @Test func theByteBoundMakesTheProducerWaitUntilTheConsumerTakes() async throws {
        let (queue, waits) = queue(elements: 100, bytes: 10)
        try await queue.push(6)
        try await queue.push(4)
        async let third: Void = queue.push(1)
        var reports = waits.makeAsyncIterator()
        let report = try #require(await reports.next())
        #expect(report.0 == 2 && report.1 == 10)
        #expect(await queue.take(upTo: 1) == [6])
        try await third
        #expect(await queue.take(upTo: 10) == [4, 1])
    }

    @Test func theCountBoundToo() async throws {
        let (queue, waits) = queue(elements: 2, bytes: 1_000)
        try await queue.push(1)
        try await queue.push(1)
        async let third: Void = queue.push(1)
        var reports = waits.makeAsyncIterator()
        #expect(try #require(await reports.next()).0 == 2)
        #expect(await queue.take(upTo: 5) == [1, 1])
        try await third
        queue.close()
        #expect(await queue.take(upTo: 5) == [1])
        #expect(await queue.take(upTo: 5) == nil)
    }

    @Test func anElementLargerThanTheByteBoundStillFitsAnEmptyQueue() async throws {
        let (queue, _) = queue(elements: 4, bytes: 10)
        try await queue.push(50)
        #expect(await queue.take(upTo: 4) == [50])
    }

    @Test func failWakesTheWaitingProducer() async throws {
        let (queue, waits) = queue(elements: 1, bytes: 100)
        try await queue.push(1)
        let second = Task { try await queue.push(1) }
        var reports = waits.makeAsyncIterator()
        _ = await reports.next()
        queue.fail(Failed())
        await #expect(throws: Failed.self) { try await second.value }
        await #expect(throws: Failed.self) { try await queue.push(1) }
    }

    @Test func cancellingTheWaitingProducerEndsItsWait() async throws {
        let (queue, waits) = queue(elements: 1, bytes: 100)
        try await queue.push(1)
        let producer = Task { try await queue.push(2) }
        var reports = waits.makeAsyncIterator()
        _ = await reports.next()
        producer.cancel()
        await #expect(throws: CancellationError.self) { try await producer.value }
        #expect(await queue.take(upTo: 5) == [1])
    }
}
