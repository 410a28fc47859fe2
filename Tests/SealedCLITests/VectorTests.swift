import Foundation
import SealedCLI
import SealedTesting
import Testing

/// Every official decrypt vector and known-answer entry in the shared vectors folder.
struct VectorTests {
    static let groups = [
        "dafny-4.1.0", "net-4.0.1", "net-4.0.0-valid", "net-4.0.0-invalid", "python-nonframed", "commitment-kat",
    ]

    @Test(arguments: groups)
    func group(name: String) async throws {
        guard let folder = try TestEnvironment.vectors("esdk/\(name)") else { return }
        let outcomes = try await TestVectors.run(folder)
        #expect(!outcomes.isEmpty)
        for outcome in outcomes where !outcome.passed {
            Issue.record("\(outcome.name): \(outcome.detail)")
        }
    }

    @Test func everyVectorOfTheIndexRuns() async throws {
        guard let root = try TestEnvironment.vectors("esdk") else { return }
        let outcomes = try await TestVectors.run(root)
        // 192 manifest vectors and 28 known-answer entries (vectors/esdk/README.md).
        #expect(outcomes.count == 220)
        #expect(outcomes.filter { !$0.passed }.isEmpty)
    }
}
