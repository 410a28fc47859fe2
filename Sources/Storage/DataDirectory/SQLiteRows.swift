package import Foundation
import GRDB

/// A data directory's SQLite tables read row by row, as stored: what `sealed admin migrate` copies into another
/// database. Read-only: the files are opened without migrating or changing anything.
package struct SQLiteRows: Sendable {
    /// One stored value, in SQLite's own storage classes.
    package enum Value: Sendable, Hashable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob(Data)
    }

    /// A page of rows, each with the requested columns in order, and where the next page starts.
    package struct Page: Sendable {
        package var rows: [[Value]]
        /// The offset of the next page; `nil` when the table has no more rows.
        package var next: Int?
    }

    let queue: DatabaseQueue

    /// Opens `file` read-only.
    ///
    /// - Throws: ``StorageError`` `databaseUnavailable` when it is not an SQLite database or cannot be read.
    package init(file: URL) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        do {
            queue = try DatabaseQueue(path: file.path, configuration: configuration)
        } catch {
            throw StorageError(.databaseUnavailable, "cannot open \(file.lastPathComponent): \(error)")
        }
    }

    /// The names of the table's columns, in their declared order; empty when there is no such table.
    package func columns(of table: String) throws -> [String] {
        try reading { db in try db.columns(in: table).map(\.name) }
    }

    /// Whether the database has the table.
    package func hasTable(_ table: String) throws -> Bool {
        try reading { db in try db.tableExists(table) }
    }

    /// Up to `limit` rows from the `offset`th on, in the order they were written (`rowid`), or in primary-key order in
    /// a table without one.
    package func page(of table: String, columns: [String], offset: Int = 0, limit: Int = 1000) throws -> Page {
        let list = columns.map { $0.quotedDatabaseIdentifier }.joined(separator: ", ")
        return try reading { db in
            let withoutRowID = try Row.fetchOne(
                db,
                sql: "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ? AND sql LIKE '%WITHOUT ROWID%'",
                arguments: [table]
            ) != nil
            let order =
                withoutRowID
                ? try db.primaryKey(table).columns.map { $0.quotedDatabaseIdentifier }.joined(separator: ", ")
                : "rowid"
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT \(list) FROM \(table.quotedDatabaseIdentifier) ORDER BY \(order) LIMIT ? OFFSET ?",
                arguments: [limit, offset]
            )
            return Page(
                rows: rows.map { row in (0..<columns.count).map { Self.value(row[$0] as DatabaseValue) } },
                next: rows.count == limit ? offset + limit : nil
            )
        }
    }

    /// Closes the file.
    package func close() throws { try queue.close() }

    private func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch {
            throw StorageError(.databaseUnavailable, "reading \(queue.path): \(error)")
        }
    }

    static func value(_ stored: DatabaseValue) -> Value {
        switch stored.storage {
        case .null: .null
        case .int64(let value): .integer(value)
        case .double(let value): .real(value)
        case .string(let value): .text(value)
        case .blob(let value): .blob(value)
        }
    }
}
