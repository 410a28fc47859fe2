import AccessControl
import Catalog
import Crypto
import Foundation
import PostgresStorage
import SealedTesting
import Storage
import Testing

/// The installation of a PostgreSQL database: installed once however many replicas start at once, its administrator
/// written to the installing replica's file only, and a replica with another root key, account or region refused.
struct PostgresInstallationTests {
    @Test(.timeLimit(.minutes(2))) func replicasStartingAtOnceInstallOnce() async throws {
        let rootKey = SymmetricKey(size: .bits256)
        try await withTemporaryDirectory { folder in try await PostgresTesting.withTwoReplicas { a, b in
            let files = (0..<6).map { folder.appendingPathComponent("admin-\($0).credentials") }
            let installations = try await withThrowingTaskGroup(of: PostgresInstallation.self) { group in
                for (index, file) in files.enumerated() {
                    group.addTask {
                        try await PostgresInstallation.open(
                            database: index % 2 == 0 ? a : b,
                            rootKey: rootKey,
                            account: "111122223333",
                            region: "eu-west-1",
                            administratorCredentials: file
                        )
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(installations.filter(\.wasCreated).count == 1)
            #expect(Set(installations.map(\.administratorARN)) == ["arn:aws:iam::111122223333:user/admin"])
            let written = files.filter { FileManager.default.fileExists(atPath: $0.path) }
            try #require(written.count == 1, "\(written)")
            let mode = try FileManager.default.attributesOfItem(atPath: written[0].path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            // The key in the file is the administrator's, and opens under the root key.
            let text = try String(contentsOf: written[0], encoding: .utf8)
            let id = try #require(
                text.split(separator: "\n").first { $0.hasPrefix("aws_access_key_id = ") }?.split(separator: " ").last
            )
            let key = try #require(
                try await PostgresCredentialStore(database: b, rootKey: rootKey).accessKey(id: String(id))
            )
            #expect(key.principalARN == "arn:aws:iam::111122223333:user/admin")
            #expect(text.contains("aws_secret_access_key = \(key.secretAccessKey)"))
            #expect(!text.contains("***") && text.contains("[sealed-admin]"))

            // Later starts: the same key passes without a file; another key, account or region is refused.
            let again = try await PostgresInstallation.open(
                database: a,
                rootKey: rootKey,
                account: "111122223333",
                region: "eu-west-1",
                administratorCredentials: nil
            )
            #expect(!again.wasCreated)
            for (key, account, region, code) in [
                (SymmetricKey(size: .bits256), "111122223333", "eu-west-1", StorageError.Code.wrongRootKey),
                (rootKey, "999999999999", "eu-west-1", .configurationMismatch),
                (rootKey, "111122223333", "us-east-1", .configurationMismatch),
            ] {
                let error = await #expect(throws: StorageError.self) {
                    try await PostgresInstallation.open(
                        database: b,
                        rootKey: key,
                        account: account,
                        region: region,
                        administratorCredentials: folder.appendingPathComponent("never.credentials")
                    )
                }
                #expect(error?.code == code)
            }
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("never.credentials").path))
        } }
    }

    @Test func anEmptyDatabaseWithoutACredentialsFileIsNotInstalled() async throws {
        try await PostgresTesting.withTwoReplicas { a, _ in
            let error = await #expect(throws: StorageError.self) {
                try await PostgresInstallation.open(
                    database: a,
                    rootKey: SymmetricKey(size: .bits256),
                    account: "111122223333",
                    region: "eu-west-1",
                    administratorCredentials: nil
                )
            }
            #expect(error?.code == .missingAdministratorCredentials)
            let meta = try await PostgresTesting.strings("SELECT name FROM platform_meta", in: a)
            let keys = try await PostgresTesting.strings("SELECT id FROM access_key", in: a)
            #expect(meta.isEmpty && keys.isEmpty)
        }
    }

    /// The identity, catalog and access-request stores announce their commits on the change feed, and only those: a
    /// compare-and-set write that loses announces nothing.
    @Test(.timeLimit(.minutes(2))) func platformStoresAnnounceTheirCommits() async throws {
        try await PostgresTesting.withTwoReplicas { a, b in
            let feed = PostgresChangeFeed(database: b, interval: .milliseconds(200), logger: quietLogger)
            let listener = Task { await feed.run() }
            defer { listener.cancel() }
            var events = feed.changes().makeAsyncIterator()
            #expect(await events.next() == .resync)

            try await PostgresIdentityStore(database: a).apply([.putTeam(Team(name: "owners", arn: "arn:aws:iam::111122223333:group/owners", creationDate: Date()))])
            #expect(await events.next() == .changed(.init(store: PostgresIdentityStore.changeStore, key: nil)))

            let requests = PostgresAccessRequestStore(database: a)
            var request = AccessRequest(
                id: "r1",
                eventType: "pay.card.captured",
                requester: "arn:aws:iam::111122223333:user/u",
                justification: "j",
                durationSeconds: 3600,
                approvalsRequired: 1,
                creationDate: Date()
            )
            try await requests.put(request)
            let stale = request
            request.version = 1
            try await requests.put(request)
            await #expect(throws: AccessControlError.self) { try await requests.put(stale) }
            try await PostgresCatalogStore(database: a).put(
                Domain(name: "pay", owner: "owners", keyARN: "arn:aws:kms:eu-west-1:111122223333:key/k", creationDate: Date())
            )
            #expect(await events.next() == .changed(.init(store: PostgresAccessRequestStore.changeStore, key: "r1")))
            #expect(await events.next() == .changed(.init(store: PostgresAccessRequestStore.changeStore, key: "r1")))
            // The lost compare-and-set announced nothing: the next change is the catalog's.
            #expect(await events.next() == .changed(.init(store: PostgresCatalogStore.changeStore, key: "pay")))
        }
    }
}

/// A platform value's saves are compare-and-set: of two replicas that loaded the same value, only one saves over it.
struct PostgresPlatformValueTests {
    @Test func aSaveReplacesOnlyTheValueItWasGiven() async throws {
        try await PostgresTesting.withTwoReplicas { first, second in
            let mine = PostgresPlatformValue(database: first, name: "test-position")
            let theirs = PostgresPlatformValue(database: second, name: "test-position")
            #expect(try await mine.load() == nil)
            let created = try await mine.save(Data("a".utf8), replacing: nil)
            let createdAgain = try await theirs.save(Data("b".utf8), replacing: nil)
            let replaced = try await theirs.save(Data("c".utf8), replacing: Data("a".utf8))
            let stale = try await mine.save(Data("d".utf8), replacing: Data("a".utf8))
            #expect(created && !createdAgain, "a value is there already")
            #expect(replaced && !stale, "the other replica saved since")
            #expect(try await mine.load() == Data("c".utf8))
        }
    }
}
