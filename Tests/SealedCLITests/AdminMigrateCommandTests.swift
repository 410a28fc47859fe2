import AuditTrail
import Crypto
import EventBus
import Foundation
import KMS
import KeyService
import Logging
import PostgresStorage
import SealedTesting
import Storage
import Testing

/// `sealed admin migrate`: a data directory a real `sealed serve` filled (keys, identities, catalog, an access request,
/// a topic with events and a group's offset, the audit trail), copied into an empty PostgreSQL database, then read
/// back through the PostgreSQL stores under the directory's root key (the key decrypts what it encrypted, the bus
/// holds the same events at the same offsets, the trail is the same chain and verifies) and through a replica started
/// on the database with the directory's root key and administrator.
struct AdminMigrateCommandTests {
    @Test func aDataDirectoryIsCopiedWholeAndReadsBackOnPostgreSQL() async throws {
        guard let postgres = try PostgresFixture.located() else { return }
        let server = try ServeProcess(arguments: [])
        defer { server.remove() }
        let kms = try server.kms()
        let keyID = try #require(try await kms.createKey().keyMetadata?.keyId)
        let plaintext = Data("moved to PostgreSQL".utf8)
        let sealed = try #require(
            try await kms.encrypt(EncryptRequest(keyId: keyID, plaintext: plaintext)).ciphertextBlob
        )
        _ = try await server.cli(["iam", "create-team", "payments"])
        _ = try await server.cli(["catalog", "create-domain", "payments", "--owner", "payments"])
        _ = try await server.cli([
            "catalog", "create-event-type", "payments.card.captured", "--domain", "payments", "--classification", "public",
        ])
        _ = try await server.cli(["topics", "create", "cards"])
        let envelopes = (1...3).map { index in
            #"{"metaData":{"eventId":"e\#(index)","eventType":"payments.card.captured","domain":"payments","#
                + #""source":"test","classification":"public"},"data":{"n":\#(index)}}"#
        }
        let file = server.dataDirectory.deletingLastPathComponent().appendingPathComponent("events.ndjson")
        try Data((envelopes.joined(separator: "\n") + "\n").utf8).write(to: file)
        _ = try await server.cli(["publish", "--topic", "cards", "--stream", "--file", file.path])
        _ = try await server.cli(["consume", "--topic", "cards", "--group", "billing", "--max", "2"])
        #expect(server.stop() == 0)

        let directory = try DataDirectory.open(
            at: server.dataDirectory,
            environment: [:],
            account: "000000000000",
            region: "us-east-1"
        )
        let rootKey = directory.rootKey
        let (trail, signingKey) = try directory.openAuditTrail()
        let head = try await trail.chainHead()
        try trail.close()
        try directory.close()
        let bus = try SQLiteTransport(path: server.dataDirectory.appendingPathComponent("bus.sqlite").path)
        let events = try await bus.read(topic: "cards", from: 1, limit: 10, wait: .zero)
        try bus.close()
        #expect(events.count == 3)

        try await postgres.withDatabase { url in
            let run = try await ESDKCommandTests.sealed([
                "admin", "migrate", "--from", server.dataDirectory.path, "--to", url,
            ])
            let output = String(decoding: run.stdout, as: UTF8.self)
            try #require(run.status == 0, "\(run.stderr)")
            #expect(output.contains("kms_key_material"), "\(output)")
            #expect(output.contains("audit trail after:"), "\(output)")

            try await PostgresStorage.PostgresDatabase.withDatabase(try PostgresURL(url)) { database in
                let keys = try KeyService(
                    store: PostgresKeyStore(database: database),
                    rootKey: rootKey,
                    authorizer: AdministratorAuthorizer(administrator: "admin")
                )
                let opened = try await keys.decrypt(
                    DecryptRequest(ciphertextBlob: sealed),
                    caller: Caller(principal: "admin")
                )
                #expect(opened.plaintext == plaintext)

                let copied = try await PostgresTransport(database: database)
                    .read(topic: "cards", from: 1, limit: 10, wait: .zero)
                #expect(copied.map(\.offset) == events.map(\.offset))
                #expect(copied.map(\.eventID) == events.map(\.eventID))
                #expect(copied.map(\.payload) == events.map(\.payload))
                let next = try await PostgresTransport(database: database)
                    .fetch(group: "billing", topic: "cards", limit: 10, wait: .zero)
                #expect(next.map(\.eventID) == ["e3"], "the group goes on after its committed offset")

                let (copy, copiedKey) = try await PostgresAuditStore.openTrail(database: database, rootKey: rootKey)
                #expect(copiedKey.publicKeyPEM == signingKey.publicKeyPEM)
                #expect(try await copy.chainHead() == head)
                #expect(try await copy.verify(publicKey: signingKey.publicKey).isValid)
                await copy.close()
            }

            // A replica on the database goes on where the single server stopped: same administrator, same keys.
            let replica = try ServeProcess(
                database: url,
                rootKey: rootKey.withUnsafeBytes { Data($0).base64EncodedString() },
                administratorCredentials: server.administratorCredentialsFile
            )
            defer { replica.remove() }
            let reopened = try await replica.kms().decrypt(DecryptRequest(ciphertextBlob: sealed))
            #expect(reopened.plaintext == plaintext)
            let described = try await replica.kms().describeKey(DescribeKeyRequest(keyId: keyID))
            #expect(described.keyMetadata?.keyId == keyID)
            #expect(replica.stop() == 0)

            let again = try await ESDKCommandTests.sealed([
                "admin", "migrate", "--from", server.dataDirectory.path, "--to", url,
            ])
            #expect(again.status != 0)
            #expect(again.stderr.contains("not empty"), "\(again.stderr)")
        }
    }

    @Test func aDirectoryInUseIsRefusedAndNothingIsCopied() async throws {
        guard let postgres = try PostgresFixture.located() else { return }
        let server = try ServeProcess(arguments: [])
        defer { server.remove() }
        try await postgres.withDatabase { url in
            let run = try await ESDKCommandTests.sealed([
                "admin", "migrate", "--from", server.dataDirectory.path, "--to", url,
            ])
            #expect(run.status != 0)
            #expect(run.stderr.contains("is in use by another sealed serve process"), "\(run.stderr)")
            let empty = try await PostgresStorage.PostgresDatabase.withDatabase(try PostgresURL(url)) { database in
                try await PostgresKeyStore(database: database).keys(after: nil, limit: 1).isEmpty
            }
            #expect(empty)
        }
        let missing = try await ESDKCommandTests.sealed([
            "admin", "migrate", "--from", "/nonexistent-data-dir", "--to", "postgres://u@127.0.0.1:1/d",
        ])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("is not a data directory"), "\(missing.stderr)")
    }
}
