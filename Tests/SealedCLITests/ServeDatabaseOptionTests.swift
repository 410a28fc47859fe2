import Foundation
import Testing

/// `sealed serve --database` and `SEALED_DATABASE_URL`: a database that cannot be reached fails the start with
/// PostgreSQL's reason, naming the database without its password, and creates no data directory; a malformed URL is
/// refused the same way; the PostgreSQL-only options need `--database`. (Serving from PostgreSQL, with two replicas:
/// ``ServeReplicaTests``.)
struct ServeDatabaseOptionTests {
    @Test func anUnreachableDatabaseFailsTheStartWithoutItsPassword() async throws {
        for (arguments, environment) in [
            (["--database", "postgres://sealed:hunter2@127.0.0.1:1/sealed?sslmode=disable"], [:]),
            ([], ["SEALED_DATABASE_URL": "postgres://sealed:hunter2@127.0.0.1:1/sealed?sslmode=disable"]),
        ] as [([String], [String: String])] {
            let run = try await ESDKCommandTests.sealed(
                ["serve", "--data-dir", "/nonexistent-never-created", "--port", "0"] + arguments,
                environment: environment.merging(["SEALED_ROOT_KEY": ESDKCommandTests.key]) { $1 }
            )
            #expect(run.status != 0)
            #expect(run.stderr.contains("postgres://sealed:***@127.0.0.1:1/sealed"), "\(run.stderr)")
            #expect(!run.stderr.contains("hunter2"), "\(run.stderr)")
            #expect(!String(decoding: run.stdout, as: UTF8.self).contains("listening"))
            #expect(!FileManager.default.fileExists(atPath: "/nonexistent-never-created"))
        }
    }

    @Test func theDatabaseOnlyOptionsNeedADatabase() async throws {
        for option in ["--root-key-file", "--admin-credentials-file"] {
            let run = try await ESDKCommandTests.sealed(
                ["serve", "--data-dir", "/nonexistent-never-created", option, "/tmp/x"]
            )
            #expect(run.status != 0)
            #expect(run.stderr.contains("go with --database"), "\(run.stderr)")
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
