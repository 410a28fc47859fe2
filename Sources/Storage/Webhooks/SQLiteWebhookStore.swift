public import AccessControl
public import Crypto
import Foundation
import GRDB

/// Teams' webhooks and their delivery log in SQLite.
///
/// A webhook's URL and signing secret are sealed together with AES-256-GCM under HKDF-SHA256(root key, info
/// `sealed-events/team-webhooks/v1`), bound to the team's name: the database never holds either in plaintext (a
/// Slack incoming-webhook URL is a credential), and one moved to another team's row does not open. Deliveries are
/// JSON documents (``WebhookDelivery``, which holds neither), the newest `retention` kept per team.
public struct SQLiteWebhookStore: TeamWebhookStore, WebhookDeliveryStore, CustomStringConvertible {
    public let database: SQLiteDatabase
    private let sealer: SecretSealer
    /// How many deliveries are kept per team.
    public let retention: Int

    public init(database: SQLiteDatabase, rootKey: SymmetricKey, retention: Int = 1000) {
        self.database = database
        self.sealer = SecretSealer(rootKey: rootKey, purpose: "sealed-events/team-webhooks/v1")
        self.retention = retention
    }

    public var description: String { "SQLiteWebhookStore(\(database.url.path))" }

    /// What is sealed: the URL and the secret.
    private struct Sealed: Codable {
        var url: String
        var secret: String
    }

    public func webhook(of team: String) async throws -> TeamWebhook? {
        let row = try await database.pool.read { db -> (sealed: Data, created: Double, secretDate: Double)? in
            try Row.fetchOne(
                db,
                sql: "SELECT sealed, creation_date, secret_date FROM team_webhook WHERE team = ?",
                arguments: [team]
            ).map { ($0["sealed"], $0["creation_date"], $0["secret_date"]) }
        }
        guard let row else { return nil }
        let opened = try sealer.open(row.sealed, aad: Data(team.utf8), what: "The webhook of team \(team)")
        let parts = try JSONDecoder().decode(Sealed.self, from: opened)
        return TeamWebhook(
            team: team,
            url: parts.url,
            secret: parts.secret,
            creationDate: Date(timeIntervalSinceReferenceDate: row.created),
            secretDate: Date(timeIntervalSinceReferenceDate: row.secretDate)
        )
    }

    public func setWebhook(_ webhook: TeamWebhook?, of team: String) async throws {
        guard let webhook else {
            try await database.pool.write { db in
                try db.execute(sql: "DELETE FROM team_webhook WHERE team = ?", arguments: [team])
            }
            return
        }
        let sealed = try sealer.seal(
            try JSONEncoder().encode(Sealed(url: webhook.url, secret: webhook.secret)),
            aad: Data(team.utf8)
        )
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO team_webhook (team, sealed, creation_date, secret_date) VALUES (?, ?, ?, ?)
                    ON CONFLICT (team) DO UPDATE SET sealed = excluded.sealed, creation_date = excluded.creation_date,
                        secret_date = excluded.secret_date
                    """,
                arguments: [
                    team, sealed, webhook.creationDate.timeIntervalSinceReferenceDate,
                    webhook.secretDate.timeIntervalSinceReferenceDate,
                ]
            )
        }
    }

    public func record(_ delivery: WebhookDelivery) async throws {
        let document = try Documents.encode(delivery)
        let retention = retention
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO webhook_delivery (id, team, creation_date, document) VALUES (?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET document = excluded.document
                    """,
                arguments: [
                    delivery.id, delivery.team, delivery.creationDate.timeIntervalSinceReferenceDate, document,
                ]
            )
            try db.execute(
                sql: """
                    DELETE FROM webhook_delivery WHERE team = ? AND id NOT IN (
                        SELECT id FROM webhook_delivery WHERE team = ? ORDER BY creation_date DESC, rowid DESC LIMIT ?
                    )
                    """,
                arguments: [delivery.team, delivery.team, retention]
            )
        }
    }

    public func deliveries(of team: String, limit: Int) async throws -> [WebhookDelivery] {
        try await database.pool.read { db in
            try Data.fetchAll(
                db,
                sql: """
                    SELECT document FROM webhook_delivery WHERE team = ?
                    ORDER BY creation_date DESC, rowid DESC LIMIT ?
                    """,
                arguments: [team, limit]
            ).map { try JSONDecoder().decode(WebhookDelivery.self, from: $0) }
        }
    }
}
