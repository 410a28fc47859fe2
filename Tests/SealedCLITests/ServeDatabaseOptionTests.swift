import Foundation
import Testing

/// `sealed serve --database` and `SEALED_DATABASE_URL`: until every store is on PostgreSQL, refused at start with
/// what is missing (or what is wrong with the URL), never showing the password, and before anything is created.
struct ServeDatabaseOptionTests {
    @Test func aPostgreSQLDatabaseIsRefusedWithWhatIsMissing() async throws {
        for (arguments, environment) in [
            (["--database", "postgres://sealed:hunter2@db.example:5432/sealed?sslmode=require"], [:]),
            ([], ["SEALED_DATABASE_URL": "postgres://sealed:hunter2@db.example:5432/sealed?sslmode=require"]),
        ] as [([String], [String: String])] {
            let run = try await ESDKCommandTests.sealed(
                ["serve", "--data-dir", "/nonexistent-never-created"] + arguments,
                environment: environment
            )
            #expect(run.status != 0)
            #expect(run.stderr.contains("is not available yet"), "\(run.stderr)")
            #expect(run.stderr.contains("the audit trail"), "\(run.stderr)")
            #expect(run.stderr.contains("postgres://sealed:***@db.example:5432/sealed"), "\(run.stderr)")
            #expect(!run.stderr.contains("hunter2"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "/nonexistent-never-created"))
        }
    }

    @Test func aMalformedDatabaseURLIsRefusedWithoutItsPassword() async throws {
        let run = try await ESDKCommandTests.sealed([
            "serve", "--data-dir", "/nonexistent-never-created", "--database", "postgres://sealed:hunter2@h/d?ssl=on",
        ])
        #expect(run.status != 0)
        #expect(run.stderr.contains("has the parameter ssl"), "\(run.stderr)")
        #expect(!run.stderr.contains("hunter2"), "\(run.stderr)")
    }
}
