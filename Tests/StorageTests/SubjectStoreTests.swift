import Crypto
import Foundation
import SealedTesting
import Storage
import Subjects
import Testing

/// The subject registry in SQLite: the domains' pseudonym secrets sealed under the root key (never in the database's
/// bytes), keys and fences kept across a restart.
struct SubjectStoreTests {
    static let secretBytes = Data((0..<32).map { UInt8(0xA0 + $0) })

    @Test func secretsAreSealedAtRestAndEverythingSurvivesARestart() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("platform.sqlite")
            let rootKey = SymmetricKey(size: .bits256)
            let key = subjectKey()
            var fence = erasureFence(of: key)
            do {
                let database = try SQLiteDatabase.open(at: url)
                defer { try? database.close() }
                let store = SQLiteSubjectStore(database: database, rootKey: rootKey)
                #expect(try await store.domainSecret("payments") == nil)
                let stored = try await store.insertDomainSecret(SymmetricKey(data: Self.secretBytes), for: "payments")
                #expect(stored == SymmetricKey(data: Self.secretBytes))
                // A second insert keeps the first secret.
                let kept = try await store.insertDomainSecret(SymmetricKey(size: .bits256), for: "payments")
                #expect(kept == stored)
                try await store.putKey(key)
                try await store.putFence(fence)
                fence.lift = SubjectFence.Lift(date: fence.erasureDate, reason: "consent", principal: "p")
                try await store.putFence(fence)
                try database.checkpoint()
            }
            var bytes = Data()
            for suffix in ["", "-wal"] {
                bytes += (try? Data(contentsOf: URL(fileURLWithPath: url.path + suffix))) ?? Data()
            }
            #expect(!bytes.isEmpty)
            #expect(bytes.range(of: Self.secretBytes) == nil, "the secret is in the database in plaintext")
            #expect(bytes.range(of: Data(key.pseudonym.utf8)) != nil, "the registry is keyed by pseudonym")

            let database = try SQLiteDatabase.open(at: url)
            defer { try? database.close() }
            let store = SQLiteSubjectStore(database: database, rootKey: rootKey)
            #expect(try await store.domainSecret("payments") == SymmetricKey(data: Self.secretBytes))
            #expect(try await store.keys(domain: "payments", pseudonym: key.pseudonym) == [key])
            #expect(try await store.fence(domain: "payments", pseudonym: key.pseudonym) == fence)
            try await store.deleteKey(branchKeyID: key.branchKeyID)
            #expect(try await store.keys(domain: "payments", pseudonym: key.pseudonym).isEmpty)
            #expect(try await store.fence(domain: "shipping", pseudonym: key.pseudonym) == nil)

            // Under another root key the secret does not open.
            let stranger = SQLiteSubjectStore(database: database, rootKey: SymmetricKey(size: .bits256))
            await #expect(throws: StorageError(.unsealFailed, "")) { _ = try await stranger.domainSecret("payments") }
        }
    }
}
