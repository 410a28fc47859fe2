public import AccessControl
public import Catalog
import Foundation
import PostgresNIO

/// The identities (users, teams, roles) in PostgreSQL: one JSON document per record. ``apply(_:)`` writes a whole
/// change list in one serializable transaction; a user, team or role is written only over the version it was read from
/// (`concurrentModification` otherwise, and the whole list rolls back), also when the other writer is another replica.
/// Each change list is announced on the ``PostgresChangeFeed`` as a change of ``changeStore`` when it commits.
public struct PostgresIdentityStore: IdentityStore {
    public let database: PostgresDatabase
    /// The ``PostgresChangeFeed/Change/store`` of identity changes.
    public static let changeStore = "identities"

    public init(database: PostgresDatabase) { self.database = database }

    public func load() async throws -> IdentitySnapshot {
        try await database.snapshot { connection in
            var snapshot = IdentitySnapshot()
            for (user, version) in try await Table.user.versioned(User.self, on: connection) {
                var user = user
                user.version = version
                snapshot.users[user.name] = user
            }
            for (team, version) in try await Table.team.versioned(Team.self, on: connection) {
                var team = team
                team.version = version
                snapshot.teams[team.name] = team
            }
            for (role, version) in try await Table.role.versioned(Role.self, on: connection) {
                var role = role
                role.version = version
                snapshot.roles[role.name] = role
            }
            return snapshot
        }
    }

    public func apply(_ changes: [IdentityChange]) async throws {
        guard !changes.isEmpty else { return }
        try await database.transaction { connection in
            for change in changes {
                switch change {
                case .putUser(let user):
                    try await Table.user.put(user, at: user.name, over: user.version, on: connection, what: "user")
                case .deleteUser(let name): try await Table.user.delete(name, on: connection)
                case .putTeam(let team):
                    try await Table.team.put(team, at: team.name, over: team.version, on: connection, what: "team")
                case .putRole(let role):
                    try await Table.role.put(role, at: role.name, over: role.version, on: connection, what: "role")
                case .deleteRole(let name): try await Table.role.delete(name, on: connection)
                }
            }
            try await PostgresChangeFeed.notify(.init(store: Self.changeStore, key: nil), on: connection)
        }
    }

    /// The stored version of role `name` (0 when absent): one primary-key read, so that a role session is never
    /// issued on a trust policy another replica has changed.
    public func roleVersion(named name: String) async throws -> Int? {
        let rows = try await database.query("SELECT version FROM iam_role WHERE name = \(name)")
        return try rows.first?.decode(Int.self) ?? 0
    }
}

/// The catalog's domains and event types in PostgreSQL; each write is announced on the ``PostgresChangeFeed`` as a
/// change of ``changeStore`` when it commits.
public struct PostgresCatalogStore: CatalogStore {
    public let database: PostgresDatabase
    /// The ``PostgresChangeFeed/Change/store`` of catalog changes.
    public static let changeStore = "catalog"

    public init(database: PostgresDatabase) { self.database = database }

    public func load() async throws -> (domains: [Domain], eventTypes: [EventType]) {
        try await database.snapshot { connection in
            (
                try await Table.domain.all(Domain.self, on: connection),
                try await Table.eventType.all(EventType.self, on: connection)
            )
        }
    }

    public func put(_ domain: Domain) async throws {
        try await database.transaction { connection in
            try await Table.domain.put(domain, at: domain.name, on: connection)
            try await PostgresChangeFeed.notify(.init(store: Self.changeStore, key: domain.name), on: connection)
        }
    }

    public func put(_ eventType: EventType) async throws {
        try await database.transaction { connection in
            try await Table.eventType.put(eventType, at: eventType.name, on: connection)
            try await PostgresChangeFeed.notify(.init(store: Self.changeStore, key: eventType.name), on: connection)
        }
    }
}

/// Access requests in PostgreSQL, each written compare-and-set on its `version` column (one statement, so two
/// replicas approving the same request at once cannot both win); each write is announced on the
/// ``PostgresChangeFeed`` as a change of ``changeStore`` when it commits.
public struct PostgresAccessRequestStore: AccessRequestStore {
    public let database: PostgresDatabase
    /// The ``PostgresChangeFeed/Change/store`` of access-request changes.
    public static let changeStore = "access-requests"

    public init(database: PostgresDatabase) { self.database = database }

    public func load() async throws -> [AccessRequest] {
        try await database.snapshot { connection in
            try await Table.accessRequest.versioned(AccessRequest.self, on: connection).map { request, version in
                var request = request
                request.version = version
                return request
            }
        }
    }

    /// One primary-key read.
    public func load(id: String) async throws -> AccessRequest? {
        try await database.snapshot { connection in
            try await Table.accessRequest.versioned(AccessRequest.self, at: id, on: connection).map { request, version in
                var request = request
                request.version = version
                return request
            }
        }
    }

    public func put(_ request: AccessRequest) async throws {
        try await database.transaction { connection in
            try await Table.accessRequest.put(
                request,
                at: request.id,
                over: request.version,
                on: connection,
                what: "access request"
            )
            let change = PostgresChangeFeed.Change(store: Self.changeStore, key: request.id)
            try await PostgresChangeFeed.notify(change, on: connection)
        }
    }
}

/// A `(key, document[, version])` table. Its name and key column are constants of this type, never input, so they
/// are the only text spliced into the statements; every value is a bound parameter.
private struct Table: Sendable {
    let name: String
    let key: String

    static let user = Table(name: "iam_user", key: "name")
    static let team = Table(name: "iam_team", key: "name")
    static let role = Table(name: "iam_role", key: "name")
    static let domain = Table(name: "catalog_domain", key: "name")
    static let eventType = Table(name: "catalog_event_type", key: "name")
    static let accessRequest = Table(name: "access_request", key: "id")

    func all<T: Decodable>(_ type: T.Type, on connection: PostgresConnection) async throws -> [T] {
        let rows = try await connection.run(
            "SELECT document FROM \(unescaped: name) ORDER BY \(unescaped: key)",
        )
        return try rows.map { try Documents.decode(T.self, try $0.decode(Data.self)) }
    }

    /// The documents with their versions.
    func versioned<T: Decodable>(_ type: T.Type, on connection: PostgresConnection) async throws -> [(T, Int)] {
        let rows = try await connection.run(
            "SELECT document, version FROM \(unescaped: name) ORDER BY \(unescaped: key)",
        )
        return try rows.map { row in
            let (document, version) = try row.decode((Data, Int).self)
            return (try Documents.decode(T.self, document), version)
        }
    }

    /// The document at key `id` with its version, `nil` when absent.
    func versioned<T: Decodable>(_ type: T.Type, at id: String, on connection: PostgresConnection) async throws -> (T, Int)? {
        let rows = try await connection.run(
            "SELECT document, version FROM \(unescaped: name) WHERE \(unescaped: key) = \(id)",
        )
        return try rows.first.map { row in
            let (document, version) = try row.decode((Data, Int).self)
            return (try Documents.decode(T.self, document), version)
        }
    }

    /// Writes a document compare-and-set: inserts it as version 1 when `version` is 0 and the key is absent, or
    /// replaces version `version` by version `version + 1`.
    ///
    /// - Throws: ``AccessControl/AccessControlError`` `concurrentModification` when the stored version is another.
    func put<T: Encodable>(
        _ value: T,
        at id: String,
        over version: Int,
        on connection: PostgresConnection,
        what: String
    ) async throws {
        let document = try Documents.encode(value)
        let query: PostgresQuery =
            if version == 0 {
                try """
                INSERT INTO \(unescaped: name) (\(unescaped: key), document, version) VALUES (\(id), \(document), 1)
                ON CONFLICT (\(unescaped: key)) DO NOTHING
                RETURNING 1
                """
            } else {
                try """
                UPDATE \(unescaped: name) SET document = \(document), version = version + 1
                WHERE \(unescaped: key) = \(id) AND version = \(version)
                RETURNING 1
                """
            }
        let written = try await connection.run(query)
        guard written.count == 1 else { throw AccessControlError.staleVersion(of: "\(what) \(id)") }
    }

    func put<T: Encodable>(_ value: T, at id: String, on connection: PostgresConnection) async throws {
        let document = try Documents.encode(value)
        try await connection.run(
            try """
            INSERT INTO \(unescaped: name) (\(unescaped: key), document) VALUES (\(id), \(document))
            ON CONFLICT (\(unescaped: key)) DO UPDATE SET document = excluded.document
            """
        )
    }

    func delete(_ id: String, on connection: PostgresConnection) async throws {
        try await connection.run(
            "DELETE FROM \(unescaped: name) WHERE \(unescaped: key) = \(id)"
        )
    }
}
