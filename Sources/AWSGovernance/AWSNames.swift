import Crypto
import SealedSupport

/// The names the platform gives what it creates in an AWS account, and the tags that mark them as its own.
///
/// Everything lives under the IAM path ``path`` (`/sealed/`) and keys carry the tag ``domainTag``, so the
/// platform's own identity needs permissions on those alone (`docs/aws/platform-policy.json`).
public enum AWSNames {
    /// The IAM path of the platform's roles and managed policies.
    public static let path = "/sealed/"
    /// The tag a domain's KMS key carries: `sealed:domain=<domain>`.
    public static let domainTag = "sealed:domain"
    /// The tag a reader role carries: `sealed:event-type=<event type>`.
    public static let eventTypeTag = "sealed:event-type"
    /// The name of a reader role's inline permission policy.
    public static let readerPolicyName = "sealed-decrypt"
    /// IAM's limit on role and policy names.
    public static let maximumNameLength = 64

    /// `alias/sealed/<domain>`: a domain key's alias (KMS allows `[A-Za-z0-9/_-]` after `alias/`; a domain name
    /// is mapped as ``encode(_:)`` maps it, with `.` and `=` spelled `_2e` and `_3d`).
    public static func keyAlias(domain: String) -> String {
        "alias/sealed/" + encode(domain).replacingBytes([UInt8(ascii: "."): "_2e", UInt8(ascii: "="): "_3d"])
    }

    /// `sealed-reader-<event type>`: the role a consumer assumes to read one event type.
    public static func readerRole(eventType: String) -> String { name("sealed-reader-", eventType) }

    /// `sealed-producer-<domain>`: the managed policy attached to a domain's producers.
    public static func producerPolicy(domain: String) -> String { name("sealed-producer-", domain) }

    /// `prefix` and `value` mapped by ``encode(_:)``, within IAM's 64 characters: a longer result keeps its first 47
    /// characters and ends in `-` and 16 hex digits of the SHA-256 of `value` (64 bits: no collision in practice).
    static func name(_ prefix: String, _ value: String) -> String {
        let full = prefix + encode(value)
        guard full.utf8.count > maximumNameLength else { return full }
        let digest = Hex.encode(Array(SHA256.hash(data: Array(value.utf8)).prefix(8)))
        return String(full.prefix(maximumNameLength - 17)) + "-" + digest
    }

    /// A value in IAM's name alphabet (`[A-Za-z0-9+=,.@_-]`, compared without case), one to one: lower-case letters,
    /// digits, `.` and `-` stay; an upper-case letter becomes `_` and the letter in lower case; `_` becomes `__`;
    /// any other byte becomes `=` and two lower-case hex digits. So `Orders.v1` is `_orders.v1`, and names that
    /// differ only in case (which IAM would treat as one) map to different names.
    public static func encode(_ value: String) -> String {
        var out: [UInt8] = []
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."),
                UInt8(ascii: "-"):
                out.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                out += [UInt8(ascii: "_"), byte + 32]
            case UInt8(ascii: "_"):
                out += [UInt8(ascii: "_"), UInt8(ascii: "_")]
            default:
                out.append(UInt8(ascii: "="))
                out += Array(Hex.encode([byte]).utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The value ``encode(_:)`` mapped to `name`, or `nil` when `name` is not such a mapping.
    public static func decode(_ name: String) -> String? {
        var out: [UInt8] = []
        var bytes = name.utf8.makeIterator()
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."),
                UInt8(ascii: "-"):
                out.append(byte)
            case UInt8(ascii: "_"):
                guard let next = bytes.next() else { return nil }
                if next == UInt8(ascii: "_") {
                    out.append(next)
                } else if (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(next) {
                    out.append(next - 32)
                } else {
                    return nil
                }
            case UInt8(ascii: "="):
                guard let high = bytes.next(), let low = bytes.next(),
                    let decoded = Hex.decode(String(decoding: [high, low], as: UTF8.self), lowercaseOnly: true),
                    decoded.count == 1
                else { return nil }
                out += decoded
            default:
                return nil
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}

extension String {
    /// The string with each byte in `replacements` replaced by its text.
    fileprivate func replacingBytes(_ replacements: [UInt8: String]) -> String {
        var out: [UInt8] = []
        for byte in utf8 { if let text = replacements[byte] { out += Array(text.utf8) } else { out.append(byte) } }
        return String(decoding: out, as: UTF8.self)
    }
}
