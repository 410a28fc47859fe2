import Foundation
import KMS
import PlatformClient
import SealedTesting
import SigV4
import Testing

/// Issue 17 (low): a consumer group's position belongs to whoever first used it. Another principal can neither fetch
/// from it (taking its deliveries) nor commit its offsets (skipping events its owner never processed), unless its
/// policies allow `bus:ConsumeGroup` on the group's ARN; sessions of one role share the role's groups.
@Suite(.serialized)
struct ConsumerGroupOwnershipTests {
    typealias Server = EventPlatformTests.Server

    @Test func onlyTheOwnerOrAnAllowedPrincipalFetchesAndCommits() async throws {
        let server = try Server(arguments: ["--unknown-event-types", "allow"])
        defer { server.remove() }
        let admin = try server.client(try server.administrator)
        _ = try await admin.call("POST", ["topics"], body: ["Name": "orders"])
        for index in 1...3 {
            let event = #"{"metaData":{"eventId":"e\#(index)","eventType":"t.x","domain":"t","source":"s"},"data":1}"#
            _ = try await admin.call("POST", ["topics", "orders", "events"], json: Array(event.utf8))
        }
        let alice = try server.client(try await server.user("alice", by: admin))
        let mallory = try server.client(try await server.user("mallory", by: admin))

        // Alice claims the group by fetching from it, and commits.
        let fetched = try await alice.call("POST", ["topics", "orders", "groups", "billing", "fetch"])
        #expect((fetched["Events"] as? [Any])?.count == 3)
        _ = try await alice.call("POST", ["topics", "orders", "groups", "billing", "commit"], body: ["Offset": 1])

        // Mallory can neither move Alice's group nor take its deliveries; the refusal does not name the owner.
        let commit = try await refusal { try await mallory.call("POST", ["topics", "orders", "groups", "billing", "commit"], body: ["Offset": 3]) }
        let fetch = try await refusal { try await mallory.call("POST", ["topics", "orders", "groups", "billing", "fetch"]) }
        for error in [commit, fetch] {
            #expect(error.statusCode == 403 && error.code == "AccessDenied", "\(error)")
            #expect(!error.message.contains("alice"), "\(error)")
        }
        // Reading the committed offset stays open, and it is Alice's.
        let committed = try await mallory.call("GET", ["topics", "orders", "groups", "billing"])
        #expect((committed["CommittedOffset"] as? NSNumber)?.intValue == 1)
        // Mallory's own group works.
        let own = try await mallory.call("POST", ["topics", "orders", "groups", "mallory-own", "fetch"])
        #expect((own["Events"] as? [Any])?.count == 3)

        // A principal whose policies allow bus:ConsumeGroup on the group's ARN (here the administrator) may.
        _ = try await admin.call("POST", ["topics", "orders", "groups", "billing", "commit"], body: ["Offset": 2])
        let after = try await alice.call("GET", ["topics", "orders", "groups", "billing"])
        #expect((after["CommittedOffset"] as? NSNumber)?.intValue == 2)
        // And so may a user granted exactly that group.
        let policy = """
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"bus:ConsumeGroup",\
            "Resource":"arn:sealed:bus::000000000000:topic/orders/group/billing"}]}
            """
        _ = try await admin.call(
            "PUT",
            ["iam", "users", "mallory", "policies", "billing-operator"],
            body: ["PolicyDocument": policy]
        )
        _ = try await mallory.call("POST", ["topics", "orders", "groups", "billing", "commit"], body: ["Offset": 3])
        // The grant names one group: Mallory claims another one as usual, and it is then hers, not Alice's.
        _ = try await mallory.call("POST", ["topics", "orders", "groups", "other-billing", "fetch"])
        let taken = try await refusal { try await alice.call("POST", ["topics", "orders", "groups", "other-billing", "fetch"]) }
        #expect(taken.statusCode == 403 && taken.code == "AccessDenied", "\(taken)")
    }
}
