import Foundation
import Testing

/// The README's exit codes: 64 for a wrong command line, 1 for a failure, each with the reason on standard error
/// (2, partially done, is covered where it happens: `consume --open` and `publish --stream`).
@Suite struct ExitCodeTests {
    @Test(arguments: [
        ["serve", "--header-timeout", "0"],
        ["serve", "--idle-timeout", "99999"],
        ["serve", "--no-such-option"],
        ["access", "request"],
    ])
    func aWrongCommandLineExits64(arguments: [String]) async throws {
        let run = try await ESDKCommandTests.sealed(arguments)
        #expect(run.status == 64, "sealed \(arguments.joined(separator: " ")): \(run.status) \(run.stderr)")
        #expect(!run.stderr.isEmpty)
    }

    @Test func aServerThatCannotBeReachedExits1() async throws {
        let run = try await ESDKCommandTests.sealed(
            ["catalog", "list", "--endpoint-url", "http://127.0.0.1:1", "--region", "us-east-1"],
            environment: ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE12", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"]
        )
        #expect(run.status == 1, "\(run.status) \(run.stderr)")
        #expect(!run.stderr.isEmpty)
    }
}
