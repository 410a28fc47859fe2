public import EncryptionSDK
internal import Synchronization

/// Wraps a keyring and counts the calls that reach it: how many data keys a caching CMM really asked
/// its key service for, or whether a limit stopped a message before any unwrap.
public final class CountingKeyring: Keyring {
    public let wrapped: any Keyring
    private let counts = Mutex((encrypt: 0, decrypt: 0))

    public init(_ wrapped: any Keyring) { self.wrapped = wrapped }

    /// Calls of ``onEncrypt(_:)`` so far.
    public var encryptCalls: Int { counts.withLock { $0.encrypt } }
    /// Calls of ``onDecrypt(_:encryptedDataKeys:)`` so far.
    public var decryptCalls: Int { counts.withLock { $0.decrypt } }

    public func onEncrypt(_ materials: EncryptionMaterials) async throws -> EncryptionMaterials {
        counts.withLock { $0.encrypt += 1 }
        return try await wrapped.onEncrypt(materials)
    }

    public func onDecrypt(
        _ materials: DecryptionMaterials,
        encryptedDataKeys: [EncryptedDataKey]
    ) async throws -> DecryptionMaterials {
        counts.withLock { $0.decrypt += 1 }
        return try await wrapped.onDecrypt(materials, encryptedDataKeys: encryptedDataKeys)
    }
}
