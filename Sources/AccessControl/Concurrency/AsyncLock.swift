import Synchronization

/// A first-in, first-out lock for async code: ``withLock(isolation:_:)`` runs its body only while no other body
/// holds the lock, across the body's suspension points.
///
/// An actor alone does not make a read-modify-write atomic: while a method awaits its store, the actor runs other
/// calls, which read the state the first has not written back yet. The services hold this lock around each such
/// change, so changes run one at a time, in the order they arrived. A waiting task that is cancelled keeps its
/// place (the bodies are short store writes, and a change is not abandoned half way).
package final class AsyncLock: Sendable {
    private struct State {
        var isLocked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    package init() {}

    /// Runs `body` holding the lock, in the caller's isolation.
    package func withLock<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> T
    ) async rethrows -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }

    private func lock(isolation: isolated (any Actor)? = #isolation) async {
        await withCheckedContinuation(isolation: isolation) { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state in
                guard state.isLocked else {
                    state.isLocked = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    /// Hands the lock to the first waiter, or releases it.
    private func unlock() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.isLocked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
