import Foundation
import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs one statement and returns its rows.
    ///
    /// Statements are not logged: their bound values include sealed secrets and records of people's access.
    @discardableResult
    func run(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await self.query(query, logger: Self.quiet).collect()
    }

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
