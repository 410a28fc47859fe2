public import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL server `scripts/test` starts (a throwaway cluster on a free loopback port), named by
/// `SEALED_TEST_POSTGRES_URL` (`postgres://USER@127.0.0.1:PORT/postgres`, a role that may create databases).
///
/// Each test gets a database of its own: ``withDatabase(_:)`` creates one with a random name and drops it afterwards,
/// so tests run in parallel without seeing each other's rows. When the variable is unset, ``located()`` prints a
/// skip note, or fails with `CI=true`.
public struct PostgresFixture: Sendable {
    /// The server's URL, as `SEALED_TEST_POSTGRES_URL` gives it.
    public let serverURL: URLComponents

    /// The fixture, or `nil` on a local run without a server (a CI run throws instead).
    public static func located() throws -> PostgresFixture? {
        guard let text = ProcessInfo.processInfo.environment["SEALED_TEST_POSTGRES_URL"], !text.isEmpty else {
            if TestEnvironment.isCI {
                throw TestEnvironment.Missing(
                    description: "SEALED_TEST_POSTGRES_URL is unset with CI=true (scripts/test starts PostgreSQL)"
                )
            }
            print("note: skipping, PostgreSQL not running (SEALED_TEST_POSTGRES_URL unset; scripts/test starts it)")
            return nil
        }
        guard let components = URLComponents(string: text), components.host != nil, components.user != nil else {
            throw TestEnvironment.Missing(description: "SEALED_TEST_POSTGRES_URL is not a postgres:// URL")
        }
        return PostgresFixture(serverURL: components)
    }

    /// The URL of database `name` on the server.
    public func url(ofDatabase name: String) -> String {
        var components = serverURL
        components.path = "/" + name
        components.queryItems = [URLQueryItem(name: "sslmode", value: "disable")]
        return components.string!
    }

    /// Runs `body` with the URL of a new empty database, dropped afterwards (also when `body` throws).
    public func withDatabase<T>(_ body: (String) async throws -> T) async throws -> T {
        let name = "sealed_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        // The name is made here of [a-z0-9_]: safe as an identifier, which a statement cannot bind.
        try await administer("CREATE DATABASE \(name)")
        do {
            let result = try await body(url(ofDatabase: name))
            try await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            return result
        } catch {
            try? await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            throw error
        }
    }

    /// Runs one statement as the fixture's role, connected to the server's own database.
    public func administer(_ statement: String) async throws {
        let server = String(serverURL.path.dropFirst())
        _ = try await run(statement, in: server.isEmpty ? "postgres" : server)
    }

    /// The integer a query (`SELECT count(*) …`) answers in the database `url` names (one of ``withDatabase(_:)``'s),
    /// as the fixture's role; `nil` when it answers no row.
    public func integer(_ query: String, inDatabaseOf url: String) async throws -> Int? {
        let name = String((URLComponents(string: url)?.path ?? "").dropFirst())
        return try await run(query, in: name).first?.decode(Int.self)
    }

    /// A statement of the fixture that PostgreSQL refused, with what it said (`PSQLError` describes itself as a
    /// generic sentence unless reflected; the test cluster's role has no password to hide).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `statement` in database `name` on a connection of its own, and returns its rows.
    ///
    /// - Throws: ``Failure`` naming the statement and PostgreSQL's error.
    private func run(_ statement: String, in name: String) async throws -> [PostgresRow] {
        do {
            return try await runUnexplained(statement, in: name)
        } catch let error as PSQLError {
            throw Failure(description: "\(statement) in \(name): \(String(reflecting: error))")
        }
    }

    private func runUnexplained(_ statement: String, in name: String) async throws -> [PostgresRow] {
        let configuration = PostgresConnection.Configuration(
            host: serverURL.host!,
            port: serverURL.port ?? 5432,
            username: serverURL.user!,
            password: serverURL.password,
            database: name,
            tls: .disable
        )
        let logger = Logger(label: "sealed.tests.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).collect()
            try await connection.close()
            return rows
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
