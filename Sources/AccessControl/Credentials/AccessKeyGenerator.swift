import Crypto
import Foundation

/// Random access key ids, secrets and session tokens shaped like AWS's.
enum AccessKeyGenerator {
    /// RFC 4648 base32 alphabet, which AWS access key ids use after their four-letter prefix.
    private static let base32: [Character] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    /// `prefix` followed by 16 random base32 characters (80 bits).
    static func accessKeyID(prefix: String) -> String {
        let bytes = randomBytes(16)
        return prefix + String(bytes.map { base32[Int($0 & 0x1F)] })
    }

    /// 40 characters of base64 (`A–Z a–z 0–9 + /`) from 30 random bytes (240 bits), like AWS secret access keys.
    static func secretAccessKey() -> String {
        randomBytes(30).base64EncodedString()
    }

    /// A session token: 64 random bytes in base64.
    static func sessionToken() -> String {
        randomBytes(64).base64EncodedString()
    }

    static func randomBytes(_ count: Int) -> Data {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Data($0) }
    }
}
