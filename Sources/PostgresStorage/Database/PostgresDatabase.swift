public import Logging
package import PostgresNIO
import Storage

/// One PostgreSQL database shared by any number of `sealed serve` replicas: a `PostgresClient` connection pool, the
/// schema migrated at start, and transactions for the stores of this module.
///
/// The pool runs only inside ``withDatabase(_:maximumConnections:logger:migrations:_:)``, which migrates first and
/// stops the pool when its body returns, so no connection outlives the scope and no background task is left behind.
///
/// **Consistency.** A single statement is atomic and reads one snapshot. Writes of several statements run in
/// ``transaction(_:_:)`` at `SERIALIZABLE`: PostgreSQL then guarantees the outcome of some serial order of the
/// concurrent transactions, as SQLite's single writer does, and a transaction that would break it fails with a
/// serialization failure (SQLSTATE 40001) or a deadlock (40P01), which is retried from the start. Reads of several
/// statements run in ``snapshot(_:)`` (`REPEATABLE READ READ ONLY`: one snapshot, never a retry).
///
/// **Unreachable.** A statement that has waited ``connectionWait`` (``defaultConnectionWait``, 2 s) for a connection of
/// the pool asks whether PostgreSQL accepts connections at all (``LeaseWatch`` notices it within a quarter of the wait;
/// ``Reachability`` opens one connection outside the pool, within the same bound). When it does not (it cannot be
/// reached or refuses connections, so the pool has none to give), the statement fails as unreachable
/// (`databaseUnavailable`, ``Storage/StorageError/isUnreachable``), which the server answers with 503, within 2.25
/// times ``connectionWait``; when it does, the pool is only busy and the statement keeps waiting, asking again every
/// ``connectionWait``. Only the wait is bounded: a statement that has a connection runs until PostgreSQL answers or
/// the connection breaks, so a statement is never abandoned while it may still commit. When the connection breaks while
/// `COMMIT` is in flight, the outcome is unknown: the error is the same, and the write may have committed.
///
/// **Errors.** What PostgreSQL or the network refuse becomes ``Storage/StorageError`` `databaseUnavailable`, naming
/// the database by its ``PostgresURL`` (password hidden) and giving the server's message and SQLSTATE; errors the
/// stores throw inside a transaction (a compare-and-set conflict) pass through unchanged.
public final class PostgresDatabase: Sendable, CustomStringConvertible {
    /// The database this pool connects to.
    public let url: PostgresURL
    let client: PostgresClient
    /// How long a statement waits for a connection of the pool before it asks whether PostgreSQL accepts connections
    /// (and fails as unreachable when it does not).
    public let connectionWait: Duration
    /// The default of ``connectionWait``: short enough that a client whose deadline is a few seconds hears 503 rather
    /// than a timeout.
    public static let defaultConnectionWait = Duration.seconds(2)
    /// The statements waiting for a connection, and whether PostgreSQL accepts any.
    let leases: LeaseWatch
    /// How many times a transaction runs before its serialization failure is reported.
    static let maximumAttempts = 8

    private init(url: PostgresURL, client: PostgresClient, connectionWait: Duration, logger: Logger) {
        self.url = url
        self.client = client
        self.connectionWait = connectionWait
        self.leases = LeaseWatch(
            wait: connectionWait,
            reachability: Reachability(url: url, timeout: connectionWait, logger: logger),
            url: url
        )
    }

    public var description: String { "PostgresDatabase(\(url))" }

    /// Connects to the database at `url`, migrates its schema, runs `body` with the pool, then closes the pool.
    ///
    /// Migrating first connects once outside the pool, so that a wrong address, password or TLS setting is reported
    /// at once with PostgreSQL's reason rather than after the pool's retries.
    ///
    /// - Parameters:
    ///   - url: The database.
    ///   - maximumConnections: The most connections the pool opens.
    ///   - connectionWait: How long a statement waits for a connection (see the type's discussion).
    ///   - logger: Where the pool logs its background work (connections opened, lost).
    ///   - migrations: The schema's migrations; tests pass others.
    ///   - body: What to do with the database.
    /// - Throws: ``Storage/StorageError`` `incompatibleVersion` when the database's schema is newer than this
    ///   program's; `databaseUnavailable` when it cannot be reached or migrated; what `body` throws.
    public static func withDatabase<T: Sendable>(
        _ url: PostgresURL,
        maximumConnections: Int = 20,
        connectionWait: Duration = PostgresDatabase.defaultConnectionWait,
        logger: Logger = Logger(label: "sealed.postgres"),
        _ body: (PostgresDatabase) async throws -> T
    ) async throws -> T {
        try await withDatabase(
            url,
            maximumConnections: maximumConnections,
            connectionWait: connectionWait,
            logger: logger,
            migrations: PostgresSchema.migrations,
            body
        )
    }

    package static func withDatabase<T: Sendable>(
        _ url: PostgresURL,
        maximumConnections: Int = 20,
        connectionWait: Duration = PostgresDatabase.defaultConnectionWait,
        logger: Logger = Logger(label: "sealed.postgres"),
        migrations: [PostgresMigration],
        _ body: (PostgresDatabase) async throws -> T
    ) async throws -> T {
        try await PostgresSchema.migrate(url, migrations: migrations, logger: logger)
        let client = PostgresClient(
            configuration: url.clientConfiguration(maximumConnections: maximumConnections),
            backgroundLogger: logger
        )
        let database = PostgresDatabase(url: url, client: client, connectionWait: connectionWait, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await client.run() }
            group.addTask { await database.leases.run() }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }

    // MARK: - Running statements

    /// Runs one statement on a connection of the pool and returns its rows.
    @discardableResult
    package func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await withConnection { connection in try await connection.run(query) }
    }

    /// Runs one prepared statement on a connection of the pool and returns its rows.
    @discardableResult
    func query<Statement: PreparedQuery>(_ statement: Statement) async throws -> [PostgresRow] {
        try await withConnection { connection in try await connection.run(statement) }
    }

    /// Runs `body` on a connection of the pool, outside any transaction (each statement commits by itself).
    package func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await mappingErrors { try await leased(body) }
    }

    /// Runs `body` in one transaction (`SERIALIZABLE` unless `isolation` says otherwise), from the start again (up to
    /// ``maximumAttempts`` times) when PostgreSQL reports a serialization failure or a deadlock; commits when it
    /// returns, rolls back when it throws.
    ///
    /// `body` may run more than once, so it must have no effect outside the database (other than computing its
    /// result).
    package func transaction<T: Sendable>(
        _ isolation: Isolation = .serializable,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await leased { connection in
                    try await Self.run(body, on: connection, begin: isolation.begin)
                }
            } catch let error as PSQLError where Self.isRetryable(error) && attempt < Self.maximumAttempts {
                // Let the transaction that won finish before trying again; jittered so retries do not collide.
                let milliseconds = Int.random(in: 1...(5 << min(attempt, 6)))
                try await Task.sleep(for: .milliseconds(milliseconds))
                attempt += 1
            } catch {
                throw describe(error)
            }
        }
    }

    /// How a ``transaction(_:_:)`` isolates itself from concurrent ones.
    package enum Isolation: Sendable {
        /// The outcome of some serial order; conflicts fail and are retried.
        case serializable
        /// Each statement sees what was committed before it started; for transactions that serialize themselves on
        /// row locks (`SELECT … FOR UPDATE` waits for the holder and then reads its committed row, where
        /// `SERIALIZABLE` would fail and retry, which a hot row turns into a storm of retries).
        case readCommitted

        var begin: PostgresQuery {
            switch self {
            case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
            case .readCommitted: "BEGIN ISOLATION LEVEL READ COMMITTED"
            }
        }
    }

    /// Runs `body`'s reads on one snapshot (`REPEATABLE READ READ ONLY`).
    package func snapshot<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await mappingErrors {
            try await leased { connection in
                try await Self.run(body, on: connection, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            }
        }
    }

    /// `BEGIN`, `body`, `COMMIT`; `ROLLBACK` when `body` or the commit throws.
    static func run<T: Sendable>(
        _ body: (PostgresConnection) async throws -> T,
        on connection: PostgresConnection,
        begin: PostgresQuery
    ) async throws -> T {
        try await connection.run(begin)
        do {
            let value = try await body(connection)
            try await connection.run("COMMIT")
            return value
        } catch {
            // A connection that broke is dropped by the pool; one that is still open must not go back to it inside a
            // failed transaction.
            _ = try? await connection.run("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` on a connection of the pool, waiting for one as ``LeaseWatch`` allows (see ``ConnectionHandoff``).
    /// When the pool gives none (PostgreSQL is down, cannot be reached or refuses connections), the error is
    /// ``Storage/StorageError`` `databaseUnavailable` marked unreachable, whatever the pool's own error type; what
    /// `body` throws passes through.
    ///
    /// A connection the server has ended (`isClosed`) is never used: the pool may hand one out again before it has
    /// seen the end, so it goes back, and another is leased a moment later (while the wait lasts; after that the
    /// statement fails as it would on the closed connection).
    private func leased<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            // Ends the lease's wait (whichever is left); the lenders, once their connections are back.
            defer { group.cancelAll() }
            let started = ContinuousClock.now
            while true {
                let handoff = ConnectionHandoff()
                let ticket = leases.begin(handoff)
                group.addTask { [client] in
                    do {
                        try await client.withConnection { connection in await handoff.lend(connection) }
                    } catch {
                        handoff.giveUp(error)
                    }
                }
                let connection = try await connection(from: handoff, ticket)
                if connection.isClosed, ContinuousClock.now - started < connectionWait {
                    handoff.giveBack()
                    try await Task.sleep(for: .milliseconds(1))
                    continue
                }
                defer { handoff.giveBack() }
                return try await body(connection)
            }
        }
    }

    /// The connection `handoff` hands over, or why the wait for it ended (as ``Storage/StorageError``).
    private func connection(from handoff: ConnectionHandoff, _ ticket: Int) async throws -> PostgresConnection {
        defer { leases.end(ticket) }
        do {
            return try await handoff.connection()
        } catch let error as StorageError {
            throw error
        } catch {
            let reason = "PostgreSQL at \(url) gave no connection: \(type(of: error))."
            var unavailable = (error as? PSQLError).map { Self.unavailable(url, $0) }
                ?? StorageError(.databaseUnavailable, reason)
            unavailable.isUnreachable = !Task.isCancelled
            throw unavailable
        }
    }

    private func mappingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw describe(error)
        }
    }

    /// `error` as this module reports it: PostgreSQL's and the network's errors as ``Storage/StorageError``, anything
    /// else (the stores' own errors) unchanged.
    func describe(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        return Self.unavailable(url, error)
    }

    /// A `databaseUnavailable` error for `error`: the server's message and SQLSTATE, or the connection's failure.
    ///
    /// PSQLError's own description hides everything (it may carry a query's bound values); the message built here
    /// takes only the server's one-line message, which names no bound value, or the network error.
    static func unavailable(_ url: PostgresURL, _ error: PSQLError) -> StorageError {
        let reason: String
        if let message = error.serverInfo?[.message] {
            reason = "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
        } else if let underlying = error.underlying {
            reason = "\(error.code): \(underlying)"
        } else {
            reason = "\(error.code)"
        }
        return StorageError(
            .databaseUnavailable,
            "PostgreSQL at \(url) failed: \(reason).",
            isUnreachable: isUnreachable(error)
        )
    }

    /// Whether `error` says PostgreSQL could not be reached rather than that it refused a statement: the connection
    /// failed, broke or was closed, or the server answered with SQLSTATE class 08 (connection exception) or 57P
    /// (shutting down, crashed, starting up).
    package static func isUnreachable(_ error: PSQLError) -> Bool {
        if let state = error.serverInfo?[.sqlState] { return state.hasPrefix("08") || state.hasPrefix("57P") }
        let unreachable: Set<PSQLError.Code> = [
            .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
        ]
        return unreachable.contains(error.code)
    }

    /// A serialization failure (40001) or a deadlock (40P01): the transaction can run again.
    static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }
}

extension PostgresDatabase: Hashable {
    /// The same pool: a database is its pool's identity, not its URL.
    public static func == (lhs: PostgresDatabase, rhs: PostgresDatabase) -> Bool { lhs === rhs }

    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
