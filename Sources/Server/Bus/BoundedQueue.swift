import Synchronization

/// A queue between one producer and one consumer, bounded by element count and by bytes: ``push(_:)`` waits
/// while it is full, which is how a publish stream's reader stops reading its request (back-pressure through TCP).
///
/// One element always fits into an empty queue, whatever its size, so an element larger than the byte bound cannot
/// stall the stream. ``close()`` ends it for the consumer once it has taken everything; ``fail(_:)`` ends it for the
/// producer, whose waiting ``push(_:)`` throws. A cancelled waiter is woken: `push` throws `CancellationError`,
/// `take` returns what there is (possibly nothing, then `nil`).
final class BoundedQueue<Element: Sendable>: Sendable {
    private struct State {
        var elements: [Element] = []
        var head = 0
        var bytes = 0
        var closed = false
        var failure: (any Error)?
        var producer: CheckedContinuation<Void, any Error>?
        var consumer: CheckedContinuation<Void, Never>?

        var count: Int { elements.count - head }

        func hasRoom(for size: Int, limits: Limits) -> Bool {
            count == 0 || (count < limits.elements && bytes + size <= limits.bytes)
        }

        /// Takes up to `maximum` elements from the front.
        mutating func removeFirst(_ maximum: Int, sizes: (Element) -> Int) -> [Element] {
            let end = min(elements.count, head + maximum)
            let taken = Array(elements[head..<end])
            head = end
            for element in taken { bytes -= sizes(element) }
            if head == elements.count {
                elements.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024, head * 2 >= elements.count {
                elements.removeFirst(head)
                head = 0
            }
            return taken
        }
    }

    /// The most elements, and bytes, the queue holds.
    struct Limits: Sendable {
        var elements: Int
        var bytes: Int
    }

    let limits: Limits
    private let size: @Sendable (Element) -> Int
    private let state = Mutex(State())
    /// Called (outside the lock) each time the producer finds the queue full and waits: a test hook.
    private let onProducerWaits: (@Sendable (_ count: Int, _ bytes: Int) -> Void)?

    /// - Parameters:
    ///   - limits: The bounds.
    ///   - size: The bytes an element counts for.
    ///   - onProducerWaits: Told the queue's count and bytes whenever ``push(_:)`` has to wait.
    init(
        limits: Limits,
        size: @escaping @Sendable (Element) -> Int,
        onProducerWaits: (@Sendable (_ count: Int, _ bytes: Int) -> Void)? = nil
    ) {
        precondition(limits.elements > 0 && limits.bytes > 0, "a queue holds at least one element")
        self.limits = limits
        self.size = size
        self.onProducerWaits = onProducerWaits
    }

    /// Appends `element`, waiting while the queue is full.
    ///
    /// - Throws: The error of ``fail(_:)``; `CancellationError` when the task is cancelled while it waits.
    func push(_ element: Element) async throws {
        let elementSize = size(element)
        while true {
            let (appended, consumer, waiting) = try state.withLock {
                state throws -> (Bool, CheckedContinuation<Void, Never>?, (Int, Int)?) in
                if let failure = state.failure { throw failure }
                guard state.hasRoom(for: elementSize, limits: limits) else {
                    return (false, nil, (state.count, state.bytes))
                }
                state.elements.append(element)
                state.bytes += elementSize
                defer { state.consumer = nil }
                return (true, state.consumer, nil)
            }
            if appended {
                consumer?.resume()
                return
            }
            if let (count, bytes) = waiting { onProducerWaits?(count, bytes) }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let resumeWith: Result<Void, any Error>? = state.withLock { state in
                        if let failure = state.failure { return .failure(failure) }
                        if Task.isCancelled { return .failure(CancellationError()) }
                        if state.hasRoom(for: elementSize, limits: limits) { return .success(()) }
                        state.producer = continuation
                        return nil
                    }
                    if let resumeWith { continuation.resume(with: resumeWith) }
                }
            } onCancel: {
                state.withLock { state -> CheckedContinuation<Void, any Error>? in
                    defer { state.producer = nil }
                    return state.producer
                }?.resume(throwing: CancellationError())
            }
        }
    }

    /// Up to `maximum` elements, oldest first, waiting for at least one; `nil` once the queue is closed and empty.
    func take(upTo maximum: Int) async -> [Element]? {
        while true {
            let (taken, producer, finished) = state.withLock {
                state -> ([Element], CheckedContinuation<Void, any Error>?, Bool) in
                guard state.count > 0 else { return ([], nil, state.closed || state.failure != nil) }
                let taken = state.removeFirst(maximum, sizes: size)
                defer { state.producer = nil }
                return (taken, state.producer, false)
            }
            if !taken.isEmpty {
                producer?.resume()
                return taken
            }
            if finished || Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { state in
                        if state.count > 0 || state.closed || state.failure != nil || Task.isCancelled { return true }
                        state.consumer = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                state.withLock { state -> CheckedContinuation<Void, Never>? in
                    defer { state.consumer = nil }
                    return state.consumer
                }?.resume()
            }
        }
    }

    /// Nothing more will be pushed: the consumer takes what is left, then gets `nil`.
    func close() {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.consumer = nil }
            return state.consumer
        }?.resume()
    }

    /// The consumer is gone: a waiting (and every later) ``push(_:)`` throws `error`.
    func fail(_ error: any Error) {
        let (producer, consumer) = state.withLock { state in
            if state.failure == nil { state.failure = error }
            defer {
                state.producer = nil
                state.consumer = nil
            }
            return (state.producer, state.consumer)
        }
        producer?.resume(throwing: error)
        consumer?.resume()
    }
}
