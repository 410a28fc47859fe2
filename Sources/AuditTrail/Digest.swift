public import Crypto
public import Foundation
import SealedSupport

/// A statement about the chain, signed by the server's audit signing key: "at `time`, the chain held
/// `recordCount` records and its head was record `headSequence` with hash `headHash`".
///
/// Digests form their own chain: each carries the signature of the one before (empty for the first), so removing a
/// digest from the middle is visible. A verifier that trusts the public key learns from a valid digest that every
/// record up to the head is exactly as it was when signed, since each record's hash covers its predecessor's.
///
/// **Signed bytes.** The signature is ECDSA P-256 with SHA-256 (DER-encoded, as `openssl dgst -sha256 -verify`
/// expects) over ``signedBytes``: the ``CanonicalJSON`` form of the object
/// `{"digestSequence":D,"format":"sealed-events-audit-digest/1","headHash":"HEX","headSequence":N,
/// "keyFingerprint":"HEX","previousSignature":"BASE64","recordCount":N,"time":"2026-11-29T10:15:00Z"}`.
public struct Digest: Sendable, Hashable {
    /// The format named in the signed bytes.
    public static let format = "sealed-events-audit-digest/1"

    /// 1 for the first digest, then consecutive.
    public var digestSequence: Int64
    /// The sequence number of the chain's head when signed (0 for an empty chain).
    public var headSequence: Int64
    /// The head's hash (``ChainHash/genesis`` for an empty chain).
    public var headHash: ChainHash
    /// The number of records in the chain when signed (equal to ``headSequence``).
    public var recordCount: Int64
    /// When the digest was signed, in whole seconds.
    public var time: Date
    /// The signature of the previous digest; empty for the first.
    public var previousSignature: Data
    /// The hex SHA-256 of the signing public key's DER `SubjectPublicKeyInfo` (``AuditSigningKey/fingerprint``).
    public var keyFingerprint: String

    public init(
        digestSequence: Int64,
        head: ChainHead,
        time: Date,
        previousSignature: Data,
        keyFingerprint: String
    ) {
        self.digestSequence = digestSequence
        self.headSequence = head.sequence
        self.headHash = head.hash
        self.recordCount = head.sequence
        self.time = Record.wholeSeconds(time)
        self.previousSignature = previousSignature
        self.keyFingerprint = keyFingerprint
    }

    /// The chain head this digest names.
    public var head: ChainHead { ChainHead(sequence: headSequence, hash: headHash) }

    var members: [(String, JSONValue)] {
        [
            ("digestSequence", .number(JSONNumber(digestSequence))),
            ("format", .string(Self.format)),
            ("headHash", .string(headHash.hex)),
            ("headSequence", .number(JSONNumber(headSequence))),
            ("keyFingerprint", .string(keyFingerprint)),
            ("previousSignature", .string(Base64.encode(previousSignature))),
            ("recordCount", .number(JSONNumber(recordCount))),
            ("time", .string(Record.format(time))),
        ]
    }

    /// The bytes the signature covers (see the type's discussion).
    public var signedBytes: [UInt8] {
        var output: [UInt8] = []
        CanonicalJSON.writeObject(members, to: &output)
        return output
    }
}

/// A ``Digest`` with its signature.
public struct SignedDigest: Sendable, Hashable {
    public var digest: Digest
    /// ECDSA P-256 / SHA-256 over ``Digest/signedBytes``, DER-encoded.
    public var signature: Data

    public init(digest: Digest, signature: Data) {
        self.digest = digest
        self.signature = signature
    }

    /// Whether the signature is valid for `publicKey`.
    public func isValid(for publicKey: P256.Signing.PublicKey) -> Bool {
        guard let ecdsa = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
        let bytes = digest.signedBytes
        return publicKey.isValidSignature(ecdsa, for: bytes)
    }

    /// The JSON form used in stores and exports: the digest's members plus `"signature"` (base64).
    public var jsonValue: JSONValue {
        var object = JSONObject(digest.members.map { JSONObject.Member(key: $0.0, value: $0.1) })
        object["signature"] = .string(Base64.encode(signature))
        return .object(object)
    }

    /// Reads a signed digest from its JSON form.
    ///
    /// - Throws: ``AuditError`` `malformedRecord` when a member is missing or has the wrong type or format.
    public init(jsonValue: JSONValue) throws {
        func malformed(_ reason: String) -> AuditError { AuditError(.malformedRecord, "Malformed digest: \(reason).") }
        guard case .object(let object) = jsonValue else { throw malformed("not a JSON object") }
        func integer(_ key: String) throws -> Int64 {
            guard let value = object[key]?.numberValue?.int64Value else { throw malformed("\(key) is missing") }
            return value
        }
        func string(_ key: String) throws -> String {
            guard case .string(let value) = object[key] else { throw malformed("\(key) is missing") }
            return value
        }
        guard try string("format") == Digest.format else { throw malformed("unknown format") }
        guard let headHash = ChainHash(hex: try string("headHash")) else { throw malformed("headHash is not hex") }
        guard let time = Record.parse(try string("time")) else { throw malformed("time is not ISO 8601") }
        let previousText = try string("previousSignature")
        let signatureText = try string("signature")
        guard let previous = try? Data(Base64.decode(previousText)),
            let signature = try? Data(Base64.decode(signatureText))
        else { throw malformed("a signature is not base64") }
        var digest = Digest(
            digestSequence: try integer("digestSequence"),
            head: ChainHead(sequence: try integer("headSequence"), hash: headHash),
            time: time,
            previousSignature: previous,
            keyFingerprint: try string("keyFingerprint")
        )
        digest.recordCount = try integer("recordCount")
        self.init(digest: digest, signature: signature)
    }
}

extension SignedDigest: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(jsonValue: CodableJSON(from: decoder).value)
    }

    public func encode(to encoder: any Encoder) throws {
        try CodableJSON(jsonValue).encode(to: encoder)
    }
}
