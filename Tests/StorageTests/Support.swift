import AccessControl
import Crypto
import Foundation
import KMS
import KeyService
import Logging
import PostgresStorage
import SealedTesting
import Storage
import Subjects
import Testing

/// `KMS.Tag`, not Swift Testing's `Tag`.
typealias Tag = KMS.Tag

/// A `KeyStore` implementation the contract runs against; add a case here to hold a new store to the contract.
struct KeyStoreKind: Sendable, CustomTestStringConvertible {
    let name: String
    let run: @Sendable (_ body: (any KeyStore) async throws -> Void) async throws -> Void

    var testDescription: String { name }

    /// Runs `body` with a new empty store.
    func withStore(_ body: (any KeyStore) async throws -> Void) async throws { try await run(body) }

    static let inMemory = KeyStoreKind(name: "InMemoryKeyStore") { body in try await body(InMemoryKeyStore()) }

    static let sqlite = KeyStoreKind(name: "SQLiteKeyStore") { body in
        try await withTemporaryDirectory { directory in
            let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("keys.sqlite"))
            defer { try? database.close() }
            try await body(SQLiteKeyStore(database: database))
        }
    }

    /// The server's arrangement: the read-through cache over SQLite; a capacity of 2 makes eviction happen.
    static let cachedSQLite = KeyStoreKind(name: "CachingKeyStore(SQLiteKeyStore)") { body in
        try await withTemporaryDirectory { directory in
            let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("keys.sqlite"))
            defer { try? database.close() }
            try await body(CachingKeyStore(SQLiteKeyStore(database: database), capacity: 2))
        }
    }

    static let postgres = KeyStoreKind(name: "PostgresKeyStore") { body in
        try await withPostgres { database in try await body(PostgresKeyStore(database: database)) }
    }

    /// The replicas' arrangement: cached while the cache epoch stays put; a capacity of 2 makes eviction happen.
    static let cachedPostgres = KeyStoreKind(name: "PostgresKeyStore(cacheEpoch:)") { body in
        try await withPostgres { database in
            try await body(
                PostgresKeyStore(
                    database: database,
                    cacheEpoch: PostgresCacheEpoch(database: database),
                    cacheCapacity: 2
                )
            )
        }
    }

    static let all: [KeyStoreKind] = [.inMemory, .sqlite, .cachedSQLite, .postgres, .cachedPostgres]
}

/// A `CredentialStore` implementation the credential contract runs against.
struct CredentialStoreKind: Sendable, CustomTestStringConvertible {
    let name: String
    let run: @Sendable (_ body: (any CredentialStore) async throws -> Void) async throws -> Void

    var testDescription: String { name }

    func withStore(_ body: (any CredentialStore) async throws -> Void) async throws { try await run(body) }

    static let inMemory = CredentialStoreKind(name: "InMemoryCredentialStore") { body in
        try await body(InMemoryCredentialStore())
    }

    static let sqlite = CredentialStoreKind(name: "SQLiteCredentialStore") { body in
        try await withTemporaryDirectory { directory in
            let database = try SQLiteDatabase.open(at: directory.appendingPathComponent("credentials.sqlite"))
            defer { try? database.close() }
            try await body(SQLiteCredentialStore(database: database, rootKey: .init(size: .bits256)))
        }
    }

    static let postgres = CredentialStoreKind(name: "PostgresCredentialStore") { body in
        try await withPostgres { database in
            try await body(PostgresCredentialStore(database: database, rootKey: .init(size: .bits256)))
        }
    }

    static let cachedPostgres = CredentialStoreKind(name: "PostgresCredentialStore(cacheEpoch:)") { body in
        try await withPostgres { database in
            try await body(
                PostgresCredentialStore(
                    database: database,
                    rootKey: .init(size: .bits256),
                    cacheEpoch: PostgresCacheEpoch(database: database),
                    cacheCapacity: 2
                )
            )
        }
    }

    static let all: [CredentialStoreKind] = [.inMemory, .sqlite, .postgres, .cachedPostgres]
}

/// The PostgreSQL pools' background log, silent: the tests assert on outcomes, and the migration notices of every
/// test's database would bury the test output.
let quietLogger = Logger(label: "sealed.tests.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs `body` with a migrated PostgreSQL database of its own (dropped afterwards), or skips when `scripts/test`'s
/// server is not running (fails with `CI=true`).
func withPostgres(_ body: (PostgresDatabase) async throws -> Void) async throws {
    guard let fixture = try PostgresFixture.located() else { return }
    try await fixture.withDatabase { url in
        try await PostgresDatabase.withDatabase(try PostgresURL(url), maximumConnections: 4, logger: quietLogger) {
            database in
            try await body(database)
        }
    }
}

/// A reference date with a fraction that a millisecond-precision store would lose.
let referenceDate = Date(timeIntervalSinceReferenceDate: 817_000_000.123_456_789)

/// A key record with every field set to something other than its default.
func keyRecord(
    _ id: String,
    revision: Int = 1,
    state: KeyState = .enabled,
    deletionDate: Date? = nil,
    rotation: RotationSettings = RotationSettings(),
    materials: Int = 1,
    tags: [Tag] = [Tag(key: "team", value: "payments"), Tag(key: "ä", value: "ü ✓")]
) -> KeyRecord {
    let sealedMaterials: [SealedMaterial] = (0..<materials).map { index in
        let sealed = Data((0..<60).map { (byte: Int) -> UInt8 in UInt8(truncatingIfNeeded: byte &* 7 &+ index) })
        let origin: SealedMaterial.Origin = index == 0 ? .creation : .onDemand
        return SealedMaterial(
            version: UInt32(index + 1),
            materialID: String(repeating: String(index % 10), count: 64),
            creationDate: referenceDate.addingTimeInterval(Double(index) * 86_400.5),
            origin: origin,
            sealed: sealed
        )
    }
    let pendingWindow: Int? = deletionDate == nil ? nil : 7
    return KeyRecord(
        id: id,
        arn: "arn:aws:kms:us-east-1:000000000000:key/" + id,
        keyDescription: "key " + id + " — with \"quotes\" and a\nnewline",
        creationDate: referenceDate,
        state: state,
        deletionDate: deletionDate,
        pendingWindowInDays: pendingWindow,
        tags: tags,
        policy: #"{"Version":"2012-10-17","Statement":[]}"#,
        rotation: rotation,
        materials: sealedMaterials,
        revision: revision
    )
}

/// A pending access request, version 0 (not stored yet).
func pendingAccessRequest() -> AccessRequest {
    AccessRequest(
        id: "ar-1",
        eventType: "payments.card.captured",
        requester: "arn:aws:iam::000000000000:user/analyst",
        justification: "x",
        durationSeconds: nil,
        approvalsRequired: 1,
        creationDate: referenceDate
    )
}

/// The payments team's webhook: a Slack-like URL that is itself a credential, and a new signing secret.
func paymentsWebhook() -> TeamWebhook {
    let created = Date(timeIntervalSinceReferenceDate: 800_000_000.5)
    return TeamWebhook(
        team: "payments",
        url: "https://hooks.slack.com/services/T0/B0/url-token-\(UUID().uuidString)",
        secret: WebhookSignature.generateSecret(),
        creationDate: created,
        secretDate: created.addingTimeInterval(60)
    )
}

/// A subject's branch key in the payments domain.
func subjectKey() -> SubjectKey {
    SubjectKey(
        branchKeyID: "payments.order.placed/s-00112233445566778899aabbccddeeff",
        pseudonym: "s-00112233445566778899aabbccddeeff",
        domain: "payments",
        eventType: "payments.order.placed",
        kmsKeyARN: "arn:aws:kms:us-east-1:000000000000:key/k",
        creationDate: Date(timeIntervalSinceReferenceDate: 800_000_000.25)
    )
}

/// The erasure fence of `key`'s subject, not lifted.
func erasureFence(of key: SubjectKey) -> SubjectFence {
    SubjectFence(
        domain: key.domain,
        pseudonym: key.pseudonym,
        erasureDate: Date(timeIntervalSinceReferenceDate: 800_000_100.5),
        reason: "Art. 17",
        principal: "arn:aws:iam::000000000000:user/admin",
        keysDestroyed: 3
    )
}

func aliasRecord(_ name: String, target: String, revision: Int = 1) -> AliasRecord {
    AliasRecord(
        name: name,
        targetKeyID: target,
        creationDate: referenceDate,
        lastUpdatedDate: referenceDate.addingTimeInterval(0.25),
        revision: revision
    )
}

/// Expects `body` to throw a `StorageError` with `code`, and returns it.
@discardableResult
func expectStorageError(
    _ code: StorageError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> StorageError? {
    do {
        try await body()
        Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as StorageError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Expects `body` to throw an `AccessControlError` with `code` (the credential stores' own errors).
func expectAccessControlError(
    _ code: AccessControlError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as AccessControlError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
