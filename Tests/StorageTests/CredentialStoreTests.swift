import AccessControl
import Crypto
import Foundation
import GRDB
import SealedTesting
import Testing

@testable import Storage

/// The `CredentialStore` contract over every store, then what the SQLite store adds: sealing and its cache.
struct CredentialStoreContractTests {
    @Test(arguments: CredentialStoreKind.all)
    func createdKeysAreFoundWithTheirSecrets(kind: CredentialStoreKind) async throws {
        try await kind.withStore { store in
            let user = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice", at: referenceDate)
            let session = AccessKey.generateSession(
                for: "arn:aws:sts::000000000000:assumed-role/reader/s1",
                expiration: referenceDate.addingTimeInterval(3600.5),
                at: referenceDate
            )
            try await store.create(user)
            try await store.create(session)
            #expect(try await store.accessKey(id: user.id) == user)
            #expect(try await store.accessKey(id: session.id) == session)
            #expect(try await store.accessKey(id: "AKIAUNKNOWN") == nil)
            await expectAccessControlError(.accessKeyExists) { try await store.create(user) }
        }
    }

    @Test(arguments: CredentialStoreKind.all)
    func listingShowsMetadataByPrincipal(kind: CredentialStoreKind) async throws {
        try await kind.withStore { store in
            let alice = "arn:aws:iam::000000000000:user/alice"
            let bob = "arn:aws:iam::000000000000:user/bob"
            let keys = [
                AccessKey.generate(for: alice), AccessKey.generate(for: bob), AccessKey.generate(for: alice),
                AccessKey.generateSession(for: bob, expiration: referenceDate),
            ]
            for key in keys { try await store.create(key) }
            #expect(try await store.accessKeys(of: nil) == keys.sorted { $0.id < $1.id }.map(\.metadata))
            #expect(try await store.accessKeys(of: alice).map(\.id) == [keys[0].id, keys[2].id].sorted())
            #expect(try await store.accessKeys(of: bob).map(\.hasSessionToken).sorted { !$0 && $1 } == [false, true])
            #expect(try await store.accessKeys(of: "arn:aws:iam::000000000000:user/nobody").isEmpty)
        }
    }

    @Test(arguments: CredentialStoreKind.all)
    func deactivatedKeysAreFoundButNotUsable(kind: CredentialStoreKind) async throws {
        try await kind.withStore { store in
            let key = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice")
            try await store.create(key)
            #expect(try await store.accessKey(id: key.id)?.isUsable(at: Date()) == true)
            try await store.deactivate(id: key.id)
            let found = try #require(try await store.accessKey(id: key.id))
            #expect(found.status == .inactive)
            #expect(!found.isUsable(at: Date()))
            #expect(found.secretAccessKey == key.secretAccessKey)
            #expect(try await store.accessKeys(of: nil).map(\.status) == [.inactive])
            await expectAccessControlError(.accessKeyNotFound) { try await store.deactivate(id: "AKIAUNKNOWN") }
        }
    }

    @Test(arguments: CredentialStoreKind.all)
    func deletedKeysAreGone(kind: CredentialStoreKind) async throws {
        try await kind.withStore { store in
            let key = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice")
            try await store.create(key)
            _ = try await store.accessKey(id: key.id)
            try await store.delete(id: key.id)
            #expect(try await store.accessKey(id: key.id) == nil)
            await expectAccessControlError(.accessKeyNotFound) { try await store.delete(id: key.id) }
            // The id may be used again.
            try await store.create(key)
            #expect(try await store.accessKey(id: key.id) == key)
        }
    }
}

struct AccessKeyTests {
    @Test func generatedKeysLookLikeAWSKeys() {
        let base32 = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let base64 = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var ids = Set<String>()
        for _ in 0..<200 {
            let key = AccessKey.generate(for: "arn:aws:iam::000000000000:user/a")
            #expect(key.id.count == 20 && key.id.hasPrefix("AKIA"))
            #expect(key.id.dropFirst(4).allSatisfy(base32.contains))
            #expect(key.secretAccessKey.count == 40)
            #expect(key.secretAccessKey.allSatisfy(base64.contains))
            #expect(key.sessionToken == nil && key.expiration == nil && key.status == .active)
            ids.insert(key.id)
        }
        #expect(ids.count == 200)
        let session = AccessKey.generateSession(for: "arn", expiration: referenceDate)
        #expect(session.id.hasPrefix("ASIA") && session.id.count == 20)
        #expect(session.sessionToken?.isEmpty == false)
        #expect(!session.isUsable(at: referenceDate))
        #expect(session.isUsable(at: referenceDate.addingTimeInterval(-1)))
    }

    @Test func secretsNeverPrint() throws {
        let key = AccessKey.generateSession(for: "arn:aws:iam::000000000000:user/a", expiration: referenceDate)
        let token = try #require(key.sessionToken)
        for text in [
            String(describing: key), String(reflecting: key), "\(key.metadata)", String(reflecting: key.metadata),
        ] {
            #expect(!text.contains(key.secretAccessKey))
            #expect(!text.contains(token))
        }
        #expect(String(describing: key).contains(key.id))
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains(key.secretAccessKey) && !dumped.contains(token))
    }
}

struct SQLiteCredentialStoreTests {
    @Test func secretsAreSealedAtRest() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("credentials.sqlite")
            let rootKey = SymmetricKey(size: .bits256)
            let key = AccessKey.generateSession(
                for: "arn:aws:iam::000000000000:user/alice",
                expiration: referenceDate
            )
            let token = try #require(key.sessionToken)
            let database = try SQLiteDatabase.open(at: url)
            let store = SQLiteCredentialStore(database: database, rootKey: rootKey)
            try await store.create(key)
            // Before and after a checkpoint, the secret is in neither the database file nor its WAL.
            for checkpoint in [false, true] {
                if checkpoint { try database.checkpoint() }
                for file in [url, URL(fileURLWithPath: url.path + "-wal")] {
                    guard let bytes = try? Data(contentsOf: file) else { continue }
                    #expect(bytes.range(of: Data(key.secretAccessKey.utf8)) == nil)
                    #expect(bytes.range(of: Data(token.utf8)) == nil)
                    if checkpoint && file == url { #expect(bytes.range(of: Data(key.id.utf8)) != nil) }
                }
            }
            try database.close()

            // Another process with the right root key unseals; one with another root key cannot.
            let reopened = try SQLiteDatabase.open(at: url)
            defer { try? reopened.close() }
            #expect(try await SQLiteCredentialStore(database: reopened, rootKey: rootKey).accessKey(id: key.id) == key)
            let impostor = SQLiteCredentialStore(database: reopened, rootKey: SymmetricKey(size: .bits256))
            let error = await expectStorageError(.unsealFailed) { _ = try await impostor.accessKey(id: key.id) }
            #expect(error?.message.contains(key.secretAccessKey) == false)
        }
    }

    @Test func aSealedSecretMovedToAnotherKeyDoesNotOpen() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("credentials.sqlite")
            let rootKey = SymmetricKey(size: .bits256)
            let database = try SQLiteDatabase.open(at: url)
            defer { try? database.close() }
            let first = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice")
            let second = AccessKey.generate(for: "arn:aws:iam::000000000000:user/mallory")
            let store = SQLiteCredentialStore(database: database, rootKey: rootKey)
            try await store.create(first)
            try await store.create(second)
            // Mallory's row gets Alice's sealed secret, as an attacker with write access to the file might do.
            try await database.pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE access_key SET sealed_secret = (SELECT sealed_secret FROM access_key WHERE id = ?)
                        WHERE id = ?
                        """,
                    arguments: [first.id, second.id]
                )
            }
            let fresh = SQLiteCredentialStore(database: database, rootKey: rootKey)
            await expectStorageError(.unsealFailed) { _ = try await fresh.accessKey(id: second.id) }
            #expect(try await fresh.accessKey(id: first.id) == first)
        }
    }

    @Test func lookupsAreCachedAndChangesInvalidateTheCache() async throws {
        try await withTemporaryDirectory { directory in
            let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("credentials.sqlite"))
            defer { try? database.close() }
            let store = SQLiteCredentialStore(database: database, rootKey: SymmetricKey(size: .bits256))
            let key = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice")
            try await store.create(key)
            #expect(try await store.accessKey(id: key.id) == key)
            // Deleted behind the store's back: the cached answer stays, which shows the lookup is cached.
            try await database.pool.write { db in
                try db.execute(sql: "DELETE FROM access_key WHERE id = ?", arguments: [key.id])
            }
            #expect(try await store.accessKey(id: key.id) == key)
            // Through the store, changes are seen at once.
            try await store.create(AccessKey(id: "AKIAOTHER", secretAccessKey: "s", principalARN: "p"))
            _ = try await store.accessKey(id: "AKIAOTHER")
            try await store.deactivate(id: "AKIAOTHER")
            #expect(try await store.accessKey(id: "AKIAOTHER")?.status == .inactive)
            try await store.delete(id: "AKIAOTHER")
            #expect(try await store.accessKey(id: "AKIAOTHER") == nil)
        }
    }

    @Test func concurrentLookupsAndDeactivationsEndConsistent() async throws {
        try await withTemporaryDirectory { directory in
            let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("credentials.sqlite"))
            defer { try? database.close() }
            let store = SQLiteCredentialStore(database: database, rootKey: SymmetricKey(size: .bits256))
            let keys = (0..<10).map { _ in AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice") }
            for key in keys { try await store.create(key) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for key in keys {
                    group.addTask { try await store.deactivate(id: key.id) }
                    for _ in 0..<5 { group.addTask { _ = try await store.accessKey(id: key.id) } }
                }
                try await group.waitForAll()
            }
            for key in keys { #expect(try await store.accessKey(id: key.id)?.status == .inactive) }
        }
    }
}
