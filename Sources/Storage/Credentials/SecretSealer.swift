import Crypto
import Foundation

/// Seals access-key secrets at rest: AES-256-GCM under a key derived from the root key, with the access key id as
/// associated data, so a sealed secret moved to another row does not open.
///
/// The sealing key is HKDF-SHA256(root key, info `sealed-events/access-key-secrets/v1`), separating these
/// ciphertexts from the key service's material (sealed under the root key itself). The session token of a role
/// session is sealed the same way with the associated data `ID ‖ 0x00 ‖ "session-token"`, so the two cannot be
/// swapped. The stored form is AES-GCM's combined form: nonce ‖ ciphertext ‖ tag.
struct SecretSealer: Sendable {
    private let key: SymmetricKey

    init(rootKey: SymmetricKey) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: rootKey,
            info: Data("sealed-events/access-key-secrets/v1".utf8),
            outputByteCount: 32
        )
    }

    func sealSecret(_ secret: String, accessKeyID: String) throws -> Data {
        try seal(secret, aad: Self.secretAAD(accessKeyID))
    }

    func openSecret(_ sealed: Data, accessKeyID: String) throws -> String {
        try open(sealed, aad: Self.secretAAD(accessKeyID), accessKeyID: accessKeyID)
    }

    func sealSessionToken(_ token: String, accessKeyID: String) throws -> Data {
        try seal(token, aad: Self.tokenAAD(accessKeyID))
    }

    func openSessionToken(_ sealed: Data, accessKeyID: String) throws -> String {
        try open(sealed, aad: Self.tokenAAD(accessKeyID), accessKeyID: accessKeyID)
    }

    private static func secretAAD(_ id: String) -> Data { Data(id.utf8) }

    private static func tokenAAD(_ id: String) -> Data { Data(id.utf8) + [0] + Data("session-token".utf8) }

    private func seal(_ text: String, aad: Data) throws -> Data {
        guard let combined = try AES.GCM.seal(Data(text.utf8), using: key, authenticating: aad).combined else {
            throw StorageError(.unsealFailed, "A secret could not be sealed.")
        }
        return combined
    }

    private func open(_ sealed: Data, aad: Data, accessKeyID: String) throws -> String {
        do {
            let plaintext = try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: aad)
            return String(decoding: plaintext, as: UTF8.self)
        } catch {
            throw StorageError(
                .unsealFailed,
                "The secret of access key \(accessKeyID) does not open under the root key."
            )
        }
    }
}
