import Foundation
import Logging
import PostgresNIO
import Storage

extension PostgresConnection {
    /// Runs one statement and returns its rows.
    ///
    /// Statements are not logged: their bound values include sealed secrets and records of people's access.
    ///
    /// - Throws: ``Storage/StorageError`` `databaseUnavailable` (unreachable) when the connection is already closed:
    ///   postgres-nio would write the statement into the closed channel, where it is dropped and never answered (a
    ///   `ROLLBACK` after the server ended the session hung that way, and with it the request and the replica's
    ///   shutdown); PostgreSQL's errors otherwise.
    @discardableResult
    func run(_ query: PostgresQuery) async throws -> [PostgresRow] {
        guard !isClosed else { throw Self.closed }
        return try await self.query(query, logger: Self.quiet).collect()
    }

    static let closed = StorageError(
        .databaseUnavailable,
        "The connection to PostgreSQL was closed before the statement was sent.",
        isUnreachable: true
    )

    static let quiet = Logger(label: "sealed.postgres.statement", factory: { _ in SwiftLogNoOpLogHandler() })
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
