import PostgresNIO
import Synchronization

/// A pooled connection leased by a child task and lent to the task that asked for it, so that the wait for it can be
/// given up without cancelling the asking task.
///
/// postgres-nio's pool queues a lease until it has a connection to give, and while PostgreSQL refuses connections it
/// gives none for up to a minute (its circuit breaker); the only way out of its queue is cancelling the waiting task.
/// ``PostgresDatabase`` therefore leases in a child task (the lender), which hands the connection over and holds the
/// lease until it is given back; ``LeaseWatch`` gives the wait up. Exactly one of three things ends the wait:
///
/// - the lender hands over a connection: the asker runs its statements on it, then ``giveBack()`` ends the lease;
/// - the pool fails the lease (``giveUp(_:)`` with its error);
/// - the wait expires and PostgreSQL accepts no connections (``giveUp(_:)`` with the watch's error): the lease is then
///   cancelled, and a connection that comes in the meantime goes back to the pool unused. No statement ran, so nothing
///   can have been written.
final class ConnectionHandoff: Sendable {
    private enum State {
        /// No connection yet; the asker, once it waits.
        case waiting(CheckedContinuation<PostgresConnection, any Error>?)
        /// A connection handed over; the lender, waiting for it back.
        case lent(PostgresConnection, CheckedContinuation<Void, Never>)
        /// The wait ended without a connection.
        case failed(any Error)
        /// The connection was given back.
        case returned
    }

    private let state = Mutex(State.waiting(nil))

    /// The connection, once the lender has one; throws what ended the wait otherwise.
    func connection() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { asker in
            let outcome = state.withLock { state -> Result<PostgresConnection, any Error>? in
                switch state {
                case .waiting:
                    state = .waiting(asker)
                    return nil
                case .lent(let connection, _): return .success(connection)
                case .failed(let error): return .failure(error)
                case .returned: return .failure(CancellationError())
                }
            }
            if let outcome { asker.resume(with: outcome) }
        }
    }

    /// Called by the lender with its leased connection: returns when the asker gave it back, or at once when the
    /// asker no longer waits.
    func lend(_ connection: PostgresConnection) async {
        await withCheckedContinuation { lender in
            let asker = state.withLock { state -> CheckedContinuation<PostgresConnection, any Error>?? in
                guard case .waiting(let asker) = state else { return nil }
                state = .lent(connection, lender)
                return .some(asker)
            }
            switch asker {
            case nil: lender.resume()
            case .some(let asker): asker?.resume(returning: connection)
            }
        }
    }

    /// Gives the connection back: the lender's lease ends.
    func giveBack() {
        let lender = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard case .lent(_, let lender) = state else { return nil }
            state = .returned
            return lender
        }
        lender?.resume()
    }

    /// Ends the wait with `error`, unless a connection was handed over already.
    func giveUp(_ error: any Error) {
        let asker = state.withLock { state -> CheckedContinuation<PostgresConnection, any Error>?? in
            guard case .waiting(let asker) = state else { return nil }
            state = .failed(error)
            return .some(asker)
        }
        if case .some(let asker) = asker { asker?.resume(throwing: error) }
    }
}
