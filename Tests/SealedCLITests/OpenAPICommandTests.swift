import Foundation
import Testing
import WireShapes

/// `sealed openapi` prints the document the binary's server serves at `GET /v1/openapi.json`.
struct OpenAPICommandTests {
    @Test func printsTheOpenAPIDocumentOfEveryRoute() async throws {
        let run = try await ESDKCommandTests.sealed(["openapi"])
        #expect(run.status == 0, "\(run.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let operations = paths.values.flatMap { $0.values.compactMap { ($0 as? [String: Any])?["operationId"] as? String } }
        #expect(Set(operations) == Set((PlatformRoute.all + [.getOpenAPIDocument]).map(\.operation)))
    }
}
