public import Logging
import PostgresNIO
import Storage

/// Leader election for the platform's background services among the replicas sharing one PostgreSQL database: the
/// leader of a ``Role`` is the replica whose session holds that role's advisory lock.
///
/// ``lead(_:onChange:whileLeader:)`` runs a service's body on exactly one replica at a time. Each call keeps one
/// connection of its own, outside the pool, for as long as it runs:
///
/// - **Standing by**, it asks `pg_try_advisory_lock` every ``interval`` on that connection (reconnecting when the
///   connection failed); the first replica to get the lock leads.
/// - **Leading**, it runs the body and checks the session every ``interval`` with a query answered within
///   ``timeout``. A session-level advisory lock ends only with an unlock or with its session, so a live session is a
///   held lock. When the check fails (the backend was terminated, PostgreSQL restarted, the network is cut) the
///   leader closes the connection, cancels the body, waits for it to return and stands by again.
/// - PostgreSQL releases the lock the moment the session ends: at once when the backend is terminated or the socket
///   closes, and on a silent network cut when its TCP keepalive gives up, which this connection sets to 5 s idle plus
///   3 probes 2 s apart (`tcp_keepalives_*`, `tcp_user_timeout` 10 s): about 11 s. Another replica takes over at its
///   next try after that.
///
/// **Overlap.** On a network cut the old leader stops within ``interval`` + ``timeout`` (6 s by default), before the
/// server lets the lock go. When the server ends the session first (`pg_terminate_backend`, a restart) a successor
/// may start up to ``interval`` before the old leader notices, so a body's steps must stay correct when repeated by
/// another replica (each one a transaction whose effect is checked in the database), never rely on running alone.
///
/// The body is `@Sendable () async throws -> Void`, shaped for a swift-service-lifecycle `Service`:
/// `func run() async throws { try await leadership.lead(.expiry) { try await expiry.run() } }`.
public struct PostgresLeadership: Sendable {
    /// The database whose advisory locks elect the leaders.
    public let database: PostgresDatabase
    /// How often a replica standing by asks for the lock, and how often a leader checks its session.
    public let interval: Duration
    /// How long a leader's check may take before the leader considers its session lost.
    public let timeout: Duration
    private let logger: Logger

    /// Elects leaders on `database`.
    ///
    /// - Parameters:
    ///   - database: The platform's database (its URL is used for the dedicated connections).
    ///   - interval: How often a replica standing by retries and a leader checks its session.
    ///   - timeout: How long a leader's check may take.
    ///   - logger: Where leadership taken, lost and connection failures are reported (never the URL's password).
    public init(
        database: PostgresDatabase,
        interval: Duration = .seconds(1),
        timeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "sealed.leadership")
    ) {
        self.database = database
        self.interval = interval
        self.timeout = timeout
        self.logger = logger
    }

    /// What ``lead(_:onChange:whileLeader:)`` reports as it goes (for logs, metrics and tests).
    public enum Change: Sendable, Equatable {
        /// The lock is held by another replica's session (reported at each try).
        case standingBy
        /// This replica took the lock and starts the body.
        case leading
        /// The session holding the lock failed; the body is being cancelled.
        case lost
    }

    /// Runs `body` while this replica leads `role`; stands by while another replica does.
    ///
    /// Returns when `body` returns (releasing the lock), or when the calling task is cancelled (after cancelling
    /// `body` and waiting for it). When leadership is lost, `body` is cancelled and, once it has returned, this replica
    /// stands by again; `body` starts anew should it lead again.
    ///
    /// - Parameters:
    ///   - role: The service to lead.
    ///   - onChange: Told of each step.
    ///   - body: The service's work; it must return promptly when cancelled.
    /// - Throws: What `body` throws while leading (leadership is released first); a lost leadership and unreachable
    ///   database are not errors (they are logged and retried).
    public func lead(
        _ role: Role,
        onChange: @escaping @Sendable (Change) -> Void = { _ in },
        whileLeader body: @escaping @Sendable () async throws -> Void
    ) async throws {
        var session: PostgresConnection?
        var problem: String?
        while !Task.isCancelled {
            do {
                let connection: PostgresConnection
                if let session {
                    connection = session
                } else {
                    connection = try await connect()
                    session = connection
                }
                if problem != nil {
                    logger.notice("Leader election reconnected", metadata: ["role": "\(role.name)"])
                    problem = nil
                }
                if try await tryLock(role, on: connection) {
                    onChange(.leading)
                    logger.notice("Leading", metadata: ["role": "\(role.name)"])
                    let ending = await hold(connection, body)
                    session = nil
                    if case .lost = ending {
                    } else {
                        // Released before this returns, not when the server notices the closed connection.
                        _ = try? await connection.run("SELECT pg_advisory_unlock(\(Role.namespace), \(role.key))")
                    }
                    try? await connection.close()
                    switch ending {
                    case .returned: return
                    case .threw(let error): throw error
                    case .lost(let reason):
                        onChange(.lost)
                        logger.warning("Lost leadership", metadata: ["role": "\(role.name)", "reason": "\(reason)"])
                    }
                } else {
                    onChange(.standingBy)
                }
            } catch {
                if let session { try? await session.close() }
                session = nil
                let reason = describe(error)
                if reason != problem {
                    logger.warning(
                        "Leader election cannot reach PostgreSQL; retrying",
                        metadata: ["role": "\(role.name)", "reason": "\(reason)"]
                    )
                    problem = reason
                }
            }
            try? await Task.sleep(for: interval)
        }
        if let session { try? await session.close() }
    }

    // MARK: - Holding the lock

    /// How holding the lock ended.
    private enum Ending: Sendable {
        case returned
        case threw(any Error)
        case lost(String)
    }

    /// Runs `body` next to the session's check until one of them ends; cancels the other and waits for it.
    private func hold(
        _ connection: PostgresConnection,
        _ body: @escaping @Sendable () async throws -> Void
    ) async
        -> Ending
    {
        await withTaskGroup(of: Ending?.self) { group in
            group.addTask {
                do {
                    try await body()
                    return .returned
                } catch {
                    return .threw(error)
                }
            }
            group.addTask { await watch(connection) }
            let first = await group.next() ?? nil
            group.cancelAll()
            while await group.next() != nil {}
            // Cancelled from outside: the body's cancellation error is the caller's own.
            if Task.isCancelled, case .threw(let error) = first, error is CancellationError { return .returned }
            return first ?? .returned
        }
    }

    /// Checks the session every ``interval`` until a check fails (`.lost`) or the task is cancelled (`nil`).
    private func watch(_ connection: PostgresConnection) async -> Ending? {
        while true {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return nil
            }
            if let reason = await connection.unanswered(within: timeout, url: database.url) { return .lost(reason) }
        }
    }

    // MARK: - Connection

    /// A connection of its own for the election, with TCP keepalives that let the server notice a silent network cut
    /// (and release the lock) within about 11 s.
    private func connect() async throws -> PostgresConnection {
        let configuration = try database.url.connectionConfiguration()
        let connection = try await PostgresConnection.connect(
            configuration: configuration,
            id: 0,
            logger: PostgresConnection.quiet
        )
        do {
            // Ignored by PostgreSQL on a Unix socket; all four may be set by any role.
            try await connection.run("SET tcp_keepalives_idle = 5")
            try await connection.run("SET tcp_keepalives_interval = 2")
            try await connection.run("SET tcp_keepalives_count = 3")
            try await connection.run("SET tcp_user_timeout = 10000")
        } catch {
            try? await connection.close()
            throw error
        }
        return connection
    }

    /// Takes `role`'s lock for the session if no other session holds it.
    private func tryLock(_ role: Role, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.run("SELECT pg_try_advisory_lock(\(Role.namespace), \(role.key))")
        guard let row = rows.first else { return false }
        return try row.decode(Bool.self)
    }

    private func describe(_ error: any Error) -> String { PostgresConnection.reason(error, database.url) }
}
