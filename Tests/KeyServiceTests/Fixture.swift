import Crypto
import Foundation
import KMS
import KeyService
import Synchronization
import Testing

/// A wall clock that moves only when a test says so.
final class ManualClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }

    var now: Date { current.withLock { $0 } }

    func advance(days: Double) { current.withLock { $0 = $0.addingTimeInterval(days * 86_400) } }

    func advance(seconds: Double) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// An authorizer that answers one fixed verdict and records what it was asked.
final class RecordingAuthorizer: Authorizer {
    private let verdict: @Sendable (AuthorizationRequest) -> Verdict
    private let log = Mutex<[AuthorizationRequest]>([])

    init(_ verdict: @escaping @Sendable (AuthorizationRequest) -> Verdict) { self.verdict = verdict }

    var requests: [AuthorizationRequest] { log.withLock { $0 } }

    func authorize(_ request: AuthorizationRequest) async -> Verdict {
        log.withLock { $0.append(request) }
        return verdict(request)
    }
}

/// `KMS.Tag`, not Swift Testing's `Tag`.
typealias Tag = KMS.Tag

let administrator = Caller(principal: "arn:aws:iam::000000000000:user/admin", sourceIP: "127.0.0.1")
let stranger = Caller(principal: "arn:aws:iam::000000000000:user/mallory", sourceIP: "10.0.0.9")

/// A key service over an in-memory store, a manual clock and the administrator-only authorizer.
struct Fixture {
    let clock = ManualClock()
    let store = InMemoryKeyStore()
    let rootKey = SymmetricKey(size: .bits256)
    let service: KeyService

    init(authorizer: (any Authorizer)? = nil) throws {
        let manualClock = self.clock
        service = try KeyService(
            store: self.store,
            rootKey: self.rootKey,
            authorizer: authorizer ?? AdministratorAuthorizer(administrator: administrator.principal),
            now: { manualClock.now }
        )
    }

    /// Creates a key and returns its metadata.
    func createKey(description: String = "test key", tags: [Tag]? = nil) async throws -> KeyMetadata {
        let response = try await service.createKey(
            CreateKeyRequest(description: description, tags: tags),
            caller: administrator
        )
        return try #require(response.keyMetadata)
    }

    func describe(_ keyID: String) async throws -> KeyMetadata {
        try #require(try await service.describeKey(DescribeKeyRequest(keyId: keyID), caller: administrator).keyMetadata)
    }

    func encrypt(
        _ keyID: String,
        _ plaintext: Data = Data("secret".utf8),
        context: [String: String]? = nil
    )
        async throws -> Data
    {
        let response = try await service.encrypt(
            EncryptRequest(keyId: keyID, plaintext: plaintext, encryptionContext: context),
            caller: administrator
        )
        return try #require(response.ciphertextBlob)
    }

    func decrypt(_ blob: Data, keyID: String? = nil, context: [String: String]? = nil) async throws -> Data {
        let response = try await service.decrypt(
            DecryptRequest(ciphertextBlob: blob, encryptionContext: context, keyId: keyID),
            caller: administrator
        )
        return try #require(response.plaintext)
    }

    func createAlias(_ name: String, target: String) async throws {
        _ = try await service.createAlias(
            CreateAliasRequest(aliasName: name, targetKeyId: target),
            caller: administrator
        )
    }

    func disable(_ keyID: String) async throws {
        _ = try await service.disableKey(DisableKeyRequest(keyId: keyID), caller: administrator)
    }

    func enable(_ keyID: String) async throws {
        _ = try await service.enableKey(EnableKeyRequest(keyId: keyID), caller: administrator)
    }

    func scheduleDeletion(_ keyID: String, days: Int? = nil) async throws -> ScheduleKeyDeletionResponse {
        try await service.scheduleKeyDeletion(
            ScheduleKeyDeletionRequest(keyId: keyID, pendingWindowInDays: days),
            caller: administrator
        )
    }
}

/// Expects `body` to fail with the KMS error `code`, and returns the error.
@discardableResult
func expectKMSError(
    _ code: KMSError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> KMSError? {
    do {
        try await body()
        Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as KMSError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
