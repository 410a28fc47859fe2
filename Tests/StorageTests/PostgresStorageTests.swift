import AccessControl
import Crypto
import Foundation
import KeyService
import PostgresNIO
import PostgresStorage
import SealedTesting
import Storage
import Subjects
import Testing

/// This module's database, not PostgresNIO's protocol of the same name.
typealias PostgresDatabase = PostgresStorage.PostgresDatabase

/// Raw SQL against a test's database, to look behind a store's back.
enum PostgresTesting {
    static func strings(_ sql: String, in database: PostgresDatabase) async throws -> [String] {
        try await database.query(PostgresQuery(unsafeSQL: sql)).map { try $0.decode(String.self) }
    }

    static func bytes(_ sql: String, in database: PostgresDatabase) async throws -> [Data] {
        try await database.query(PostgresQuery(unsafeSQL: sql)).map { try $0.decode(Data.self) }
    }

    /// Runs `body` with the URL of a new empty database (not migrated), or skips.
    static func withEmptyDatabase(_ body: (PostgresURL) async throws -> Void) async throws {
        guard let fixture = try PostgresFixture.located() else { return }
        try await fixture.withDatabase { url in try await body(try PostgresURL(url)) }
    }

    /// Runs `body` with a pool on a new database that gives up waiting for a connection after `connectionWait`, with
    /// the fixture and the URL to close it to connections (``refusingConnections(_:_:_:)``), or skips.
    static func withPool(
        maximumConnections: Int,
        connectionWait: Duration,
        _ body: (PostgresFixture, PostgresURL, PostgresDatabase) async throws -> Void
    ) async throws {
        guard let fixture = try PostgresFixture.located() else { return }
        try await fixture.withDatabase { text in
            let url = try PostgresURL(text)
            try await PostgresDatabase.withDatabase(
                url,
                maximumConnections: maximumConnections,
                connectionWait: connectionWait,
                logger: quietLogger
            ) { database in try await body(fixture, url, database) }
        }
    }

    /// Runs `body` while the database at `url` takes no new connection and its sessions have been ended; opens it
    /// again afterwards, also when `body` throws.
    static func refusingConnections(
        _ fixture: PostgresFixture,
        _ url: PostgresURL,
        _ body: () async throws -> Void
    ) async throws {
        // The name is the fixture's ([a-z0-9_]), safe in a statement.
        try await fixture.administer("ALTER DATABASE \(url.database) ALLOW_CONNECTIONS false")
        do {
            try await fixture.administer(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(url.database)'"
            )
            try await body()
        } catch {
            try? await fixture.administer("ALTER DATABASE \(url.database) ALLOW_CONNECTIONS true")
            throw error
        }
        try await fixture.administer("ALTER DATABASE \(url.database) ALLOW_CONNECTIONS true")
    }

    /// Runs `body` with two pools on one new database: two replicas.
    static func withTwoReplicas(_ body: (PostgresDatabase, PostgresDatabase) async throws -> Void) async throws {
        try await withEmptyDatabase { url in
            try await PostgresDatabase.withDatabase(url, maximumConnections: 4, logger: quietLogger) { first in
                try await PostgresDatabase.withDatabase(url, maximumConnections: 4, logger: quietLogger) { second in
                    try await body(first, second)
                }
            }
        }
    }
}

/// Database URLs: parsed as libpq reads them, refused when they ask for what is not supported, and their password
/// never shown, in a description or an error.
struct PostgresURLTests {
    @Test func aURLIsParsedAndItsPasswordIsNeverShown() throws {
        let url = try PostgresURL("postgres://alice:s3cr%40t-pw@db.example:6543/sealed?sslmode=require")
        #expect(url.user == "alice" && url.password == "s3cr@t-pw")
        #expect(url.host == "db.example" && url.port == 6543 && url.database == "sealed" && url.tls == .require)
        #expect(url.description == "postgres://alice:***@db.example:6543/sealed?sslmode=require")
        #expect(!"\(url)".contains("s3cr") && !String(reflecting: url).contains("s3cr"))
        var dumped = ""
        dump(url, to: &dumped)
        #expect(!dumped.contains("s3cr") && dumped.contains("db.example"))

        let defaults = try PostgresURL("postgresql://bob@localhost")
        #expect(defaults.password == nil && defaults.port == 5432 && defaults.database == "bob")
        #expect(defaults.tls == .prefer && defaults.rootCertificates == nil)
        #expect(
            try PostgresURL("postgres://u@h/d?sslmode=disable&sslrootcert=/etc/ca.pem").rootCertificates
                == "/etc/ca.pem"
        )
    }

    @Test(arguments: [
        "mysql://u:hunter2@h/d", "postgres://:hunter2@h/d", "postgres://u:hunter2@/d",
        "postgres://u:hunter2@h/d?sslmode=allow", "postgres://u:hunter2@h/d?sslmod=require",
        "postgres://u:hunter2@h/a/b",
        "postgres://u:hunter2@h:0/d", "not a url at all hunter2",
    ])
    func malformedURLsAreRefusedWithoutThePassword(text: String) async {
        let error = await expectStorageError(.invalidDatabaseURL) { _ = try PostgresURL(text) }
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test func anUnreachableServerIsReportedWithoutThePassword() async throws {
        // Port 1 on the loopback interface: nothing listens there, so the connection is refused at once.
        let url = try PostgresURL("postgres://sealed:hunter2@127.0.0.1:1/sealed?sslmode=disable")
        let error = await expectStorageError(.databaseUnavailable) {
            try await PostgresDatabase.withDatabase(url, logger: quietLogger) { _ in }
        }
        #expect(error?.message.contains("hunter2") == false)
        #expect(error?.message.contains("postgres://sealed:***@127.0.0.1:1/sealed") == true)
    }
}

/// `sslmode` against `scripts/test`'s server, which has no TLS: `require` refuses it, `prefer` and `disable` connect;
/// a database that does not exist is named in the error, the password never.
struct PostgresConnectionTests {
    @Test func sslmodeIsHonouredAndErrorsKeepThePasswordOut() async throws {
        try await PostgresTesting.withEmptyDatabase { url in
            var url = url
            url.password = "hunter2"
            url.tls = .require
            let refused = await expectStorageError(.databaseUnavailable) {
                try await PostgresDatabase.withDatabase(url, logger: quietLogger) { _ in }
            }
            #expect(refused?.message.contains("sslUnsupported") == true, "\(String(describing: refused))")
            #expect(refused?.message.contains("hunter2") == false)
            for mode in [PostgresURL.TLSMode.prefer, .disable] {
                url.tls = mode
                let answer = try await PostgresDatabase.withDatabase(url, maximumConnections: 1, logger: quietLogger) {
                    database in try await PostgresTesting.strings("SELECT 'connected'", in: database)
                }
                #expect(answer == ["connected"])
            }
            url.database = "no_such_database"
            let missing = await expectStorageError(.databaseUnavailable) {
                try await PostgresDatabase.withDatabase(url, logger: quietLogger) { _ in }
            }
            #expect(
                missing?.message.contains("\"no_such_database\" does not exist") == true,
                "\(String(describing: missing))"
            )
            #expect(missing?.message.contains("SQLSTATE 3D000") == true)
            #expect(missing?.message.contains("hunter2") == false)
        }
    }
}

/// The schema's migrations: applied once however many replicas start at once, idempotent across restarts, and a
/// database of a newer schema refused unchanged.
struct PostgresMigrationTests {
    @Test func concurrentMigratorsMigrateOnce() async throws {
        try await PostgresTesting.withEmptyDatabase { url in
            // Every step is a plain CREATE TABLE: a second application would fail, so all starting proves the lock.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await PostgresDatabase.withDatabase(url, maximumConnections: 1, logger: quietLogger) { _ in
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await PostgresDatabase.withDatabase(url, maximumConnections: 1, logger: quietLogger) { database in
                let versions = try await PostgresTesting.strings(
                    "SELECT version::text FROM sealed_schema_migration ORDER BY version",
                    in: database
                )
                #expect(versions == PostgresSchema.migrations.map { String($0.version) })
            }
        }
    }

    @Test func aRestartKeepsTheDataAndAppliesNothing() async throws {
        try await PostgresTesting.withEmptyDatabase { url in
            let rootKey = SymmetricKey(size: .bits256)
            let key = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice", at: referenceDate)
            let history = try await PostgresDatabase.withDatabase(url, maximumConnections: 1, logger: quietLogger) {
                database in
                try await PostgresCredentialStore(database: database, rootKey: rootKey).create(key)
                return try await PostgresTesting.strings(
                    "SELECT version || ' ' || name || ' ' || applied_at FROM sealed_schema_migration",
                    in: database
                )
            }
            try await PostgresDatabase.withDatabase(url, maximumConnections: 1, logger: quietLogger) { database in
                #expect(
                    try await PostgresCredentialStore(database: database, rootKey: rootKey).accessKey(id: key.id) == key
                )
                let again = try await PostgresTesting.strings(
                    "SELECT version || ' ' || name || ' ' || applied_at FROM sealed_schema_migration",
                    in: database
                )
                #expect(again == history)
            }
        }
    }

    @Test func aDatabaseOfANewerSchemaIsRefusedUnchanged() async throws {
        try await PostgresTesting.withEmptyDatabase { url in
            let newer = PostgresSchema.version + 1
            let future =
                PostgresSchema.migrations + [
                    PostgresMigration(
                        version: newer,
                        name: "from-the-future",
                        statements: ["CREATE TABLE future (x integer)"]
                    )
                ]
            try await PostgresDatabase.withDatabase(url, maximumConnections: 1, logger: quietLogger, migrations: future)
            { _ in }
            let error = await expectStorageError(.incompatibleVersion) {
                try await PostgresDatabase.withDatabase(url, logger: quietLogger) { _ in }
            }
            #expect(error?.message.contains("schema version \(newer)") == true)
            #expect(error?.message.contains("up to \(PostgresSchema.version)") == true)
            // Still the newer program's database: its history and its table.
            try await PostgresDatabase.withDatabase(url, maximumConnections: 1, logger: quietLogger, migrations: future)
            { database in
                let versions = try await PostgresTesting.strings(
                    "SELECT max(version)::text FROM sealed_schema_migration",
                    in: database
                )
                #expect(versions == [String(newer)])
                #expect(try await PostgresTesting.strings("SELECT count(*)::text FROM future", in: database) == ["0"])
            }
        }
    }

    @Test func aHistoryThisProgramDidNotWriteIsRefused() async throws {
        try await PostgresTesting.withEmptyDatabase { url in
            let other = [
                PostgresMigration(version: 1, name: "someone-else", statements: ["CREATE TABLE other (x integer)"])
            ]
            try await PostgresDatabase.withDatabase(url, maximumConnections: 1, logger: quietLogger, migrations: other)
            { _ in }
            let error = await expectStorageError(.incompatibleVersion) {
                try await PostgresDatabase.withDatabase(url, logger: quietLogger) { _ in }
            }
            #expect(error?.message.contains("someone-else") == true)
        }
    }
}

/// Several replicas on one database: what one writes the other reads at once, and compare-and-set holds across
/// them.
struct PostgresReplicaTests {
    @Test func writesOfOneReplicaAreSeenByTheOtherAtOnce() async throws {
        try await PostgresTesting.withTwoReplicas { first, second in
            let rootKey = SymmetricKey(size: .bits256)
            let a = PostgresCredentialStore(database: first, rootKey: rootKey)
            let b = PostgresCredentialStore(database: second, rootKey: rootKey)
            let key = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice", at: referenceDate)
            try await a.create(key)
            #expect(try await b.accessKey(id: key.id) == key)
            try await b.deactivate(id: key.id)
            #expect(try await a.accessKey(id: key.id)?.status == .inactive)
            try await a.delete(id: key.id)
            #expect(try await b.accessKey(id: key.id) == nil)

            let record = keyRecord("k", materials: 2)
            try await PostgresKeyStore(database: first).commit(KeyStoreBatch([.putKey(record, expectedRevision: nil)]))
            #expect(try await PostgresKeyStore(database: second).key(id: "k") == record)
        }
    }

    @Test func concurrentFirstSecretsOfADomainEndAsOne() async throws {
        try await PostgresTesting.withTwoReplicas { first, second in
            let rootKey = SymmetricKey(size: .bits256)
            let stores = [
                PostgresSubjectStore(database: first, rootKey: rootKey),
                PostgresSubjectStore(database: second, rootKey: rootKey),
            ]
            let kept = try await withThrowingTaskGroup(of: SymmetricKey.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await stores[index % 2].insertDomainSecret(SymmetricKey(size: .bits256), for: "payments")
                    }
                }
                return try await group.reduce(into: [SymmetricKey]()) { $0.append($1) }
            }
            #expect(kept.count == 8)
            #expect(kept.allSatisfy { $0 == kept[0] })
            #expect(try await stores[1].domainSecret("payments") == kept[0])
        }
    }

    @Test func onlyOneOfConcurrentKeyCommitsOverARevisionWins() async throws {
        try await PostgresTesting.withTwoReplicas { first, second in
            let stores = [PostgresKeyStore(database: first), PostgresKeyStore(database: second)]
            try await stores[0].commit(KeyStoreBatch([.putKey(keyRecord("k"), expectedRevision: nil)]))
            let outcomes = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        var next = keyRecord("k", revision: 2)
                        next.keyDescription = "writer \(index)"
                        do {
                            try await stores[index % 2].commit(KeyStoreBatch([.putKey(next, expectedRevision: 1)]))
                            return next.keyDescription
                        } catch is KeyStoreConflict {
                            return nil
                        }
                    }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            let winners = outcomes.compactMap { $0 }
            #expect(winners.count == 1)
            #expect(try await stores[1].key(id: "k")?.keyDescription == winners.first)
            #expect(try await stores[0].key(id: "k")?.revision == 2)
        }
    }

    @Test func onlyOneOfConcurrentRoleAndRequestWritesOverAVersionWins() async throws {
        try await PostgresTesting.withTwoReplicas { first, second in
            let identities = [PostgresIdentityStore(database: first), PostgresIdentityStore(database: second)]
            let role = Role(
                name: "r",
                arn: "arn:aws:iam::000000000000:role/r",
                trustPolicy: "{}",
                creationDate: referenceDate
            )
            try await identities[0].apply([.putRole(role)])
            let loaded = try #require(try await identities[1].load().roles["r"])
            let requests = [PostgresAccessRequestStore(database: first), PostgresAccessRequestStore(database: second)]
            let request = pendingAccessRequest()
            try await requests[0].put(request)
            let stored = try #require(try await requests[1].load().first)

            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        do {
                            if index < 3 {
                                var changed = loaded
                                changed.policies["p\(index)"] = "{}"
                                try await identities[index % 2].apply([.putRole(changed)])
                            } else {
                                var changed = stored
                                changed.justification = "writer \(index)"
                                try await requests[index % 2].put(changed)
                            }
                            return true
                        } catch let error as AccessControlError where error.code == .concurrentModification {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: 0) { count, won in count += won ? 1 : 0 }
            }
            #expect(outcomes == 2)
            #expect(try await identities[0].load().roles["r"]?.version == 2)
            #expect(try await identities[0].load().roles["r"]?.policies.count == 1)
            #expect(try await requests[0].load().map(\.version) == [2])
        }
    }
}

/// Secrets and key material in PostgreSQL: sealed under the root key before they reach the database, bound to their
/// row, and not opened under another root key.
struct PostgresSealingTests {
    @Test func accessKeySecretsAreSealedInTheDatabase() async throws {
        try await withPostgres { database in
            let rootKey = SymmetricKey(size: .bits256)
            let store = PostgresCredentialStore(database: database, rootKey: rootKey)
            let key = AccessKey.generateSession(for: "arn:aws:iam::000000000000:user/alice", expiration: referenceDate)
            let token = try #require(key.sessionToken)
            let other = AccessKey.generate(for: "arn:aws:iam::000000000000:user/mallory")
            try await store.create(key)
            try await store.create(other)
            let stored = try await PostgresTesting.bytes(
                "SELECT sealed_secret || coalesce(sealed_session_token, ''::bytea) FROM access_key",
                in: database
            )
            #expect(stored.count == 2)
            for bytes in stored {
                #expect(bytes.range(of: Data(key.secretAccessKey.utf8)) == nil)
                #expect(bytes.range(of: Data(token.utf8)) == nil)
                #expect(bytes.range(of: Data(other.secretAccessKey.utf8)) == nil)
            }
            let impostor = PostgresCredentialStore(database: database, rootKey: SymmetricKey(size: .bits256))
            let error = await expectStorageError(.unsealFailed) { _ = try await impostor.accessKey(id: key.id) }
            #expect(error?.message.contains(key.secretAccessKey) == false)
            // Mallory's row gets Alice's sealed secret: it does not open there.
            try await database.query(
                """
                UPDATE access_key SET sealed_secret = (SELECT sealed_secret FROM access_key WHERE id = \(key.id))
                WHERE id = \(other.id)
                """
            )
            await expectStorageError(.unsealFailed) { _ = try await store.accessKey(id: other.id) }
            #expect(try await store.accessKey(id: key.id) == key)
        }
    }

    @Test func subjectSecretsAreSealedAndTheRegistryRoundTrips() async throws {
        try await withPostgres { database in
            let rootKey = SymmetricKey(size: .bits256)
            let store = PostgresSubjectStore(database: database, rootKey: rootKey)
            let secret = Data((0..<32).map { UInt8(0xA0 + $0) })
            #expect(try await store.domainSecret("payments") == nil)
            #expect(
                try await store.insertDomainSecret(SymmetricKey(data: secret), for: "payments")
                    == SymmetricKey(data: secret)
            )
            // A second insert keeps the first secret.
            #expect(
                try await store.insertDomainSecret(SymmetricKey(size: .bits256), for: "payments")
                    == SymmetricKey(data: secret)
            )
            let sealed = try await PostgresTesting.bytes("SELECT sealed FROM subject_secret", in: database)
            #expect(sealed.count == 1 && sealed[0].range(of: secret) == nil)
            let stranger = PostgresSubjectStore(database: database, rootKey: SymmetricKey(size: .bits256))
            await #expect(throws: StorageError(.unsealFailed, "")) { _ = try await stranger.domainSecret("payments") }

            let key = subjectKey()
            var fence = erasureFence(of: key)
            try await store.putKey(key)
            try await store.putFence(fence)
            fence.lift = SubjectFence.Lift(date: fence.erasureDate, reason: "consent", principal: "p")
            try await store.putFence(fence)
            #expect(try await store.keys(domain: "payments", pseudonym: key.pseudonym) == [key])
            #expect(try await store.fence(domain: "payments", pseudonym: key.pseudonym) == fence)
            #expect(try await store.fence(domain: "shipping", pseudonym: key.pseudonym) == nil)
            try await store.deleteKey(branchKeyID: key.branchKeyID)
            #expect(try await store.keys(domain: "payments", pseudonym: key.pseudonym).isEmpty)
        }
    }

    @Test func webhooksAreSealedAndBoundToTheirTeam() async throws {
        try await withPostgres { database in
            let rootKey = SymmetricKey(size: .bits256)
            let store = PostgresWebhookStore(database: database, rootKey: rootKey)
            let webhook = paymentsWebhook()
            #expect(try await store.webhook(of: "payments") == nil)
            try await store.setWebhook(webhook, of: "payments")
            let sealed = try await PostgresTesting.bytes("SELECT sealed FROM team_webhook", in: database)
            #expect(sealed.count == 1)
            #expect(sealed[0].range(of: Data(webhook.secret.utf8)) == nil)
            #expect(sealed[0].range(of: Data("url-token".utf8)) == nil)
            #expect(try await store.webhook(of: "payments") == webhook)
            try await database.query(
                "INSERT INTO team_webhook SELECT 'analytics', sealed, creation_date, secret_date FROM team_webhook"
            )
            await #expect(throws: StorageError(.unsealFailed, "")) { _ = try await store.webhook(of: "analytics") }
            let stranger = PostgresWebhookStore(database: database, rootKey: SymmetricKey(size: .bits256))
            await #expect(throws: StorageError(.unsealFailed, "")) { _ = try await stranger.webhook(of: "payments") }
            try await store.setWebhook(nil, of: "payments")
            #expect(try await store.webhook(of: "payments") == nil)
        }
    }
}
