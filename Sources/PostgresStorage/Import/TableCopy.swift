import Foundation
import PostgresNIO
import Storage

/// How one SQLite table of a data directory becomes one PostgreSQL table: the columns are matched by name (after
/// ``renamed``), each value converted to the PostgreSQL column's type; a PostgreSQL column the source lacks must have
/// a default, and a source column PostgreSQL lacks stops the copy (its data would be lost).
struct TableCopy: Sendable {
    /// Which file of the data directory holds the source table.
    enum File: String, Sendable {
        case platform = "sealed.sqlite"
        case tables = "tables.sqlite"
        case bus = "bus.sqlite"
    }

    var file: File
    var source: String
    var target: String
    /// Target column → the source column it takes its value from, where the names differ.
    var renamed: [String: String] = [:]
    /// Target columns whose source holds microseconds since 1970 and the target seconds since 2001 (`Date`'s
    /// reference date), as the bus stores its times on each back end.
    var microsecondsSince1970: Set<String> = []

    /// The platform's tables in an order that satisfies their foreign keys, then the table service's and the bus's.
    static let all: [TableCopy] =
        [
            "iam_user", "iam_team", "iam_role", "access_key", "kms_key", "kms_key_material", "kms_alias",
            "catalog_domain", "catalog_event_type", "access_request", "subject_secret", "subject_key", "subject_fence",
            "team_webhook", "webhook_delivery", "bus_group_owner",
        ].map { TableCopy(file: .platform, source: $0, target: $0) }
        + ["ddb_table", "ddb_item"].map { TableCopy(file: .tables, source: $0, target: $0) }
        + [
            TableCopy(
                file: .bus,
                source: "bus_topic",
                target: "bus_topic",
                renamed: ["creation_date": "created_at"],
                microsecondsSince1970: ["creation_date"]
            ),
            TableCopy(file: .bus, source: "bus_event", target: "bus_event", microsecondsSince1970: ["publish_time"]),
            // A committed offset was handed out: nothing is waiting for redelivery after the move.
            TableCopy(
                file: .bus,
                source: "bus_group_offset",
                target: "bus_group",
                renamed: ["handed_out_through": "committed"]
            ),
        ]

    /// A PostgreSQL column, as `information_schema` describes it.
    struct Column: Sendable {
        var name: String
        var type: String
        var hasDefault: Bool
        /// `GENERATED ALWAYS`: the database assigns it.
        var generated: Bool
    }

    /// The target's columns.
    static func columns(of table: String, on connection: PostgresConnection) async throws -> [Column] {
        try await connection.run(
            """
            SELECT column_name, data_type, column_default IS NOT NULL, is_identity = 'YES' OR is_generated <> 'NEVER'
            FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table)
            ORDER BY ordinal_position
            """
        ).map { row in
            let (name, type, hasDefault, generated) = try row.decode((String, String, Bool, Bool).self)
            return Column(name: name, type: type, hasDefault: hasDefault, generated: generated)
        }
    }

    /// Which source column feeds each target column that gets a value; refuses a mismatch either way.
    func plan(target columns: [Column], source sourceColumns: [String]) throws -> [(Column, String)] {
        let available = Set(sourceColumns)
        var plan: [(Column, String)] = []
        for column in columns where !column.generated {
            let name = renamed[column.name] ?? column.name
            if available.contains(name) {
                plan.append((column, name))
            } else if !column.hasDefault {
                throw ImportError("\(file.rawValue) \(source) has no column \(name) for \(target).\(column.name)")
            }
        }
        let generated = Set(columns.filter(\.generated).map(\.name))
        let used = Set(plan.map(\.1))
        if let lost = sourceColumns.first(where: { !used.contains($0) && !generated.contains($0) }) {
            throw ImportError("\(file.rawValue) \(source).\(lost) has no place in PostgreSQL's \(target)")
        }
        return plan
    }

    /// Appends one source value to `bindings` as the target column's type.
    func bind(_ value: SQLiteRows.Value, as column: Column, into bindings: inout PostgresBindings) throws {
        let mismatch = ImportError("\(target).\(column.name): a value PostgreSQL's \(column.type) cannot hold")
        switch (column.type, value) {
        case (_, .null): bindings.appendNull()
        case ("text", .text(let text)): bindings.append(text)
        case ("bytea", .blob(let data)): try bindings.append(data)
        case ("bytea", .text(let text)): try bindings.append(Data(text.utf8))
        case ("bigint", .integer(let integer)): bindings.append(integer)
        case ("integer", .integer(let integer)):
            guard let small = Int32(exactly: integer) else { throw mismatch }
            bindings.append(small)
        case ("boolean", .integer(let integer)):
            guard integer == 0 || integer == 1 else { throw mismatch }
            bindings.append(integer == 1)
        case ("double precision", .integer(let integer)) where microsecondsSince1970.contains(column.name):
            bindings.append(Double(integer) / 1_000_000 - Date.timeIntervalBetween1970AndReferenceDate)
        case ("double precision", .integer(let integer)): bindings.append(Double(integer))
        case ("double precision", .real(let real)): bindings.append(real)
        default: throw mismatch
        }
    }
}

/// Why a data directory cannot be copied; nothing in it names a secret.
public struct ImportError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
