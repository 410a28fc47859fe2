public import AccessControl
public import Catalog
import Foundation
import GRDB

/// The identities (users, teams, roles) in SQLite: one JSON document per record; ``apply(_:)`` writes a whole
/// change list in one transaction. Users, teams and roles carry a `version` column: each is written only over the
/// version it was read from (`concurrentModification` otherwise, and the transaction rolls back).
public struct SQLiteIdentityStore: IdentityStore {
    public let database: SQLiteDatabase

    public init(database: SQLiteDatabase) { self.database = database }

    public func load() async throws -> IdentitySnapshot {
        try await database.pool.read { db in
            var snapshot = IdentitySnapshot()
            for (user, version) in try Documents.versioned(User.self, in: "iam_user", db) {
                var user = user
                user.version = version
                snapshot.users[user.name] = user
            }
            for (team, version) in try Documents.versioned(Team.self, in: "iam_team", db) {
                var team = team
                team.version = version
                snapshot.teams[team.name] = team
            }
            for (role, version) in try Documents.versioned(Role.self, in: "iam_role", db) {
                var role = role
                role.version = version
                snapshot.roles[role.name] = role
            }
            return snapshot
        }
    }

    public func apply(_ changes: [IdentityChange]) async throws {
        guard !changes.isEmpty else { return }
        try await database.pool.write { db in
            for change in changes {
                switch change {
                case .putUser(let user):
                    try Documents.put(user, key: user.name, over: user.version, in: "iam_user", db, what: "user")
                case .deleteUser(let name): try Documents.delete(name, in: "iam_user", db)
                case .putTeam(let team):
                    try Documents.put(team, key: team.name, over: team.version, in: "iam_team", db, what: "team")
                case .putRole(let role):
                    try Documents.put(role, key: role.name, over: role.version, in: "iam_role", db, what: "role")
                case .deleteRole(let name): try Documents.delete(name, in: "iam_role", db)
                }
            }
        }
    }
}

/// The catalog's domains and event types in SQLite.
public struct SQLiteCatalogStore: CatalogStore {
    public let database: SQLiteDatabase

    public init(database: SQLiteDatabase) { self.database = database }

    public func load() async throws -> (domains: [Domain], eventTypes: [EventType]) {
        try await database.pool.read { db in
            (
                try Documents.all(Domain.self, in: "catalog_domain", db),
                try Documents.all(EventType.self, in: "catalog_event_type", db)
            )
        }
    }

    public func put(_ domain: Domain) async throws {
        try await database.pool.write { db in try Documents.put(domain, key: domain.name, in: "catalog_domain", db) }
    }

    public func put(_ eventType: EventType) async throws {
        try await database.pool.write { db in
            try Documents.put(eventType, key: eventType.name, in: "catalog_event_type", db)
        }
    }
}

/// Access requests in SQLite, each written compare-and-set on its `version` column.
public struct SQLiteAccessRequestStore: AccessRequestStore {
    public let database: SQLiteDatabase

    public init(database: SQLiteDatabase) { self.database = database }

    public func load() async throws -> [AccessRequest] {
        try await database.pool.read { db in
            try Documents.versioned(AccessRequest.self, in: "access_request", db).map { request, version in
                var request = request
                request.version = version
                return request
            }
        }
    }

    public func put(_ request: AccessRequest) async throws {
        try await database.pool.write { db in
            try Documents.put(
                request,
                key: request.id,
                over: request.version,
                in: "access_request",
                db,
                what: "access request"
            )
        }
    }
}

/// JSON documents in `(key, document)` tables. Dates encode as seconds since 2001 (`Date`'s own form), exactly.
enum Documents {
    static func all<T: Decodable>(_ type: T.Type, in table: String, _ db: Database) throws -> [T] {
        let decoder = JSONDecoder()
        return try Data.fetchAll(db, sql: "SELECT document FROM \(table) ORDER BY 1").map {
            try decoder.decode(T.self, from: $0)
        }
    }

    /// The documents of a table with a `version` column, with their versions.
    static func versioned<T: Decodable>(_ type: T.Type, in table: String, _ db: Database) throws -> [(T, Int)] {
        let decoder = JSONDecoder()
        return try Row.fetchAll(db, sql: "SELECT document, version FROM \(table) ORDER BY 1").map { row in
            (try decoder.decode(T.self, from: row["document"] as Data), row["version"] as Int)
        }
    }

    /// Writes a document compare-and-set: inserts it as version 1 when `version` is 0 and the key is absent, or
    /// replaces version `version` by version `version + 1`.
    ///
    /// - Throws: ``AccessControlError`` `concurrentModification` when the stored version is another.
    static func put<T: Encodable>(
        _ value: T,
        key: String,
        over version: Int,
        in table: String,
        _ db: Database,
        what: String
    ) throws {
        let document = try encode(value)
        let keyColumn = keyColumn(of: table)
        if version == 0 {
            try db.execute(
                sql: """
                    INSERT INTO \(table) (\(keyColumn), document, version) VALUES (?, ?, 1)
                    ON CONFLICT (\(keyColumn)) DO NOTHING
                    """,
                arguments: [key, document]
            )
        } else {
            try db.execute(
                sql: "UPDATE \(table) SET document = ?, version = version + 1 WHERE \(keyColumn) = ? AND version = ?",
                arguments: [document, key, version]
            )
        }
        guard db.changesCount == 1 else { throw AccessControlError.staleVersion(of: "\(what) \(key)") }
    }

    static func put<T: Encodable>(_ value: T, key: String, in table: String, _ db: Database) throws {
        let document = try encode(value)
        let keyColumn = keyColumn(of: table)
        try db.execute(
            sql: """
                INSERT INTO \(table) (\(keyColumn), document) VALUES (?, ?)
                ON CONFLICT (\(keyColumn)) DO UPDATE SET document = excluded.document
                """,
            arguments: [key, document]
        )
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    private static func keyColumn(of table: String) -> String { table == "access_request" ? "id" : "name" }

    static func delete(_ key: String, in table: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM \(table) WHERE name = ?", arguments: [key])
    }
}
