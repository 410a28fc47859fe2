public import Crypto
import Foundation
import SealedSupport

/// The pseudonym of a data subject in a domain, and the ids of its branch keys.
///
/// pseudonym = `s-` + lower-case hex of the first 16 bytes of HMAC-SHA256(domain secret, UTF-8 subject id): stable
/// for a subject in one domain, unrelated across domains (each has its own 32-byte secret), and without the secret
/// it neither reveals the subject id nor lets anyone test a guess of it.
public enum Pseudonym {
    /// The pseudonym of `subjectID` under a domain's `secret`.
    public static func of(_ subjectID: String, secret: SymmetricKey) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(subjectID.utf8), using: secret)
        return code.withUnsafeBytes { "s-" + Hex.encode(UnsafeRawBufferPointer(rebasing: $0.prefix(16))) }
    }

    /// `<event type>/<pseudonym>`: the branch key of a subject for one event type.
    public static func branchKeyID(eventType: String, pseudonym: String) -> String { eventType + "/" + pseudonym }

    /// The custom encryption context of a subject's branch key: KMS sees `aws-crypto-ec:eventType` and
    /// `aws-crypto-ec:domain` on every unwrap of it, which is what the reader and producer policies test.
    public static func encryptionContext(eventType: String, domain: String) -> [String: String] {
        ["eventType": eventType, "domain": domain]
    }

    /// The most bytes of UTF-8 a subject id has.
    public static let maximumSubjectIDBytes = 1024
}
