import SealedSupport

/// Random access key ids, secrets and session tokens shaped like AWS's.
enum AccessKeyGenerator {
    /// `prefix` followed by 16 random characters of the RFC 4648 base32 alphabet (80 bits), which AWS access key ids
    /// use after their four-letter prefix.
    static func accessKeyID(prefix: String) -> String {
        prefix + Random.token(length: 16, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    }

    /// 40 characters of base64 (`A–Z a–z 0–9 + /`) from 30 random bytes (240 bits), like AWS secret access keys.
    static func secretAccessKey() -> String {
        Base64.encode(Random.bytes(30))
    }

    /// A session token: 64 random bytes in base64.
    static func sessionToken() -> String {
        Base64.encode(Random.bytes(64))
    }
}
