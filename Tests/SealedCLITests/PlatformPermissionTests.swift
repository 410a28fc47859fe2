import Foundation
import KMS
import PlatformClient
import SealedTesting
import SigV4
import Testing

/// Issue 17 (low): the platform's own permissions take ARNs as resources (`arn:sealed:…`, see `PlatformARN`), so a
/// delegated administrator can be scoped to one domain or a family of topics, over the real API.
@Suite(.serialized)
struct PlatformPermissionTests {
    typealias Server = EventPlatformTests.Server

    @Test func catalogBusAndAuditPermissionsAreScopedByARN() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let admin = try server.client(try server.administrator)
        _ = try await admin.call("POST", ["iam", "teams"], body: ["TeamName": "owners"])
        for domain in ["payments", "shipping"] {
            _ = try await admin.call("POST", ["catalog", "domains"], body: ["Domain": domain, "Owner": "owners"])
        }
        let steward = try await server.user("steward", by: admin)
        let policy = """
            {"Version":"2012-10-17","Statement":[\
            {"Effect":"Allow","Action":"catalog:CreateEventType","Resource":"arn:sealed:catalog::000000000000:domain/payments/*"},\
            {"Effect":"Allow","Action":"bus:CreateTopic","Resource":"arn:sealed:bus::000000000000:topic/payments-*"},\
            {"Effect":"Allow","Action":"audit:Read","Resource":"arn:sealed:audit::000000000000:trail"}]}
            """
        _ = try await admin.call("PUT", ["iam", "users", "steward", "policies", "payments"], body: ["PolicyDocument": policy])
        let scoped = try server.client(steward)

        _ = try await scoped.call(
            "POST",
            ["catalog", "event-types"],
            body: ["EventType": "payments.card.captured", "Domain": "payments", "Classification": "public"]
        )
        let otherDomain = try await refusal {
            try await scoped.call(
                "POST",
                ["catalog", "event-types"],
                body: ["EventType": "shipping.parcel.sent", "Domain": "shipping", "Classification": "public"]
            )
        }
        #expect(otherDomain.statusCode == 403, "\(otherDomain)")
        #expect(
            otherDomain.message.contains("arn:sealed:catalog::000000000000:domain/shipping/event-type/shipping.parcel.sent"),
            "\(otherDomain)"
        )
        let newDomain = try await refusal {
            try await scoped.call("POST", ["catalog", "domains"], body: ["Domain": "payments2", "Owner": "owners"])
        }
        #expect(newDomain.statusCode == 403, "\(newDomain)")

        _ = try await scoped.call("POST", ["topics"], body: ["Name": "payments-events"])
        let otherTopic = try await refusal { try await scoped.call("POST", ["topics"], body: ["Name": "shipping-events"]) }
        #expect(otherTopic.statusCode == 403, "\(otherTopic)")

        _ = try await scoped.call("GET", ["audit"], query: [("limit", "1")])
        let reader = try server.client(try await server.user("reader", by: admin))
        let unread = try await refusal { try await reader.call("GET", ["audit"], query: [("limit", "1")]) }
        #expect(unread.statusCode == 403, "\(unread)")
    }

    /// `aws:SourceIp` reaches the platform's own checks: a steward allowed `bus:CreateTopic` only from 10.0.0.0/8 is
    /// refused from loopback, and one allowed from 127.0.0.0/8 is not.
    @Test func sourceIPConditionsApplyToPlatformActions() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let admin = try server.client(try server.administrator)
        for (name, range) in [("inside", "127.0.0.0/8"), ("outside", "10.0.0.0/8")] {
            let credentials = try await server.user(name, by: admin)
            let policy = """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"bus:CreateTopic","Resource":"*",\
                "Condition":{"IpAddress":{"aws:SourceIp":"\(range)"}}}]}
                """
            _ = try await admin.call("PUT", ["iam", "users", name, "policies", "p"], body: ["PolicyDocument": policy])
            let client = try server.client(credentials)
            if name == "inside" {
                _ = try await client.call("POST", ["topics"], body: ["Name": "from-inside"])
            } else {
                let refused = try await refusal { try await client.call("POST", ["topics"], body: ["Name": "from-outside"]) }
                #expect(refused.statusCode == 403, "\(refused)")
            }
        }
    }

    /// `access:ListRequests` scoped to one domain's event types shows that domain's requests and no other's.
    @Test func accessPermissionsAreScopedByEventTypeARN() async throws {
        let server = try Server(arguments: [])
        defer { server.remove() }
        let admin = try server.client(try server.administrator)
        _ = try await admin.call("POST", ["iam", "teams"], body: ["TeamName": "owners"])
        for domain in ["payments", "shipping"] {
            _ = try await admin.call("POST", ["catalog", "domains"], body: ["Domain": domain, "Owner": "owners"])
            _ = try await admin.call(
                "POST",
                ["catalog", "event-types"],
                body: ["EventType": "\(domain).thing.done", "Domain": domain, "Classification": "restricted"]
            )
        }
        let requester = try server.client(try await server.user("requester", by: admin))
        for domain in ["payments", "shipping"] {
            _ = try await requester.call(
                "POST",
                ["access", "requests"],
                body: ["EventType": "\(domain).thing.done", "Justification": "reports"]
            )
        }
        let auditor = try await server.user("auditor", by: admin)
        let policy = """
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"access:ListRequests",\
            "Resource":"arn:sealed:catalog::000000000000:domain/payments/*"}]}
            """
        _ = try await admin.call("PUT", ["iam", "users", "auditor", "policies", "p"], body: ["PolicyDocument": policy])
        let listed = try await server.client(auditor).call("GET", ["access", "requests"])
        let types = (listed["AccessRequests"] as? [[String: Any]] ?? []).compactMap { $0["EventType"] as? String }
        #expect(types == ["payments.thing.done"], "\(listed)")
    }
}
