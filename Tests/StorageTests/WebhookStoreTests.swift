import AccessControl
import Crypto
import Foundation
import GRDB
import PostgresStorage
import SealedTesting
import Testing

@testable import Storage

/// Teams' webhooks in SQLite: URL and secret sealed under the root key (never in the database's bytes), bound to
/// their team; the delivery log newest first and bounded per team.
struct WebhookStoreTests {
    @Test func theURLAndSecretAreSealedAtRestAndBoundToTheirTeam() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("platform.sqlite")
            let rootKey = SymmetricKey(size: .bits256)
            let webhook = paymentsWebhook()
            do {
                let database = try SQLiteDatabase.open(at: url)
                defer { try? database.close() }
                let store = SQLiteWebhookStore(database: database, rootKey: rootKey)
                #expect(try await store.webhook(of: "payments") == nil)
                try await store.setWebhook(webhook, of: "payments")
                try database.checkpoint()
            }
            var bytes = Data()
            for suffix in ["", "-wal"] {
                bytes += (try? Data(contentsOf: URL(fileURLWithPath: url.path + suffix))) ?? Data()
            }
            #expect(!bytes.isEmpty)
            #expect(bytes.range(of: Data(webhook.secret.utf8)) == nil, "the secret is in the database in plaintext")
            #expect(bytes.range(of: Data("url-token".utf8)) == nil, "the URL is in the database in plaintext")

            let database = try SQLiteDatabase.open(at: url)
            defer { try? database.close() }
            let store = SQLiteWebhookStore(database: database, rootKey: rootKey)
            #expect(try await store.webhook(of: "payments") == webhook)
            // Moved to another team's row, it does not open.
            try await database.pool.write { db in
                try db.execute(
                    sql: "INSERT INTO team_webhook SELECT 'analytics', sealed, creation_date, secret_date FROM team_webhook"
                )
            }
            await #expect(throws: StorageError(.unsealFailed, "")) { _ = try await store.webhook(of: "analytics") }
            // Under another root key it does not open.
            let stranger = SQLiteWebhookStore(database: database, rootKey: SymmetricKey(size: .bits256))
            await #expect(throws: StorageError(.unsealFailed, "")) { _ = try await stranger.webhook(of: "payments") }
            try await store.setWebhook(nil, of: "payments")
            #expect(try await store.webhook(of: "payments") == nil)
        }
    }

    /// A delivery store keeping 3 deliveries per team, on one back end.
    struct DeliveryStoreKind: Sendable, CustomTestStringConvertible {
        let name: String
        let run: @Sendable (_ body: (any WebhookDeliveryStore) async throws -> Void) async throws -> Void
        var testDescription: String { name }

        static let all = [
            DeliveryStoreKind(name: "SQLiteWebhookStore") { body in
                try await withTemporaryDirectory { directory in
                    let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("platform.sqlite"))
                    defer { try? database.close() }
                    try await body(
                        SQLiteWebhookStore(database: database, rootKey: SymmetricKey(size: .bits256), retention: 3)
                    )
                }
            },
            DeliveryStoreKind(name: "PostgresWebhookStore") { body in
                try await withPostgres { database in
                    try await body(
                        PostgresWebhookStore(database: database, rootKey: SymmetricKey(size: .bits256), retention: 3)
                    )
                }
            },
        ]
    }

    @Test(arguments: DeliveryStoreKind.all)
    func deliveriesAreListedNewestFirstUpdatedInPlaceAndBounded(kind: DeliveryStoreKind) async throws {
        try await kind.run { store in
            let start = Date(timeIntervalSinceReferenceDate: 800_000_000)
            for index in 0..<5 {
                var delivery = WebhookDelivery(
                    id: "wd-\(index)",
                    team: "payments",
                    event: "access_request.created",
                    requestID: "ar-\(index)",
                    creationDate: start.addingTimeInterval(Double(index))
                )
                try await store.record(delivery)
                delivery.attempts.append(.init(date: delivery.creationDate, statusCode: 500, error: nil))
                delivery.state = .failed
                delivery.failure = "HTTP 500"
                try await store.record(delivery)
            }
            try await store.record(
                WebhookDelivery(id: "wd-x", team: "analytics", event: "e", requestID: "r", creationDate: start)
            )
            let kept = try await store.deliveries(of: "payments", limit: 10)
            #expect(kept.map(\.id) == ["wd-4", "wd-3", "wd-2"])
            #expect(kept.allSatisfy { $0.state == .failed && $0.attempts.count == 1 && $0.lastStatusCode == 500 })
            #expect(try await store.deliveries(of: "payments", limit: 1).map(\.id) == ["wd-4"])
            #expect(try await store.deliveries(of: "analytics", limit: 10).map(\.id) == ["wd-x"])
        }
    }
}
