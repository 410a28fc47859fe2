internal import Crypto
internal import Foundation

/// The private half of a signed message's ephemeral ECDSA key pair.
///
/// Its description names the curve only; the key never appears in output.
public struct SigningKey: Sendable, CustomStringConvertible {
    enum Backing: Sendable {
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
    }

    let backing: Backing

    /// A fresh key pair for the suite's curve.
    init(for signature: AlgorithmSuite.Signature) {
        switch signature {
        case .ecdsaP256SHA256: backing = .p256(P256.Signing.PrivateKey())
        case .ecdsaP384SHA384: backing = .p384(P384.Signing.PrivateKey())
        }
    }

    var algorithm: AlgorithmSuite.Signature {
        switch backing {
        case .p256: .ecdsaP256SHA256
        case .p384: .ecdsaP384SHA384
        }
    }

    /// The value of `aws-crypto-public-key`: base64 of the SEC1 compressed public point.
    var publicKeyContextValue: String {
        switch backing {
        case .p256(let key): key.publicKey.compressedRepresentation.base64EncodedString()
        case .p384(let key): key.publicKey.compressedRepresentation.base64EncodedString()
        }
    }

    public var description: String { "SigningKey(\(algorithm))" }

    /// Signs a finished message digest, normalised to the fixed DER length the official SDKs write
    /// (71 bytes for P-256, 103 for P-384): when the length differs, `s` is replaced by `n − s`, and
    /// the signature is made again if that does not help (ESDK Python `_ecc_static_length_signature`).
    func sign(_ digest: MessageDigest) throws -> [UInt8] {
        let (order, expectedLength) = algorithm.curveOrderAndSignatureLength
        while true {
            let der: [UInt8]
            switch (backing, digest) {
            case (.p256(let key), .sha256(let d)): der = Array(try key.signature(for: d).derRepresentation)
            case (.p384(let key), .sha384(let d)): der = Array(try key.signature(for: d).derRepresentation)
            default: throw EncryptionSDKError.invalidMaterials("signing key does not match the suite's hash")
            }
            if der.count == expectedLength { return der }
            guard let (r, s) = DERSignature.parse(der) else { continue }
            let flipped = DERSignature.encode(r: r, s: BigEndian.subtract(order, s))
            if flipped.count == expectedLength { return flipped }
        }
    }
}

/// The public key a decryptor checks a message's signature with.
struct VerificationKey: Sendable {
    enum Backing: Sendable {
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
    }

    let backing: Backing

    /// Decodes the `aws-crypto-public-key` context value for the suite's curve.
    init(contextValue: String, for signature: AlgorithmSuite.Signature) throws(EncryptionSDKError) {
        guard let point = Data(base64Encoded: contextValue) else {
            throw .invalidContext("the message's public key is not base64")
        }
        do {
            switch signature {
            case .ecdsaP256SHA256: backing = .p256(try P256.Signing.PublicKey(compressedRepresentation: point))
            case .ecdsaP384SHA384: backing = .p384(try P384.Signing.PublicKey(compressedRepresentation: point))
            }
        } catch {
            throw .invalidContext("the message's public key is not a valid compressed point")
        }
    }

    func isValid(signature der: [UInt8], for digest: MessageDigest) -> Bool {
        switch (backing, digest) {
        case (.p256(let key), .sha256(let d)):
            guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: der) else { return false }
            return key.isValidSignature(signature, for: d)
        case (.p384(let key), .sha384(let d)):
            guard let signature = try? P384.Signing.ECDSASignature(derRepresentation: der) else { return false }
            return key.isValidSignature(signature, for: d)
        default:
            return false
        }
    }
}

/// A running hash over every byte of a signed message before its footer.
struct MessageHasher {
    private enum Backing {
        case sha256(SHA256)
        case sha384(SHA384)
    }

    private var backing: Backing

    init(_ signature: AlgorithmSuite.Signature) {
        switch signature {
        case .ecdsaP256SHA256: backing = .sha256(SHA256())
        case .ecdsaP384SHA384: backing = .sha384(SHA384())
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch backing {
        case .sha256(var h):
            h.update(bufferPointer: bytes)
            backing = .sha256(h)
        case .sha384(var h):
            h.update(bufferPointer: bytes)
            backing = .sha384(h)
        }
    }

    mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    func finalize() -> MessageDigest {
        switch backing {
        case .sha256(let h): .sha256(h.finalize())
        case .sha384(let h): .sha384(h.finalize())
        }
    }
}

enum MessageDigest {
    case sha256(SHA256Digest)
    case sha384(SHA384Digest)
}

extension AlgorithmSuite.Signature {
    /// The curve order `n` (big-endian) and the DER signature length the official SDKs write.
    var curveOrderAndSignatureLength: ([UInt8], Int) {
        switch self {
        case .ecdsaP256SHA256: (BigEndian.p256Order, 71)
        case .ecdsaP384SHA384: (BigEndian.p384Order, 103)
        }
    }
}

/// Minimal DER for `SEQUENCE { INTEGER r, INTEGER s }`, enough to renormalise signatures.
enum DERSignature {
    static func parse(_ der: [UInt8]) -> (r: [UInt8], s: [UInt8])? {
        var i = 0
        func byte() -> UInt8? {
            guard i < der.count else { return nil }
            defer { i += 1 }
            return der[i]
        }
        func length() -> Int? {
            guard let first = byte() else { return nil }
            if first < 0x80 { return Int(first) }
            guard first == 0x81, let second = byte() else { return nil }
            return Int(second)
        }
        func integer() -> [UInt8]? {
            guard byte() == 0x02, let count = length(), count > 0, i + count <= der.count else { return nil }
            defer { i += count }
            return Array(der[i..<i + count].drop { $0 == 0 })
        }
        guard byte() == 0x30, let total = length(), total == der.count - i,
            let r = integer(), let s = integer(), i == der.count
        else { return nil }
        return (r, s)
    }

    static func encode(r: [UInt8], s: [UInt8]) -> [UInt8] {
        func integer(_ value: [UInt8]) -> [UInt8] {
            var magnitude = Array(value.drop { $0 == 0 })
            if magnitude.isEmpty { magnitude = [0] }
            if magnitude[0] & 0x80 != 0 { magnitude.insert(0, at: 0) }
            return [0x02, UInt8(magnitude.count)] + magnitude
        }
        let content = integer(r) + integer(s)
        let length: [UInt8] = content.count < 0x80 ? [UInt8(content.count)] : [0x81, UInt8(content.count)]
        return [0x30] + length + content
    }
}

/// Big-endian unsigned arithmetic on curve-sized numbers.
enum BigEndian {
    static let p256Order = hexBytes("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
    static let p384Order = hexBytes(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"
    )

    /// `a − b` for `a ≥ b`, both big-endian; the result has `a`'s length.
    static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = a
        var borrow = 0
        for i in 0..<a.count {
            let ai = a.count - 1 - i
            let bi = b.count - 1 - i
            var value = Int(a[ai]) - borrow - (bi >= 0 ? Int(b[bi]) : 0)
            borrow = value < 0 ? 1 : 0
            if value < 0 { value += 256 }
            result[ai] = UInt8(value)
        }
        return result
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            out.append(UInt8(hexValue(high) << 4 | hexValue(low)))
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: c - UInt8(ascii: "A") + 10
        }
    }
}
