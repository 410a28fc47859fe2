public import AccessControl
public import Crypto
import Foundation
import PostgresNIO
import Storage

/// Teams' webhooks and their delivery log in PostgreSQL.
///
/// A webhook's URL and signing secret are sealed together as the SQLite store seals them (AES-256-GCM under
/// HKDF-SHA256(root key, info `sealed-events/team-webhooks/v1`), bound to the team's name): the database never holds
/// either in plaintext. Deliveries are JSON documents, the newest `retention` kept per team; the order among
/// deliveries of one instant is their insertion order (the `sequence` identity column).
public struct PostgresWebhookStore: TeamWebhookStore, WebhookDeliveryStore, CustomStringConvertible {
    public let database: PostgresDatabase
    private let sealer: SecretSealer
    /// How many deliveries are kept per team.
    public let retention: Int

    public init(database: PostgresDatabase, rootKey: SymmetricKey, retention: Int = 1000) {
        self.database = database
        self.sealer = SecretSealer(rootKey: rootKey, purpose: "sealed-events/team-webhooks/v1")
        self.retention = retention
    }

    public var description: String { "PostgresWebhookStore(\(database.url))" }

    /// What is sealed: the URL and the secret.
    private struct Sealed: Codable {
        var url: String
        var secret: String
    }

    public func webhook(of team: String) async throws -> TeamWebhook? {
        let rows = try await database.query(
            "SELECT sealed, creation_date, secret_date FROM team_webhook WHERE team = \(team)"
        )
        guard let row = rows.first?.makeRandomAccess() else { return nil }
        let opened = try sealer.open(try row.value("sealed"), aad: Data(team.utf8), what: "The webhook of team \(team)")
        let parts = try JSONDecoder().decode(Sealed.self, from: opened)
        return TeamWebhook(
            team: team,
            url: parts.url,
            secret: parts.secret,
            creationDate: try row.date("creation_date"),
            secretDate: try row.date("secret_date")
        )
    }

    public func setWebhook(_ webhook: TeamWebhook?, of team: String) async throws {
        guard let webhook else {
            try await database.query("DELETE FROM team_webhook WHERE team = \(team)")
            return
        }
        let sealed = try sealer.seal(
            try JSONEncoder().encode(Sealed(url: webhook.url, secret: webhook.secret)),
            aad: Data(team.utf8)
        )
        try await database.query(
            try """
            INSERT INTO team_webhook (team, sealed, creation_date, secret_date)
            VALUES (\(team), \(sealed), \(webhook.creationDate.timeIntervalSinceReferenceDate),
                \(webhook.secretDate.timeIntervalSinceReferenceDate))
            ON CONFLICT (team) DO UPDATE SET sealed = excluded.sealed, creation_date = excluded.creation_date,
                secret_date = excluded.secret_date
            """
        )
    }

    public func record(_ delivery: WebhookDelivery) async throws {
        let document = try Documents.encode(delivery)
        let retention = retention
        try await database.transaction { connection in
            try await connection.run(
                try """
                INSERT INTO webhook_delivery (id, team, creation_date, document)
                VALUES (\(delivery.id), \(delivery.team), \(delivery.creationDate.timeIntervalSinceReferenceDate),
                    \(document))
                ON CONFLICT (id) DO UPDATE SET document = excluded.document
                """
            )
            try await connection.run(
                """
                DELETE FROM webhook_delivery WHERE team = \(delivery.team) AND id NOT IN (
                    SELECT id FROM webhook_delivery WHERE team = \(delivery.team)
                    ORDER BY creation_date DESC, sequence DESC LIMIT \(retention)
                )
                """
            )
        }
    }

    public func deliveries(of team: String, limit: Int) async throws -> [WebhookDelivery] {
        try await database.query(
            """
            SELECT document FROM webhook_delivery WHERE team = \(team)
            ORDER BY creation_date DESC, sequence DESC LIMIT \(limit)
            """
        ).map { try Documents.decode(WebhookDelivery.self, try $0.decode(Data.self)) }
    }
}
