import EventBus
import Foundation
import PostgresStorage
import SealedTesting
import Storage
import Testing

/// The owners of consumer groups on every back end: the first claim wins, later and concurrent claims are told the
/// winner.
struct ConsumerGroupOwnersTests {
    struct Kind: Sendable, CustomTestStringConvertible {
        let name: String
        let run: @Sendable (_ body: (any ConsumerGroupOwners) async throws -> Void) async throws -> Void
        var testDescription: String { name }

        static let all = [
            Kind(name: "InMemoryConsumerGroupOwners") { body in try await body(InMemoryConsumerGroupOwners()) },
            Kind(name: "SQLiteConsumerGroupOwners") { body in
                try await withTemporaryDirectory { directory in
                    let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("platform.sqlite"))
                    defer { try? database.close() }
                    try await body(SQLiteConsumerGroupOwners(database: database))
                }
            },
            Kind(name: "PostgresConsumerGroupOwners") { body in
                try await withPostgres { database in try await body(PostgresConsumerGroupOwners(database: database)) }
            },
        ]
    }

    @Test(arguments: Kind.all)
    func theFirstClaimWinsAndEveryClaimantIsToldTheWinner(kind: Kind) async throws {
        try await kind.run { owners in
            let claims = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    group.addTask { try await owners.claim(group: "g", topic: "orders", for: "team-\(index)") }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(claims.count == 8)
            #expect(Set(claims).count == 1)
            let winner = try #require(claims.first)
            #expect(try await owners.claim(group: "g", topic: "orders", for: "late") == winner)
            // Another group, or the same group on another topic, is another claim.
            #expect(try await owners.claim(group: "h", topic: "orders", for: "late") == "late")
            #expect(try await owners.claim(group: "g", topic: "payments", for: "other") == "other")
        }
    }
}
