import Foundation
import SealedTesting
import Testing

/// `sealed iam …-webhook` and the request hygiene in `sealed access`, against a real `sealed serve`: the secret is
/// printed once (set, rotate) and never by `team-webhook`, whose URL is redacted; the delivery log lists; removal
/// is final; a pending request shows when it expires undecided.
@Suite(.serialized)
struct WebhookCommandTests {
    @Test func theWebhookCommandsAndThePendingDeadline() async throws {
        let folder = try ESDKCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        let server = try ServeCommandTests.RunningServer(dataDirectory: data)
        defer { _ = server.stop() }
        let environment = server.administratorEnvironment
        let endpoint = ["--endpoint-url", server.endpoint.absoluteString]
        func sealed(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
            let run = try await ESDKCommandTests.sealed(arguments + endpoint, environment: environment)
            return (run.status, String(decoding: run.stdout, as: UTF8.self), run.stderr)
        }

        #expect(try await sealed(["iam", "create-team", "payments"]).status == 0)
        let url = "https://hooks.slack.com/services/T0001/B0001/cli-url-token"
        let set = try await sealed(["iam", "set-team-webhook", "payments", "--url", url])
        #expect(set.status == 0, "\(set.err)")
        let secret = try #require(
            set.out.split(separator: "\n").first { $0.hasPrefix("signing secret") }?.split(separator: " ").last
        )
        #expect(secret.hasPrefix("whsec_") && secret.count == 70)
        #expect(set.out.contains("url             https://hooks.slack.com/…"))
        #expect(!set.out.contains("cli-url-token"))

        let shown = try await sealed(["iam", "team-webhook", "payments"])
        #expect(shown.status == 0, "\(shown.err)")
        #expect(!shown.out.contains(secret) && !shown.out.contains("signing secret"))
        #expect(!shown.out.contains("cli-url-token"))

        let rotated = try await sealed(["iam", "rotate-team-webhook-secret", "payments", "--output", "json"])
        #expect(rotated.status == 0, "\(rotated.err)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(rotated.out.utf8)) as? [String: Any])
        let newSecret = try #require(answer["SigningSecret"] as? String)
        #expect(newSecret != String(secret))

        let deliveries = try await sealed(["iam", "webhook-deliveries", "payments"])
        #expect(deliveries.status == 0, "\(deliveries.err)")
        #expect(deliveries.out.contains("(none)"))

        #expect(try await sealed(["iam", "delete-team-webhook", "payments"]).status == 0)
        let gone = try await sealed(["iam", "team-webhook", "payments"])
        #expect(gone.status == 1)
        #expect(gone.err.contains("has no webhook"), "\(gone.err)")

        // A pending request says until when it waits for a decision.
        #expect(try await sealed(["catalog", "create-domain", "payments", "--owner", "payments"]).status == 0)
        #expect(try await sealed(["catalog", "create-event-type", "payments.card.captured", "--domain", "payments"]).status == 0)
        let requested = try await sealed([
            "access", "request", "payments.card.captured", "--justification", "fraud", "--output", "json",
        ])
        #expect(requested.status == 0, "\(requested.err)")
        let request = try #require(try JSONSerialization.jsonObject(with: Data(requested.out.utf8)) as? [String: Any])
        let id = try #require(request["RequestId"] as? String)
        let created = try #require((request["CreateDate"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
        let deadline = try #require(
            (request["PendingExpirationDate"] as? String).flatMap { try? Date($0, strategy: .iso8601) }
        )
        #expect(deadline.timeIntervalSince(created) == 7 * 86_400)
        let described = try await sealed(["access", "show", id])
        #expect(described.out.contains("decide by"), "\(described.out)")
    }
}
