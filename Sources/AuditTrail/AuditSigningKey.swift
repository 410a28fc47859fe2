public import Crypto
public import Foundation
import SealedSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The server's own ECDSA P-256 key that signs audit digests.
///
/// Created at first start and kept in the data directory sealed under the root key (``loadOrCreate(at:rootKey:)``);
/// its public key is exported as PEM (``publicKeyPEM``) so that anyone can verify an export without the server.
/// Its `description` names the key's fingerprint, never its bytes.
public struct AuditSigningKey: Sendable, CustomStringConvertible {
    let privateKey: P256.Signing.PrivateKey

    init(privateKey: P256.Signing.PrivateKey) { self.privateKey = privateKey }

    /// A new random key.
    public static func generate() -> AuditSigningKey { AuditSigningKey(privateKey: P256.Signing.PrivateKey()) }

    /// The public key that verifies this key's digests.
    public var publicKey: P256.Signing.PublicKey { privateKey.publicKey }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo), as OpenSSL writes it.
    public var publicKeyPEM: String { privateKey.publicKey.pemRepresentation }

    /// The hex SHA-256 of the public key's DER SubjectPublicKeyInfo; digests name it.
    public var fingerprint: String { Self.fingerprint(of: publicKey) }

    /// The hex SHA-256 of a public key's DER SubjectPublicKeyInfo.
    public static func fingerprint(of publicKey: P256.Signing.PublicKey) -> String {
        ChainHash.of(publicKey.derRepresentation).hex
    }

    /// Reads a P-256 public key from PEM (SubjectPublicKeyInfo).
    ///
    /// - Throws: ``AuditError`` `invalidPublicKey`.
    public static func publicKey(pem: String) throws -> P256.Signing.PublicKey {
        do {
            return try P256.Signing.PublicKey(pemRepresentation: pem)
        } catch {
            throw AuditError(.invalidPublicKey, "The audit public key is not a P-256 public key in PEM.")
        }
    }

    public var description: String { "AuditSigningKey(P-256, fingerprint \(fingerprint))" }

    /// Signs a digest.
    ///
    /// - Throws: when the crypto library fails to sign.
    public func sign(_ digest: Digest) throws -> SignedDigest {
        let signature = try privateKey.signature(for: digest.signedBytes)
        return SignedDigest(digest: digest, signature: signature.derRepresentation)
    }

    // MARK: Sealing

    private static let magic = Array("sealed-audit-key/1\n".utf8)
    private static let aad = Data("sealed-events/audit-signing-key/v1".utf8)

    private static func sealingKey(_ rootKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: rootKey,
            info: Data("sealed-events/audit-signing-key/v1".utf8),
            outputByteCount: 32
        )
    }

    /// The private key sealed under `rootKey`: a magic line, then AES-256-GCM's combined form (nonce ‖ ciphertext ‖
    /// tag) of the raw private scalar, under HKDF-SHA256(root key, info `sealed-events/audit-signing-key/v1`).
    ///
    /// - Throws: when AES-GCM fails.
    public func sealed(under rootKey: SymmetricKey) throws -> Data {
        let box = try AES.GCM.seal(
            privateKey.rawRepresentation,
            using: Self.sealingKey(rootKey),
            authenticating: Self.aad
        )
        guard let combined = box.combined else {
            throw AuditError(.unsealFailed, "The audit signing key could not be sealed.")
        }
        return Data(Self.magic) + combined
    }

    /// Opens a key sealed by ``sealed(under:)``.
    ///
    /// - Throws: ``AuditError`` `unsealFailed` when the data is not a sealed key or the root key is not the one it
    ///   was sealed under.
    public init(sealed: Data, rootKey: SymmetricKey) throws {
        let failure = AuditError(
            .unsealFailed,
            "The audit signing key does not open under the root key (wrong root key, or the file was altered)."
        )
        guard sealed.starts(with: Self.magic) else { throw failure }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst(Self.magic.count))
            let raw = try AES.GCM.open(box, using: Self.sealingKey(rootKey), authenticating: Self.aad)
            self.init(privateKey: try P256.Signing.PrivateKey(rawRepresentation: raw))
        } catch {
            throw failure
        }
    }

    /// Loads the sealed key at `url`, or creates one there (mode 0600, written durably) when the file does not exist.
    ///
    /// A new key is written to a temporary file, synced, and then linked to `url` (which fails if another process
    /// created the key meanwhile; that key is then loaded), so `url` never holds a partial key (``DurableFile``).
    /// - Throws: ``AuditError`` `keyFilePermissions` when the file is readable or writable by group or others,
    ///   `unsealFailed` when it does not open under `rootKey`, `fileSystem` when it cannot be read or created.
    public static func loadOrCreate(at url: URL, rootKey: SymmetricKey) throws -> AuditSigningKey {
        if let existing = try load(url, rootKey: rootKey) { return existing }
        let key = generate()
        do {
            try DurableFile.write(key.sealed(under: rootKey), to: url, mode: 0o600, replacingExisting: false)
        } catch let error as FileSystemError where error.code == EEXIST {
            if let existing = try load(url, rootKey: rootKey) { return existing }
            throw AuditError(.fileSystem, "Could not create the audit signing key file \(url.path).")
        } catch {
            throw AuditError(.fileSystem, "Could not create the audit signing key file \(url.path).")
        }
        return key
    }

    private static func load(_ url: URL, rootKey: SymmetricKey) throws -> AuditSigningKey? {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw AuditError(.fileSystem, "Could not read the attributes of \(url.path).")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw AuditError(
                .keyFilePermissions,
                "The audit signing key file \(url.path) is accessible to group or others (mode "
                    + "\(String(info.st_mode & 0o777, radix: 8))); it must be 0600."
            )
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw AuditError(.fileSystem, "Could not read the audit signing key file \(url.path).")
        }
        return try AuditSigningKey(sealed: data, rootKey: rootKey)
    }

    /// Writes ``publicKeyPEM`` to `url` (mode 0644), replacing the file: what `sealed audit verify --public-key`
    /// reads, and what may be handed to auditors.
    ///
    /// - Throws: ``AuditError`` `fileSystem`.
    public func writePublicKeyPEM(to url: URL) throws {
        do {
            try DurableFile.write(Data(publicKeyPEM.utf8), to: url, mode: 0o644)
        } catch {
            throw AuditError(.fileSystem, "Could not write the audit public key file \(url.path).")
        }
    }
}
