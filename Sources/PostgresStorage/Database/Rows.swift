import Foundation
import Logging
package import PostgresNIO
import Storage

extension PostgresConnection {
    /// Runs one statement and returns its rows.
    ///
    /// Statements are not logged: their bound values include sealed secrets and records of people's access.
    ///
    /// - Throws: ``Storage/StorageError`` `databaseUnavailable` (unreachable) when the connection is closed; PostgreSQL's
    ///   errors otherwise.
    @discardableResult
    package func run(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await sent { connection in try await connection.query(query, logger: Self.quiet).collect() }
    }

    /// Runs a statement that PostgreSQL parses and plans once per connection, and returns its rows.
    ///
    /// The same guard against a closed connection as an ad hoc statement's, and as silent.
    @discardableResult
    func run<Statement: PreparedQuery>(_ statement: Statement) async throws -> [PostgresRow] {
        try await sent { connection in
            var rows: [PostgresRow] = []
            for try await row in try await connection.execute(statement, logger: Self.quiet) { rows.append(row) }
            return rows
        }
    }

    /// Runs `send` (a statement's write and the reading of its rows) on this connection's event loop, after checking
    /// there that the connection is open.
    ///
    /// postgres-nio writes a statement into its channel without a promise: once the channel has closed and dropped
    /// its handlers, the statement is discarded and never answered, and whoever awaits it (a request, a `ROLLBACK`,
    /// the replica's shutdown) hangs. A check made on another thread leaves the connection time to close before the
    /// write. On the loop, the check and the write happen in one job (postgres-nio writes before its first
    /// suspension), so an open connection's handler receives the statement and answers it or fails it when the
    /// connection closes. The closure is `@concurrent` so that it runs on the loop (the task's executor preference)
    /// whatever the caller's isolation.
    @concurrent
    private func sent(
        _ send: @Sendable (PostgresConnection) async throws -> [PostgresRow]
    ) async throws -> [PostgresRow] {
        try await withTaskExecutorPreference(EventLoopExecutor(eventLoop)) { @concurrent in
            guard !self.isClosed else { throw Self.closed }
            return try await send(self)
        }
    }

    static let closed = StorageError(
        .databaseUnavailable,
        "The connection to PostgreSQL was closed before the statement was sent.",
        isUnreachable: true
    )

    static let quiet = Logger(label: "sealed.postgres.statement", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// A statement every request runs, prepared once on each connection of the pool (a named statement: PostgreSQL parses
/// and plans it on the first use only, where an ad hoc ``PostgresNIO/PostgresQuery`` is parsed and planned on each
/// run). Its SQL names its columns (never `*`), so a column a later migration adds does not change a prepared
/// statement's result; its rows are read by column name, as ad hoc statements' rows are.
protocol PreparedQuery: PostgresPreparedStatement where Row == PostgresRow {}

extension PreparedQuery {
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresRandomAccessRow {
    /// The value of `column`, decoded as `T` (an optional `T` for a nullable column).
    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }

    /// A date stored as `double precision` seconds since 2001-01-01 (see ``PostgresSchema``).
    func date(_ column: String) throws -> Date {
        Date(timeIntervalSinceReferenceDate: try value(column, as: Double.self))
    }

    /// A nullable date column.
    func optionalDate(_ column: String) throws -> Date? {
        try value(column, as: Double?.self).map(Date.init(timeIntervalSinceReferenceDate:))
    }
}

/// The domain modules' records as the JSON documents the schema keeps in `bytea` columns: sorted keys, so equal
/// records are equal bytes; slashes unescaped; dates as seconds since 2001 (`Date`'s own form), exactly.
enum Documents {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }
}
