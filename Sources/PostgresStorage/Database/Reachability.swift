import Logging
import PostgresNIO
import Synchronization

/// Whether PostgreSQL accepts connections at all, asked when a statement has waited ``PostgresDatabase/connectionWait``
/// for a connection of the pool.
///
/// The pool hands out no connection in two different situations that look the same from a waiting statement: every
/// connection is leased (the pool is busy, and one will be free soon) or PostgreSQL cannot be reached or refuses
/// connections (the pool cannot open one, and postgres-nio keeps the statement queued for up to a minute). Only the
/// second should fail a request with 503, so the waiting statement asks: ``acceptsConnections()`` opens one
/// connection outside the pool, within the same bound, and closes it at once. One probe runs at a time, and its answer
/// is reused for a second, so a queue of waiting statements costs PostgreSQL one connection a second at most.
final class Reachability: Sendable {
    private struct State {
        var answer: (accepts: Bool, at: ContinuousClock.Instant)?
        var probe: Task<Bool, Never>?
    }

    /// A recent answer, or the probe that will give one.
    private enum Next {
        case known(Bool)
        case waitFor(Task<Bool, Never>)
    }

    private let url: PostgresURL
    private let timeout: Duration
    private let logger: Logger
    private let state = Mutex(State())
    /// How long an answer is reused.
    static let answerLifetime = Duration.seconds(1)

    init(url: PostgresURL, timeout: Duration, logger: Logger) {
        self.url = url
        self.timeout = timeout
        self.logger = logger
    }

    /// Whether a new connection to the database succeeds now (within the probe's timeout).
    func acceptsConnections() async -> Bool {
        let next = state.withLock { state -> Next in
            if let answer = state.answer, ContinuousClock.now - answer.at < Self.answerLifetime {
                return .known(answer.accepts)
            }
            if let probe = state.probe { return .waitFor(probe) }
            let probe = Task { await self.probe() }
            state.probe = probe
            return .waitFor(probe)
        }
        switch next {
        case .known(let accepts): return accepts
        case .waitFor(let probe): return await probe.value
        }
    }

    private func probe() async -> Bool {
        let accepts: Bool
        do {
            var configuration = try url.connectionConfiguration()
            let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
            configuration.options.connectTimeout = .milliseconds(max(milliseconds, 1))
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
            accepts = true
        } catch {
            accepts = false
        }
        state.withLock { state in
            state.answer = (accepts, ContinuousClock.now)
            state.probe = nil
        }
        return accepts
    }
}
