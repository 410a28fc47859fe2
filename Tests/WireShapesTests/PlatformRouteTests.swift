import Foundation
import Testing
import WireShapes

/// The `/v1` route declarations: the README's table lists exactly them, and each names one operation.
@Suite struct PlatformRouteTests {
    /// The rows of the README's `/v1` route table: `| \`METHOD\` | \`/v1/path\` | \`Operation\` |`.
    private func readmeRows() throws -> [[String]] {
        let readme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.range(of: "### The `/v1` routes"), "the README has a /v1 route table")
        let header = try #require(
            text.range(of: "| method | path | operation |", range: section.upperBound..<text.endIndex)
        )
        var rows: [[String]] = []
        for line in text[header.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2) {
            guard line.hasPrefix("|") else { break }
            rows.append(line.split(separator: "|").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) })
        }
        return rows
    }

    @Test func theReadmeTableListsEveryDeclaredRouteInOrder() throws {
        let rows = try readmeRows()
        let declared = PlatformRoute.all.map { [$0.method, "/v1/\($0.path)", $0.operation] }
        #expect(rows.count == declared.count)
        for (row, route) in zip(rows, declared) { #expect(row == route) }
    }

    @Test func eachRouteIsDeclaredOnceWithItsOwnOperation() {
        let all = PlatformRoute.all
        #expect(Set(all.map(\.operation)).count == all.count)
        #expect(Set(all.map { "\($0.method) \($0.path)" }).count == all.count)
        #expect(Set(all.map(\.method)).isSubset(of: ["GET", "POST", "PUT", "DELETE"]))
    }

    @Test func aRequestPathFindsItsRoute() {
        #expect(PlatformRoute.matching(method: "POST", segments: ["iam", "teams", "t", "members"]) == .addUserToTeam)
        #expect(PlatformRoute.matching(method: "GET", segments: ["topics", "orders", "groups", "g"]) == .describeGroup)
        #expect(
            PlatformRoute.matching(method: "POST", segments: ["access", "requests", "r", "deny"]) == .denyAccessRequest
        )
        #expect(PlatformRoute.matching(method: "GET", segments: ["access", "requests"]) == .listAccessRequests)
        #expect(PlatformRoute.matching(method: "PATCH", segments: ["iam", "teams"]) == nil)
        #expect(PlatformRoute.matching(method: "POST", segments: ["access", "requests", "r", "shred"]) == nil)
        for route in PlatformRoute.all {
            let parameters = route.pattern.filter { $0.hasPrefix(":") }.map { "x\($0.dropFirst())" }
            #expect(PlatformRoute.matching(method: route.method, segments: route.segments(parameters)) == route)
        }
    }

    @Test func segmentsFillTheParametersInOrder() {
        #expect(
            PlatformRoute.putRolePolicy.segments(["reader", "p/1"]) == ["iam", "roles", "reader", "policies", "p/1"]
        )
        #expect(PlatformRoute.listTopics.segments([]) == ["topics"])
    }
}
