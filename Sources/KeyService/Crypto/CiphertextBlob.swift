internal import Crypto
public import Foundation
import WireShapes

/// The ciphertext blob format of the key service, version 1.
///
/// ```
/// offset  size  field
///      0     1  format version, 0x01
///      1    16  key id (UUID bytes)
///     17     4  key-material version, big-endian
///     21    12  IV
///     33     n  AES-256-GCM ciphertext
///   33+n    16  AES-256-GCM tag
/// ```
///
/// The associated data is the 21-byte header (format version, key id, material version) followed by the canonical
/// encryption context (``canonicalEncryptionContext(_:)``), so a blob moved to another key or version, a changed
/// byte anywhere, or a different encryption context all fail authentication.
public struct CiphertextBlob: Sendable, Hashable {
    public static let formatVersion: UInt8 = 1
    static let headerLength = 21
    static let ivLength = 12
    static let tagLength = 16

    /// The key id, a lowercase UUID string.
    public let keyID: String
    public let materialVersion: UInt32
    let keyUUID: UUID
    let iv: Data
    let ciphertext: Data
    let tag: Data

    /// Parses a blob; `nil` when it is not a version-1 blob of plausible length.
    public init?(_ data: Data) {
        let bytes = Data(data)
        guard bytes.count >= Self.headerLength + Self.ivLength + Self.tagLength,
            bytes[bytes.startIndex] == Self.formatVersion
        else { return nil }
        let base = bytes.startIndex
        let uuidBytes = Array(bytes[(base + 1)..<(base + 17)])
        keyUUID = UUID(
            uuid: (
                uuidBytes[0], uuidBytes[1], uuidBytes[2], uuidBytes[3], uuidBytes[4], uuidBytes[5], uuidBytes[6],
                uuidBytes[7], uuidBytes[8], uuidBytes[9], uuidBytes[10], uuidBytes[11], uuidBytes[12],
                uuidBytes[13], uuidBytes[14], uuidBytes[15]
            )
        )
        keyID = keyUUID.lowercasedString
        materialVersion = bytes[(base + 17)..<(base + 21)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        iv = bytes[(base + 21)..<(base + 33)]
        ciphertext = bytes[(base + 33)..<(bytes.endIndex - Self.tagLength)]
        tag = bytes[(bytes.endIndex - Self.tagLength)...]
    }

    static func header(keyUUID: UUID, materialVersion: UInt32) -> Data {
        var header: [UInt8] = []
        appendHeader(keyUUID: keyUUID, materialVersion: materialVersion, to: &header)
        return Data(header)
    }

    /// Appends the header (format version, key id, material version) to `out`.
    static func appendHeader(keyUUID: UUID, materialVersion: UInt32, to out: inout [UInt8]) {
        out.append(formatVersion)
        withUnsafeBytes(of: keyUUID.uuid) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: materialVersion.bigEndian) { out.append(contentsOf: $0) }
    }

    /// Encrypts `plaintext` under `material` into a blob.
    static func seal(
        _ plaintext: Data,
        keyUUID: UUID,
        materialVersion: UInt32,
        material: SymmetricKey,
        encryptionContext: [String: String]
    ) throws -> Data {
        let header = header(keyUUID: keyUUID, materialVersion: materialVersion)
        let aad = associatedData(
            keyUUID: keyUUID,
            materialVersion: materialVersion,
            encryptionContext: encryptionContext
        )
        let box = try AES.GCM.seal(plaintext, using: material, nonce: AES.GCM.Nonce(), authenticating: aad)
        var blob = header
        blob.append(contentsOf: box.nonce)
        blob.append(box.ciphertext)
        blob.append(box.tag)
        return blob
    }

    /// Decrypts the blob with `material`; `nil` when authentication fails.
    func open(with material: SymmetricKey, encryptionContext: [String: String]) -> Data? {
        let aad = Self.associatedData(
            keyUUID: keyUUID,
            materialVersion: materialVersion,
            encryptionContext: encryptionContext
        )
        guard let nonce = try? AES.GCM.Nonce(data: iv),
            let box = try? AES.GCM.SealedBox(nonce: nonce, ciphertext: ciphertext, tag: tag)
        else { return nil }
        return try? AES.GCM.open(box, using: material, authenticating: aad)
    }

    /// The canonical bytes of an encryption context: the pair count, then each pair sorted by the UTF-8 bytes of
    /// its key, every count and length a 4-byte big-endian integer before its bytes. The empty context is four zero
    /// bytes, so "no context" and "empty context" are the same context, as on AWS KMS.
    public static func canonicalEncryptionContext(_ context: [String: String]) -> Data {
        var out: [UInt8] = []
        appendCanonicalEncryptionContext(context, to: &out)
        return Data(out)
    }

    /// A blob's associated data: its header, then the canonical encryption context, written into one buffer (this
    /// runs for every Encrypt and Decrypt).
    static func associatedData(keyUUID: UUID, materialVersion: UInt32, encryptionContext: [String: String]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerLength + 4)
        appendHeader(keyUUID: keyUUID, materialVersion: materialVersion, to: &out)
        appendCanonicalEncryptionContext(encryptionContext, to: &out)
        return out
    }

    /// Appends ``canonicalEncryptionContext(_:)`` of `context` to `out`.
    static func appendCanonicalEncryptionContext(_ context: [String: String], to out: inout [UInt8]) {
        func appendLength(_ value: Int) {
            withUnsafeBytes(of: UInt32(value).bigEndian) { out.append(contentsOf: $0) }
        }
        appendLength(context.count)
        guard !context.isEmpty else { return }
        for (key, value) in context.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            appendLength(key.utf8.count)
            out.append(contentsOf: key.utf8)
            appendLength(value.utf8.count)
            out.append(contentsOf: value.utf8)
        }
    }
}

/// Seals key material under the root key: AES-256-GCM with the key id and material version as associated data, so a
/// sealed material copied onto another key or version does not open.
struct MaterialSealer: Sendable {
    let rootKey: SymmetricKey

    /// `sealed-events/key-material/v1`, a zero byte, the key id, a zero byte, the version (4 bytes, big-endian); one
    /// buffer (this runs for every cryptographic operation).
    static func associatedData(keyID: String, version: UInt32) -> [UInt8] {
        var aad: [UInt8] = []
        aad.reserveCapacity(prefix.count + keyID.utf8.count + 5)
        aad.append(contentsOf: prefix)
        aad.append(contentsOf: keyID.utf8)
        aad.append(0)
        withUnsafeBytes(of: version.bigEndian) { aad.append(contentsOf: $0) }
        return aad
    }

    private static let prefix = Array("sealed-events/key-material/v1\u{0}".utf8)

    func seal(_ material: SymmetricKey, keyID: String, version: UInt32) throws -> Data {
        let aad = Self.associatedData(keyID: keyID, version: version)
        let box = try material.withUnsafeBytes { bytes in
            try AES.GCM.seal(bytes, using: rootKey, nonce: AES.GCM.Nonce(), authenticating: aad)
        }
        guard let combined = box.combined else { throw KMSErrorInternal.sealing }
        return combined
    }

    func open(_ sealed: Data, keyID: String, version: UInt32) throws -> SymmetricKey {
        let aad = Self.associatedData(keyID: keyID, version: version)
        let box = try AES.GCM.SealedBox(combined: sealed)
        return SymmetricKey(data: try AES.GCM.open(box, using: rootKey, authenticating: aad))
    }
}

/// Internal failures that never reach a caller with detail.
enum KMSErrorInternal: Error {
    case sealing
}

extension MaterialSealer: CustomStringConvertible, CustomReflectable {
    /// The root key prints its size only, and reflection shows nothing of it.
    var description: String { "MaterialSealer(root key: \(rootKey.bitCount) bits)" }
    var customMirror: Mirror { Mirror(self, children: []) }
}
