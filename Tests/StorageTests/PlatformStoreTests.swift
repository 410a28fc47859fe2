import AccessControl
import Catalog
import Crypto
import Foundation
import GRDB
import PostgresStorage
import SealedTesting
import Testing

@testable import Storage

/// The identity, catalog and access-request stores of one back end, and how to read the access requests' stored
/// documents behind the store's back.
struct PlatformStoreKind: Sendable, CustomTestStringConvertible {
    struct Stores {
        var identities: any IdentityStore
        var accessRequests: any AccessRequestStore
        var catalog: any CatalogStore
        /// The stored access-request documents, as text, read with the back end's own SQL.
        var accessRequestDocuments: @Sendable () async throws -> [String]
    }

    let name: String
    let run: @Sendable (_ body: (Stores) async throws -> Void) async throws -> Void

    var testDescription: String { name }

    static let sqlite = PlatformStoreKind(name: "SQLite") { body in
        try await PlatformStoreTests.withDatabase { database in
            try await body(
                Stores(
                    identities: SQLiteIdentityStore(database: database),
                    accessRequests: SQLiteAccessRequestStore(database: database),
                    catalog: SQLiteCatalogStore(database: database),
                    accessRequestDocuments: {
                        try await database.pool.read { db in
                            try String.fetchAll(db, sql: "SELECT CAST(document AS TEXT) FROM access_request")
                        }
                    }
                )
            )
        }
    }

    static let postgres = PlatformStoreKind(name: "PostgreSQL") { body in
        try await withPostgres { database in
            try await body(
                Stores(
                    identities: PostgresIdentityStore(database: database),
                    accessRequests: PostgresAccessRequestStore(database: database),
                    catalog: PostgresCatalogStore(database: database),
                    accessRequestDocuments: {
                        try await PostgresTesting.strings(
                            "SELECT convert_from(document, 'UTF8') FROM access_request",
                            in: database
                        )
                    }
                )
            )
        }
    }

    static let all: [PlatformStoreKind] = [.sqlite, .postgres]
}

/// The identity and access-request stores write roles and requests compare-and-set on their versions, on every back
/// end; the credential stores delete expired sessions; the SQLite credential cache is bounded.
struct PlatformStoreTests {
    static func withDatabase(_ body: (SQLiteDatabase) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("platform.sqlite"))
            defer { try? database.close() }
            try await body(database)
        }
    }

    @Test(arguments: PlatformStoreKind.all)
    func rolesAreWrittenOnlyOverTheVersionTheyWereReadFrom(kind: PlatformStoreKind) async throws {
        try await kind.run { stores in
            let store = stores.identities
            let role = Role(name: "r", arn: "arn:aws:iam::000000000000:role/r", trustPolicy: "{}", creationDate: Date())
            try await store.apply([.putRole(role)])
            // A second creation, and a change based on a stale read, fail and change nothing.
            await expectAccessControlError(.concurrentModification) { try await store.apply([.putRole(role)]) }
            var loaded = try #require(try await store.load().roles["r"])
            #expect(loaded.version == 1)
            loaded.policies["a"] = "{}"
            var stale = loaded
            stale.policies["b"] = "{}"
            try await store.apply([.putRole(loaded)])
            let team = Team(name: "t", arn: "arn:aws:iam::000000000000:group/t", creationDate: Date())
            await expectAccessControlError(.concurrentModification) {
                try await store.apply([.putTeam(team), .putRole(stale)])
            }
            let snapshot = try await store.load()
            #expect(snapshot.roles["r"]?.version == 2)
            #expect(snapshot.roles["r"]?.policies.keys.sorted() == ["a"])
            // The whole change list rolled back.
            #expect(snapshot.teams["t"] == nil)
        }
    }

    /// Two servers on one database (replicas) each change a user and a team they read at the same version: the
    /// second change of each is refused, not silently written over the first.
    @Test(arguments: PlatformStoreKind.all)
    func usersAndTeamsAreWrittenOnlyOverTheVersionTheyWereReadFrom(kind: PlatformStoreKind) async throws {
        try await kind.run { stores in
            let store = stores.identities
            let user = User(name: "u", arn: "arn:aws:iam::000000000000:user/u", creationDate: Date())
            let team = Team(name: "t", arn: "arn:aws:iam::000000000000:group/t", creationDate: Date())
            try await store.apply([.putUser(user), .putTeam(team)])
            // Creating either again is refused.
            await expectAccessControlError(.concurrentModification) { try await store.apply([.putUser(user)]) }
            await expectAccessControlError(.concurrentModification) { try await store.apply([.putTeam(team)]) }

            let read = try await store.load()
            var first = try #require(read.users["u"])
            var second = first
            first.policies["first"] = "{}"
            second.policies["second"] = "{}"
            try await store.apply([.putUser(first)])
            await expectAccessControlError(.concurrentModification) { try await store.apply([.putUser(second)]) }

            var teamFirst = try #require(read.teams["t"])
            var teamSecond = teamFirst
            teamFirst.policies["first"] = "{}"
            teamSecond.principals = ["arn:aws:iam::000000000000:role/r"]
            try await store.apply([.putTeam(teamFirst)])
            await expectAccessControlError(.concurrentModification) { try await store.apply([.putTeam(teamSecond)]) }

            let after = try await store.load()
            #expect(after.users["u"]?.version == 2)
            #expect(after.users["u"]?.policies.keys.sorted() == ["first"])
            #expect(after.teams["t"]?.version == 2)
            #expect(after.teams["t"]?.policies.keys.sorted() == ["first"])
            #expect(after.teams["t"]?.principals == [])
        }
    }

    @Test(arguments: PlatformStoreKind.all)
    func identitiesAndTheCatalogRoundTripAndReplace(kind: PlatformStoreKind) async throws {
        try await kind.run { stores in
            let alice = User(
                name: "alice",
                arn: "arn:aws:iam::000000000000:user/alice",
                teams: ["t"],
                creationDate: referenceDate
            )
            let bob = User(name: "bob", arn: "arn:aws:iam::000000000000:user/bob", creationDate: referenceDate)
            let team = Team(name: "t", arn: "arn:aws:iam::000000000000:group/t", creationDate: referenceDate)
            try await stores.identities.apply([.putUser(alice), .putTeam(team), .putUser(bob)])
            try await stores.identities.apply([.deleteUser("bob")])
            var renamed = try #require(try await stores.identities.load().users["alice"])
            #expect(renamed.version == 1)
            renamed.teams = []
            try await stores.identities.apply([.putUser(renamed)])
            let snapshot = try await stores.identities.load()
            renamed.version = 2
            var storedTeam = team
            storedTeam.version = 1
            #expect(snapshot.users == ["alice": renamed])
            #expect(snapshot.teams == ["t": storedTeam])

            let domain = Domain(name: "payments", owner: "t", keyARN: "arn:k", creationDate: referenceDate)
            let eventType = EventType(
                name: "payments.card.captured",
                domain: "payments",
                classification: .confidential,
                regulations: ["PCI"],
                sensitiveFields: ["pan"],
                algorithmSuite: "suite",
                approvalsRequired: 2,
                readerRoleARN: "arn:r",
                readerRoleName: "r",
                creationDate: referenceDate
            )
            try await stores.catalog.put(domain)
            try await stores.catalog.put(eventType)
            var changed = eventType
            changed.approvalsRequired = 1
            try await stores.catalog.put(changed)
            let catalog = try await stores.catalog.load()
            #expect(catalog.domains == [domain])
            #expect(catalog.eventTypes == [changed])
        }
    }

    @Test(arguments: PlatformStoreKind.all)
    func accessRequestsAreWrittenOnlyOverTheVersionTheyWereReadFrom(kind: PlatformStoreKind) async throws {
        try await kind.run { stores in
            let store = stores.accessRequests
            var request = pendingAccessRequest()
            try await store.put(request)
            await expectAccessControlError(.concurrentModification) { try await store.put(request) }
            request.version = 1
            _ = try request.approve(by: "arn:aws:iam::000000000000:user/reviewer", comment: "", at: referenceDate)
            try await store.put(request)
            var stale = request
            stale.status = .denied
            await expectAccessControlError(.concurrentModification) { try await store.put(stale) }
            let loaded = try await store.load()
            #expect(loaded.map(\.status) == [.approved])
            #expect(loaded.map(\.version) == [2])
            // The version is kept beside the document, not in it.
            let documents = try await stores.accessRequestDocuments()
            #expect(documents.count == 1)
            #expect(documents.first?.contains("version") == false)
        }
    }

    @Test(arguments: CredentialStoreKind.all)
    func expiredSessionsAreDeletedAndLongTermKeysKept(kind: CredentialStoreKind) async throws {
        try await kind.withStore { store in
            let user = AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice", at: referenceDate)
            let session = { (seconds: Double) in
                AccessKey.generateSession(
                    for: "arn:aws:sts::000000000000:assumed-role/reader/s",
                    expiration: referenceDate.addingTimeInterval(seconds),
                    at: referenceDate
                )
            }
            let ended = session(-10)
            let ending = session(0)
            let live = session(10)
            for key in [user, ended, ending, live] {
                try await store.create(key)
                _ = try await store.accessKey(id: key.id)
            }
            #expect(try await store.deleteSessions(expiredBefore: referenceDate) == 1)
            #expect(try await store.accessKey(id: ended.id) == nil)
            #expect(try await store.accessKey(id: ending.id) == ending)
            #expect(try await store.accessKey(id: live.id) == live)
            #expect(try await store.accessKey(id: user.id) == user)
            #expect(try await store.deleteSessions(expiredBefore: .distantFuture) == 2)
            #expect(try await store.accessKeys(of: nil).map(\.id) == [user.id])
        }
    }

    @Test func theCredentialCacheIsBounded() async throws {
        try await Self.withDatabase { database in
            let store = SQLiteCredentialStore(
                database: database,
                rootKey: SymmetricKey(size: .bits256),
                cacheCapacity: 3
            )
            let keys = (0..<10).map { _ in AccessKey.generate(for: "arn:aws:iam::000000000000:user/alice") }
            for key in keys {
                try await store.create(key)
                #expect(try await store.accessKey(id: key.id) == key)
                #expect(store.cachedKeyCount <= 3)
            }
            #expect(store.cachedKeyCount == 3)
            // Evicted keys are still found.
            for key in keys { #expect(try await store.accessKey(id: key.id) == key) }
        }
    }
}
