package import Crypto
package import Foundation

/// Seals access-key secrets at rest: AES-256-GCM under a key derived from the root key, with the access key id as
/// associated data, so a sealed secret moved to another row does not open.
///
/// The sealing key is HKDF-SHA256(root key, info `sealed-events/access-key-secrets/v1`), separating these
/// ciphertexts from the key service's material (sealed under the root key itself). The session token of a role
/// session is sealed the same way with the associated data `ID ‖ 0x00 ‖ "session-token"`, so the two cannot be
/// swapped. The stored form is AES-GCM's combined form: nonce ‖ ciphertext ‖ tag.
///
/// Other secrets kept in the database use a sealer of their own purpose (``init(rootKey:purpose:)``: another HKDF
/// `info`, so another key) and ``seal(_:aad:)`` / ``open(_:aad:what:)`` on bytes.
package struct SecretSealer: Sendable {
    private let key: SymmetricKey

    package init(rootKey: SymmetricKey) {
        self.init(rootKey: rootKey, purpose: "sealed-events/access-key-secrets/v1")
    }

    /// A sealer whose key is HKDF-SHA256(root key, info `purpose`).
    package init(rootKey: SymmetricKey, purpose: String) {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: rootKey, info: Data(purpose.utf8), outputByteCount: 32)
    }

    package func sealSecret(_ secret: String, accessKeyID: String) throws -> Data {
        try seal(secret, aad: Self.secretAAD(accessKeyID))
    }

    package func openSecret(_ sealed: Data, accessKeyID: String) throws -> String {
        try open(sealed, aad: Self.secretAAD(accessKeyID), accessKeyID: accessKeyID)
    }

    package func sealSessionToken(_ token: String, accessKeyID: String) throws -> Data {
        try seal(token, aad: Self.tokenAAD(accessKeyID))
    }

    package func openSessionToken(_ sealed: Data, accessKeyID: String) throws -> String {
        try open(sealed, aad: Self.tokenAAD(accessKeyID), accessKeyID: accessKeyID)
    }

    private static func secretAAD(_ id: String) -> Data { Data(id.utf8) }

    private static func tokenAAD(_ id: String) -> Data { Data(id.utf8) + [0] + Data("session-token".utf8) }

    private func seal(_ text: String, aad: Data) throws -> Data {
        try seal(Data(text.utf8), aad: aad)
    }

    private func open(_ sealed: Data, aad: Data, accessKeyID: String) throws -> String {
        String(decoding: try open(sealed, aad: aad, what: "The secret of access key \(accessKeyID)"), as: UTF8.self)
    }

    /// `secret` sealed, bound to `aad`.
    package func seal(_ secret: Data, aad: Data) throws -> Data {
        guard let combined = try AES.GCM.seal(secret, using: key, authenticating: aad).combined else {
            throw StorageError(.unsealFailed, "A secret could not be sealed.")
        }
        return combined
    }

    /// The secret `sealed` holds, if it was sealed by this sealer with `aad`.
    ///
    /// - Throws: ``StorageError`` `unsealFailed`, saying "`what` does not open under the root key".
    package func open(_ sealed: Data, aad: Data, what: String) throws -> Data {
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: aad)
        } catch {
            throw StorageError(.unsealFailed, "\(what) does not open under the root key.")
        }
    }
}
